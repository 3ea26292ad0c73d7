// Image parameterizations: what the optimizer changes (parameters) and how they become the RGB image in
// [0, 1] that the model sees and a view draws. Over the optvis-fft kernels: `fft` is Lucid's default
// (1/f-scaled spectrum, decorrelated colours, sigmoid), `pixels` the plain per-pixel mapping.
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { createFftImage, createPixelImage, decorrelationMatrix, type ImageMapping } from '../kernels/optvis-fft';
import { GpuTensor, createTensorBuffer } from '../memory/gpu-tensor';
import { normalFloats } from './random';

/** Options of `pixels`: the image size (integers ≥ 2) and how the parameters become colours. */
export interface PixelsOptions {
  height: number;
  width: number;
  /** Mix colours by Lucid's decorrelation matrix; default true. */
  decorrelate?: boolean;
  /**
   * 'sigmoid' (default, Lucid) or 'clamp' (x used as is: pair it with the optimizer's clamp to [0, 1]; its
   * backward passes the gradient through, so a pixel at 0 or 1 can move back in).
   */
  mapping?: ImageMapping;
  /** Standard deviation of the seeded initial noise; Lucid's 0.01 by default. */
  sd?: number;
}

/**
 * Options of `fft`: the image size (integers ≥ 2), the spectrum's decay, colour decorrelation (default true)
 * and the standard deviation of the seeded initial noise (default 0.01).
 */
export interface FftOptions {
  height: number;
  width: number;
  /** Exponent of the 1/f scaling; Lucid's 1 by default. */
  decayPower?: number;
  decorrelate?: boolean;
  sd?: number;
}

/** What the optimizer changes and how it becomes the [1, H, W, 3] image in [0, 1]; made by `pixels` or `fft`. */
export type ParameterizationSpec =
  | { readonly kind: 'pixels'; readonly height: number; readonly width: number; readonly decorrelate: boolean; readonly mapping: ImageMapping; readonly sd: number }
  | { readonly kind: 'fft'; readonly height: number; readonly width: number; readonly decorrelate: boolean; readonly decayPower: number; readonly sd: number };

/**
 * Per-pixel parameterization: parameters [1, H, W, 3], colour-decorrelated by default, mapped by σ or a clamp.
 * Throws `InvalidArgumentError` on a bad option.
 */
export function pixels(options: PixelsOptions): ParameterizationSpec {
  const { height, width } = checkSize('pixels', options);
  const mapping = options.mapping ?? 'sigmoid';
  invalidArgument(mapping === 'sigmoid' || mapping === 'clamp', () => `pixels: mapping must be 'sigmoid' or 'clamp'; got '${mapping}'.`);
  return Object.freeze({ kind: 'pixels', height, width, decorrelate: options.decorrelate ?? true, mapping, sd: checkSd('pixels', options.sd) });
}

/**
 * Lucid's default parameterization: a Fourier spectrum [2, 1, 3, H, ⌊W/2⌋ + 1] scaled by 1/f^decayPower, with
 * decorrelated colours and a sigmoid. Throws `InvalidArgumentError` on a bad option.
 */
export function fft(options: FftOptions): ParameterizationSpec {
  const { height, width } = checkSize('fft', options);
  const decayPower = options.decayPower ?? 1;
  invalidArgument(Number.isFinite(decayPower) && decayPower >= 0, () => `fft: decayPower must be finite and ≥ 0; got ${decayPower}.`);
  return Object.freeze({ kind: 'fft', height, width, decorrelate: options.decorrelate ?? true, decayPower, sd: checkSd('fft', options.sd) });
}

/** A parameterization made real on the GPU: parameters, the image they map to, and the two passes. */
export interface ImageParameters {
  readonly spec: ParameterizationSpec;
  /** What the optimizer steps: [1, H, W, 3] pixels or the [2, 1, 3, H, ⌊W/2⌋+1] spectrum. */
  readonly params: GpuTensor;
  /** [1, H, W, 3] in [0, 1]. */
  readonly image: GpuTensor;
  /** Writes seeded initial parameters (queued before the next submit). */
  initialize(seed: number): void;
  /** image ← forward(params). */
  encodeForward(encoder: GPUCommandEncoder): void;
  /** gradParams ← Jᵀ gradImage at the current image. */
  encodeBackward(encoder: GPUCommandEncoder, gradImage: GpuTensor, gradParams: GpuTensor): void;
  destroy(): void;
}

export function createImageParameters(engine: Engine, spec: ParameterizationSpec, label = 'Optvis'): ImageParameters {
  const { height, width } = spec;
  const imageShape = [1, height, width, 3];
  const image = new GpuTensor({ engine, buffer: createTensorBuffer(engine, imageShape, `${label}.image`), shape: imageShape, layout: 'NHWC' });
  if (spec.kind === 'fft') {
    const plan = createFftImage(engine, { height, width, decayPower: spec.decayPower, decorrelate: spec.decorrelate, mapping: 'sigmoid', label: `${label}.fft` });
    const params = tensor(engine, plan.spectrumShape, `${label}.spectrum`);
    return finish(spec, params, image, () => plan.destroy(), {
      initialize: (seed) => normalFloats(params.size, seed, spec.sd),
      encodeForward: (encoder) => plan.encodeForward(encoder, { image, spectrum: params }),
      encodeBackward: (encoder, gradImage, gradParams) => plan.encodeBackward(encoder, { gradSpectrum: gradParams, gradImage, image }),
    });
  }
  const plan = createPixelImage(engine, { decorrelate: spec.decorrelate, mapping: spec.mapping, label: `${label}.pixels` });
  const params = tensor(engine, imageShape, `${label}.pixels`);
  // σ(0) is mid-grey; a clamped image starts at grey too, x = D⁻¹·½, or half its pixels would start at 0.
  const centre = spec.mapping === 'clamp' ? greyPreimage(spec.decorrelate) : [0, 0, 0];
  return finish(spec, params, image, () => plan.destroy(), {
    initialize: (seed) => normalFloats(params.size, seed, spec.sd).map((v, i) => v + centre[i % 3]!),
    encodeForward: (encoder) => plan.encodeForward(encoder, { image, x: params }),
    encodeBackward: (encoder, gradImage, gradParams) => plan.encodeBackward(encoder, { gradX: gradParams, gradImage, image }),
  });
}

interface Passes {
  initialize(seed: number): Float32Array<ArrayBuffer>;
  encodeForward(encoder: GPUCommandEncoder): void;
  encodeBackward(encoder: GPUCommandEncoder, gradImage: GpuTensor, gradParams: GpuTensor): void;
}

function finish(spec: ParameterizationSpec, params: GpuTensor, image: GpuTensor, destroyPlan: () => void, passes: Passes): ImageParameters {
  return {
    spec,
    params,
    image,
    initialize(seed) {
      invalidArgument(Number.isInteger(seed), () => `initialize: the seed must be an integer; got ${seed}.`);
      params.engine.device.queue.writeBuffer(params.buffer, 0, passes.initialize(seed));
    },
    encodeForward: passes.encodeForward,
    encodeBackward: passes.encodeBackward,
    destroy() {
      destroyPlan();
      params.destroy();
      image.destroy();
    },
  };
}

function tensor(engine: Engine, shape: readonly number[], label: string): GpuTensor {
  return new GpuTensor({ engine, buffer: createTensorBuffer(engine, shape, label), shape });
}

/** x with D·x = (½, ½, ½): solves the 3×3 system by Cramer's rule in float64. */
function greyPreimage(decorrelate: boolean): number[] {
  if (!decorrelate) return [0.5, 0.5, 0.5];
  const d = decorrelationMatrix();
  const det = (m: ArrayLike<number>) =>
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const whole = det(d);
  return [0, 1, 2].map((column) => {
    const m = Float64Array.from(d);
    for (let row = 0; row < 3; row++) m[row * 3 + column] = 0.5;
    return det(m) / whole;
  });
}

function checkSize(what: string, o: { height: number; width: number }): { height: number; width: number } {
  invalidArgument(o !== null && typeof o === 'object', () => `${what}: expected { height, width, … }.`);
  for (const name of ['height', 'width'] as const) {
    invalidArgument(Number.isInteger(o[name]) && o[name] >= 2, () => `${what}: ${name} must be an integer ≥ 2; got ${o[name]}.`);
  }
  return { height: o.height, width: o.width };
}

function checkSd(what: string, sd = 0.01): number {
  invalidArgument(Number.isFinite(sd) && sd >= 0, () => `${what}: sd must be finite and ≥ 0; got ${sd}.`);
  return sd;
}
