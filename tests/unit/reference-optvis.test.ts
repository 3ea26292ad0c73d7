// The float64 optvis references: regularizer gradients against central finite differences of their own
// values, boundary conventions on hand-computed images, and Adam / SGD steps on hand-checkable cases.
import { describe, expect, it } from 'vitest';
import { resolveAdamOptions, resolveSgdOptions } from '../../src/kernels/optvis-optimizer';
import { DEFAULT_TV_EPSILON, resolveTerm } from '../../src/kernels/optvis-regularizers';
import {
  imageShapeOf,
  referenceAdam,
  referenceAlphaNorm,
  referenceL2,
  referenceSgd,
  referenceTotalVariation,
  type RegularizerResult,
} from '../../src/reference/optvis';
import { randomFloats } from '../../src/reference/random';

/** Largest |central difference − gradient| / max(1, |gradient|) over every element. */
function finiteDifferenceError(x: Float64Array, f: (x: Float64Array) => RegularizerResult, h = 1e-5): number {
  const { gradient } = f(x);
  let worst = 0;
  for (let e = 0; e < x.length; e++) {
    const saved = x[e]!;
    x[e] = saved + h;
    const up = f(x).value;
    x[e] = saved - h;
    const down = f(x).value;
    x[e] = saved;
    const estimate = (up - down) / (2 * h);
    worst = Math.max(worst, Math.abs(estimate - gradient[e]!) / Math.max(1, Math.abs(gradient[e]!)));
  }
  return worst;
}

const SHAPES = [
  [5, 7, 3],
  [2, 3, 4, 2],
  [1, 6, 1, 5],
  [4, 1, 2],
];

describe('regularizer references against central finite differences (h = 1e-5, error ≤ 1e-6 relative)', () => {
  it.each(SHAPES)('total variation β = 2, 1, 3 on [%s]', (...shape) => {
    const x = Float64Array.from(randomFloats(shape.reduce((a, b) => a * b), 11));
    const image = imageShapeOf(shape);
    for (const beta of [2, 1, 3, 1.5]) {
      const epsilon = beta < 2 ? 1e-3 : 0; // a larger ε than the default keeps the FD truncation error small
      expect(finiteDifferenceError(x, (v) => referenceTotalVariation(v, image, beta, epsilon)), `β ${beta}`).toBeLessThan(1e-6);
    }
  });

  it.each(SHAPES)('α-norm α = 6, 3, 1.5 and L2 on [%s]', (...shape) => {
    const x = Float64Array.from(randomFloats(shape.reduce((a, b) => a * b), 12, 1.5));
    for (const alpha of [6, 3, 1.5]) {
      expect(finiteDifferenceError(x, (v) => referenceAlphaNorm(v, alpha)), `α ${alpha}`).toBeLessThan(1e-6);
    }
    expect(finiteDifferenceError(x, referenceL2)).toBeLessThan(1e-6);
  });
});

describe('regularizer references on hand-computed cases', () => {
  it('total variation drops missing neighbours and leaves the last pixel out', () => {
    // [[1, 2], [4, 8]]: (0,0): 1² + 3² = 10; (0,1): 6² = 36; (1,0): 4² = 16; (1,1): no term.
    const result = referenceTotalVariation([1, 2, 4, 8], imageShapeOf([2, 2, 1]), 2, 0);
    expect(result.value).toBe(62);
    // ∂/∂x00 = −2(1 + 3) = −8; ∂/∂x01 = 2·1 − 2·6 = −10; ∂/∂x10 = 2·3 − 2·4 = −2; ∂/∂x11 = 2·6 + 2·4 = 20.
    expect([...result.gradient]).toEqual([-8, -10, -2, 20]);
  });

  it('total variation with β = 1: (a² + b² + ε)^{1/2}, finite at a = b = 0', () => {
    const result = referenceTotalVariation([3, 7, 3, 3], imageShapeOf([2, 2, 1]), 1, 0);
    // (0,0): √(16 + 0) = 4; (0,1): √(4²) = 4; (1,0): √0 = 0 (left out, derivative 0).
    expect(result.value).toBeCloseTo(8, 12);
    const flat = referenceTotalVariation([5, 5, 5, 5], imageShapeOf([2, 2, 1]), 1, DEFAULT_TV_EPSILON);
    expect(flat.value).toBeCloseTo(3 * Math.sqrt(DEFAULT_TV_EPSILON), 15);
    expect([...flat.gradient]).toEqual([0, 0, 0, 0]);
  });

  it('total variation keeps channels and batch items apart; one pixel has none', () => {
    // Two images of 1×2 pixels, 2 channels: only the right difference of each channel of each image counts.
    const x = [0, 10, 1, 20, /* image 2 */ 100, 0, 103, 0];
    expect(referenceTotalVariation(x, imageShapeOf([2, 1, 2, 2]), 2, 0).value).toBe(1 + 100 + 9 + 0);
    expect(referenceTotalVariation([4, 5], imageShapeOf([1, 1, 2]), 2, 0).value).toBe(0);
  });

  it('α-norm and L2', () => {
    const alpha = referenceAlphaNorm([1, -2, 0], 3);
    expect(alpha.value).toBe(9);
    expect([...alpha.gradient]).toEqual([3, -12, 0]);
    const l2 = referenceL2([1, -2, 0.5]);
    expect(l2.value).toBe(5.25);
    expect([...l2.gradient]).toEqual([2, -4, 1]);
  });

  it('the kernels’ defaults: β 2 with ε 0, ε 1e-8 below β 2, α 6', () => {
    expect(resolveTerm({ kind: 'totalVariation', weight: 1 })).toEqual({ kind: 'totalVariation', weight: 1, exponent: 2, epsilon: 0 });
    expect(resolveTerm({ kind: 'totalVariation', weight: 1, beta: 1 }).epsilon).toBe(1e-8);
    expect(resolveTerm({ kind: 'alphaNorm', weight: 2 }).exponent).toBe(6);
    expect(() => resolveTerm({ kind: 'alphaNorm', weight: 1, alpha: 0.5 })).toThrow(/α must be a finite number ≥ 1; got 0.5/);
    expect(() => resolveTerm({ kind: 'totalVariation', weight: NaN })).toThrow(/weight must be finite; got NaN/);
  });
});

describe('optimizer references on hand-checkable cases', () => {
  it('Adam with a constant gradient moves each step by the learning rate (bias correction)', () => {
    const o = { ...resolveAdamOptions({ learningRate: 0.1 }), epsilon: 0 };
    // m_t = (1 − β1^t)·g and v_t = (1 − β2^t)·g², so m̂/√v̂ = sign(g) exactly.
    const state = referenceAdam([1, -3], [[0.5, -2], [0.5, -2], [0.5, -2]], o);
    expect(state.x[0]).toBeCloseTo(0.7, 14);
    expect(state.x[1]).toBeCloseTo(-2.7, 14);
    expect(state.m[0]).toBeCloseTo(0.5 * (1 - 0.9 ** 3), 15);
    expect(state.v[0]).toBeCloseTo(0.25 * (1 - 0.999 ** 3), 15);
    expect(state.t).toBe(3);
  });

  it('Adam one step by hand with ε, and maximizing with scale −1', () => {
    const o = resolveAdamOptions({ learningRate: 0.05, epsilon: 1e-3, scale: -1 });
    const state = referenceAdam([2], [[0.1]], o);
    // g = −0.1: m̂ = −0.1, √v̂ = 0.1, step = −0.1 / 0.101, x = 2 + 0.05·0.1/0.101.
    expect(state.x[0]).toBeCloseTo(2 + 0.05 * (0.1 / 0.101), 14);
  });

  it('SGD with momentum and with Nesterov, by hand', () => {
    const o = resolveSgdOptions({ learningRate: 0.1, momentum: 0.9 });
    const plain = referenceSgd([0], [[1], [1], [1]], o);
    expect(plain.x[0]).toBeCloseTo(-(0.1 + 0.19 + 0.271), 14); // u = 1, 1.9, 2.71
    const nesterov = referenceSgd([0], [[1], [1]], { ...o, nesterov: true });
    expect(nesterov.x[0]).toBeCloseTo(-(0.19 + 0.271), 14); // g + μu = 1.9, 2.71
  });

  it('clamps after the step, and skips entries whose gradient is not finite', () => {
    const o = resolveSgdOptions({ learningRate: 1, momentum: 0, clamp: { lo: -0.5, hi: 0.25 } });
    const state = referenceSgd([0, 0, 0, 0.125, 0.25], [[1, -1, NaN, Infinity, 0.125]], o);
    expect([...state.x]).toEqual([-0.5, 0.25, 0, 0.125, 0.125]);
    expect(state.skipped).toBe(2);
    const adam = referenceAdam([1, 2], [[-Infinity, 1]], resolveAdamOptions());
    expect(adam.x[0]).toBe(1);
    expect(adam.m[0]).toBe(0);
    expect(adam.skipped).toBe(1);
  });

  it('a gradient that depends on x: Adam on L2 falls toward 0', () => {
    const x0 = randomFloats(30, 5);
    const state = referenceAdam(x0, { steps: 200, gradient: (x) => referenceL2(x).gradient }, resolveAdamOptions());
    expect(referenceL2(state.x).value).toBeLessThan(referenceL2(x0).value / 100);
  });

  it('bad options are refused with what was expected', () => {
    expect(() => resolveAdamOptions({ beta2: 1 })).toThrow(/beta2 must be in \[0, 1\); got 1/);
    expect(() => resolveSgdOptions({ learningRate: -1 })).toThrow(/learning rate must be finite and > 0; got -1/);
    expect(() => resolveSgdOptions({ clamp: { lo: 1, hi: 0 } })).toThrow(/lo ≤ hi; got \[1, 0\]/);
  });
});
