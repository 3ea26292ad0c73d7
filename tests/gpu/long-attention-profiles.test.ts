// Profiles of long-sequence attention: attention received per key (column sums of exact P) and entropy
// per row, against the float64 reference; a pass spread over several submissions; nothing left live.
import { describe, expect, it } from 'vitest';
import { createLongAttention, type LongAttention } from '../../src/attention/long-attention';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { referenceColumnSums, referenceRowStats, type ReferenceLongInput } from '../../src/reference/long-attention';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

interface Case {
  heads: number;
  nq: number;
  nk: number;
  d: number;
  causal?: boolean;
  keyLength?: number;
  seed: number;
}

async function withAttention<T>(c: Case, body: (attention: LongAttention, input: ReferenceLongInput) => Promise<T>): Promise<T> {
  const q = randomFloats(c.heads * c.nq * c.d, c.seed, 1.5);
  const k = randomFloats(c.heads * c.nk * c.d, c.seed + 1, 1.5);
  const input = { ...c, q, k };
  const tensors = [tensorFromArray(engine(), q, [c.heads, c.nq, c.d]), tensorFromArray(engine(), k, [c.heads, c.nk, c.d])];
  const attention = createLongAttention(engine(), tensors[0]!, tensors[1]!, c);
  try {
    await attention.computeRowStats();
    return await body(attention, input);
  } finally {
    attention.destroy();
    for (const tensor of tensors) tensor.destroy();
  }
}

/** Largest |got - want| / max(1, |want|): column sums range from 0 to N. */
function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < want.length; i++) {
    const difference = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    largest = Number.isNaN(difference) ? Infinity : Math.max(largest, difference);
  }
  return largest;
}

const cases: Case[] = [
  { heads: 1, nq: 7, nk: 7, d: 17, seed: 1 },
  { heads: 2, nq: 100, nk: 100, d: 64, causal: true, seed: 3 },
  { heads: 1, nq: 257, nk: 257, d: 17, keyLength: 190, seed: 5 },
  { heads: 1, nq: 257, nk: 257, d: 128, causal: true, keyLength: 200, seed: 7 },
  { heads: 2, nq: 70, nk: 200, d: 8, seed: 9 },
  { heads: 1, nq: 200, nk: 70, d: 8, causal: true, seed: 11 },
  { heads: 1, nq: 1000, nk: 1000, d: 64, causal: true, seed: 13 },
];

describe('profiles against the float64 reference', () => {
  it.each(cases)('heads $heads, nq $nq, nk $nk, d $d, causal $causal, keyLength $keyLength', async (c) => {
    await withAttention(c, async (attention, input) => {
      const stats = referenceRowStats(input);
      // Poisoned outputs, one column block per submission: every element must be written.
      const poisoned = (shape: number[]) => tensorFromArray(engine(), new Float32Array(shape[0]! * shape[1]!).fill(NaN), shape);
      const out = { columnSums: poisoned([c.heads, c.nk]), entropy: poisoned([c.heads, c.nq]) };
      try {
        for (let head = 0; head < c.heads; head++) {
          for (let block = 0; block < Math.ceil(c.nk / 64); block++) {
            await engine().run('test.profiles', (encoder) =>
              attention.recordProfiles(encoder, out, [{ head, firstBlock: block, blocks: 1 }]),
            );
          }
        }
        const sums = await out.columnSums.read();
        expect(sums.every(Number.isFinite), 'column sums left unwritten').toBe(true);
        expect(worstRelative(sums, referenceColumnSums(input, stats))).toBeLessThanOrEqual(2e-6);
        const entropy = await out.entropy.read();
        expect(entropy.every(Number.isFinite), 'entropies left unwritten').toBe(true);
        expect(worstRelative(entropy, stats.entropy)).toBeLessThanOrEqual(2e-5);
      } finally {
        out.columnSums.destroy();
        out.entropy.destroy();
      }
    });
  });

  it('profiles(): every head in chunks, with progress, the same numbers; the caller owns the tensors', async () => {
    const c = { heads: 2, nq: 300, nk: 300, d: 16, causal: true, seed: 21 };
    await withAttention(c, async (attention, input) => {
      const fractions: number[] = [];
      const { columnSums, entropy } = await attention.profiles({ blocksPerChunk: 2, onProgress: (p) => fractions.push(p.fraction) });
      const stats = referenceRowStats(input);
      expect(worstRelative(await columnSums.read(), referenceColumnSums(input, stats))).toBeLessThanOrEqual(2e-6);
      expect(worstRelative(await entropy.read(), stats.entropy)).toBeLessThanOrEqual(2e-5);
      expect(fractions.length).toBe(2 * 3);
      expect(fractions.at(-1)).toBe(1);
      expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
      // By work, not by blocks: causal column block b visits rows 64·b .. 299, so a head's five blocks visit
      // 300, 236, 172, 108 and 44 rows (+1 a block for its dispatch), and the first chunk (blocks 0 and 1)
      // is 538 of both heads' 1,730 (blocks alone would say 2 of 10).
      expect(fractions[0]).toBeCloseTo(538 / 1730, 12);
      columnSums.destroy();
      entropy.destroy();
    });
  });

  it('causal column sums add up to the number of rows that see anything', async () => {
    const c = { heads: 1, nq: 129, nk: 129, d: 8, causal: true, keyLength: 100, seed: 23 };
    await withAttention(c, async (attention) => {
      const { columnSums, entropy } = await attention.profiles();
      const total = (await columnSums.read()).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(129, 3); // every row sees key 0, so each row's P sums to 1
      const sums = await columnSums.read();
      expect(sums.subarray(100).every((x) => x === 0)).toBe(true); // padding receives nothing
      for (const tensor of [columnSums, entropy] as GpuTensor[]) tensor.destroy();
    });
  });
});
