// The float64 rollout reference that the GPU kernels are judged against: it must itself be right.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NonFiniteError } from '../../src/core/errors';
import { randomSoftmaxRows, referenceAttentionRollout } from '../../src/reference/attention-rollout';

const rowSums = (m: Float64Array, n: number) =>
  Array.from({ length: m.length / n }, (_, row) => m.subarray(row * n, (row + 1) * n).reduce((a, b) => a + b, 0));

const expectClose = (got: ArrayLike<number>, want: readonly number[], digits = 14) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, index) => expect(got[index], `element ${index}`).toBeCloseTo(w, digits));
};

/** The bug of popular scripts: `a / a.sum(dim=-1)` without keepdim divides a[i, j] by the sum of ROW j. */
function columnBugNormalize(a: readonly number[], n: number): number[] {
  const sums = Array.from({ length: n }, (_, i) => a.slice(i * n, (i + 1) * n).reduce((x, y) => x + y, 0));
  return a.map((x, e) => x / sums[e % n]!);
}

describe('referenceAttentionRollout', () => {
  it('rows of every Â_l and R_l sum to 1, for each fusion and discard ratio, causal or not', () => {
    const [layers, heads, n] = [3, 4, 9];
    for (const causal of [false, true])
      for (const fusion of ['mean', 'max', 'min'] as const)
        for (const discardRatio of [0, 0.5, 0.9]) {
          const p = randomSoftmaxRows(layers * heads * n, n, 5, { causal });
          const { graph, rollout } = referenceAttentionRollout(p, [layers, heads, n, n], { fusion, discardRatio });
          for (const sum of [...rowSums(graph, n), ...rowSums(rollout, n)]) expect(sum).toBeCloseTo(1, 12);
          expect([...graph, ...rollout].every((x) => x >= 0)).toBe(true);
        }
  });

  it('normalizes rows, not columns (catches `a / a.sum(dim=-1)` without keepdim)', () => {
    // Max fusion makes Ā + I rows sum to 2.7 and 2.3, so dividing by the wrong axis shows.
    const p = [0.9, 0.1, 0.4, 0.6, /* head 1 */ 0.2, 0.8, 0.7, 0.3];
    const { graph } = referenceAttentionRollout(p, [2, 2, 2], { fusion: 'max' });
    const fusedPlusI = [1.9, 0.8, 0.7, 1.6];
    const want = [1.9 / 2.7, 0.8 / 2.7, 0.7 / 2.3, 1.6 / 2.3];
    expectClose(graph, want);
    // The same assertion fails for the buggy normalization: this test can tell them apart.
    const buggy = columnBugNormalize(fusedPlusI, 2);
    expect(Math.max(...buggy.map((x, e) => Math.abs(x - want[e]!)))).toBeGreaterThan(0.05);
  });

  it('2 layers × 3 tokens by hand: R_1 = Â_1 · Â_0 (in that order)', () => {
    const p0 = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
    const p1 = [1, 0, 0, 0, 1, 0, 0, 1, 0]; // token 2 attends to token 1
    const { graph, rollout } = referenceAttentionRollout([...p0, ...p1], [2, 1, 3, 3]);
    const a0 = [1, 0, 0, 0.25, 0.75, 0, 0.1, 0.15, 0.75];
    const a1 = [1, 0, 0, 0, 1, 0, 0, 0.5, 0.5];
    expectClose(graph, [...a0, ...a1]);
    // Â_0 · Â_1 would give row 2 = [0.1, 0.525, 0.375].
    expectClose(rollout, [...a0, 1, 0, 0, 0.25, 0.75, 0, 0.175, 0.45, 0.375]);
  });

  it('fuses heads by mean, max and min, elementwise', () => {
    const p = [0.6, 0.4, 0.1, 0.9, /* head 1 */ 0.2, 0.8, 0.5, 0.5];
    const graphOf = (fusion: 'mean' | 'max' | 'min') =>
      referenceAttentionRollout(p, [2, 2, 2], { fusion }).graph;
    expectClose(graphOf('mean'), [1.4 / 2, 0.6 / 2, 0.3 / 2, 1.7 / 2]);
    expectClose(graphOf('max'), [1.6 / 2.4, 0.8 / 2.4, 0.5 / 2.4, 1.9 / 2.4]);
    expectClose(graphOf('min'), [1.2 / 1.6, 0.4 / 1.6, 0.1 / 1.6, 1.5 / 1.6]);
  });

  describe('discard, per row', () => {
    const n = 5;
    const p = [
      [0.3, 0.1, 0.2, 0.2, 0.2], // k = 1 or 2: threshold 0.2, only the 0.1 goes
      [0.05, 0.05, 0.1, 0.3, 0.5], // k = 2: the diagonal (0.05) is below the threshold but stays
      [0.1, 0.1, 0.4, 0.2, 0.2], // k = 1: threshold 0.1 (a tie): nothing goes
      [0.01, 0.02, 0.03, 0.04, 0.9],
      [0, 0, 0.5, 0.25, 0.25], // zeros (masked keys) are the smallest; discarding them changes nothing
    ];
    const graphRows = (discardRatio: number) => {
      const { graph } = referenceAttentionRollout(p.flat(), [1, n, n], { discardRatio });
      return p.map((_, i) => Array.from(graph.subarray(i * n, (i + 1) * n)));
    };
    const normalized = (row: number[], i: number) => {
      const plusI = row.map((x, j) => x + (j === i ? 1 : 0));
      const sum = plusI.reduce((a, b) => a + b, 0);
      return plusI.map((x) => x / sum);
    };

    it('ratio 0 discards nothing', () => {
      graphRows(0).forEach((row, i) => expectClose(row, normalized(p[i]!, i)));
    });

    it('ratio 0.2 (k = 1): ties at the threshold stay', () => {
      const rows = graphRows(0.2);
      expectClose(rows[0]!, normalized([0.3, 0, 0.2, 0.2, 0.2], 0));
      expectClose(rows[1]!, normalized(p[1]!, 1)); // the two 0.05s tie at the threshold
      expectClose(rows[2]!, normalized(p[2]!, 2));
      expectClose(rows[3]!, normalized([0, 0.02, 0.03, 0.04, 0.9], 3));
      expectClose(rows[4]!, normalized(p[4]!, 4));
    });

    it('ratio 0.5 (k = 2) and 0.9 (k = 4): at most k go, never the diagonal', () => {
      const rows2 = graphRows(0.5);
      expectClose(rows2[0]!, normalized([0.3, 0, 0.2, 0.2, 0.2], 0));
      expectClose(rows2[1]!, normalized([0, 0.05, 0.1, 0.3, 0.5], 1));
      expectClose(rows2[2]!, normalized([0, 0, 0.4, 0.2, 0.2], 2)); // both tied 0.1s are below 0.2
      expectClose(rows2[3]!, normalized([0, 0, 0.03, 0.04, 0.9], 3));
      const rows4 = graphRows(0.9);
      expectClose(rows4[0]!, normalized([0.3, 0, 0, 0, 0], 0));
      expectClose(rows4[1]!, normalized([0, 0.05, 0, 0, 0.5], 1));
      expectClose(rows4[3]!, normalized([0, 0, 0, 0.04, 0.9], 3));
      expectClose(rows4[4]!, normalized([0, 0, 0.5, 0, 0.25], 4));
    });

    it('is per row, not over the flattened matrix (which would empty the row of small values)', () => {
      // k = 1 per row: row 0 = [0.5, 0.5] is a tie and keeps both; row 1 = [0.2, 0.8] loses its 0.2.
      // Over the flattened matrix, the 2 smallest of {0.5, 0.5, 0.2, 0.8} would take a 0.5 from row 0.
      const { graph } = referenceAttentionRollout([0.5, 0.5, 0.2, 0.8], [1, 2, 2], { discardRatio: 0.5 });
      expectClose(graph, [1.5 / 2, 0.5 / 2, 0, 1]);
    });
  });

  it('accepts [heads, n, n] as one layer', () => {
    const p = randomSoftmaxRows(3 * 4, 4, 9);
    const three = referenceAttentionRollout(p, [3, 4, 4], { fusion: 'max' });
    const four = referenceAttentionRollout(p, [1, 3, 4, 4], { fusion: 'max' });
    expect(three.rollout).toEqual(four.rollout);
    expect(three.rollout).toEqual(three.graph);
  });

  it('rejects bad shapes, ratios and non-finite weights, saying where', () => {
    for (const [values, shape] of [[24, [3, 2, 4]], [11, [1, 3, 2, 2]], [4, [2, 2]]] as const) {
      const bad = () => referenceAttentionRollout(new Float32Array(values), shape);
      expect(bad).toThrow(InvalidArgumentError);
      expect(bad).toThrow(`shape [${shape}] is not [layers, heads, n, n] of ${values} values`);
    }
    expect(() => referenceAttentionRollout(new Float32Array(8), [2, 2, 2], { discardRatio: 1 })).toThrow(/discardRatio 1/);
    const p = randomSoftmaxRows(2 * 3 * 3, 3, 4);
    p[((1 * 3 + 2) * 3 + 1) * 3 + 2] = NaN;
    expect(() => referenceAttentionRollout(p, [2, 3, 3, 3])).toThrow(NonFiniteError);
    expect(() => referenceAttentionRollout(p, [2, 3, 3, 3])).toThrow(/layer 1, head 2, row 1, col 2/);
  });
});
