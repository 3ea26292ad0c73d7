// The float64 statistics reference on cases small enough to check by hand, and the normalization modes.
import { describe, expect, it } from 'vitest';
import {
  NORMALIZATION_MODES,
  STATS_FIELD,
  STATS_RECORD_FLOATS,
  normalizationRange,
  normalizedValue,
  referenceChannelStats,
} from '../../src/reference/channel-stats';

/** min, max, mean, std by E[x²] − E[x]² (a different formula from the reference's two passes). */
function direct(values: number[], nonFinite: number): number[] {
  const n = values.length;
  if (n === 0) return [0, 0, 0, 0, 0, nonFinite, 0, 0];
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const meanSquare = values.reduce((a, b) => a + b * b, 0) / n;
  const [min, max] = [Math.min(...values), Math.max(...values)];
  return [min, max, mean, Math.sqrt(meanSquare - mean * mean), n, nonFinite, Math.max(-min, max), 0];
}

function record(all: Float64Array, index: number): number[] {
  return [...all.subarray(index * STATS_RECORD_FLOATS, (index + 1) * STATS_RECORD_FLOATS)];
}

// One image, 1 × 3 positions, 3 channels. Channel 0: 1, 2, −7. Channel 1: 10, NaN, −Inf. Channel 2: all NaN.
const byPosition = [
  [1, 10, NaN],
  [2, NaN, NaN],
  [-7, -Infinity, NaN],
];
const nhwc = byPosition.flat();
const nchw = [0, 1, 2].flatMap((c) => byPosition.map((position) => position[c]!));

describe('referenceChannelStats', () => {
  it.each([
    ['NHWC', nhwc],
    ['NCHW', nchw],
  ] as const)('%s: each channel, the all-NaN channel and the layer, checked by a direct formula', (layout, values) => {
    const stats = referenceChannelStats({ values, batch: 1, height: 1, width: 3, channels: 3, layout });
    expect(stats.length).toBe(4 * STATS_RECORD_FLOATS);
    const expected = [
      direct([1, 2, -7], 0), // mean −4/3, std √(18 − 16/9) = √(146/9)
      direct([10], 2),
      [0, 0, 0, 0, 0, 3, 0, 0], // nothing finite: zeros but for the count
      direct([1, 2, -7, 10], 5),
    ];
    expect(expected[0]![2]).toBeCloseTo(-4 / 3, 15);
    expect(expected[0]![3]).toBeCloseTo(Math.sqrt(146 / 9), 14);
    expected.forEach((want, index) => {
      const got = record(stats, index);
      want.forEach((value, field) => expect(got[field], `record ${index} field ${field}`).toBeCloseTo(value, 12));
    });
  });

  it('covers every batch item: batch 2 of a 1×1×1 layer', () => {
    const stats = referenceChannelStats({ values: [3, 5], batch: 2, height: 1, width: 1, channels: 1, layout: 'NHWC' });
    expect(record(stats, 0)).toEqual([3, 5, 4, 1, 2, 0, 5, 0]);
    expect(record(stats, 1)).toEqual([3, 5, 4, 1, 2, 0, 5, 0]);
  });
});

describe('normalization modes', () => {
  // (min, max, mean, std), (finite, non-finite, max|v|, 0)
  const channel = [-2, 6, 1, 0.5, 10, 0, 6, 0];
  const layer = [-8, 9, 0, 3, 100, 1, 9, 0];

  it('are numbered as the shaders number them', () => {
    expect(NORMALIZATION_MODES).toEqual(['channel', 'layer', 'symmetric', 'robust']);
    expect(STATS_FIELD).toEqual({ min: 0, max: 1, mean: 2, std: 3, finiteCount: 4, nonFiniteCount: 5, absMax: 6 });
  });

  it.each([
    ['channel', 3, [-2, 6]],
    ['layer', 3, [-8, 9]],
    ['symmetric', 3, [-6, 6]],
    ['robust', 3, [-0.5, 2.5]],
    ['robust', 2, [0, 2]],
  ] as const)('%s (k = %d) → %j', (mode, k, range) => {
    expect(normalizationRange(mode, channel, layer, k)).toEqual(range);
  });

  it('robust defaults to k = 3', () => {
    expect(normalizationRange('robust', channel, layer)).toEqual([-0.5, 2.5]);
  });

  it('normalizedValue maps the range onto [0, 1], clamps outside it, and gives 0.5 for an empty range', () => {
    expect(normalizedValue(-2, [-2, 6])).toBe(0);
    expect(normalizedValue(6, [-2, 6])).toBe(1);
    expect(normalizedValue(0, [-2, 6])).toBe(0.25);
    expect(normalizedValue(-100, [-2, 6])).toBe(0);
    expect(normalizedValue(100, [-2, 6])).toBe(1);
    expect(normalizedValue(4, [4, 4])).toBe(0.5);
    expect(normalizedValue(4, [5, 3])).toBe(0.5);
    // A channel with no finite value has the record of zeros: every mode gives the empty range [0, 0].
    const empty = [0, 0, 0, 0, 0, 7, 0, 0];
    for (const mode of NORMALIZATION_MODES.filter((m) => m !== 'layer')) {
      expect(normalizedValue(1, normalizationRange(mode, empty, layer))).toBe(0.5);
    }
  });
});
