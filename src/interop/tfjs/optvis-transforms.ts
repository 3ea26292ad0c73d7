// The tfjs side of optvis transforms: one step's draws (src/optvis/transforms.ts) applied with ops that
// tfjs can differentiate, so the gradient reaches the untransformed image. Rotation is bilinear sampling
// through tf.gather with the adjoint taps as its custom gradient, not tf.image.transform, which has none.
import * as tf from '@tensorflow/tfjs-core';
import { rotationTaps, transposeTaps, type TransformDraw } from '../../optvis/transforms';

/** Applies the draws in order to a [1, H, W, C] image. Call inside tf.tidy (or tf.grad); allocates per call. */
export function applyTransformDraws(image: tf.Tensor4D, draws: readonly TransformDraw[]): tf.Tensor4D {
  let x = image;
  for (const draw of draws) x = applyDraw(x, draw);
  return x;
}

function applyDraw(x: tf.Tensor4D, draw: TransformDraw): tf.Tensor4D {
  switch (draw.kind) {
    case 'pad': {
      const p: [number, number][] = [[0, 0], [draw.size, draw.size], [draw.size, draw.size], [0, 0]];
      return draw.mode === 'constant' ? tf.pad(x, p, draw.value) : tf.mirrorPad(x, p, draw.mode);
    }
    case 'crop':
      return tf.slice(x, [0, draw.top, draw.left, 0], [-1, draw.height, draw.width, -1]);
    case 'resize':
      // Lucid's tf.image.resize_bilinear (TF1): corners not aligned, no half-pixel centres.
      return tf.image.resizeBilinear(x, [draw.height, draw.width], false, false);
    case 'rotate':
      return rotateBilinear(x, draw.radians);
  }
}

function rotateBilinear(x: tf.Tensor4D, radians: number): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape; // batch 1: the taps index pixels of one image
  const pixels = height * width;
  const taps = rotationTaps(height, width, radians);
  // The gradient is the adjoint tap table, gathered too: tf.gather's own gradient is a scatter-add
  // (unsortedSegmentSum), ~50 ms per tap on SwiftShader.
  const rotate = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.reshape(sampleTaps(args[0] as tf.Tensor, taps.index, taps.weight, 4, pixels, channels), [batch, height, width, channels]),
    gradFunc: (dy: tf.Tensor) => {
      const adjoint = transposeTaps(taps, pixels);
      return tf.reshape(sampleTaps(dy, adjoint.index, adjoint.weight, adjoint.fanIn, pixels, channels), [batch, height, width, channels]);
    },
  }));
  return rotate(x) as tf.Tensor4D;
}

/**
 * Σ_k weight_k ⊙ gather(x, index_k) over `count` taps, [pixels, channels]. One gather per tap, added: a sum
 * over a stacked tap axis (tf.sum(…, 0)) costs ~50× more on SwiftShader (220 ms at 40×40).
 */
function sampleTaps(x: tf.Tensor, index: Int32Array, weight: Float32Array, count: number, pixels: number, channels: number): tf.Tensor {
  const flat = tf.reshape(x, [pixels, channels]);
  const taps = Array.from({ length: count }, (_, k) => {
    const indices = tf.tensor1d(index.subarray(k * pixels, (k + 1) * pixels), 'int32');
    const weights = tf.tensor2d(weight.subarray(k * pixels, (k + 1) * pixels), [pixels, 1]);
    return tf.mul(tf.gather(flat, indices), weights);
  });
  return taps.length === 1 ? taps[0]! : tf.addN(taps);
}
