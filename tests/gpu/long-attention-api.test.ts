// The long-attention object: chunked row statistics with progress and cancellation, the same result when
// a caller spreads the chunks over frames, rows not yet computed drawing as zeros, validation, destroy.
import { describe, expect, it } from 'vitest';
import { createLongAttention, type LongAttention } from '../../src/attention/long-attention';
import { InvalidArgumentError } from '../../src/core/errors';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { referenceRowStats } from '../../src/reference/long-attention';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

async function withAttention(n: number, options: { causal?: boolean }, body: (a: LongAttention, q: GpuTensor, k: GpuTensor) => Promise<void>) {
  const q = tensorFromArray(engine(), randomFloats(2 * n * 8, 1), [2, n, 8]);
  const k = tensorFromArray(engine(), randomFloats(2 * n * 8, 2), [2, n, 8]);
  const attention = createLongAttention(engine(), q, k, options);
  try {
    await body(attention, q, k);
  } finally {
    attention.destroy();
    q.destroy();
    k.destroy();
  }
}

describe('computeRowStats', () => {
  it('reports progress by work done (causal rows cost less), ending at 1', async () => {
    await withAttention(300, { causal: true }, async (attention) => {
      const seen: number[] = [];
      await attention.computeRowStats({ blocksPerChunk: 1, onProgress: (p) => seen.push(p.fraction) });
      expect(seen.length).toBe(2 * 5); // 2 heads × ceil(300 / 64) chunks
      expect(seen.every((f, i) => f > 0 && (i === 0 || f > seen[i - 1]!))).toBe(true);
      expect(seen.at(-1)).toBe(1);
      expect(seen[0]).toBeLessThan(1 / 10); // the first causal block sees only 64 keys
      expect(attention.rowStatsReady).toBe(true);
    });
  });

  it('stops between chunks when its signal is aborted, and can run again afterwards', async () => {
    await withAttention(300, {}, async (attention) => {
      const controller = new AbortController();
      const run = attention.computeRowStats({ blocksPerChunk: 1, signal: controller.signal, onProgress: () => controller.abort() });
      await expect(run).rejects.toThrow(/abort/i);
      expect(attention.rowStatsReady).toBe(false);
      await expect(attention.tile({ head: 0, rows: [0, 4], cols: [0, 4], width: 4, height: 4, reduce: 'max' })).rejects.toThrow(
        /compute the row statistics first/,
      );
      await attention.computeRowStats();
      expect(attention.rowStatsReady).toBe(true);
    });
  });

  it('chunks recorded by the caller, one per submission (as a viewer does per frame), give the same statistics', async () => {
    await withAttention(200, { causal: true }, async (attention, q, k) => {
      const chunks = attention.rowStatsChunks(1);
      expect(chunks.map((c) => [c.head, c.firstBlock, c.blocks])).toEqual([
        [0, 0, 1], [0, 1, 1], [0, 2, 1], [0, 3, 1], [1, 0, 1], [1, 1, 1], [1, 2, 1], [1, 3, 1],
      ]);
      // Rows not yet computed read as fully masked: tiles show them as zeros.
      await engine().run('test.half', (encoder) => attention.recordRowStats(encoder, chunks.slice(0, 2)));
      const partial = await attention.rowStats();
      expect(partial.lse.subarray(128, 200).every((x) => x === -Infinity)).toBe(true);
      for (const chunk of chunks.slice(2)) await engine().run('test.frame', (encoder) => attention.recordRowStats(encoder, [chunk]));
      const got = await attention.rowStats();
      const want = referenceRowStats({ q: await q.read(), k: await k.read(), heads: 2, nq: 200, nk: 200, d: 8, causal: true });
      got.lse.forEach((value, row) => expect(Math.abs(value - want.lse[row]!)).toBeLessThanOrEqual(4e-6));
    });
  });
});

describe('validation and lifetime', () => {
  const tensor = (shape: number[]) => tensorFromArray(engine(), randomFloats(shape.reduce((a, b) => a * b), 3), shape);

  it('bad shapes and options are refused before anything is allocated', () => {
    const live = engine().liveBufferCount();
    const q = tensor([2, 5, 4]);
    const cases: [GpuTensor, object, RegExp][] = [
      [tensor([2, 5, 3]), {}, /same head dimension d/],
      [tensor([3, 5, 4]), {}, /same leading/],
      [tensor([2, 5, 4]), { keyLength: 6 }, /keyLength must be an integer from 0 to the number of keys \(5\); got 6/],
      [tensor([2, 5, 4]), { scale: NaN }, /scale must be a finite number/],
    ];
    for (const [k, options, message] of cases) {
      expect(() => createLongAttention(engine(), q, k, options)).toThrow(InvalidArgumentError);
      expect(() => createLongAttention(engine(), q, k, options)).toThrow(message);
      k.destroy();
    }
    q.destroy();
    expect(engine().liveBufferCount()).toBe(live);
  });

  it('bad chunk sizes and ranges name what was expected', async () => {
    await withAttention(100, {}, async (attention) => {
      await expect(attention.computeRowStats({ blocksPerChunk: 0 })).rejects.toThrow(/blocksPerChunk must be a positive integer; got 0/);
      const encoder = engine().device.createCommandEncoder();
      expect(() => attention.recordRowStats(encoder, [{ head: 0, firstBlock: 1, blocks: 2 }])).toThrow(
        /head in \[0, 2\) and query blocks within \[0, 2\); got head 0, blocks \[1, 3\)/,
      );
    });
  });

  it('use after destroy, or with a destroyed input, is reported; destroy twice is harmless', async () => {
    const q = tensor([1, 10, 4]);
    const k = tensor([1, 10, 4]);
    const attention = createLongAttention(engine(), q, k, { label: 'test.la' });
    await attention.computeRowStats();
    q.destroy();
    await expect(attention.computeRowStats()).rejects.toThrow(/used after destroy/);
    attention.destroy();
    attention.destroy();
    await expect(attention.rowStats()).rejects.toThrow(/test.la was used after destroy/);
    k.destroy();
  });
});
