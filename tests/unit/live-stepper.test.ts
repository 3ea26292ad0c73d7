// createLiveStepper with a stand-in optimization and a controlled clock: the steps per frame follow the
// measured step time within the budget, and a loss read in flight at restart() is dropped.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveStepper } from '../../src/optvis/live-stepper';
import type { Optimization } from '../../src/optvis/optimize';
import type { LossReading } from '../../src/optvis/stepper';

interface Stand {
  optimization: Optimization;
  stepCalls: number[];
  /** Lands the oldest loss read still in flight with this reading. */
  land(step: number): Promise<void>;
}

function standIn(): Stand {
  const stepCalls: number[] = [];
  const pending: ((reading: LossReading) => void)[] = [];
  const optimization = {
    state: 'running',
    step: (count = 1) => void stepCalls.push(count),
    readLoss: () => new Promise<LossReading>((resolve) => pending.push(resolve)),
  } as unknown as Optimization;
  return {
    optimization,
    stepCalls,
    async land(step) {
      pending.shift()!({ total: step / 10, terms: [], step });
      await Promise.resolve(); // the stepper's then() runs
      await Promise.resolve();
    },
  };
}

let now = 0;
afterEach(() => vi.restoreAllMocks());
const useClock = () => vi.spyOn(performance, 'now').mockImplementation(() => now);

describe('createLiveStepper', () => {
  it('takes as many steps a frame as the measured step time fits in the budget, within 1 … max', async () => {
    useClock();
    now = 1000;
    const stand = standIn();
    const losses: [number, number][] = [];
    const live = createLiveStepper(stand.optimization, { budgetMs: 12, maxStepsPerFrame: 5, onLoss: (r, rate) => losses.push([r.step, rate]), onError: () => {} });
    live.frame(); // one step, a read starts
    live.frame(); // one step, the read is still in flight
    now += 8; // 2 steps in 8 ms: 4 ms a step
    await stand.land(1);
    expect(losses).toEqual([[1, 250]]);
    live.frame(); // 12 / 4 = 3 steps
    expect(stand.stepCalls).toEqual([1, 1, 3]);
    now += 0.5; // 5 steps in 8.5 ms: fast enough for more than the cap
    await stand.land(4);
    live.frame();
    expect(stand.stepCalls.at(-1)).toBe(5);
  });

  it('drops a read that was in flight at restart(): no stale loss, no jump in the rate', async () => {
    useClock();
    now = 0;
    const stand = standIn();
    const losses: [number, number][] = [];
    const live = createLiveStepper(stand.optimization, { budgetMs: 12, maxStepsPerFrame: 16, onLoss: (r, rate) => losses.push([r.step, rate]), onError: () => {} });
    live.frame(); // a read of the old run is in flight
    now = 100;
    live.restart();
    live.frame(); // a new read starts at once
    now = 101; // the stale read lands 1 ms after the restart, with one step taken since
    await stand.land(7);
    expect(losses).toEqual([]);
    expect(stand.stepCalls).toEqual([1, 1]);
    now = 120;
    await stand.land(1); // the new run's read: one step in 20 ms
    expect(losses).toEqual([[1, 50]]);
    live.frame();
    expect(stand.stepCalls.at(-1)).toBe(1); // 12 ms budget / 20 ms a step: still one
  });
});
