// The float64 reference that every GPU result is judged against: it must itself be right.
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../src/core/errors';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { randomFloats } from '../../src/reference/random';

/** Softmax of one row written the textbook way, for tiny cases only. */
function naiveRow(scores: number[]): number[] {
  const exps = scores.map(Math.exp);
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

describe('referenceAttentionWeights', () => {
  it('equals softmax(q·k/√d) written out by hand', () => {
    const q = [1, 0, 0.5, -1]; // 2 queries, d = 2
    const k = [0.2, 0.4, -0.3, 1, 2, 0]; // 3 keys
    const p = referenceAttentionWeights({ q, k, batch: 1, nq: 2, nk: 3, d: 2 });
    const s = Math.SQRT1_2;
    const row0 = naiveRow([0.2 * s, -0.3 * s, 2 * s]);
    const row1 = naiveRow([(0.1 - 0.4) * s, (-0.15 - 1) * s, 1 * s]);
    [...row0, ...row1].forEach((want, index) => expect(p[index]).toBeCloseTo(want, 14));
  });

  it('rows sum to 1, causal entries above the diagonal and padded keys are 0', () => {
    const [batch, n, d] = [2, 9, 5];
    const p = referenceAttentionWeights({
      q: randomFloats(batch * n * d, 1),
      k: randomFloats(batch * n * d, 2),
      batch,
      nq: n,
      nk: n,
      d,
      causal: true,
      keyLength: 6,
    });
    for (let row = 0; row < batch * n; row++) {
      const i = row % n;
      const values = p.subarray(row * n, (row + 1) * n);
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      values.forEach((value, j) => {
        if (j > i || j >= 6) expect(value).toBe(0);
        else expect(value).toBeGreaterThan(0);
      });
    }
  });

  it('a row with every key masked is zeros, not NaN', () => {
    const p = referenceAttentionWeights({ q: [1, 2], k: [3, 4], batch: 1, nq: 2, nk: 2, d: 1, keyLength: 0 });
    expect(Array.from(p)).toEqual([0, 0, 0, 0]);
  });

  it('stays finite and exact for logits of 1e4', () => {
    const p = referenceAttentionWeights({ q: [1e4, -1e4], k: [1, 1 - 1e-4], batch: 1, nq: 2, nk: 2, d: 1, scale: 1 });
    // Row 0: scores 1e4 and 1e4 - 1 → weights 1/(1+e^-1) and e^-1/(1+e^-1).
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(p[1]).toBeCloseTo(Math.exp(-1) / (1 + Math.exp(-1)), 12);
    expect(p[2]! + p[3]!).toBeCloseTo(1, 12);
  });

  it('NaN or Inf inputs throw a NonFiniteError naming the position', () => {
    const run = () => referenceAttentionWeights({ q: [1, NaN], k: [1, 2], batch: 1, nq: 2, nk: 2, d: 1 });
    expect(run).toThrow(NonFiniteError);
    expect(run).toThrow(/batch item 0, query 1, key 0 is NaN/);
    const inf = () => referenceAttentionWeights({ q: [1], k: [Infinity], batch: 1, nq: 1, nk: 1, d: 1 });
    expect(inf).toThrow(/is Infinity/);
  });

  it("with nonFinite: 'mask', non-finite scores get weight 0 and the rest renormalize", () => {
    const p = referenceAttentionWeights({
      q: [1],
      k: [0, NaN, 0],
      batch: 1,
      nq: 1,
      nk: 3,
      d: 1,
      nonFinite: 'mask',
    });
    expect(Array.from(p)).toEqual([0.5, 0, 0.5]);
  });
});
