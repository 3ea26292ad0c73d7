// Long-sequence attention on a device with WebGPU's default limits (128 MiB per storage binding, 256 MiB
// per buffer): N = 131,072 with d = 64 runs, several heads whose Q is larger than one binding run (each head
// bound through its own window), and what cannot fit is refused with a DeviceLimitError that names the limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLongAttention } from '../../src/attention/long-attention';
import { Engine } from '../../src/core/engine';
import { DeviceLimitError } from '../../src/core/errors';
import { GpuTensor, createTensorBuffer, tensorFromArray } from '../../src/memory/gpu-tensor';
import { referenceRowStats, referenceTile } from '../../src/reference/long-attention';
import { randomFloats } from '../../src/reference/random';

let engine: Engine;
let device: GPUDevice;

beforeAll(async () => {
  const adapter = await navigator.gpu.requestAdapter();
  device = await adapter!.requestDevice({ label: 'test.defaultLimits' }); // no requiredLimits: the defaults
  engine = new Engine(device, { ownsDevice: true });
});

afterAll(() => {
  expect(engine.liveBufferLabels()).toEqual([]);
  engine.destroy();
});

const N = 131_072;
const D = 64;

describe('N = 131,072 within a 128 MiB binding limit', () => {
  it('the device has the default limits', () => {
    expect(engine.limits.maxStorageBufferBindingSize).toBe(128 * 2 ** 20);
    expect(engine.limits.maxBufferSize).toBe(256 * 2 ** 20);
  });

  it('heads = 3 (Q and K 96 MiB each, one head 32 MiB): the last head\'s last rows and a tile at the diagonal', async () => {
    const heads = 3;
    const head = 2;
    // Only the head under test gets random values; the others are zeros, which is as good for binding.
    const q = new Float32Array(heads * N * D);
    const k = new Float32Array(heads * N * D);
    q.set(randomFloats(N * D, 1, 1), head * N * D);
    k.set(randomFloats(N * D, 2, 1), head * N * D);
    const qt = tensorFromArray(engine, q, [heads, N, D]);
    const kt = tensorFromArray(engine, k, [heads, N, D]);
    const attention = createLongAttention(engine, qt, kt, { causal: true });
    try {
      // The last query block sees all 131,072 keys: 64 × 131,072 × 64 multiply-adds (the full pass is
      // 2,048 such blocks per head, too long for SwiftShader in a test; the benchmark max-n runs it).
      const lastBlock = N / 64 - 1;
      await engine.run('test.rowStats', (encoder) => attention.recordRowStats(encoder, [{ head, firstBlock: lastBlock, blocks: 1 }]));
      const got = await attention.rowStats();
      const rows = 8; // reference for the last 8 rows of that head only (float64 over every key)
      const input = {
        q: q.subarray((head * N + N - rows) * D, (head + 1) * N * D),
        k: k.subarray(head * N * D, (head + 1) * N * D),
        heads: 1,
        nq: rows,
        nk: N,
        d: D,
      };
      // Causal: query N - rows + r sees keys [0, N - rows + r], one reference row at a time.
      const perRow = Array.from({ length: rows }, (_, r) =>
        referenceRowStats({ ...input, q: input.q.subarray(r * D, (r + 1) * D), nq: 1, keyLength: N - rows + r + 1 }),
      );
      const want = {
        m: Float64Array.from(perRow, (s) => s.m[0]!),
        lse: Float64Array.from(perRow, (s) => s.lse[0]!),
        entropy: Float64Array.from(perRow, (s) => s.entropy[0]!),
      };
      for (let r = 0; r < rows; r++) {
        expect(Math.abs(got.lse[head * N + N - rows + r]! - want.lse[r]!)).toBeLessThanOrEqual(4e-6);
        expect(Math.abs(got.entropy[head * N + N - rows + r]! - want.entropy[r]!)).toBeLessThanOrEqual(2e-5);
      }

      // A 1:1 tile of the last 8 rows × last 16 keys, from the statistics just computed.
      const request = { head, rows: [N - rows, N], cols: [N - 16, N], width: 16, height: rows, reduce: 'max' } as const;
      const out = tensorFromArray(engine, new Float32Array(16 * rows).fill(NaN), [rows, 16]);
      await engine.run('test.tile', (encoder) => attention.recordTile(encoder, request, out));
      const tile = await out.read();
      out.destroy();
      const reference = referenceTile(input, want, { ...request, head: 0, rows: [0, rows] });
      tile.forEach((value, index) => {
        const [y, x] = [Math.floor(index / 16), index % 16];
        const causalZero = N - 16 + x > N - rows + y; // key after the query: masked
        expect(Math.abs(value - (causalZero ? 0 : reference[index]!))).toBeLessThanOrEqual(1e-6);
      });
    } finally {
      attention.destroy();
      qt.destroy();
      kt.destroy();
    }
  });
});

describe('what cannot fit is refused before any allocation', () => {
  const zeros = (shape: number[]) => new GpuTensor({ engine, buffer: createTensorBuffer(engine, shape, 'test.zeros'), shape });

  it('one head of K larger than the binding limit: a DeviceLimitError with the limit and the size', () => {
    const q = zeros([1, 64, 129]);
    const k = zeros([1, 2 * N, 129]); // 135 MB: fits a buffer, not one binding
    const live = engine.liveBufferCount();
    expect(() => createLongAttention(engine, q, k)).toThrow(DeviceLimitError);
    expect(() => createLongAttention(engine, q, k)).toThrow(
      /one head of K \[262144, 129\] needs 129 MiB \(135,266,304 bytes\) in one binding, but this device's maxStorageBufferBindingSize is 128 MiB/,
    );
    expect(engine.liveBufferCount()).toBe(live);
    q.destroy();
    k.destroy();
  });

  it('row statistics past what the device holds: a DeviceLimitError', () => {
    const n = 17_000_000; // 16 bytes per row: 272 MB of statistics
    const q = zeros([1, n, 1]);
    expect(() => createLongAttention(engine, q, q)).toThrow(/row statistics \[17000000, 4\] needs .* maxStorageBufferBindingSize/);
    q.destroy();
  });
});
