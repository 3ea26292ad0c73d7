// Optimizer options for createOptimization: Adam and SGD with momentum (the optvis-optimizer kernel's two
// steps), with a step schedule for the learning rate. Plain data, checked here, so that the schedule can be
// unit-tested and a preset can be written down in one line.
import { invalidArgument } from '../core/errors';
import { resolveAdamOptions, resolveSgdOptions, type ClampRange } from '../kernels/optvis-optimizer';

/** From step `at` (0-based: the step about to run) on, the learning rate is `learningRate`. */
export interface LearningRateStep {
  readonly at: number;
  readonly learningRate: number;
}

interface Common {
  readonly learningRate: number;
  /** Sorted by `at`; before the first entry the base learning rate applies. */
  readonly schedule: readonly LearningRateStep[];
  /** Parameters clamped to [lo, hi] after each step (pixels of an inversion); none by default. */
  readonly clamp: ClampRange | null;
}

/** A checked optimizer, plain data: its hyperparameters, learning-rate schedule and clamp. Made by `adam` or `sgd`. */
export type OptimizerSpec =
  | (Common & { readonly kind: 'adam'; readonly beta1: number; readonly beta2: number; readonly epsilon: number })
  | (Common & { readonly kind: 'sgd'; readonly momentum: number; readonly nesterov: boolean });

export interface ScheduleOptions {
  schedule?: readonly LearningRateStep[];
  clamp?: ClampRange | null;
}

/** Adam, Lucid's default optimizer: learning rate 0.05, TensorFlow's β1 0.9, β2 0.999, ε 1e-8. */
export function adam(learningRate = 0.05, options: ScheduleOptions & { beta1?: number; beta2?: number; epsilon?: number } = {}): OptimizerSpec {
  const o = resolveAdamOptions({ ...options, learningRate });
  return Object.freeze({ kind: 'adam', ...o, schedule: checkSchedule(options.schedule) });
}

/** SGD with (heavy-ball, or Nesterov) momentum, M&V's optimizer. */
export function sgd(learningRate: number, momentum = 0.9, options: ScheduleOptions & { nesterov?: boolean } = {}): OptimizerSpec {
  const o = resolveSgdOptions({ ...options, learningRate, momentum });
  return Object.freeze({ kind: 'sgd', ...o, schedule: checkSchedule(options.schedule) });
}

/** The learning rate of step `step` (0-based): the last schedule entry with at ≤ step, else the base rate. */
export function learningRateAt(spec: OptimizerSpec, step: number): number {
  let rate = spec.learningRate;
  for (const entry of spec.schedule) {
    if (entry.at > step) break;
    rate = entry.learningRate;
  }
  return rate;
}

function checkSchedule(schedule: readonly LearningRateStep[] = []): readonly LearningRateStep[] {
  invalidArgument(Array.isArray(schedule), () => `schedule: expected a list of { at, learningRate }; got ${typeof schedule}.`);
  schedule.forEach((entry, i) => {
    invalidArgument(
      Number.isInteger(entry?.at) && entry.at >= 0 && Number.isFinite(entry.learningRate) && entry.learningRate > 0,
      () => `schedule[${i}]: expected { at: integer ≥ 0, learningRate: finite > 0 }; got ${JSON.stringify(entry)}.`,
    );
    invalidArgument(
      i === 0 || entry.at > schedule[i - 1]!.at,
      () => `schedule[${i}]: steps must increase; ${entry.at} follows ${schedule[i - 1]!.at}.`,
    );
  });
  return Object.freeze(schedule.map((entry) => Object.freeze({ at: entry.at, learningRate: entry.learningRate })));
}
