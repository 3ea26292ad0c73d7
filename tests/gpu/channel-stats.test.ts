// Per-channel statistics (shaders/compute/channel-stats.wgsl through createFeatureStats and the kernel)
// against the float64 reference, on seeded inputs of awkward sizes, with NaN/±Inf, offsets, paging.
import { describe, expect, it } from 'vitest';
import { DeviceLimitError, InvalidArgumentError } from '../../src/core/errors';
import { featureLayer, type FeatureLayer, type FeatureLayout } from '../../src/features/feature-layer';
import { createFeatureStats } from '../../src/features/feature-stats';
import { STATS_RECORD_BYTES, channelPassOf, createChannelStatsKernel } from '../../src/kernels/channel-stats';
import { tensorFromArray } from '../../src/memory/gpu-tensor';
import { readBufferRange } from '../../src/memory/readback';
import { STATS_FIELD, STATS_RECORD_FLOATS, referenceChannelStats } from '../../src/reference/channel-stats';
import { randomFloats, seededRandom } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

interface Case {
  layout: FeatureLayout;
  batch: number;
  height: number;
  width: number;
  channels: number;
  seed: number;
  /** Added to every value (uniform noise of ±amplitude around it). */
  offset?: number;
  amplitude?: number;
  /** Fraction of values replaced by NaN, +Inf, −Inf in turn. */
  nonFinite?: number;
  /** A channel made entirely of NaN. */
  nanChannel?: number;
}

function indexOf(c: Case, n: number, y: number, x: number, ch: number): number {
  return c.layout === 'NHWC'
    ? ((n * c.height + y) * c.width + x) * c.channels + ch
    : ((n * c.channels + ch) * c.height + y) * c.width + x;
}

function valuesOf(c: Case): Float32Array {
  const values = randomFloats(c.batch * c.height * c.width * c.channels, c.seed, c.amplitude ?? 1);
  if (c.offset) for (let i = 0; i < values.length; i++) values[i] = values[i]! + c.offset;
  if (c.nonFinite) {
    const random = seededRandom(c.seed + 1);
    const specials = [NaN, Infinity, -Infinity];
    let next = 0;
    for (let i = 0; i < values.length; i++) if (random() < c.nonFinite) values[i] = specials[next++ % 3]!;
  }
  if (c.nanChannel !== undefined) {
    for (let n = 0; n < c.batch; n++)
      for (let y = 0; y < c.height; y++)
        for (let x = 0; x < c.width; x++) values[indexOf(c, n, y, x, c.nanChannel)] = NaN;
  }
  return values;
}

/** The layer's geometry without a buffer: what channelPassOf reads. */
function layerShape(c: Case): FeatureLayer {
  const shape = c.layout === 'NHWC' ? [c.batch, c.height, c.width, c.channels] : [c.batch, c.channels, c.height, c.width];
  const tensor = { shape, dtype: 'float32' } as unknown as FeatureLayer['tensor'];
  return featureLayer('shape', tensor, c.layout);
}

function layerOf(c: Case, values: Float32Array, name = 'layer'): FeatureLayer {
  const shape = c.layout === 'NHWC' ? [c.batch, c.height, c.width, c.channels] : [c.batch, c.channels, c.height, c.width];
  return featureLayer(name, tensorFromArray(engine(), values, shape, { layout: c.layout }));
}

// Tolerances, per record (float32 ε = 1.2e-7; measured worst cases in brackets):
// - min, max, max|v|, counts: exact (min and max are among the float32 inputs; counts are exact below 2^24).
// - mean: 4e-7 · max|v|: the float32 mean is within ε/2 · |mean| at best, and Welford's running mean adds a
//   few ε of the spread [1.0e-7 · max|v|].
// - std of a channel: 2e-6 · std + 1e-7 · (max − min). Every thread works on v − shift, with shift a value
//   of the same channel, so nothing of the size of |v| enters: 1000 + noise keeps the noise's digits
//   [1.3e-7 · std, offsets included].
// - std of a layer record, or of a channel of a paged layer: 2e-6 · std + 1e-7 · max|v|. These merge
//   float32 means of the whole values (of channels, of chunks), each rounded by up to ε/2 · |mean|
//   [1.6e-9 · max|v|, which is 2.8e-4 · std for 1000 ± 0.01].
const MEAN_TOLERANCE = 4e-7;
const STD_RELATIVE = 2e-6;
const STD_ABSOLUTE = 1e-7;

function recordErrors(got: ArrayLike<number>, want: ArrayLike<number>, mergedMeans: boolean): string[] {
  const f = STATS_FIELD;
  const scale = want[f.absMax]!;
  const problems: string[] = [];
  for (const field of [f.min, f.max, f.absMax, f.finiteCount, f.nonFiniteCount, 7]) {
    if (got[field] !== want[field]) problems.push(`field ${field}: ${got[field]} ≠ ${want[field]}`);
  }
  const meanError = Math.abs(got[f.mean]! - want[f.mean]!);
  if (!(meanError <= MEAN_TOLERANCE * scale)) problems.push(`mean ${got[f.mean]} vs ${want[f.mean]} (error ${meanError})`);
  const stdError = Math.abs(got[f.std]! - want[f.std]!);
  const spread = mergedMeans ? scale : want[f.max]! - want[f.min]!;
  if (!(stdError <= STD_RELATIVE * want[f.std]! + STD_ABSOLUTE * spread)) {
    problems.push(`std ${got[f.std]} vs ${want[f.std]} (error ${stdError})`);
  }
  return problems;
}

/** Compares records [first, first + channels + 1) of `got` with the reference of one layer. */
function expectLayer(got: Float32Array, first: number, want: Float64Array, what: string, paged = false): void {
  const records = want.length / STATS_RECORD_FLOATS;
  for (let r = 0; r < records; r++) {
    const g = got.subarray((first + r) * STATS_RECORD_FLOATS, (first + r + 1) * STATS_RECORD_FLOATS);
    const w = want.subarray(r * STATS_RECORD_FLOATS, (r + 1) * STATS_RECORD_FLOATS);
    const name = r === records - 1 ? 'layer record' : `channel ${r}`;
    expect(recordErrors(g, w, paged || r === records - 1), `${what}, ${name}: got [${[...g]}], want [${[...w]}]`).toEqual([]);
  }
}

const poison = (buffer: GPUBuffer) => engine().device.queue.writeBuffer(buffer, 0, new Float32Array(buffer.size / 4).fill(NaN));

/** Statistics of several layers in one FeatureStats, the buffer poisoned with NaN first. */
async function statsOf(cases: readonly Case[]) {
  const inputs = cases.map(valuesOf);
  const layers = cases.map((c, i) => layerOf(c, inputs[i]!, `layer${i}`));
  const stats = createFeatureStats(engine(), layers, { label: 'test.stats' });
  try {
    poison(stats.buffer);
    await engine().run('test.compute', (encoder) => stats.compute(encoder));
    const got = await stats.read();
    expect(got.length).toBe(stats.recordCount * STATS_RECORD_FLOATS);
    expect(got.every(Number.isFinite), 'every float of every record written (no NaN left)').toBe(true);
    return { got, stats, want: cases.map((c, i) => referenceChannelStats({ ...c, values: inputs[i]! })) };
  } finally {
    stats.destroy();
    for (const layer of layers) layer.tensor.destroy();
  }
}

const shapeCases: Case[] = [];
let seed = 1;
for (const layout of ['NHWC', 'NCHW'] as const)
  for (const [height, width] of [[7, 5], [13, 1], [1, 1]] as const)
    for (const channels of [1, 3, 33, 130, 36, 132]) {
      seed += 1;
      const batch = seed % 2 === 0 ? 3 : 1;
      const special = seed % 3 === 0 ? { nonFinite: 0.1, nanChannel: channels - 1 } : {};
      shapeCases.push({ layout, batch, height, width, channels, seed, amplitude: 1 + seed, ...special });
    }

describe('per-channel statistics against the float64 reference', () => {
  it.each(shapeCases)('$layout batch $batch, $height×$width×$channels, non-finite $nonFinite', async (c) => {
    const { got, want } = await statsOf([c]);
    expectLayer(got, 0, want[0]!, 'layer');
  });

  it('each pass is taken by the layers it is for, and the cases above reach both', () => {
    const passOf = (c: Case) => channelPassOf(layerShape(c));
    expect(passOf({ layout: 'NHWC', batch: 3, height: 7, width: 5, channels: 132, seed: 0 })).toBe('quads');
    expect(passOf({ layout: 'NHWC', batch: 1, height: 7, width: 5, channels: 130, seed: 0 })).toBe('channels');
    expect(passOf({ layout: 'NHWC', batch: 1, height: 7, width: 5, channels: 4, seed: 0 })).toBe('quads');
    expect(passOf({ layout: 'NCHW', batch: 1, height: 7, width: 5, channels: 132, seed: 0 })).toBe('channels');
    expect(new Set(shapeCases.map(passOf))).toEqual(new Set(['quads', 'channels']));
  });

  it('1000 + noise: the stable merge keeps the std, where float32 Σv and Σv² lose it entirely', async () => {
    const cases: Case[] = [
      { layout: 'NHWC', batch: 1, height: 48, width: 40, channels: 33, seed: 71, offset: 1000, amplitude: 0.01 },
      { layout: 'NCHW', batch: 3, height: 13, width: 7, channels: 5, seed: 72, offset: 1000, amplitude: 0.01, nonFinite: 0.05 },
      { layout: 'NHWC', batch: 2, height: 23, width: 9, channels: 36, seed: 73, offset: 1000, amplitude: 0.01, nonFinite: 0.02 },
    ];
    const { got, want } = await statsOf(cases);
    expectLayer(got, 0, want[0]!, 'NHWC');
    expectLayer(got, 34, want[1]!, 'NCHW');
    expectLayer(got, 40, want[2]!, 'NHWC, four channels per thread');
    // The same statistics by naive float32 sums would be off by far more than the tolerance (√(E[v²] − E[v]²)
    // with E[v²] ≈ 1e6 rounded to ~6e-2 while the variance is ~3e-5).
    const values = valuesOf(cases[0]!);
    let [sum, squares] = [0, 0];
    for (let i = 0; i < 48 * 40; i++) {
      const v = values[i * 33]!; // channel 0
      sum = Math.fround(sum + v);
      squares = Math.fround(squares + Math.fround(v * v));
    }
    const naiveStd = Math.sqrt(Math.max(0, squares / 1920 - (sum / 1920) ** 2));
    const wantStd = want[0]![STATS_FIELD.std]!;
    const spread = want[0]![STATS_FIELD.max]! - want[0]![STATS_FIELD.min]!;
    expect(Math.abs(naiveStd - wantStd)).toBeGreaterThan(100 * (STD_RELATIVE * wantStd + STD_ABSOLUTE * spread));
  });

  it('several layers into one buffer: offsets, every record written, readRecord', async () => {
    const cases: Case[] = [
      { layout: 'NHWC', batch: 3, height: 7, width: 5, channels: 33, seed: 81, nonFinite: 0.05 },
      { layout: 'NCHW', batch: 1, height: 13, width: 1, channels: 3, seed: 82, nanChannel: 1 },
      { layout: 'NHWC', batch: 1, height: 1, width: 1, channels: 130, seed: 83, offset: -50 },
      { layout: 'NCHW', batch: 3, height: 5, width: 7, channels: 17, seed: 84, offset: 1000, amplitude: 0.5 },
    ];
    const inputs = cases.map(valuesOf);
    const layers = cases.map((c, i) => layerOf(c, inputs[i]!, `layer${i}`));
    const stats = createFeatureStats(engine(), layers, { label: 'test.multi' });
    try {
      expect(stats.recordOffsets).toEqual([0, 34, 38, 169]);
      expect(stats.recordCount).toBe(187);
      expect(stats.layerNames).toEqual(['layer0', 'layer1', 'layer2', 'layer3']);
      expect(stats.buffer.size).toBe(187 * STATS_RECORD_BYTES);
      expect(stats.buffer.usage & (GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST)).toBe(
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
      // Twice: the layers' partial sums share one scratch buffer, grown while the first frame is encoded;
      // the second frame binds the grown one for every layer.
      let got: Float32Array = new Float32Array(0);
      for (const frame of [1, 2]) {
        poison(stats.buffer);
        await engine().run('test.compute', (encoder) => stats.compute(encoder, layers));
        got = await stats.read();
        expect(got.every(Number.isFinite), `frame ${frame}: every float of every record written`).toBe(true);
        cases.forEach((c, l) => expectLayer(got, stats.recordOffsets[l]!, referenceChannelStats({ ...c, values: inputs[l]! }), `frame ${frame}, layer ${l}`));
      }
      const slice = (record: number) => got.subarray(record * STATS_RECORD_FLOATS, (record + 1) * STATS_RECORD_FLOATS);
      expect(await stats.readRecord(1, 2)).toEqual(slice(34 + 2));
      expect(await stats.readRecord(3, 'layer')).toEqual(slice(169 + 17));
      expect((await stats.readRecord(1, 1))[STATS_FIELD.nonFiniteCount]).toBe(13); // the all-NaN channel
      const layerRecord = (l: number) => slice(stats.recordOffsets[l]! + layers[l]!.channels);
      const nonFinite = cases.reduce((sum, _, l) => sum + layerRecord(l)[STATS_FIELD.nonFiniteCount]!, 0);
      expect(nonFinite).toBeGreaterThan(13);
      expect(await stats.nonFiniteTotal()).toBe(nonFinite);
    } finally {
      stats.destroy();
      stats.destroy();
      for (const layer of layers) layer.tensor.destroy();
    }
  });

  it.each([
    { layout: 'NHWC', batch: 1, height: 7, width: 5, channels: 1000, seed: 95, nonFinite: 0.01 },
    { layout: 'NCHW', batch: 1, height: 7, width: 5, channels: 1000, seed: 96, nonFinite: 0.01 },
  ] as Case[])('$layout, more workgroups than a dispatch dimension takes (lowered to 3): a 2D grid for both passes', async (c) => {
    const values = valuesOf(c);
    const layer = layerOf(c, values);
    const kernel = createChannelStatsKernel(engine(), { label: 'test.grid2d', maxGroupsPerDimension: 3 });
    const stats = engine().createBuffer({ label: 'test.grid2dStats', size: (c.channels + 1) * STATS_RECORD_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    try {
      poison(stats);
      await engine().run('test.grid2d', (encoder) => {
        const pass = encoder.beginComputePass({ label: 'test.grid2d.pass' });
        kernel.encode(pass, layer, stats, 0);
        pass.end();
      });
      const got = new Float32Array(await readBufferRange(engine(), stats, 0, stats.size));
      expectLayer(got, 0, referenceChannelStats({ ...c, values }), 'layer');
    } finally {
      kernel.destroy();
      stats.destroy();
      layer.tensor.destroy();
    }
  });

  it('a small layer, then larger ones: the shared scratch grows mid-frame, and both frames are right', async () => {
    const cases: Case[] = [
      { layout: 'NHWC', batch: 1, height: 1, width: 2, channels: 4, seed: 141 },
      { layout: 'NCHW', batch: 2, height: 9, width: 4, channels: 40, seed: 142, nonFinite: 0.02 },
      { layout: 'NHWC', batch: 3, height: 7, width: 5, channels: 132, seed: 143 },
    ];
    const inputs = cases.map(valuesOf);
    const layers = cases.map((c, i) => layerOf(c, inputs[i]!, `layer${i}`));
    const stats = createFeatureStats(engine(), layers, { label: 'test.growing' });
    try {
      for (const frame of [1, 2]) {
        poison(stats.buffer);
        await engine().run('test.compute', (encoder) => stats.compute(encoder, layers));
        const got = await stats.read();
        cases.forEach((c, l) => expectLayer(got, stats.recordOffsets[l]!, referenceChannelStats({ ...c, values: inputs[l]! }), `frame ${frame}, layer ${l}`));
      }
    } finally {
      stats.destroy();
      for (const layer of layers) layer.tensor.destroy();
    }
  });

  it('follows new buffers of the same shape each frame (as tfjs hands out), and old ones again', async () => {
    const c: Case = { layout: 'NHWC', batch: 1, height: 7, width: 5, channels: 33, seed: 91 };
    const inputs = [0, 1, 2].map((k) => valuesOf({ ...c, seed: c.seed + k, offset: k }));
    const layers = inputs.map((values) => layerOf(c, values));
    const stats = createFeatureStats(engine(), [layers[0]!]);
    try {
      for (const frame of [0, 1, 2, 0, 2]) {
        poison(stats.buffer);
        await engine().run('test.frame', (encoder) => stats.compute(encoder, [layers[frame]!]));
        expectLayer(await stats.read(), 0, referenceChannelStats({ ...c, values: inputs[frame]! }), `frame of buffer ${frame}`);
      }
    } finally {
      stats.destroy();
      for (const layer of layers) layer.tensor.destroy();
    }
  });
});

describe('a layer larger than one binding is paged by batch items', () => {
  async function paged(c: Case, maxBindingBytes: number, recordOffset: number) {
    const values = valuesOf(c);
    const layer = layerOf(c, values);
    const kernel = createChannelStatsKernel(engine(), { label: 'test.paged', maxBindingBytes });
    const records = recordOffset + c.channels + 3;
    const stats = engine().createBuffer({ label: 'test.pagedStats', size: records * STATS_RECORD_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    try {
      poison(stats);
      await engine().run('test.paged', (encoder) => {
        const pass = encoder.beginComputePass({ label: 'test.paged.pass' });
        kernel.encode(pass, layer, stats, recordOffset);
        pass.end();
      });
      const got = new Float32Array(await readBufferRange(engine(), stats, 0, stats.size));
      expectLayer(got, recordOffset, referenceChannelStats({ ...c, values }), 'paged layer', true);
      // Records outside the layer's are left alone.
      expect(got.subarray(0, recordOffset * STATS_RECORD_FLOATS).every(Number.isNaN)).toBe(true);
      expect(got.subarray((recordOffset + c.channels + 1) * STATS_RECORD_FLOATS).every(Number.isNaN)).toBe(true);
    } finally {
      kernel.destroy();
      stats.destroy();
      layer.tensor.destroy();
    }
  }

  // One item of 7×5×3 floats is 420 bytes; with up to 252 bytes of alignment slack, 1,500 bytes bind two.
  it.each([
    { layout: 'NHWC', batch: 5, height: 7, width: 5, channels: 3, seed: 101, nonFinite: 0.1 },
    { layout: 'NCHW', batch: 5, height: 7, width: 5, channels: 3, seed: 102, offset: 1000, amplitude: 0.01 },
    { layout: 'NHWC', batch: 3, height: 3, width: 3, channels: 20, seed: 103, nanChannel: 4, offset: 7 },
  ] as Case[])('$layout batch $batch of $height×$width×$channels', async (c) => {
    const itemBytes = c.height * c.width * c.channels * 4;
    await paged(c, Math.max(2 * itemBytes + 252, 1500), 5);
  });

  it('one batch item larger than the binding: a DeviceLimitError that names the limit', async () => {
    const c: Case = { layout: 'NHWC', batch: 2, height: 7, width: 5, channels: 3, seed: 111 };
    await expect(paged(c, 512, 0)).rejects.toThrow(DeviceLimitError);
    await expect(paged(c, 512, 0)).rejects.toThrow(/layer 'layer' .*420 bytes.*maxStorageBufferBindingSize of 512 bytes/);
  });
});

describe('bad input', () => {
  it('compute() with a layer of another shape names the layer and both shapes', async () => {
    const c: Case = { layout: 'NHWC', batch: 1, height: 7, width: 5, channels: 3, seed: 121 };
    const layer = layerOf(c, valuesOf(c));
    const other = layerOf({ ...c, width: 6 }, valuesOf({ ...c, width: 6 }));
    const stats = createFeatureStats(engine(), [layer]);
    try {
      const encoder = engine().device.createCommandEncoder({ label: 'test.unused' });
      expect(() => stats.compute(encoder, [other])).toThrow(InvalidArgumentError);
      expect(() => stats.compute(encoder, [other])).toThrow(
        "layer 0 must be 'layer' NHWC [batch 1, H 7, W 5, C 3] as at creation; got 'layer' NHWC [batch 1, H 7, W 6, C 3]");
      expect(() => stats.compute(encoder, [layer, layer])).toThrow(/expected the 1 layers given at creation; got 2/);
      await expect(stats.readRecord(0, 3)).rejects.toThrow(/channels 0..2 \(or 'layer'\); got 3/);
      await expect(stats.readRecord(1, 0)).rejects.toThrow(/layer 1 is not one of the 1 layers/);
    } finally {
      stats.destroy();
      layer.tensor.destroy();
      other.tensor.destroy();
    }
    expect(() => createFeatureStats(engine(), [])).toThrow(/at least one feature layer/);
  });

  it('the kernel refuses a stats buffer too small for the layer at that offset', () => {
    const c: Case = { layout: 'NCHW', batch: 1, height: 2, width: 2, channels: 3, seed: 131 };
    const layer = layerOf(c, valuesOf(c));
    const kernel = createChannelStatsKernel(engine());
    const stats = engine().createBuffer({ label: 'test.smallStats', size: 5 * STATS_RECORD_BYTES, usage: GPUBufferUsage.STORAGE });
    try {
      const pass = engine().device.createCommandEncoder({ label: 'test.unused' }).beginComputePass();
      expect(() => kernel.encode(pass, layer, stats, 2)).toThrow(
        "layer 'layer' needs records [2, 6) of 32 bytes, but stats buffer 'test.smallStats' holds 5 records");
      pass.end();
    } finally {
      kernel.destroy();
      stats.destroy();
      layer.tensor.destroy();
    }
  });
});
