// createOptimization: feature inversion and activation maximization, stepped on the GPU. One step:
//   parameters → image (our kernel; done at the end of the previous step) → transforms and the model's
//   forward (tfjs, taped) → dL/dh per layer (our kernel, zero-copy on the activations) → tfjs's backward gives
//   dL/dimage in the same tf.grad (optvis-gradient.ts) → regularizer gradients added (our kernel) → the
//   parameterization's adjoint (our kernel) → the optimizer step in place (our kernel) → the next image.
// Nothing is read back but the few floats of readLoss().
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import type { CapturableModel } from '../interop/tfjs/capture-sources';
import { differentiableModel } from '../interop/tfjs/optvis-model';
import type { GpuTensor } from '../memory/gpu-tensor';
import { createStepper, type LossReading } from './stepper';
import { Objective, compileObjective } from './objectives';
import { adam, type OptimizerSpec } from './optimizers';
import type { ModelInputOptions } from './model-function';
import { resolveModelInput } from './model-function';
import type { ParameterizationSpec } from './parameterization';
import type { Transform } from './transforms';

/** What to optimize and how. The presets `activationMaximization` and `inversion` give everything but `model`. */
export interface OptimizationOptions extends ModelInputOptions {
  model: CapturableModel;
  /** A loss to minimize (see objectives.ts: channel() and friends are Lucid's objectives negated). */
  objective: Objective;
  parameterization: ParameterizationSpec;
  /** Applied to the image before the model each step, drawn from `seed`; none by default. */
  transforms?: Transform | null;
  /** Default adam() (Lucid's Adam(0.05)). */
  optimizer?: OptimizerSpec;
  /** Seeds the initial parameters and the transform draws; default 0. */
  seed?: number;
  label?: string;
}

export type { LossReading } from './stepper';

/** Feature inversion or activation maximization in progress on the GPU: step it, read its loss, draw its image. */
export interface Optimization {
  /** [1, H, W, 3] in [0, 1]: the current image, rewritten after every step. A view draws it every frame. */
  readonly image: GpuTensor;
  /** Records and submits `count` steps (default 1); reads nothing back. Does nothing once stopped. */
  step(count?: number): void;
  readonly steps: number;
  /** Resolves once the GPU has run every step submitted so far (reads nothing back). */
  stepsDone(): Promise<void>;
  /** The loss of the latest step, per term (a few floats read back; once per frame at most). */
  readLoss(): Promise<LossReading>;
  readonly state: 'running' | 'stopped';
  /** Why the optimization stopped (a non-finite term or gradient, with the step), or null while running. */
  readonly stopReason: string | null;
  /** Back to the seeded initial parameters, step 0, running. */
  reset(): void;
  /** Destroys every buffer and kernel it made, `image` included; the model and the targets stay the caller's. */
  destroy(): void;
}

/**
 * Sets up an optimization: compiles the objective, builds the model's differentiable forward, measures the
 * featureMatch targets, allocates the GPU state and submits the initial image. Throws `InvalidArgumentError`
 * on bad options, an objective that reads no layer, or a term that does not fit its layer.
 */
export async function createOptimization(engine: Engine, options: OptimizationOptions): Promise<Optimization> {
  invalidArgument(options !== null && typeof options === 'object', () => 'createOptimization: expected options { model, objective, parameterization, … }.');
  const { model, objective, parameterization, transforms = null, seed = 0 } = options;
  invalidArgument(model !== null && typeof model === 'object', () => 'createOptimization: options.model must be a tfjs LayersModel or GraphModel.');
  invalidArgument(objective instanceof Objective, () => 'createOptimization: options.objective must be an Objective (channel(), featureMatch(), …).');
  invalidArgument(parameterization !== null && typeof parameterization === 'object' && 'kind' in parameterization,
    () => 'createOptimization: options.parameterization must come from pixels() or fft().');
  invalidArgument(Number.isInteger(seed), () => `createOptimization: seed must be an integer; got ${seed}.`);
  const compiled = compileObjective(objective);
  invalidArgument(compiled.layers.length > 0,
    () => `createOptimization: '${objective.name}' reads no layer; add a feature term (featureMatch, channel, neuron, deepDream).`);
  const forward = differentiableModel(engine, model, compiled.layers.map((l) => l.layer), resolveModelInput(options));
  const stepper = await createStepper(engine, {
    objective,
    compiled,
    forward,
    parameterization,
    transforms,
    optimizer: options.optimizer ?? adam(),
    seed,
    label: options.label ?? 'Optimization',
  });
  return stepper;
}

/** Creates the optimization, runs `steps` steps, reads the loss once (which notices a NaN) and returns it. */
export async function optimize(engine: Engine, options: OptimizationOptions & { steps: number }): Promise<Optimization> {
  invalidArgument(Number.isInteger(options?.steps) && options.steps >= 0, () => `optimize: steps must be an integer ≥ 0; got ${options?.steps}.`);
  const optimization = await createOptimization(engine, options);
  try {
    optimization.step(options.steps);
    await optimization.readLoss();
  } catch (error) {
    optimization.destroy();
    throw error;
  }
  return optimization;
}
