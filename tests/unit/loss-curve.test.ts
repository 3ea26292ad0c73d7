// The loss curve's math: decimation keeps every extreme (a one-step spike survives any number of
// decimations), series stay within maxPoints and in step order, and the axis scales place values where
// they belong on log and linear axes.
import { describe, expect, it } from 'vitest';
import { axisFraction, axisRange, axisTicks, decimateMinMax, LossSeries, seriesExtent } from '../../src/render/loss-curve';
import { seededRandom } from '../../src/reference/random';

function noisyDecay(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length: n }, (_, i) => 10 * Math.exp(-i / (n / 6)) * (1 + 0.2 * (random() - 0.5)));
}

describe('decimateMinMax', () => {
  it('keeps each bucket’s min and max, the ends, and step order', () => {
    const n = 1003;
    const values = noisyDecay(n, 1);
    const steps = Float64Array.from({ length: n }, (_, i) => 5 * i);
    const [origSteps, origValues] = [steps.slice(), values.slice()];
    const buckets = 37;
    const length = decimateMinMax(steps, values, n, buckets);
    expect(length).toBeLessThanOrEqual(2 * buckets + 2);
    expect(length).toBeGreaterThan(buckets);
    expect(steps[0]).toBe(0);
    expect(steps[length - 1]).toBe(5 * (n - 1));
    for (let i = 1; i < length; i++) expect(steps[i]!).toBeGreaterThan(steps[i - 1]!);
    // Every kept point is an original (step, value) pair.
    for (let i = 0; i < length; i++) expect(values[i]).toBe(origValues[steps[i]! / 5]);
    // Each bucket's extremes (by the function's bucket rule) are among the kept values.
    const inner = n - 2;
    for (let b = 0; b < buckets; b++) {
      const [start, end] = [1 + Math.floor((b * inner) / buckets), 1 + Math.floor(((b + 1) * inner) / buckets)];
      const slice = origValues.subarray(start, end);
      const kept = new Set(Array.from(steps.subarray(0, length)).filter((s) => s >= origSteps[start]! && s < origSteps[end]!).map((s) => values[steps.indexOf(s)]));
      expect(kept.has(Math.min(...slice)), `bucket ${b} min`).toBe(true);
      expect(kept.has(Math.max(...slice)), `bucket ${b} max`).toBe(true);
    }
  });

  it('leaves short series alone', () => {
    const steps = Float64Array.from([0, 1, 2, 3, 4]);
    const values = Float64Array.from([5, 4, 3, 2, 1]);
    expect(decimateMinMax(steps, values, 5, 2)).toBe(5);
    expect(Array.from(values)).toEqual([5, 4, 3, 2, 1]);
  });
});

describe('LossSeries', () => {
  it('stays within capacity over 20,000 pushes and keeps a one-step spike and dip', () => {
    const series = new LossSeries(200);
    const values = noisyDecay(20_000, 2);
    values[7_777] = 1e6; // a spike
    values[12_345] = 1e-9; // a dip (the decay itself stays above 0.02)
    for (let i = 0; i < values.length; i++) {
      series.push(i, values[i]!);
      expect(series.length).toBeLessThanOrEqual(200);
    }
    const kept = Array.from(series.values.subarray(0, series.length));
    expect(kept).toContain(1e6);
    expect(kept).toContain(1e-9);
    expect(series.steps[0]).toBe(0);
    expect(series.steps[series.length - 1]).toBe(19_999);
    expect(kept[kept.length - 1]).toBe(values[19_999]);
    const extent = seriesExtent([series], true);
    expect([extent.x0, extent.x1, extent.y0, extent.y1]).toEqual([0, 19_999, 1e-9, 1e6]);
  });
});

describe('axis scales', () => {
  it('log: whole decades around the data, fractions by log10, a tick per decade', () => {
    const range = axisRange(0.03, 250, true);
    expect([range.lo, range.hi]).toEqual([0.01, 1000]);
    expect(axisFraction(0.01, range)).toBeCloseTo(0, 12);
    expect(axisFraction(1, range)).toBeCloseTo(2 / 5, 12);
    expect(axisFraction(1000, range)).toBeCloseTo(1, 12);
    expect(axisTicks(range)).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
    // A flat series still gets one decade; many decades thin out the ticks.
    const flat = axisRange(5, 5, true);
    expect([flat.lo, flat.hi]).toEqual([1, 10]);
    expect(axisTicks(axisRange(1e-12, 1e8, true), 5)).toEqual([1e-12, 1e-8, 1e-4, 1, 1e4, 1e8]);
  });

  it('linear: the data padded 5 %, 1-2-5 ticks inside the range', () => {
    const range = axisRange(-2, 18, false);
    expect(range.lo).toBeCloseTo(-3, 12);
    expect(range.hi).toBeCloseTo(19, 12);
    expect(axisFraction(8, range)).toBeCloseTo(0.5, 12);
    expect(axisTicks(range, 5)).toEqual([0, 5, 10, 15]);
    const flat = axisRange(4, 4, false);
    expect([flat.lo, flat.hi]).toEqual([3.6, 4.4]);
    expect(axisRange(Infinity, -Infinity, false)).toEqual({ lo: 0, hi: 1, log: false });
  });
});
