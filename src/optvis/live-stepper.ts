// Optimization steps inside a frame loop, shown live: each frame takes as many steps as fit a GPU-time
// budget (at least one, at most a cap), and one loss is read back at a time (a scalar per frame at most),
// for the curve and to measure the step rate the budget divides. The inversion demo and <glassbox-inversion>
// drive their optimizations through it.
import type { Optimization } from './optimize';
import type { LossReading } from './stepper';

/** The frame budget and the callbacks of `createLiveStepper`. */
export interface LiveStepperOptions {
  /** Milliseconds of a frame the steps may take (default 12). */
  budgetMs?: number;
  /** Most steps in one frame (default 16). */
  maxStepsPerFrame?: number;
  /** A loss read landed: the reading, and the steps per second since the start or the last restart(). */
  onLoss(reading: LossReading, stepsPerSecond: number): void;
  /** A loss read failed; the next frame reads again. */
  onError(error: unknown): void;
}

/** Steps one optimization from a frame loop, as many steps a frame as fit the budget. */
export interface LiveStepper {
  /** The frame's steps (none once the optimization has stopped), and a loss read if none is in flight. */
  frame(): void;
  /** Measures the step rate afresh: after optimization.reset(). */
  restart(): void;
}

/**
 * Drives `optimization` from a frame loop: call `frame()` once per frame. It starts at one step a frame and
 * adapts after each loss read; destroying the optimization stays the caller's job.
 */
export function createLiveStepper(optimization: Optimization, options: LiveStepperOptions): LiveStepper {
  const budgetMs = options.budgetMs ?? 12;
  const maxSteps = options.maxStepsPerFrame ?? 16;
  let [stepsPerFrame, reading, since, stepsSince] = [1, false, performance.now(), 0];
  // A read that was in flight at restart() is dropped when it lands: its loss is of the old run, and
  // timing it against the new start would make the rate (and the steps per frame) jump.
  let generation = 0;
  return {
    frame() {
      if (optimization.state !== 'running') return;
      optimization.step(stepsPerFrame);
      stepsSince += stepsPerFrame;
      if (reading) return;
      reading = true;
      const started = generation;
      optimization.readLoss().then(
        (loss) => {
          if (started !== generation) return;
          reading = false;
          const msPerStep = (performance.now() - since) / Math.max(stepsSince, 1);
          stepsPerFrame = Math.max(1, Math.min(maxSteps, Math.floor(budgetMs / msPerStep)));
          options.onLoss(loss, 1000 / msPerStep);
        },
        (error) => {
          if (started !== generation) return;
          reading = false;
          options.onError(error);
        },
      );
    },
    restart() {
      generation++;
      [stepsPerFrame, reading, since, stepsSince] = [1, false, performance.now(), 0];
    },
  };
}
