// The float64 objective references: gradients against central finite differences of their own values, in
// both layouts, and the conventions (sign, centre, batch mean, zero target) on hand-computed cases.
import { describe, expect, it } from 'vitest';
import {
  centrePosition,
  referenceChannel,
  referenceDeepDream,
  referenceFeatureIndex,
  referenceFeatureMatch,
  referenceNeuron,
  type ObjectiveResult,
  type ReferenceFeatureShape,
} from '../../src/reference/optvis-objectives';
import { randomFloats } from '../../src/reference/random';

/** Largest |central difference − gradient| / max(1, |gradient|) over every element. */
function finiteDifferenceError(h: Float64Array, f: (h: Float64Array) => ObjectiveResult, step = 1e-5): number {
  const { gradient } = f(h);
  let worst = 0;
  for (let e = 0; e < h.length; e++) {
    const saved = h[e]!;
    h[e] = saved + step;
    const up = f(h).value;
    h[e] = saved - step;
    const down = f(h).value;
    h[e] = saved;
    const estimate = (up - down) / (2 * step);
    worst = Math.max(worst, Math.abs(estimate - gradient[e]!) / Math.max(1, Math.abs(gradient[e]!)));
  }
  return worst;
}

const SHAPES: ReferenceFeatureShape[] = [
  { batch: 1, height: 5, width: 7, channels: 3, layout: 'NHWC' },
  { batch: 2, height: 3, width: 4, channels: 5, layout: 'NCHW' },
  { batch: 3, height: 1, width: 6, channels: 2, layout: 'NHWC' },
  { batch: 1, height: 4, width: 1, channels: 1, layout: 'NCHW' },
];
const sizeOf = (s: ReferenceFeatureShape) => s.batch * s.height * s.width * s.channels;

describe('objective references against central finite differences (h = 1e-5, error ≤ 1e-8 relative)', () => {
  it.each(SHAPES)('every objective on $batch×$height×$width×$channels $layout', (shape) => {
    const n = sizeOf(shape);
    const h = Float64Array.from(randomFloats(n, 31, 2));
    const target = Float64Array.from(randomFloats(n, 32, 1.5));
    const c = shape.channels - 1;
    const { y, x } = centrePosition(shape.height, shape.width);
    const cases: [string, (v: Float64Array) => ObjectiveResult][] = [
      ['featureMatch', (v) => referenceFeatureMatch(v, target)],
      ['channel', (v) => referenceChannel(v, shape, c)],
      ['neuron', (v) => referenceNeuron(v, shape, c, y, x)],
      ['deepDream', referenceDeepDream],
    ];
    for (const [name, f] of cases) expect(finiteDifferenceError(h, f), name).toBeLessThan(1e-8);
  });
});

describe('objective references on hand-computed cases', () => {
  const shape: ReferenceFeatureShape = { batch: 2, height: 1, width: 2, channels: 2, layout: 'NHWC' };
  // h[n, 0, x, c]: image 0 = [[1, 2], [3, 4]], image 1 = [[5, 6], [7, 8]] (pixels × channels).
  const h = [1, 2, 3, 4, 5, 6, 7, 8];

  it('channel: minus the mean over images and positions, gradient −1/(N·H·W) on that channel only', () => {
    const result = referenceChannel(h, shape, 1);
    expect(result.value).toBe(-(2 + 4 + 6 + 8) / 4);
    expect([...result.gradient]).toEqual([0, -0.25, 0, -0.25, 0, -0.25, 0, -0.25]);
  });

  it('neuron: minus the batch mean of one position, gradient −1/N there', () => {
    const result = referenceNeuron(h, shape, 0, 0, 1);
    expect(result.value).toBe(-(3 + 7) / 2);
    expect([...result.gradient]).toEqual([0, 0, -0.5, 0, 0, 0, -0.5, 0]);
    expect(centrePosition(5, 4)).toEqual({ y: 2, x: 2 });
    expect(centrePosition(1, 1)).toEqual({ y: 0, x: 0 });
  });

  it('NCHW indexing picks the same logical element', () => {
    const nhwc: ReferenceFeatureShape = { batch: 2, height: 3, width: 4, channels: 5, layout: 'NHWC' };
    const nchw = { ...nhwc, layout: 'NCHW' as const };
    expect(referenceFeatureIndex(nhwc, 1, 2, 3, 4)).toBe(((1 * 3 + 2) * 4 + 3) * 5 + 4);
    expect(referenceFeatureIndex(nchw, 1, 2, 3, 4)).toBe(((1 * 5 + 4) * 3 + 2) * 4 + 3);
  });

  it('deepDream: −mean(h²), gradient −2h/size', () => {
    const result = referenceDeepDream([1, -2, 3, 0]);
    expect(result.value).toBe(-14 / 4);
    expect([...result.gradient]).toEqual([-0.5, 1, -1.5, -0]);
  });

  it('featureMatch: relative squared error, 0 at the target, 1 at h = 0; a zero target throws', () => {
    const target = [3, 4];
    expect(referenceFeatureMatch([3, 4], target).value).toBe(0);
    const zero = referenceFeatureMatch([0, 0], target);
    expect(zero.value).toBe(1);
    expect([...zero.gradient]).toEqual([-6 / 25, -8 / 25]);
    expect(() => referenceFeatureMatch([1, 2], [0, 0])).toThrow(/squared norm must be finite and > 0; got 0/);
  });
});
