// Attention rollout on the GPU against the float64 reference, on seeded softmax rows of awkward sizes.
import { describe, expect, it } from 'vitest';
import { attentionRollout, type HeadFusion } from '../../src/attention/attention-rollout';
import { DeviceLimitError, InvalidArgumentError, NonFiniteError } from '../../src/core/errors';
import type { Engine } from '../../src/core/engine';
import { createAttentionRolloutKernel } from '../../src/kernels/attention-rollout';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { randomSoftmaxRows, referenceAttentionRollout } from '../../src/reference/attention-rollout';
import { maxAbsDifference } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

// float32 sums of up to n = 130 terms and three chained products of rows summing to 1: errors of a few
// float32 ulps of 1 (6e-8) per step; 2e-6 leaves room without hiding a wrong entry (entries are ~1/n).
const TOLERANCE = 2e-6;

interface Case {
  layers: number;
  heads: number;
  n: number;
  causal: boolean;
  fusion: HeadFusion;
  discardRatio: number;
  seed: number;
}

/**
 * Seeded P. With a discard ratio, weights are rounded to multiples of 2^-20: float32 head sums are then
 * exact, so which entries fall below a row's threshold cannot differ from float64 by rounding (and ties
 * do occur, as they must be handled the same way).
 */
function weightsFor(c: Case): Float32Array {
  const p = randomSoftmaxRows(c.layers * c.heads * c.n, c.n, c.seed, { causal: c.causal });
  if (c.discardRatio === 0) return p;
  return p.map((x) => Math.round(x * 2 ** 20) / 2 ** 20);
}

const nanTensor = (shape: number[], label: string) =>
  tensorFromArray(engine(), new Float32Array(shape.reduce((a, b) => a * b)).fill(NaN), shape, { label });

function countNonFinite(values: Float32Array): number {
  return values.reduce((count, x) => count + (Number.isFinite(x) ? 0 : 1), 0);
}

function expectRowsSumToOne(values: Float32Array, n: number): void {
  for (let row = 0; row < values.length / n; row++) {
    const sum = values.subarray(row * n, (row + 1) * n).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - 1), `row ${row} sums to ${sum}`).toBeLessThanOrEqual(n * 1e-7 + 1e-6);
  }
}

const fusions: HeadFusion[] = ['mean', 'max', 'min'];
const ratios = [0, 0.3, 0.9];
const cases: Case[] = [];
for (const n of [1, 7, 65, 130])
  for (const layers of [1, 3])
    for (const heads of [1, 5])
      for (const causal of [false, true]) {
        // Every fusion × ratio pair comes up several times across the sizes.
        const index = cases.length;
        const [fusion, discardRatio] = [fusions[index % 3]!, ratios[Math.floor(index / 3) % 3]!];
        cases.push({ layers, heads, n, causal, fusion, discardRatio, seed: 100 + index });
      }

describe('attentionRollout against the float64 reference', () => {
  it.each(cases)('L $layers, H $heads, n $n, causal $causal, $fusion, discard $discardRatio', async (c) => {
    const shape = [c.layers, c.heads, c.n, c.n];
    const p = weightsFor(c);
    const weights = tensorFromArray(engine(), p, shape, { label: 'test.P' });
    const out = { graph: nanTensor([c.layers, c.n, c.n], 'test.graph'), rollout: nanTensor([c.layers, c.n, c.n], 'test.rollout') };
    try {
      await attentionRollout(engine(), weights, { fusion: c.fusion, discardRatio: c.discardRatio, out });
      const [graph, rollout] = [await out.graph.read(), await out.rollout.read()];
      const want = referenceAttentionRollout(p, shape, c);
      expect(countNonFinite(graph), 'graph entries left unwritten (still NaN)').toBe(0);
      expect(countNonFinite(rollout), 'rollout entries left unwritten (still NaN)').toBe(0);
      expect(maxAbsDifference(graph, want.graph)).toBeLessThanOrEqual(TOLERANCE);
      expect(maxAbsDifference(rollout, want.rollout)).toBeLessThanOrEqual(TOLERANCE);
      expectRowsSumToOne(rollout, c.n);
    } finally {
      for (const t of [weights, out.graph, out.rollout]) t.destroy();
    }
  });

  it('discards the same entries as the reference where ties sit at the threshold', async () => {
    // Weights from {0, 1/8, 1/4}: many ties in each row, so a "< threshold" that slipped to "≤" shows.
    const [heads, n] = [3, 33];
    const p = Float32Array.from({ length: heads * n * n }, (_, e) => ((e * 7 + Math.floor(e / 5)) % 3) / 8);
    for (const fusion of fusions) {
      const weights = tensorFromArray(engine(), p, [heads, n, n]);
      const { graph, rollout } = await attentionRollout(engine(), weights, { fusion, discardRatio: 0.5 });
      try {
        const want = referenceAttentionRollout(p, [heads, n, n], { fusion, discardRatio: 0.5 });
        expect(maxAbsDifference(await graph.read(), want.graph)).toBeLessThanOrEqual(1e-7);
        expect(graph.shape).toEqual([1, n, n]);
      } finally {
        for (const t of [weights, graph, rollout]) t.destroy();
      }
    }
  });

  it('one kernel records rollouts of 2 and then 5 layers (its parameter ring grows)', async () => {
    const kernel = createAttentionRolloutKernel(engine(), 'test.kernel');
    for (const layers of [2, 5]) {
      const [heads, n] = [2, 20];
      const p = randomSoftmaxRows(layers * heads * n, n, 40 + layers);
      const weights = tensorFromArray(engine(), p, [layers, heads, n, n]);
      const graph = nanTensor([layers, n, n], 'test.graph');
      const rollout = nanTensor([layers, n, n], 'test.rollout');
      const io = { graph: graph.buffer, rollout: rollout.buffer, weights: weights.buffer };
      try {
        await engine().run('test.rollout', (encoder) => kernel.record(encoder, io, { layers, heads, n, fusion: 'mean', discardRatio: 0 }));
        const want = referenceAttentionRollout(p, [layers, heads, n, n]);
        expect(maxAbsDifference(await graph.read(), want.graph)).toBeLessThanOrEqual(TOLERANCE);
        expect(maxAbsDifference(await rollout.read(), want.rollout)).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        for (const t of [weights, graph, rollout]) t.destroy();
        if (layers === 5) kernel.destroy();
      }
    }
  });
});

describe('attentionRollout rejects bad input and keeps nothing', () => {
  const tensor = (shape: number[]) => tensorFromArray(engine(), randomSoftmaxRows(shape.slice(0, -1).reduce((a, b) => a * b), shape.at(-1)!, 3), shape);

  async function expectRejection(run: () => Promise<unknown>, error: unknown, message: RegExp) {
    const live = engine().liveBufferCount();
    await expect(run()).rejects.toThrow(error as never);
    await expect(run()).rejects.toThrow(message);
    expect(engine().liveBufferCount()).toBe(live);
  }

  it('wrong rank, non-square, bad ratio or fusion: says what was expected and what came', async () => {
    const [rank2, nonSquare, good] = [tensor([4, 4]), tensor([2, 3, 4, 5]), tensor([2, 3, 4, 4])];
    await expectRejection(() => attentionRollout(engine(), rank2), InvalidArgumentError, /\[layers, heads, n, n\].*got \[4, 4\]/);
    await expectRejection(() => attentionRollout(engine(), nonSquare), InvalidArgumentError, /square.*4 queries and 5 keys/);
    for (const discardRatio of [1, -0.1, NaN]) {
      await expectRejection(() => attentionRollout(engine(), good, { discardRatio }), InvalidArgumentError, /discardRatio.*\[0, 1\)/);
    }
    const fusion = 'median' as HeadFusion;
    await expectRejection(() => attentionRollout(engine(), good, { fusion }), InvalidArgumentError, /mean, max, min.*'median'/);
    for (const t of [rank2, nonSquare, good]) t.destroy();
  });

  it('NaN or Inf in P: a NonFiniteError with the count and the first layer, head, row and col', async () => {
    const [layers, heads, n] = [3, 2, 6];
    const p = randomSoftmaxRows(layers * heads * n, n, 21);
    p[((2 * heads + 1) * n + 5) * n + 4] = Infinity; // later in memory than the NaN
    p[((1 * heads + 1) * n + 3) * n + 2] = NaN;
    const weights = tensorFromArray(engine(), p, [layers, heads, n, n]);
    await expectRejection(() => attentionRollout(engine(), weights), NonFiniteError, /2 of 216 .*layer 1, head 1, row 3, col 2/);
    weights.destroy();
  });

  it('bad `out`: wrong shape, or one buffer for both', async () => {
    const weights = tensor([2, 1, 5, 5]);
    const [a, b, wrong] = [tensor([2, 5, 5]), tensor([2, 5, 5]), tensor([1, 5, 5])];
    const run = (out: { graph: GpuTensor; rollout: GpuTensor }) => () => attentionRollout(engine(), weights, { out });
    await expectRejection(run({ graph: wrong, rollout: b }), InvalidArgumentError, /out.graph must have shape \[2, 5, 5\].*got \[1, 5, 5\]/);
    await expectRejection(run({ graph: a, rollout: a }), InvalidArgumentError, /different buffers/);
    for (const t of [weights, a, b, wrong]) t.destroy();
  });

  it('P beyond the binding limit names the limit and the size asked', async () => {
    const weights = tensor([2, 3, 8, 8]); // 1,536 bytes
    const limited = Object.create(engine(), { limits: { value: { maxStorageBufferBindingSize: 1024 } } }) as Engine;
    await expectRejection(() => attentionRollout(limited, weights), DeviceLimitError, /P of shape \[2, 3, 8, 8\] needs 1.5 KiB.*maxStorageBufferBindingSize is 1 KiB/);
    weights.destroy();
  });

  it('a destroyed input is reported', async () => {
    const weights = tensor([1, 2, 3, 3]);
    weights.destroy();
    await expectRejection(() => attentionRollout(engine(), weights), InvalidArgumentError, /used after destroy/);
  });
});
