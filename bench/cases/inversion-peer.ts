// The pure-tfjs peer of the inversion-steps case: feature inversion written the way a tfjs user writes it.
// The loss, whole, in tfjs ops:
//   image = σ(x)                                       (pixels, no decorrelation: our 'sigmoid' mapping)
//   L = ‖f(image) − h_t‖² / ‖h_t‖² + w_α Σ |image|^α + w_TV Σ (Δx² + Δy²)^{β/2}
// with the TV differences whose neighbour lies outside the image dropped (as shaders/compute/
// optvis-regularizers.wgsl does); one tf.variableGrads of L per step (optimizer.minimize), tf.train.adam, and
// tf.browser.toPixels of the image into a canvas of the image's size for display, awaited, every step.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // tfjs-core alone registers no gradients

export interface PeerInversionOptions {
  /** The layer's activations for a [1, H, W, 3] image in [0, 1]; taped tfjs ops. */
  forward(image: tf.Tensor4D): tf.Tensor;
  /** h_t, the layer's activations for the original image. */
  target: tf.Tensor;
  /** The initial logits x0, [1, H, W, 3] (the same numbers ours starts from). */
  initial: Float32Array;
  height: number;
  width: number;
  alpha: number;
  alphaWeight: number;
  beta: number;
  tvWeight: number;
  adam: { learningRate: number; beta1: number; beta2: number; epsilon: number };
  canvas: HTMLCanvasElement;
}

export interface PeerInversion {
  /** One optimization step, then the image drawn into the canvas (awaited: the pixels are there). */
  step(): Promise<void>;
  /** The current image σ(x), [1, H, W, 3], read back. */
  readImage(): Promise<Float32Array>;
  dispose(): void;
}

export function createPeerInversion(o: PeerInversionOptions): PeerInversion {
  const { height, width } = o;
  const x = tf.variable(tf.tensor4d(o.initial, [1, height, width, 3]), true, 'inversionPeer.x');
  const targetNormSquared = tf.tidy(() => tf.sum(tf.square(o.target)));
  const optimizer = tf.train.adam(o.adam.learningRate, o.adam.beta1, o.adam.beta2, o.adam.epsilon);
  const loss = (): tf.Scalar => {
    const image = tf.sigmoid(x) as tf.Tensor4D;
    const h = o.forward(image);
    const feature = tf.div(tf.sum(tf.square(tf.sub(h, o.target))), targetNormSquared);
    return tf.addN([feature, tf.mul(alphaNorm(image, o.alpha), o.alphaWeight), tf.mul(totalVariation(image, o.beta), o.tvWeight)]) as tf.Scalar;
  };
  return {
    async step() {
      optimizer.minimize(loss, false, [x]); // tf.variableGrads of the whole loss, then Adam's update of x
      const display = tf.tidy(() => tf.squeeze(tf.sigmoid(x), [0]) as tf.Tensor3D);
      try {
        await tf.browser.toPixels(display, o.canvas);
      } finally {
        display.dispose();
      }
    },
    async readImage() {
      const image = tf.tidy(() => tf.sigmoid(x));
      try {
        return (await image.data()) as Float32Array;
      } finally {
        image.dispose();
      }
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([x, targetNormSquared]);
    },
  };
}

/** Σ |v|^α; for an even α (M&V's 6), |v|^α = (v²)^{α/2} by products: no sign, no pow (whose tape also
 * differentiates the exponent). */
function alphaNorm(image: tf.Tensor, alpha: number): tf.Scalar {
  if (alpha % 2 !== 0) return tf.sum(tf.pow(tf.abs(image), alpha));
  const square = tf.square(image);
  let powered = square;
  for (let k = 1; k < alpha / 2; k++) powered = tf.mul(powered, square);
  return tf.sum(powered);
}

/**
 * Σ over pixels of (a² + b²)^{β/2}, a the difference to the right neighbour and b to the one below, each
 * 0 where that neighbour is outside the image. β = 2 splits into Σ a² + Σ b² over the differences that exist.
 */
function totalVariation(image: tf.Tensor4D, beta: number): tf.Scalar {
  const [, h, w, c] = image.shape;
  if (beta !== 2) throw new Error(`inversion peer: only β = 2 is written out; got ${beta}.`);
  const right = tf.sub(tf.slice(image, [0, 0, 1, 0], [1, h, w - 1, c]), tf.slice(image, [0, 0, 0, 0], [1, h, w - 1, c]));
  const down = tf.sub(tf.slice(image, [0, 1, 0, 0], [1, h - 1, w, c]), tf.slice(image, [0, 0, 0, 0], [1, h - 1, w, c]));
  return tf.add(tf.sum(tf.square(right)), tf.sum(tf.square(down)));
}
