// Stacking P per layer out of named tensors: the naming convention, shapes, and the checks that tell
// attention weights from scores or from a broken dump.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import { attentionWeightsFrom, hasAttentionWeights } from '../../src/io/attention-weight-tensors';
import type { NamedTensors } from '../../src/io/attention-tensors';
import { parseSafetensors } from '../../src/io/safetensors';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { seededRandom } from '../../src/reference/random';

/** Softmax rows of seeded random logits, causal: [heads, n, n]. */
function softmaxRows(heads: number, n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(heads * n * n);
  for (let row = 0; row < heads * n; row++) {
    const i = row % n;
    const logits = Array.from({ length: i + 1 }, () => 3 * random());
    const max = Math.max(...logits);
    const total = logits.reduce((sum, x) => sum + Math.exp(x - max), 0);
    logits.forEach((x, j) => (out[row * n + j] = Math.exp(x - max) / total));
  }
  return out;
}

const named = (entries: Record<string, { shape: number[]; data: Float32Array }>): NamedTensors => new Map(Object.entries(entries));

describe('attentionWeightsFrom', () => {
  it("stacks Hugging Face's attentions.L from a safetensors file (F16 decoded) into [L, H, N, N]", () => {
    const [l0, l1] = [softmaxRows(3, 7, 1), softmaxRows(3, 7, 2)];
    const bytes = writeSafetensors({
      'attentions.1': { data: l1, shape: [1, 3, 7, 7], dtype: 'F16' },
      'attentions.0': { data: l0, shape: [1, 3, 7, 7] },
      'input_ids': { data: Float32Array.from({ length: 7 }, (_, i) => i + 1), shape: [7] },
    });
    const tensors = parseSafetensors(bytes).tensors;
    expect(hasAttentionWeights(tensors)).toBe(true);
    const stacked = attentionWeightsFrom(tensors);
    expect(stacked.shape).toEqual([2, 3, 7, 7]);
    expect(stacked.names).toEqual(['attentions.0', 'attentions.1']);
    expect(Array.from(stacked.data.subarray(0, 147))).toEqual(Array.from(l0));
    stacked.data.subarray(147).forEach((value, i) => expect(Math.abs(value - l1[i]!)).toBeLessThanOrEqual(l1[i]! * 2 ** -11 + 2 ** -25));
  });

  it('accepts the documented alternatives, [N, N] as one head and .npy names', () => {
    const p = softmaxRows(1, 4, 3);
    expect(attentionWeightsFrom(named({ 'layers.0.p': { shape: [4, 4], data: p } })).shape).toEqual([1, 1, 4, 4]);
    expect(attentionWeightsFrom(named({ 'P.npy': { shape: [1, 4, 4], data: p } })).names).toEqual(['P.npy']);
    expect(attentionWeightsFrom(named({ attn_1: { shape: [4, 4], data: p }, 'ATTN.0': { shape: [4, 4], data: p } })).names).toEqual(['ATTN.0', 'attn_1']);
    expect(hasAttentionWeights(named({ 'layers.0.q': { shape: [4, 4], data: p } }))).toBe(false);
  });

  it('a fully masked row (all zeros) is allowed; scores, negatives, NaN and wrong sums are not', () => {
    const p = softmaxRows(1, 3, 4);
    p.fill(0, 3, 6); // row 1 fully masked
    expect(attentionWeightsFrom(named({ p: { shape: [3, 3], data: p } })).shape).toEqual([1, 1, 3, 3]);
    const scores = Float32Array.from({ length: 9 }, (_, i) => i - 4);
    expect(() => attentionWeightsFrom(named({ p: { shape: [3, 3], data: scores } }))).toThrow(/holds -4 at flat index 0 .*apply softmax first/);
    const nan = softmaxRows(1, 3, 5);
    nan[7] = NaN;
    expect(() => attentionWeightsFrom(named({ p: { shape: [3, 3], data: nan } }))).toThrow(/holds NaN at flat index 7 \(row 2, key 1\)/);
    const halved = softmaxRows(1, 3, 6).map((x) => x / 2);
    expect(() => attentionWeightsFrom(named({ p: { shape: [3, 3], data: halved } }))).toThrow(/row 0 of 'p' sums to 0\.500000; expected 1/);
  });

  it('says what is wrong with names and shapes', () => {
    const p = softmaxRows(2, 3, 7);
    expect(() => attentionWeightsFrom(named({ 'layers.0.q': { shape: [2, 3, 3], data: p } }))).toThrow(
      /no tensor is named like 'attentions.L'.*Found 'layers.0.q'/,
    );
    expect(() => attentionWeightsFrom(named({ p_0: { shape: [2, 3, 3], data: p }, p_2: { shape: [2, 3, 3], data: p } }))).toThrow(
      /without gaps; found layers 0, 2, missing 1/,
    );
    expect(() => attentionWeightsFrom(named({ p_0: { shape: [2, 3, 3], data: p }, 'attentions.0': { shape: [2, 3, 3], data: p } }))).toThrow(
      /both 'p_0' and 'attentions.0' name the weights of layer 0/,
    );
    expect(() => attentionWeightsFrom(named({ p: { shape: [3, 2], data: p.subarray(0, 6) } }))).toThrow(/square.*3 queries × 2 keys/);
    expect(() => attentionWeightsFrom(named({ p: { shape: [2, 1, 3, 3], data: p } }))).toThrow(/a batch of 2; expected batch 1/);
    expect(() =>
      attentionWeightsFrom(named({ p_0: { shape: [2, 3, 3], data: p }, p_1: { shape: [1, 3, 3], data: p.subarray(0, 9) } })),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      attentionWeightsFrom(named({ p_0: { shape: [2, 3, 3], data: p }, p_1: { shape: [1, 3, 3], data: p.subarray(0, 9) } })),
    ).toThrow(/layer 1 \('p_1'\) has 1 heads of 3×3 but layer 0 \('p_0'\) has 2 heads of 3×3/);
  });
});
