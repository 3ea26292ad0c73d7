// The attention-weights kernel against the float64 reference, on seeded inputs of awkward sizes.
import { describe, expect, it } from 'vitest';
import {
  DeviceLimitError,
  InvalidArgumentError,
  NonFiniteError,
  attentionWeights,
  referenceAttentionWeights,
  tensorFromArray,
  type GpuTensor,
} from '../../src/index';
import { useEngine } from '../helpers/engine';
import { maxAbsDifference, randomFloats } from '../../src/reference/random';

const engine = useEngine();

interface Case {
  heads: number;
  n: number;
  d: number;
  causal: boolean;
  keyLength?: number;
  /** Largest |score| the inputs are scaled to reach. */
  maxLogit?: number;
  seed: number;
}

function inputsFor(c: Case) {
  let q = randomFloats(c.heads * c.n * c.d, c.seed, 1);
  let k = randomFloats(c.heads * c.n * c.d, c.seed + 1, 1);
  if (c.maxLogit) {
    // Scale Q and K so that the largest |score| is exactly the requested magnitude.
    const p = { q, k, batch: c.heads, nq: c.n, nk: c.n, d: c.d };
    const gain = Math.sqrt(c.maxLogit / largestScore(p));
    q = q.map((x) => x * gain);
    k = k.map((x) => x * gain);
  }
  return { q, k };
}

function largestScore(p: { q: Float32Array; k: Float32Array; batch: number; nq: number; nk: number; d: number }) {
  let largest = 0;
  const scale = 1 / Math.sqrt(p.d);
  for (let b = 0; b < p.batch; b++)
    for (let i = 0; i < p.nq; i++)
      for (let j = 0; j < p.nk; j++) {
        let dot = 0;
        for (let c = 0; c < p.d; c++) dot += p.q[(b * p.nq + i) * p.d + c]! * p.k[(b * p.nk + j) * p.d + c]!;
        largest = Math.max(largest, Math.abs(dot * scale));
      }
  return largest;
}

/** Runs the kernel into an output poisoned with NaN and returns what it wrote. */
async function runPoisoned(c: Case & { exact?: boolean }) {
  const { q, k } = inputsFor(c);
  const qt = tensorFromArray(engine(), q, [c.heads, c.n, c.d], { label: 'test.q' });
  const kt = tensorFromArray(engine(), k, [c.heads, c.n, c.d], { label: 'test.k' });
  const out = tensorFromArray(engine(), new Float32Array(c.heads * c.n * c.n).fill(NaN), [c.heads, c.n, c.n], {
    label: 'test.P',
  });
  try {
    await attentionWeights(engine(), qt, kt, { causal: c.causal, keyLength: c.keyLength, exact: c.exact, out });
    const got = await out.read();
    const want = referenceAttentionWeights({ ...c, q, k, batch: c.heads, nq: c.n, nk: c.n });
    return { got, want };
  } finally {
    for (const t of [qt, kt, out]) t.destroy();
  }
}

function countNonFinite(values: Float32Array): number {
  return values.reduce((count, x) => count + (Number.isFinite(x) ? 0 : 1), 0);
}

const cases: Case[] = [];
let seed = 1;
for (const n of [1, 7, 33, 100, 257])
  for (const d of [1, 17, 64, 128])
    for (const heads of [1, 3])
      for (const causal of [false, true]) {
        // Every other case pads the keys; the mask must zero the padding and renormalize the rest.
        const keyLength = seed % 2 === 0 && n > 1 ? Math.ceil(n * 0.6) : undefined;
        cases.push({ heads, n, d, causal, keyLength, seed: (seed += 7) });
      }

describe('attentionWeights against the float64 reference', () => {
  it.each(cases)('heads $heads, N $n, d $d, causal $causal, keyLength $keyLength', async (c) => {
    const { got, want } = await runPoisoned(c);
    expect(countNonFinite(got), 'elements left unwritten (still NaN)').toBe(0);
    expect(maxAbsDifference(got, want)).toBeLessThanOrEqual(1e-5);
  });

  it.each([
    { heads: 2, n: 100, d: 64, causal: false, maxLogit: 1e4, seed: 501 },
    { heads: 3, n: 257, d: 17, causal: true, maxLogit: 1e4, seed: 502 },
    { heads: 1, n: 33, d: 128, causal: false, keyLength: 5, maxLogit: 1e3, seed: 503 },
  ])('stays exact with logits up to $maxLogit (N $n, d $d)', async (c) => {
    const { got, want } = await runPoisoned(c);
    expect(countNonFinite(got)).toBe(0);
    expect(maxAbsDifference(got, want)).toBeLessThanOrEqual(1e-5);
  });

  it.each([
    { heads: 3, n: 100, d: 64, causal: true, seed: 601, exact: false },
    { heads: 1, n: 257, d: 17, causal: false, keyLength: 200, seed: 602, exact: false },
  ])('exact: false (plain float32 dot products) is within 1e-5 for ordinary logits (N $n, d $d)', async (c) => {
    const { got, want } = await runPoisoned(c);
    expect(countNonFinite(got)).toBe(0);
    expect(maxAbsDifference(got, want)).toBeLessThanOrEqual(1e-5);
  });

  it('rows of a causal matrix sum to 1 and the upper triangle is 0', async () => {
    const c = { heads: 3, n: 65, d: 16, causal: true, seed: 77 };
    const { got } = await runPoisoned(c);
    for (let row = 0; row < c.heads * c.n; row++) {
      const i = row % c.n;
      const values = got.subarray(row * c.n, (row + 1) * c.n);
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(values.subarray(i + 1).every((x) => x === 0)).toBe(true);
    }
  });

  it('writes zeros, not NaN, for rows whose keys are all masked', async () => {
    const { got } = await runPoisoned({ heads: 2, n: 19, d: 8, causal: true, keyLength: 0, seed: 9 });
    expect(got.every((x) => x === 0)).toBe(true);
  });
});

describe('attentionWeights rejects bad input and keeps nothing', () => {
  const tensor = (shape: number[], fill?: number) =>
    tensorFromArray(engine(), randomFloats(shape.reduce((a, b) => a * b), 3).map((x) => fill ?? x), shape);

  async function expectRejection(q: GpuTensor, k: GpuTensor, options: object, error: unknown, message: RegExp) {
    const live = engine().liveBufferCount();
    await expect(attentionWeights(engine(), q, k, options)).rejects.toThrow(error as never);
    await expect(attentionWeights(engine(), q, k, options)).rejects.toThrow(message);
    expect(engine().liveBufferCount()).toBe(live);
    q.destroy();
    k.destroy();
  }

  it('NaN or Inf in Q or K: a NonFiniteError that says where', async () => {
    const values = randomFloats(2 * 5 * 4, 11);
    values[1 * 20 + 3 * 4 + 2] = NaN; // head 1, query 3
    const q = tensorFromArray(engine(), values, [2, 5, 4]);
    await expectRejection(q, tensor([2, 5, 4]), {}, NonFiniteError, /5 of 50 .*head 1, query 3, key 0/);
  });

  it("NaN with { nonFinite: 'mask' }: those scores get weight 0, as in the reference", async () => {
    const q = randomFloats(6 * 4, 12);
    const k = randomFloats(6 * 4, 13);
    k[2 * 4 + 1] = Infinity; // key 2 of every query is non-finite
    const [qt, kt] = [tensorFromArray(engine(), q, [1, 6, 4]), tensorFromArray(engine(), k, [1, 6, 4])];
    // Poisoned, so that the masked column (expected 0) must be written, not left as allocated.
    const out = tensorFromArray(engine(), new Float32Array(36).fill(NaN), [1, 6, 6]);
    const p = await attentionWeights(engine(), qt, kt, { nonFinite: 'mask', out });
    const want = referenceAttentionWeights({ q, k, batch: 1, nq: 6, nk: 6, d: 4, nonFinite: 'mask' });
    expect(maxAbsDifference(await p.read(), want)).toBeLessThanOrEqual(1e-6);
    for (const t of new Set([qt, kt, p, out])) t.destroy();
  });

  it('mismatched shapes name both shapes', async () => {
    await expectRejection(tensor([2, 5, 4]), tensor([2, 5, 3]), {}, InvalidArgumentError, /d.*\[2,5,4\].*\[2,5,3\]/);
    await expectRejection(tensor([5, 4]), tensor([5, 4]), {}, InvalidArgumentError, /rank ≥ 3/);
    await expectRejection(tensor([2, 5, 4]), tensor([3, 5, 4]), {}, InvalidArgumentError, /leading/);
  });

  it('a key length outside 0..N is rejected', async () => {
    await expectRejection(tensor([1, 5, 4]), tensor([1, 5, 4]), { keyLength: 6 }, InvalidArgumentError, /keyLength.*0 to .*5.*got 6/);
  });

  it('P larger than the binding limit names the limit and the size asked', async () => {
    const limit = engine().limits.maxStorageBufferBindingSize;
    const n = Math.ceil(Math.sqrt(limit / 4)) + 1; // one head of n×n floats is just over the limit
    const message = new RegExp(`maxStorageBufferBindingSize is .*${limit.toLocaleString('en-US')} bytes`);
    await expectRejection(tensor([1, n, 1]), tensor([1, n, 1]), {}, DeviceLimitError, message);
  });

  it('a destroyed input is reported', async () => {
    const q = tensor([1, 3, 2]);
    const k = tensor([1, 3, 2]);
    q.destroy();
    await expectRejection(q, k, {}, InvalidArgumentError, /used after destroy/);
  });
});
