// Row statistics of long-sequence attention (max, log-sum-exp, entropy) against the float64 reference.
import { describe, expect, it } from 'vitest';
import { createLongAttention, type LongAttentionOptions } from '../../src/attention/long-attention';
import { NonFiniteError } from '../../src/core/errors';
import { tensorFromArray } from '../../src/memory/gpu-tensor';
import { referenceRowStats, type ReferenceLongInput } from '../../src/reference/long-attention';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

interface Case {
  heads: number;
  nq: number;
  nk?: number;
  d: number;
  causal?: boolean;
  keyLength?: number;
  /** Scale Q and K so that the largest |score| is about this. */
  maxLogit?: number;
  exact?: boolean;
  seed: number;
}

function inputsFor(c: Case): ReferenceLongInput {
  const nk = c.nk ?? c.nq;
  let q = randomFloats(c.heads * c.nq * c.d, c.seed, 1);
  let k = randomFloats(c.heads * nk * c.d, c.seed + 1, 1);
  if (c.maxLogit) {
    // |q·k|/√d ≤ d/√d for entries in [-1, 1]; a typical largest score is about a third of that.
    const gain = Math.sqrt(c.maxLogit / (Math.sqrt(c.d) / 3));
    q = q.map((x) => x * gain);
    k = k.map((x) => x * gain);
  }
  return { q, k, heads: c.heads, nq: c.nq, nk, d: c.d, causal: c.causal, keyLength: c.keyLength };
}

/** Row statistics from the GPU, after poisoning the stats buffer with NaN, and from the reference. */
async function rowStatsOf(c: Case, options: LongAttentionOptions = {}) {
  const input = inputsFor(c);
  const qt = tensorFromArray(engine(), Float32Array.from(input.q), [c.heads, input.nq, c.d]);
  const kt = tensorFromArray(engine(), Float32Array.from(input.k), [c.heads, input.nk, c.d]);
  const attention = createLongAttention(engine(), qt, kt, { causal: c.causal, keyLength: c.keyLength, exact: c.exact, ...options });
  try {
    engine().device.queue.writeBuffer(attention.stats, 0, new Float32Array(c.heads * c.nq * 4).fill(NaN));
    await attention.computeRowStats({ blocksPerChunk: 3 });
    return { got: await attention.rowStats(), want: referenceRowStats(input) };
  } finally {
    attention.destroy();
    qt.destroy();
    kt.destroy();
  }
}

function worst(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < want.length; i++) {
    const [a, b] = [got[i]!, want[i]!];
    if (a === b) continue; // both -Infinity for fully masked rows
    const difference = Math.abs(a - b);
    largest = Number.isNaN(difference) ? Infinity : Math.max(largest, difference);
  }
  return largest;
}

function expectStats(got: Awaited<ReturnType<typeof rowStatsOf>>['got'], want: ReturnType<typeof referenceRowStats>, tolerance: number) {
  expect(got.entropy.every(Number.isFinite), 'rows left unwritten (NaN)').toBe(true);
  expect(worst(got.lse, want.lse), '|L_gpu - L_ref|').toBeLessThanOrEqual(tolerance);
  expect(worst(got.entropy, want.entropy), '|H_gpu - H_ref|').toBeLessThanOrEqual(2e-5);
  // m is a float32 score at the row maximum: within float32 rounding of the exact maximum.
  for (let row = 0; row < want.m.length; row++) {
    if (want.m[row] === -Infinity) expect(got.lse[row]).toBe(-Infinity);
    else expect(Math.abs(got.m[row]! - want.m[row]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want.m[row]!)));
  }
}

// |L_gpu - L_ref| ≤ 4e-6 (+ 2e-10·|L| for rounding of m itself): float32 log l carries ~1e-6 at log N ≈ 8.
const LSE_TOLERANCE = 4e-6;

const cases: Case[] = [];
let seed = 100;
for (const nq of [1, 7, 100, 257, 1000])
  for (const d of [1, 17, 64, 128])
    for (const causal of [false, true]) {
      if (nq === 1000 && d !== 64) continue; // keeps SwiftShader time down
      seed += 7;
      const keyLength = seed % 3 === 0 && nq > 1 ? Math.ceil(nq * 0.6) : undefined;
      cases.push({ heads: seed % 2 === 0 ? 3 : 1, nq, d, causal, keyLength, seed });
    }

describe('row statistics against the float64 reference', () => {
  it.each(cases)('heads $heads, N $nq, d $d, causal $causal, keyLength $keyLength', async (c) => {
    const { got, want } = await rowStatsOf(c);
    expectStats(got, want, LSE_TOLERANCE);
  });

  it.each([
    { heads: 1, nq: 2049, d: 64, causal: false, seed: 1 },
    { heads: 1, nq: 2049, d: 64, causal: true, keyLength: 2000, seed: 2 },
  ])('N $nq, d $d, causal $causal (several key and query blocks per chunk)', async (c) => {
    const { got, want } = await rowStatsOf(c);
    expectStats(got, want, LSE_TOLERANCE);
  });

  it.each([
    { heads: 2, nq: 100, nk: 257, d: 64, seed: 21 },
    { heads: 1, nq: 257, nk: 33, d: 17, causal: true, seed: 22 },
  ])('nq $nq ≠ nk $nk, causal $causal', async (c) => {
    const { got, want } = await rowStatsOf(c);
    expectStats(got, want, LSE_TOLERANCE);
  });

  it.each([
    { heads: 2, nq: 257, d: 64, maxLogit: 1e4, seed: 31 },
    { heads: 1, nq: 1000, d: 17, causal: true, maxLogit: 1e4, seed: 32 },
    { heads: 1, nq: 100, d: 128, keyLength: 5, maxLogit: 1e3, seed: 33 },
  ])('stays exact with logits up to $maxLogit (N $nq, d $d)', async (c) => {
    const { got, want } = await rowStatsOf(c);
    const largest = want.m.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    expect(largest).toBeGreaterThan(c.maxLogit / 4);
    expectStats(got, want, LSE_TOLERANCE + 2e-10 * largest);
  });

  it('exact: false is within 1e-5 for ordinary logits', async () => {
    const { got, want } = await rowStatsOf({ heads: 2, nq: 257, d: 64, causal: true, exact: false, seed: 41 });
    expectStats(got, want, 1e-5);
  });

  it('rows with every key masked are marked (L = -Infinity, entropy 0)', async () => {
    const { got } = await rowStatsOf({ heads: 2, nq: 19, d: 8, keyLength: 0, seed: 51 });
    expect(got.lse.every((x) => x === -Infinity)).toBe(true);
    expect(got.entropy.every((x) => x === 0)).toBe(true);
  });
});

describe('non-finite scores', () => {
  const nanAt = (c: Case, index: number, target: 'q' | 'k') => {
    const input = inputsFor(c);
    (input[target] as Float32Array)[index] = NaN;
    return input;
  };

  async function run(input: ReferenceLongInput, options: LongAttentionOptions) {
    const qt = tensorFromArray(engine(), Float32Array.from(input.q), [input.heads, input.nq, input.d]);
    const kt = tensorFromArray(engine(), Float32Array.from(input.k), [input.heads, input.nk, input.d]);
    const attention = createLongAttention(engine(), qt, kt, options);
    try {
      engine().device.queue.writeBuffer(attention.stats, 0, new Float32Array(input.heads * input.nq * 4).fill(NaN));
      await attention.computeRowStats();
      return await attention.rowStats();
    } finally {
      attention.destroy();
      qt.destroy();
      kt.destroy();
    }
  }

  it('NaN in Q: a NonFiniteError that names the first row', async () => {
    const c = { heads: 2, nq: 70, d: 4, seed: 61 };
    const input = nanAt(c, (1 * 70 + 66) * 4 + 2, 'q'); // head 1, query 66
    await expect(run(input, {})).rejects.toThrow(NonFiniteError);
    await expect(run(input, {})).rejects.toThrow(/1 of 140 query rows .*head 1, query 66; smallest key 0/);
  });

  it("NaN in K with { nonFinite: 'mask' }: those keys get weight 0, as in the reference", async () => {
    const c = { heads: 1, nq: 90, d: 4, causal: true, seed: 62 };
    const input = nanAt(c, 70 * 4 + 1, 'k'); // key 70
    const got = await run(input, { nonFinite: 'mask', causal: true });
    expectStats(got, referenceRowStats(input), LSE_TOLERANCE);
  });
});
