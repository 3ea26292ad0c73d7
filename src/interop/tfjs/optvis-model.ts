// A tfjs model as a differentiable function of the optimized image: one execution returns the activations
// of every layer an objective reads, on ops that tfjs's tape records, so tf.grad can run the backward.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // tfjs-core alone registers no gradients
import type { Engine } from '../../core/engine';
import { invalidArgument } from '../../core/errors';
import type { ResolvedModelInput } from '../../optvis/model-function';
import { checkLayerNames, type AcceptedRanks } from './capture';
import { captureSourceOf, isLayersModel, type CapturableModel } from './capture-sources';

/** What an objective reads: a feature map, or a vector of units (a Dense layer's logits, a pooled vector). */
export const OBJECTIVE_LAYER_RANKS: AcceptedRanks = {
  ranks: [4, 2],
  expected: 'an objective reads a feature map [batch, H, W, C] (rank 4) or units [batch, units] (rank 2)',
};

export interface DifferentiableModel {
  readonly kind: 'LayersModel' | 'GraphModel';
  readonly layers: readonly string[];
  /** The activations of `layers` for a [1, H, W, 3] image in [0, 1]: ONE model execution, taped. */
  forward(image: tf.Tensor4D): tf.Tensor[];
}

/**
 * Checks the layer names (an unknown one gets an error listing what exists, as the activation capture
 * words it; a LayersModel's layer must output rank 4 or 2) and the input, and returns the forward.
 */
export function differentiableModel(engine: Engine, model: CapturableModel, layers: readonly string[], input: ResolvedModelInput): DifferentiableModel {
  checkLayerNames(engine, model, layers, 'Optimization', OBJECTIVE_LAYER_RANKS);
  const names = [...layers];
  const toModelRange = (x: tf.Tensor4D): tf.Tensor4D =>
    input.scale === 1 && input.offset === 0 ? x : tf.add(tf.mul(x, input.scale), input.offset);
  if (isLayersModel(model)) {
    invalidArgument(input.inputNode === null, () => `Optimization: inputNode is for GraphModels; this LayersModel takes the image at its input.`);
    invalidArgument(model.inputs.length === 1, () => `Optimization: the model has ${model.inputs.length} inputs; optvis feeds one image.`);
    const fetch = captureSourceOf(model).fetcher(names);
    return { kind: 'LayersModel', layers: names, forward: (image) => fetch([toModelRange(image)]) };
  }
  const source = captureSourceOf(model);
  let inputNode = input.inputNode;
  if (inputNode === null) {
    invalidArgument(model.inputs.length === 1, () => `Optimization: the GraphModel has ${model.inputs.length} inputs; name the image's with inputNode.`);
    const spec = source.inputs[0]!;
    invalidArgument(
      spec.dtype === null || spec.dtype === 'float32',
      () => `Optimization: the GraphModel's input '${spec.name}' is ${spec.dtype}, which gradients cannot flow through; pass ` +
        `inputNode: the first float node after its Cast (for MoveNet, MOVENET_INPUT.inputNode).`,
    );
    inputNode = spec.name;
  } else {
    const node = inputNode.replace(/:0$/, '');
    invalidArgument(
      source.allNames.includes(node) || source.inputs.some((spec) => spec.name.replace(/:0$/, '') === node),
      () => `Optimization: the GraphModel has no node '${inputNode}' to feed the image to.`,
    );
  }
  const feed = inputNode;
  return {
    kind: 'GraphModel',
    layers: names,
    forward(image) {
      const result = model.execute({ [feed]: toModelRange(image) }, names);
      return Array.isArray(result) ? result : [result];
    },
  };
}
