// dL/dimage in one forward and one backward through the model. Inside tf.grad, the forward yields the
// activations h_l; our objective kernels then write G_l = dL/dh_l into our own buffers (zero-copy both ways,
// submitted before tfjs records the backward), and the scalar handed back to the tape is a stand-in whose
// gradient with respect to h_l is declared to be G_l (tf.customGrad). tfjs's backward then starts from the
// G_l and gives Σ_l J_lᵀ G_l = dL/dimage, the vector-Jacobian product, without a second forward. The
// stand-in's value is never read, so nothing computes one: before, Σ_l sum(h_l ⊙ G_l) and its own gradient
// cost four tfjs dispatches a step that only led back to the G_l.
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../../core/engine';
import { featureLayer, type FeatureLayer } from '../../features/feature-layer';
import type { GpuTensor } from '../../memory/gpu-tensor';
import { type TransformDraw } from '../../optvis/transforms';
import type { DifferentiableModel } from './optvis-model';
import { applyTransformDraws, type TfRotation } from './optvis-transforms';
import { tensorFromTf, tensorToTf } from './tensors';

export interface GradientPassIo {
  /** [1, H, W, 3] in [0, 1], our buffer (the parameterization's output). */
  image: GpuTensor;
  /** This step's transforms. */
  draws: readonly TransformDraw[];
  /** Runs the rotate draws (createTfRotation); null when the transforms have none. */
  rotation: TfRotation | null;
  /**
   * Called once, between the forward and the backward, with each layer's activations (zero-copy; valid only
   * during the call). Records and submits the objective kernels, and returns one tensor per layer, shaped
   * like it, holding dL/dh once that submit has run.
   */
  gradients(layers: readonly FeatureLayer[]): readonly GpuTensor[];
}

/**
 * Runs the pass and returns dL/dimage as a tf.Tensor [1, H, W, 3] (the caller disposes it). Every other
 * tensor of the pass is disposed before it returns.
 */
export function imageGradient(engine: Engine, model: DifferentiableModel, io: GradientPassIo): tf.Tensor {
  return tf.tidy(() => {
    const image = tensorToTf(io.image) as tf.Tensor4D;
    const loss = (x: tf.Tensor): tf.Scalar => {
      const activations = model.forward(applyTransformDraws(x as tf.Tensor4D, io.draws, io.rotation)).map(asFeatureMap);
      // tensorFromTf flushes tfjs: the forward is submitted before the objective kernels read it.
      const layers = activations.map((h, i) => featureLayer(model.layers[i]!, tensorFromTf(engine, h, { layout: 'NHWC' }), 'NHWC'));
      let gradients: readonly GpuTensor[];
      try {
        gradients = io.gradients(layers);
      } finally {
        for (const layer of layers) layer.tensor.destroy();
      }
      return backwardFrom(activations, gradients.map((g) => tensorToTf(g)));
    };
    return tf.grad(loss)(image);
  });
}

/**
 * Units [batch, u] as a map [batch, 1, 1, u], which every objective kernel reads as it reads a feature map
 * (a channel of a 1×1 map is one unit). A reshape shares tfjs's buffer; the tape carries dL/dh back through it.
 */
function asFeatureMap(h: tf.Tensor): tf.Tensor {
  return h.rank === 2 ? tf.reshape(h, [h.shape[0]!, 1, 1, h.shape[1]!]) : h;
}

/**
 * A scalar whose gradient with respect to activations[l] is seeds[l]. Meant only as the root tf.grad
 * differentiates, whose upstream gradient dy is 1: the seeds are handed on unscaled, so no dispatch
 * multiplies them by it. Its value, 0, is not a loss.
 */
export function backwardFrom(activations: readonly tf.Tensor[], seeds: readonly tf.Tensor[]): tf.Scalar {
  const root = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = inputs[inputs.length - 1] as tf.GradSaveFunc;
    save([...seeds]); // kept for the backward: tensors a closure holds are disposed when the forward's scope ends
    return { value: tf.scalar(0), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => saved };
  });
  return root(...activations);
}

/** The activation shapes for the image after `draws`, without a tape: a setup check, not a step. */
export function activationShapes(model: DifferentiableModel, image: GpuTensor, draws: readonly TransformDraw[], rotation: TfRotation | null): number[][] {
  let shapes: number[][] = [];
  tf.tidy(() => {
    shapes = model.forward(applyTransformDraws(tensorToTf(image) as tf.Tensor4D, draws, rotation)).map((h) => [...h.shape]);
  });
  return shapes;
}
