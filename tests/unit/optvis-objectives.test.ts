// Optvis capability layer, the parts without a GPU: objective algebra and names, the compiled grouping,
// argument errors, the learning-rate schedule, transform sizes and draws, the rotation's bilinear taps.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import type { GpuTensor } from '../../src/memory/gpu-tensor';
import {
  Objective, alphaNorm, channel, compileObjective, deepDream, featureMatch, l2, neuron, totalVariation,
} from '../../src/optvis/objectives';
import { adam, learningRateAt, sgd } from '../../src/optvis/optimizers';
import { fft, pixels } from '../../src/optvis/parameterization';
import { inversion, activationMaximization, INVERSION_DEFAULTS } from '../../src/optvis/presets';
import { normalFloats } from '../../src/optvis/random';
import {
  compose, drawnSize, jitter, largestSize, pad, rotate, sampleTransforms, scale, sizeProbes, standardTransforms,
} from '../../src/optvis/transforms';
import { rotationTaps, transposeTaps } from '../../src/reference/optvis-rotation';
import { resolveModelInput } from '../../src/optvis/model-function';

const fakeTarget = { buffer: {}, shape: [1, 7, 5, 8], destroyed: false } as unknown as GpuTensor;
const L = 'block_3_expand_relu/Relu6';

/** A fixed stream of "random" numbers for draws. */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('objective algebra and names', () => {
  it('names single terms the way Lucid prints them', () => {
    expect(channel(L, 7).name).toBe(`channel(${L}, 7)`);
    expect(neuron('conv2', 3).name).toBe('neuron(conv2, 3)');
    expect(neuron('conv2', 3, 1, 2).name).toBe('neuron(conv2, 3, 1, 2)');
    expect(deepDream('conv1').name).toBe('deepDream(conv1)');
    expect(totalVariation().name).toBe('tv(β=2)');
    expect(alphaNorm().name).toBe('alphaNorm(α=6)');
    expect(l2().name).toBe('l2');
    expect(featureMatch('pool', fakeTarget).name).toBe('featureMatch(pool)');
  });

  it('add, mul and sum compose names and multiply weights out', () => {
    const a = channel('conv2', 1).mul(0.2).add(channel('conv2', 2).mul(0.8));
    expect(a.name).toBe('0.2·channel(conv2, 1) + 0.8·channel(conv2, 2)');
    expect(a.terms.map((t) => [t.name, t.weight])).toEqual([['channel(conv2, 1)', 0.2], ['channel(conv2, 2)', 0.8]]);
    const scaled = a.mul(3);
    expect(scaled.name).toBe('3·(0.2·channel(conv2, 1) + 0.8·channel(conv2, 2))');
    expect(scaled.terms.map((t) => t.weight)).toEqual([0.2 * 3, 0.8 * 3]);
    const sum = Objective.sum([totalVariation().mul(0.5), deepDream('conv1'), l2().mul(1e-3)]);
    expect(sum.name).toBe('0.5·tv(β=2) + deepDream(conv1) + 0.001·l2');
    expect(sum.terms).toHaveLength(3);
    expect(channel('a', 0).mul(0.1 + 0.2).name).toBe('0.3·channel(a, 0)');
  });

  it('lists the layers once each, in first-use order, and compiles feature terms by layer', () => {
    const o = Objective.sum([channel('b', 1), totalVariation(), featureMatch('a', fakeTarget).mul(2), deepDream('b'), alphaNorm(4).mul(0.1)]);
    expect(o.layers).toEqual(['b', 'a']);
    const compiled = compileObjective(o);
    expect(compiled.layers.map((l) => [l.layer, l.terms.map((t) => [t.index, t.weight, t.term.kind])])).toEqual([
      ['b', [[0, 1, 'channel'], [3, 1, 'deepDream']]],
      ['a', [[2, 2, 'featureMatch']]],
    ]);
    expect(compiled.image.map((t) => [t.index, t.weight, t.term])).toEqual([
      [1, 1, { kind: 'totalVariation', beta: 2 }],
      [4, 0.1, { kind: 'alphaNorm', alpha: 4 }],
    ]);
  });

  it('rejects bad arguments with what was expected and what came', () => {
    expect(() => channel('conv2', -1)).toThrow(/channel: channel must be an integer ≥ 0; got -1/);
    expect(() => channel('conv2', 1.5)).toThrow(InvalidArgumentError);
    expect(() => channel('conv2', 1.5)).toThrow(/channel must be an integer ≥ 0; got 1\.5/);
    expect(() => channel('', 1)).toThrow(/non-empty name; got ''/);
    expect(() => neuron('conv2', 1, 2)).toThrow(/both y and x/);
    expect(() => totalVariation(0)).toThrow(/β must be a finite number > 0; got 0/);
    expect(() => alphaNorm(0.5)).toThrow(/α must be a finite number ≥ 1; got 0.5/);
    expect(() => channel('a', 1).mul(Number.NaN)).toThrow(/finite number; got NaN/);
    expect(() => featureMatch('a', null as unknown as GpuTensor)).toThrow(/target must be a GpuTensor.*got null/);
    expect(() => Objective.sum([])).toThrow(/non-empty list/);
    expect(() => channel('a', 1).add(3 as unknown as Objective)).toThrow(/expected an Objective; got 3/);
  });
});

describe('optimizers and the learning-rate schedule', () => {
  it('follows the schedule step by step', () => {
    const spec = sgd(0.1, 0.9, { schedule: [{ at: 10, learningRate: 0.01 }, { at: 20, learningRate: 0.001 }] });
    expect([0, 9, 10, 19, 20, 1000].map((s) => learningRateAt(spec, s))).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
    expect(learningRateAt(adam(), 500)).toBe(0.05);
    expect(adam()).toMatchObject({ kind: 'adam', learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(sgd(0.2)).toMatchObject({ kind: 'sgd', learningRate: 0.2, momentum: 0.9, nesterov: false });
  });

  it('rejects a schedule out of order or with a bad rate', () => {
    expect(() => sgd(0.1, 0.9, { schedule: [{ at: 10, learningRate: 0.01 }, { at: 5, learningRate: 0.001 }] }))
      .toThrow(/steps must increase; 5 follows 10/);
    expect(() => adam(0.05, { schedule: [{ at: 3, learningRate: -1 }] })).toThrow(/schedule\[0\]/);
    expect(() => sgd(0.1, 1)).toThrow(/momentum must be in \[0, 1\); got 1/);
  });
});

describe('transforms', () => {
  it('track sizes through pad, jitter, scale and rotate', () => {
    const t = compose(pad(3), jitter(2), scale([0.5]), rotate([90]));
    const draws = sampleTransforms(t, 20, 11, sequence([0.99, 0, 0.5, 0.1]));
    expect(draws.map((d) => d.kind)).toEqual(['pad', 'crop', 'resize', 'rotate']);
    expect(draws[1]).toEqual({ kind: 'crop', top: 2, left: 0, height: 24, width: 15 });
    expect(draws[2]).toEqual({ kind: 'resize', height: 12, width: 7 }); // truncated, as Lucid's int32 cast
    expect(draws[3]).toMatchObject({ kind: 'rotate', radians: Math.PI / 2 });
    expect(drawnSize(draws, 20, 11)).toEqual({ height: 12, width: 7 });
  });

  it("Lucid's standard transforms: 64×64 becomes 68…84 square, never above largestSize", () => {
    const t = standardTransforms();
    const random = sequence(Array.from({ length: 97 }, (_, i) => (i * 0.6180339887) % 1));
    const sizes = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const size = drawnSize(sampleTransforms(t, 64, 64, random), 64, 64);
      expect(size.height).toBe(size.width);
      sizes.add(size.height);
    }
    expect(largestSize(t, 64, 64)).toEqual({ height: 84, width: 84 }); // 64 + 24 − 8, × 1.1, − 4
    for (const s of sizes) expect(s >= 68 && s <= 84, `size ${s}`).toBe(true);
    expect(sizes.size).toBeGreaterThan(5);
  });

  it('size probes: one draw list per size the transforms can give, every such size', () => {
    const sizesOf = (probes: ReturnType<typeof sizeProbes>, h: number, w: number) =>
      probes.map((draws) => drawnSize(draws, h, w)).map((s) => `${s.height}×${s.width}`);
    // Lucid's standard transforms on 64×64: padded and jittered to 80, each factor's truncation, then − 4.
    const standard = sizesOf(sizeProbes(standardTransforms(), 64, 64), 64, 64);
    const expected = new Set(Array.from({ length: 11 }, (_, i) => Math.trunc((1 + (i - 5) / 50) * 80) - 4).map((s) => `${s}×${s}`));
    expect(new Set(standard)).toEqual(expected);
    expect(standard.length).toBe(expected.size); // no size twice
    // Every size that random draws reach is probed.
    const random = sequence(Array.from({ length: 89 }, (_, i) => (i * 0.6180339887) % 1));
    for (let i = 0; i < 300; i++) {
      const s = drawnSize(sampleTransforms(standardTransforms(), 64, 64, random), 64, 64);
      expect(expected.has(`${s.height}×${s.width}`)).toBe(true);
    }
    // Two scales branch: 10×9 → {5×4, 10×9} → jitter 2 → {3×2, 8×7} → ×{1, 2} → four sizes.
    const two = sizesOf(sizeProbes(compose(scale([0.5, 1]), jitter(2), scale([1, 2])), 10, 9), 10, 9);
    expect(new Set(two)).toEqual(new Set(['3×2', '6×4', '8×7', '16×14']));
    expect(two.length).toBe(4);
    // Without scale, one probe.
    expect(sizeProbes(compose(pad(2), jitter(4), rotate([5, 10])), 10, 9)).toHaveLength(1);
    // What cannot be applied at one of the sizes throws here, not at some later step.
    expect(() => sizeProbes(compose(scale([1, 0.5]), jitter(6)), 12, 12)).toThrow(/image is 6×6 here; it must be larger than 6/);
  });

  it('rejects what cannot be applied', () => {
    expect(() => sampleTransforms(jitter(8), 8, 20, Math.random)).toThrow(/image is 8×20 here; it must be larger than 8/);
    expect(() => sampleTransforms(pad(5), 5, 9, Math.random)).toThrow(/can be mirrored by at most 4/);
    expect(() => pad(-1)).toThrow(/integer ≥ 0; got -1/);
    expect(() => scale([])).toThrow(/non-empty/);
    expect(() => rotate([Number.NaN])).toThrow(/finite/);
  });

  it('rotation taps: identity at 0, an exact permutation at 90° on a square, weights sum to 1 inside', () => {
    const id = rotationTaps(5, 7, 0);
    for (let p = 0; p < 35; p++) {
      expect(id.weight[p]).toBeCloseTo(1, 6);
      expect(id.index[p]).toBe(p);
    }
    const quarter = rotationTaps(6, 6, Math.PI / 2);
    const seen = new Set<number>();
    for (let p = 0; p < 36; p++) {
      const k = [0, 1, 2, 3].find((j) => quarter.weight[j * 36 + p]! > 0.999)!;
      expect(k).toBeDefined();
      seen.add(quarter.index[k * 36 + p]!);
    }
    expect(seen.size).toBe(36);
    const tilted = rotationTaps(9, 13, 0.2);
    const centre = 4 * 13 + 6;
    const sum = [0, 1, 2, 3].reduce((s, k) => s + tilted.weight[k * 117 + centre]!, 0);
    expect(sum).toBeCloseTo(1, 6);
    expect(tilted.weight[0] as number).toBeLessThan(1); // a corner reads partly outside: zero fill
  });
});

describe('parameterizations, presets, model input', () => {
  it("fill in Lucid's defaults and check sizes", () => {
    expect(fft({ height: 32, width: 48 })).toMatchObject({ kind: 'fft', decorrelate: true, decayPower: 1, sd: 0.01 });
    expect(pixels({ height: 8, width: 8 })).toMatchObject({ kind: 'pixels', decorrelate: true, mapping: 'sigmoid' });
    expect(() => fft({ height: 1, width: 8 })).toThrow(/height must be an integer ≥ 2; got 1/);
    expect(() => pixels({ height: 8, width: 8, mapping: 'tanh' as 'clamp' })).toThrow(/'sigmoid' or 'clamp'; got 'tanh'/);
  });

  it('seeded normal draws have the asked standard deviation', () => {
    const draws = normalFloats(20_000, 3, 0.01);
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((s, v) => s + (v - mean) ** 2, 0) / draws.length);
    expect(Math.abs(mean)).toBeLessThan(3e-4);
    expect(sd).toBeGreaterThan(0.0097);
    expect(sd).toBeLessThan(0.0103);
    expect(normalFloats(5, 3, 1)).toEqual(normalFloats(5, 3, 1));
  });

  it('presets: Lucid for maximization, M&V-normalized terms for inversion', () => {
    const am = activationMaximization({ layer: L, channel: 7, height: 64, width: 64 });
    expect(am.objective.name).toBe(`channel(${L}, 7)`);
    expect(am.parameterization.kind).toBe('fft');
    expect(am.optimizer).toMatchObject({ kind: 'adam', learningRate: 0.05 });
    const inv = inversion({ layer: 'pool', target: fakeTarget, height: 17, width: 13, steps: 100 });
    const [match, alpha, tv] = inv.objective.terms;
    expect(match!.name).toBe('featureMatch(pool)');
    const d = INVERSION_DEFAULTS;
    expect(alpha!.weight).toBeCloseTo(d.alphaWeight / (17 * 13 * d.range ** 6), 12);
    expect(tv!.weight).toBeCloseTo(d.tvWeight / (17 * 13 * (d.range / 6.5) ** 2), 12);
    expect(inv.optimizer).toMatchObject({ kind: 'sgd', momentum: 0.9, clamp: { lo: 0, hi: 1 } });
    expect(learningRateAt(inv.optimizer, 79)).toBe(d.learningRate);
    expect(learningRateAt(inv.optimizer, 80)).toBeCloseTo(d.learningRate / 10, 12);
  });

  it('model input range', () => {
    expect(resolveModelInput({ inputRange: [0, 255] })).toEqual({ inputNode: null, scale: 255, offset: 0 });
    expect(() => resolveModelInput({ inputRange: [1, 1] })).toThrow(/two different finite numbers/);
  });
});

describe('the rotation adjoint', () => {
  it('transposed taps satisfy ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ in float64', async () => {
    for (const [h, w, angle] of [[9, 13, 0.3], [16, 16, -0.17], [5, 4, Math.PI / 2]] as const) {
      const pixels = h * w;
      const taps = rotationTaps(h, w, angle);
      const adjoint = transposeTaps(taps, pixels);
      expect(adjoint.fanIn).toBeGreaterThanOrEqual(1);
      expect(adjoint.fanIn).toBeLessThanOrEqual(9);
      const x = normalFloats(pixels, 1, 1);
      const y = normalFloats(pixels, 2, 1);
      const apply = (t: { index: Int32Array; weight: Float32Array }, count: number, v: Float32Array) =>
        Array.from({ length: pixels }, (_, p) => {
          let sum = 0;
          for (let k = 0; k < count; k++) sum += t.weight[k * pixels + p]! * v[t.index[k * pixels + p]!]!;
          return sum;
        });
      const rx = apply(taps, 4, x);
      const rty = apply(adjoint, adjoint.fanIn, y);
      const left = rx.reduce((s, v, i) => s + v * y[i]!, 0);
      const right = rty.reduce((s, v, i) => s + v * x[i]!, 0);
      expect(Math.abs(left - right)).toBeLessThan(1e-5 * (Math.abs(left) + 1));
    }
  });

  it('builds for a 400×400 image (160,000 pixels: a spread of one argument per pixel overflowed the stack)', async () => {
    const taps = rotationTaps(400, 400, 0.1);
    const adjoint = transposeTaps(taps, 400 * 400);
    expect(adjoint.fanIn).toBeGreaterThanOrEqual(4); // a small rotation: some pixel is read by four outputs
    expect(adjoint.fanIn).toBeLessThanOrEqual(9);
    expect(adjoint.index.length).toBe(adjoint.fanIn * 400 * 400);
  });
});
