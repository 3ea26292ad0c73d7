// dL/dimage in one forward and one backward through the model. Inside tf.grad, the forward yields the
// activations h_l; our objective kernels then write G_l = dL/dh_l into our own buffers (zero-copy both ways,
// submitted before tfjs records the backward), and the scalar handed back to the tape is Σ_l sum(h_l ⊙ G_l)
// with G_l a constant: its gradient with respect to the image is Σ_l J_lᵀ G_l = dL/dimage, the vector-
// Jacobian product, without a second forward. The scalar's own value is never read.
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../../core/engine';
import { featureLayer, type FeatureLayer } from '../../features/feature-layer';
import type { GpuTensor } from '../../memory/gpu-tensor';
import { type TransformDraw } from '../../optvis/transforms';
import type { DifferentiableModel } from './optvis-model';
import { applyTransformDraws } from './optvis-transforms';
import { tensorFromTf, tensorToTf } from './tensors';

export interface GradientPassIo {
  /** [1, H, W, 3] in [0, 1], our buffer (the parameterization's output). */
  image: GpuTensor;
  /** This step's transforms. */
  draws: readonly TransformDraw[];
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
      const activations = model.forward(applyTransformDraws(x as tf.Tensor4D, io.draws));
      // tensorFromTf flushes tfjs: the forward is submitted before the objective kernels read it.
      const layers = activations.map((h, i) => featureLayer(model.layers[i]!, tensorFromTf(engine, h, { layout: 'NHWC' }), 'NHWC'));
      let gradients: readonly GpuTensor[];
      try {
        gradients = io.gradients(layers);
      } finally {
        for (const layer of layers) layer.tensor.destroy();
      }
      const terms = activations.map((h, i) => tf.sum(tf.mul(h, tensorToTf(gradients[i]!))));
      return (terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
    };
    return tf.grad(loss)(image);
  });
}

/** The activation shapes for the image after `draws`, without a tape: a setup check, not a step. */
export function activationShapes(model: DifferentiableModel, image: GpuTensor, draws: readonly TransformDraw[]): number[][] {
  let shapes: number[][] = [];
  tf.tidy(() => {
    shapes = model.forward(applyTransformDraws(tensorToTf(image) as tf.Tensor4D, draws)).map((h) => [...h.shape]);
  });
  return shapes;
}
