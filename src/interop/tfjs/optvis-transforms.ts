// The tfjs side of optvis transforms: one step's draws (src/optvis/transforms.ts) applied with ops that
// tfjs can differentiate, so the gradient reaches the untransformed image. Rotation is bilinear sampling
// through tf.gather (whose gradient is a scatter-add), not tf.image.transform, which has no gradient.
import * as tf from '@tensorflow/tfjs-core';
import { rotationTaps, type TransformDraw } from '../../optvis/transforms';

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
  const [batch, height, width, channels] = x.shape;
  const pixels = height * width;
  const { index, weight } = rotationTaps(height, width, radians);
  const indices = tf.tensor1d(index, 'int32');
  const weights = tf.tensor2d(weight, [4 * pixels, 1]);
  const flat = tf.reshape(x, [batch * pixels, channels]);
  // Four taps gathered at once ([4·HW, C]), weighted, then summed over the taps.
  const taps = tf.mul(tf.gather(flat, indices), weights);
  const out = tf.sum(tf.reshape(taps, [4, pixels, channels]), 0);
  return tf.reshape(out, [batch, height, width, channels]);
}
