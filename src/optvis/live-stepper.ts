// Optimization steps inside a frame loop, shown live: each frame takes as many steps as fit a time budget
// (at least one, at most a cap), and one loss is read back at a time (a scalar per frame at most), for the
// curve. The inversion demo and <glassbox-inversion> drive their optimizations through it.
//
// What a step costs is measured on the steps alone: from recording a frame's steps to the GPU finishing
// them (optimization.stepsDone()), so the recording on the CPU and the GPU's work both count and the idle
// rest of the frame does not. (Dividing the wall clock since the start by the steps taken counted that idle
// time, and a frame of 16.7 ms could never fit more than the one step it started with.) While a frame's
// steps are still running, the next frames take none: the image is redrawn and the queue never falls
// behind when a step costs more than a frame.
import type { Optimization } from './optimize';
import type { LossReading } from './stepper';

/** The frame budget and the callbacks of `createLiveStepper`. */
export interface LiveStepperOptions {
  /** Milliseconds of a frame the steps may take, recording and GPU work together (default 12). */
  budgetMs?: number;
  /** Most steps in one frame (default 16). */
  maxStepsPerFrame?: number;
  /** A loss read landed: the reading, and the steps per second of the last second of frames that stepped. */
  onLoss(reading: LossReading, stepsPerSecond: number): void;
  /** A loss read failed; the next frame reads again. */
  onError(error: unknown): void;
}

/** Steps one optimization from a frame loop, as many steps a frame as fit the budget. */
export interface LiveStepper {
  /** The frame's steps (none once stopped, or while the last frame's are running), and a loss read if none is in flight. */
  frame(): void;
  /** Measures afresh: after optimization.reset(). */
  restart(): void;
  /** Steps the next frame takes (1 … maxStepsPerFrame). */
  readonly stepsPerFrame: number;
}

/** How fast the measured cost of a step follows a new measurement (an exponential moving average). */
const SMOOTHING = 0.3;
/** The steps-per-second figure counts the frames of this last stretch of time. */
const RATE_WINDOW_MS = 1000;

/**
 * Drives `optimization` from a frame loop: call `frame()` once per frame (not calling it pauses). It starts
 * at one step a frame and adapts whenever a frame's steps finish; destroying the optimization stays the
 * caller's job.
 */
export function createLiveStepper(optimization: Optimization, options: LiveStepperOptions): LiveStepper {
  const budgetMs = options.budgetMs ?? 12;
  const maxSteps = options.maxStepsPerFrame ?? 16;
  let stepsPerFrame = 1;
  let msPerStep: number | null = null;
  let [stepping, reading] = [false, false];
  let recent: { at: number; steps: number }[] = []; // frames that stepped, oldest first, for the rate
  // Work in flight at restart() is ignored when it lands: its timing and loss are of the old run.
  let generation = 0;

  const forgetBefore = (time: number) => {
    while (recent.length > 0 && recent[0]!.at < time) recent.shift();
  };
  const stepsPerSecond = (now: number): number => {
    forgetBefore(now - RATE_WINDOW_MS);
    const span = recent.length < 2 ? 0 : recent.at(-1)!.at - recent[0]!.at;
    if (span <= 0) return msPerStep ? 1000 / msPerStep : 0; // one frame so far: the measured step cost
    const steps = recent.slice(1).reduce((sum, frame) => sum + frame.steps, 0);
    return (1000 * steps) / span;
  };

  const measure = (count: number, started: number) => {
    const sample = (performance.now() - started) / count;
    msPerStep = msPerStep === null ? sample : msPerStep + SMOOTHING * (sample - msPerStep);
    stepsPerFrame = Math.max(1, Math.min(maxSteps, Math.floor(budgetMs / msPerStep)));
  };

  const step = () => {
    const [count, started, run] = [stepsPerFrame, performance.now(), generation];
    optimization.step(count);
    forgetBefore(started - RATE_WINDOW_MS);
    recent.push({ at: started, steps: count });
    stepping = true;
    optimization.stepsDone().then(
      () => {
        if (run !== generation) return;
        stepping = false;
        measure(count, started);
      },
      (error) => {
        if (run !== generation) return;
        stepping = false;
        options.onError(error);
      },
    );
  };

  const readLoss = () => {
    reading = true;
    const run = generation;
    optimization.readLoss().then(
      (loss) => {
        if (run !== generation) return;
        reading = false;
        options.onLoss(loss, stepsPerSecond(performance.now()));
      },
      (error) => {
        if (run !== generation) return;
        reading = false;
        options.onError(error);
      },
    );
  };

  return {
    frame() {
      if (optimization.state !== 'running') return;
      if (!stepping) step();
      if (!reading) readLoss();
    },
    restart() {
      generation++;
      [stepsPerFrame, msPerStep, stepping, reading, recent] = [1, null, false, false, []];
    },
    get stepsPerFrame() {
      return stepsPerFrame;
    },
  };
}
