// Defaults from the papers, as option sets for createOptimization.
//
// Activation maximization — Lucid (Olah et al., Distill 2017, lucid/optvis/render.py and param/): Adam with
// learning rate 0.05, the fft parameterization with colour decorrelation and a sigmoid, initial sd 0.01,
// and standard_transforms (pad 12 constant 0.5, jitter 8, scale 0.9…1.1, rotate −10…10°, jitter 4).
//
// Feature inversion — Mahendran & Vedaldi, "Understanding deep image representations by inverting them"
// (CVPR 2015): minimize ‖Φ(x) − Φ0‖²/‖Φ0‖² + λ_α N_α(x) + λ_V R_{V^β}(x) with α = 6, β = 2, by gradient
// descent with momentum 0.9 and a learning rate that is held, then lowered. Their normalization divides the
// regularizers by the image size and a typical range: N_α/(H·W·B^α) and R_{V^β}/(H·W·V^β), B the typical
// pixel magnitude (80 on mean-subtracted 0…255 pixels) and V = B/6.5. Here the image is in [0, 1] and not
// mean-subtracted, so B is 80/255 in these units and the α-norm, measured from 0 rather than the mean,
// mainly stops pixels running past 1 (the optimizer also clamps them to [0, 1]). The λ defaults and the
// learning rate are OUR choices, tuned on the tiny test CNN (tests/gpu/optvis-optimize.test.ts), not
// numbers from the paper; the schedule has the paper's shape (constant, then ÷10 for the last fifth).
import type { GpuTensor } from '../memory/gpu-tensor';
import type { ModelInputOptions } from './model-function';
import { alphaNorm, channel, featureMatch, totalVariation, type Objective } from './objectives';
import { adam, sgd, type OptimizerSpec } from './optimizers';
import { fft, pixels, type ParameterizationSpec } from './parameterization';
import { standardTransforms, type Transform } from './transforms';

/** MoveNet Lightning: the float image goes to the node after the int32 input's Cast, scaled to 0…255. */
export const MOVENET_INPUT: Readonly<ModelInputOptions> = Object.freeze({
  inputNode: 'StatefulPartitionedCall/stack',
  inputRange: Object.freeze([0, 255]) as unknown as readonly [number, number],
});

/** A preset's choices, to spread into `createOptimization`'s options beside `model`. */
export interface PresetOptions {
  objective: Objective;
  parameterization: ParameterizationSpec;
  transforms: Transform | null;
  optimizer: OptimizerSpec;
}

/** Lucid's render_vis defaults around a channel objective (or any objective given instead). */
export function activationMaximization(o: { layer: string; channel: number; height: number; width: number } | { objective: Objective; height: number; width: number }): PresetOptions {
  return {
    objective: 'objective' in o ? o.objective : channel(o.layer, o.channel),
    parameterization: fft({ height: o.height, width: o.width, decorrelate: true }),
    transforms: standardTransforms(),
    optimizer: adam(0.05),
  };
}

/** Defaults of `inversion`: M&V's α, β and normalization constants; our tuned weights, SGD settings and run length. */
export const INVERSION_DEFAULTS = Object.freeze({
  alpha: 6,
  beta: 2,
  /** B: M&V's typical pixel magnitude, 80 of 255, in [0, 1] units. */
  range: 80 / 255,
  /** V = B / 6.5 (M&V). */
  variationRatio: 6.5,
  alphaWeight: 1e-5,
  tvWeight: 0.002,
  /** SGD on pixels in [0, 1]; stable with the TV weight above (lr · λ_TV / (H·W·V²) · 16 < 2). */
  learningRate: 1,
  momentum: 0.9,
  steps: 200,
});

/** Options of `inversion`; the weights, learning rate and steps default to `INVERSION_DEFAULTS`. */
export interface InversionOptions {
  layer: string;
  /** The layer's activations for the original image. */
  target: GpuTensor;
  height: number;
  width: number;
  /** The run length the schedule is laid out for; default 200. */
  steps?: number;
  alphaWeight?: number;
  tvWeight?: number;
  learningRate?: number;
}

/** M&V's objective (normalized as in the paper) over clamped pixels, SGD with momentum and a step schedule. */
export function inversion(o: InversionOptions): PresetOptions {
  const d = INVERSION_DEFAULTS;
  const pixelsCount = o.height * o.width;
  const variation = d.range / d.variationRatio;
  const steps = o.steps ?? d.steps;
  const learningRate = o.learningRate ?? d.learningRate;
  const objective = featureMatch(o.layer, o.target)
    .add(alphaNorm(d.alpha).mul((o.alphaWeight ?? d.alphaWeight) / (pixelsCount * d.range ** d.alpha)))
    .add(totalVariation(d.beta).mul((o.tvWeight ?? d.tvWeight) / (pixelsCount * variation ** d.beta)));
  return {
    objective,
    parameterization: pixels({ height: o.height, width: o.width, decorrelate: false, mapping: 'clamp' }),
    transforms: null,
    optimizer: sgd(learningRate, d.momentum, {
      clamp: { lo: 0, hi: 1 },
      schedule: [{ at: Math.max(1, Math.floor(0.8 * steps)), learningRate: learningRate / 10 }],
    }),
  };
}
