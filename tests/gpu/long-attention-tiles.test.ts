// On-demand tiles of long-sequence attention (max and mean of exact P per cell) against pooled float64
// values: pooled and zoomed-in axes, tiles across the diagonal and at the matrix edge, sub-rectangles.
import { describe, expect, it } from 'vitest';
import { createLongAttention, type LongAttention } from '../../src/attention/long-attention';
import { InvalidArgumentError } from '../../src/core/errors';
import type { TileRequest } from '../../src/kernels/attention-tiles';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { referenceRowStats, referenceTile, type ReferenceLongInput } from '../../src/reference/long-attention';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

interface Setup {
  input: ReferenceLongInput;
  attention: LongAttention;
  tensors: GpuTensor[];
}

type SetupOptions = { causal?: boolean; keyLength?: number; gain?: number; seed: number };

async function setUp(heads: number, n: number, d: number, options: SetupOptions): Promise<Setup> {
  const gain = options.gain ?? 1.5;
  const q = randomFloats(heads * n * d, options.seed, gain);
  const k = randomFloats(heads * n * d, options.seed + 1, gain);
  const input = { q, k, heads, nq: n, nk: n, d, causal: options.causal, keyLength: options.keyLength };
  const tensors = [tensorFromArray(engine(), q, [heads, n, d]), tensorFromArray(engine(), k, [heads, n, d])];
  const attention = createLongAttention(engine(), tensors[0]!, tensors[1]!, options);
  await attention.computeRowStats();
  return { input, attention, tensors };
}

function tearDown(setup: Setup) {
  setup.attention.destroy();
  for (const tensor of setup.tensors) tensor.destroy();
}

/** The tile written into an output poisoned with NaN. */
async function poisonedTile(attention: LongAttention, request: TileRequest, outOffset = 0): Promise<Float32Array> {
  const size = outOffset + request.width * request.height;
  const out = tensorFromArray(engine(), new Float32Array(size).fill(NaN), [size]);
  try {
    await engine().run('test.tile', (encoder) => attention.recordTile(encoder, request, out, outOffset));
    return (await out.read()).subarray(outOffset);
  } finally {
    out.destroy();
  }
}

/** Largest |gpu - reference| over requested cells; every requested cell must be written, the rest untouched. */
function compare(got: Float32Array, want: Float64Array): number {
  let largest = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]!)) {
      expect(Number.isNaN(got[i]!), `cell ${i} outside the requested cells was written`).toBe(true);
      continue;
    }
    const difference = Math.abs(got[i]! - want[i]!);
    largest = Number.isNaN(difference) ? Infinity : Math.max(largest, difference);
  }
  return largest;
}

// Seen on SwiftShader: at most 1.2e-7, also with logits of 1e4.
const TOLERANCE = 1e-6;

async function expectTile(setup: Setup, request: TileRequest, tolerance = TOLERANCE) {
  const want = referenceTile(setup.input, referenceRowStats(setup.input), request);
  const got = await poisonedTile(setup.attention, request);
  expect(compare(got, want), `${JSON.stringify(request)}`).toBeLessThanOrEqual(tolerance);
  return { got, want };
}

function requests(n: number, head: number): TileRequest[] {
  const all = [0, n] as const;
  const list: Omit<TileRequest, 'reduce'>[] = [
    { head, rows: all, cols: all, width: n, height: n }, // exactly 1:1
    { head, rows: all, cols: all, width: 13, height: 10 }, // pooled, uneven cells
    { head, rows: all, cols: all, width: 3, height: 2 }, // cells spanning several 64×64 tiles
    { head, rows: all, cols: all, width: Math.min(2 * n, 300), height: n + 5 }, // finer than 1:1
    { head, rows: all, cols: all, width: 200, height: 3 }, // anisotropic: tall cells, thin columns
    { head, rows: all, cols: all, width: 2, height: Math.min(n, 150) }, // wide cells, thin rows
    { head, rows: [Math.floor(n / 3), n], cols: [0, Math.ceil((2 * n) / 3)], width: 37, height: 41 }, // across the diagonal
    { head, rows: [n - Math.min(n, 30), n], cols: [n - Math.min(n, 45), n], width: 64, height: 64 }, // edge, zoomed in
    { head, rows: [0, Math.min(n, 5)], cols: [0, Math.min(n, 3)], width: 16, height: 9 }, // deep zoom
  ];
  return list.flatMap((r) => [{ ...r, reduce: 'max' as const }, { ...r, reduce: 'mean' as const }]);
}

describe('tiles against pooled exact values', () => {
  for (const { heads, n, d, causal, keyLength, seed } of [
    { heads: 1, n: 7, d: 17, causal: false, keyLength: undefined, seed: 1 },
    { heads: 2, n: 100, d: 64, causal: true, keyLength: undefined, seed: 3 },
    { heads: 1, n: 257, d: 17, causal: true, keyLength: 200, seed: 5 },
    { heads: 1, n: 257, d: 64, causal: false, keyLength: 150, seed: 7 },
  ]) {
    it(`heads ${heads}, N ${n}, d ${d}, causal ${causal}, keyLength ${keyLength}: every kind of cell`, async () => {
      const setup = await setUp(heads, n, d, { causal, keyLength, seed });
      try {
        for (const request of requests(n, heads - 1)) await expectTile(setup, request);
      } finally {
        tearDown(setup);
      }
    });
  }

  it('N 1000: an overview, and sub-rectangles of it that together make the same picture', async () => {
    const setup = await setUp(1, 1000, 64, { causal: true, seed: 11 });
    try {
      const base = { head: 0, rows: [0, 1000], cols: [0, 1000], width: 96, height: 80 } as const;
      for (const reduce of ['max', 'mean'] as const) {
        const { got: whole } = await expectTile(setup, { ...base, reduce });
        const pieces = [
          { x0: 0, y0: 0, x1: 40, y1: 33 },
          { x0: 40, y0: 0, x1: 96, y1: 33 },
          { x0: 0, y0: 33, x1: 96, y1: 80 },
        ];
        const stitched = new Float32Array(whole.length).fill(NaN);
        for (const cells of pieces) {
          const { got } = await expectTile(setup, { ...base, reduce, cells });
          got.forEach((value, index) => !Number.isNaN(value) && (stitched[index] = value));
        }
        expect(Array.from(stitched)).toEqual(Array.from(whole));
      }
    } finally {
      tearDown(setup);
    }
  });

  it('logits of 1e4: P at 1:1 within 1e-6 of exp(s - L) in float64', async () => {
    const setup = await setUp(1, 100, 64, { gain: 90, seed: 13 }); // |s| up to ~1e4
    try {
      const stats = referenceRowStats(setup.input);
      expect(stats.m.reduce((a, b) => Math.max(a, b), 0)).toBeGreaterThan(5e3);
      for (const reduce of ['max', 'mean'] as const) {
        await expectTile(setup, { head: 0, rows: [0, 100], cols: [0, 100], width: 100, height: 100, reduce });
      }
    } finally {
      tearDown(setup);
    }
  });

  it('rows with every key masked give 0, never NaN', async () => {
    const setup = await setUp(1, 70, 8, { keyLength: 0, seed: 17 });
    try {
      const got = await poisonedTile(setup.attention, { head: 0, rows: [0, 70], cols: [0, 70], width: 9, height: 70, reduce: 'mean' });
      expect(got.every((x) => x === 0)).toBe(true);
    } finally {
      tearDown(setup);
    }
  });

  it('writes from an element offset and leaves the rest of the buffer alone', async () => {
    const setup = await setUp(1, 33, 16, { seed: 19 });
    try {
      const request = { head: 0, rows: [0, 33], cols: [0, 33], width: 5, height: 4, reduce: 'max' } as const;
      const want = referenceTile(setup.input, referenceRowStats(setup.input), request);
      const out = tensorFromArray(engine(), new Float32Array(40).fill(NaN), [40]);
      await engine().run('test.tile', (encoder) => setup.attention.recordTile(encoder, request, out, 17));
      const got = await out.read();
      out.destroy();
      expect(got.subarray(0, 17).every(Number.isNaN) && got.subarray(37).every(Number.isNaN)).toBe(true);
      expect(compare(got.subarray(17, 37), want)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      tearDown(setup);
    }
  });

  it('bad requests are rejected with what was expected', async () => {
    const setup = await setUp(2, 20, 4, { seed: 23 });
    try {
      const ok: TileRequest = { head: 0, rows: [0, 20], cols: [0, 20], width: 4, height: 4, reduce: 'max' };
      const bad: [Partial<TileRequest>, RegExp][] = [
        [{ head: 2 }, /head must be in \[0, 2\); got 2/],
        [{ rows: [5, 5] }, /rows must be integers .*0 ≤ start < end ≤ 20; got \[5,5\]/],
        [{ cols: [0, 21] }, /cols .*≤ 20/],
        [{ width: 0 }, /width must be an integer in \[1, 32767\]/],
        [{ cells: { x0: 0, y0: 0, x1: 5, y1: 1 } }, /cells must be .*within the 4×4 grid/],
        [{ reduce: 'sum' as never }, /reduce must be 'max' or 'mean'/],
      ];
      for (const [change, message] of bad) {
        const encoder = engine().device.createCommandEncoder();
        const out = engine().createBuffer({ label: 'test.out', size: 64, usage: GPUBufferUsage.STORAGE });
        expect(() => setup.attention.recordTile(encoder, { ...ok, ...change }, out)).toThrow(InvalidArgumentError);
        expect(() => setup.attention.recordTile(encoder, { ...ok, ...change }, out)).toThrow(message);
        out.destroy();
      }
      const small = engine().createBuffer({ label: 'test.small', size: 60, usage: GPUBufferUsage.STORAGE });
      expect(() => setup.attention.recordTile(engine().device.createCommandEncoder(), ok, small)).toThrow(/must hold 16 floats/);
      small.destroy();
    } finally {
      tearDown(setup);
    }
  });
});
