// createLiveStepper with a stand-in optimization and a controlled clock: the steps per frame follow the time
// the steps themselves take (not the frame's idle rest) within the budget; no steps are queued while a
// frame's are still running; the rate counts the last second of stepping frames; work in flight at
// restart() is dropped.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveStepper, type LiveStepper } from '../../src/optvis/live-stepper';
import type { Optimization } from '../../src/optvis/optimize';
import type { LossReading } from '../../src/optvis/stepper';

const FRAME_MS = 1000 / 60;

interface Stand {
  optimization: Optimization;
  stepCalls: number[];
  /** The GPU finishes the oldest batch of steps still in flight, at the clock's current time. */
  finishSteps(): Promise<void>;
  /** Lands the oldest loss read still in flight with this reading. */
  land(step: number): Promise<void>;
  /** Batches and reads in flight. */
  inFlight(): { steps: number; reads: number };
}

const settle = async () => {
  for (let i = 0; i < 3; i++) await Promise.resolve(); // the stepper's then() runs
};

function standIn(): Stand {
  const stepCalls: number[] = [];
  const [batches, reads] = [[] as (() => void)[], [] as ((reading: LossReading) => void)[]];
  const optimization = {
    state: 'running',
    step: (count = 1) => void stepCalls.push(count),
    stepsDone: () => new Promise<void>((resolve) => batches.push(resolve)),
    readLoss: () => new Promise<LossReading>((resolve) => reads.push(resolve)),
  } as unknown as Optimization;
  return {
    optimization,
    stepCalls,
    async finishSteps() {
      batches.shift()!();
      await settle();
    },
    async land(step) {
      reads.shift()!({ total: step / 10, terms: [], step });
      await settle();
    },
    inFlight: () => ({ steps: batches.length, reads: reads.length }),
  };
}

let now = 0;
afterEach(() => vi.restoreAllMocks());
const useClock = () => vi.spyOn(performance, 'now').mockImplementation(() => now);

/** One 60 Hz frame whose steps cost `msPerStep` each of GPU (and recording) time, finished within the frame. */
async function frameWithSteps(live: LiveStepper, stand: Stand, msPerStep: number): Promise<void> {
  const start = now;
  const before = stand.stepCalls.length;
  live.frame();
  const taken = stand.stepCalls.slice(before).reduce((sum, count) => sum + count, 0);
  now = start + taken * msPerStep;
  if (taken > 0) await stand.finishSteps();
  now = start + FRAME_MS;
}

describe('createLiveStepper', () => {
  it('fills the budget of a 60 Hz frame: 1 ms steps grow to 12 a frame, not stuck at one by the idle rest', async () => {
    useClock();
    now = 1000;
    const stand = standIn();
    const live = createLiveStepper(stand.optimization, { budgetMs: 12, maxStepsPerFrame: 16, onLoss: () => {}, onError: () => {} });
    for (let frame = 0; frame < 5; frame++) await frameWithSteps(live, stand, 1);
    expect(stand.stepCalls).toEqual([1, 12, 12, 12, 12]);
    expect(live.stepsPerFrame).toBe(12);
  });

  it('stays within 1 … max: 0.25 ms steps stop at the cap, 40 ms steps take one', async () => {
    useClock();
    now = 0;
    const fast = standIn();
    const capped = createLiveStepper(fast.optimization, { budgetMs: 12, maxStepsPerFrame: 5, onLoss: () => {}, onError: () => {} });
    for (let frame = 0; frame < 3; frame++) await frameWithSteps(capped, fast, 0.25);
    expect(fast.stepCalls).toEqual([1, 5, 5]);

    const slow = standIn();
    const one = createLiveStepper(slow.optimization, { budgetMs: 12, maxStepsPerFrame: 5, onLoss: () => {}, onError: () => {} });
    await frameWithSteps(one, slow, 40);
    expect(one.stepsPerFrame).toBe(1);
  });

  it('takes no steps while the last frame\'s are still running: the queue never falls behind', async () => {
    useClock();
    now = 0;
    const stand = standIn();
    const live = createLiveStepper(stand.optimization, { budgetMs: 12, maxStepsPerFrame: 16, onLoss: () => {}, onError: () => {} });
    live.frame(); // one step, 40 ms of GPU work
    for (let frame = 1; frame <= 2; frame++) {
      now = frame * FRAME_MS;
      live.frame();
    }
    expect(stand.stepCalls).toEqual([1]);
    expect(stand.inFlight()).toEqual({ steps: 1, reads: 1 }); // one read at a time, too
    now = 40;
    await stand.finishSteps();
    now = 3 * FRAME_MS;
    live.frame();
    expect(stand.stepCalls).toEqual([1, 1]);
  });

  it('reports the steps per second of the last second of stepping frames, so a pause does not dilute it', async () => {
    useClock();
    now = 0;
    const stand = standIn();
    const rates: number[] = [];
    const live = createLiveStepper(stand.optimization, { budgetMs: 12, maxStepsPerFrame: 16, onLoss: (_, rate) => rates.push(rate), onError: () => {} });
    for (let frame = 0; frame < 60; frame++) await frameWithSteps(live, stand, 2); // 6 steps a frame
    now += 10_000; // paused: no frames
    for (let frame = 0; frame < 30; frame++) await frameWithSteps(live, stand, 2);
    await stand.land(1);
    expect(rates).toHaveLength(1);
    expect(rates[0]).toBeCloseTo(6 * 60, 6); // 6 steps every 16.7 ms, the 10 s pause left out
  });

  it('drops the timing and the loss of work in flight at restart()', async () => {
    useClock();
    now = 0;
    const stand = standIn();
    const losses: number[] = [];
    const live = createLiveStepper(stand.optimization, { budgetMs: 12, maxStepsPerFrame: 16, onLoss: (r) => losses.push(r.step), onError: () => {} });
    live.frame(); // a batch and a read of the old run are in flight
    now = 100;
    live.restart();
    live.frame(); // the new run steps and reads at once
    now = 100.5; // the old batch finishes: 100.5 ms for one step would keep the new run at one a frame
    await stand.finishSteps();
    await stand.land(7);
    expect(losses).toEqual([]);
    now = 101; // the new batch: 1 ms a step
    await stand.finishSteps();
    await stand.land(1);
    expect(losses).toEqual([1]);
    expect(live.stepsPerFrame).toBe(12);
  });

  it('reports a failed step or read and keeps going', async () => {
    useClock();
    now = 0;
    const errors: unknown[] = [];
    const optimization = {
      state: 'running',
      step: () => {},
      stepsDone: () => Promise.reject(new Error('device lost')),
      readLoss: () => Promise.reject(new Error('read failed')),
    } as unknown as Optimization;
    const live = createLiveStepper(optimization, { onLoss: () => {}, onError: (error) => errors.push(error) });
    live.frame();
    await settle();
    expect(errors.map((error) => (error as Error).message).sort()).toEqual(['device lost', 'read failed']);
  });
});
