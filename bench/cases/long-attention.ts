// Long-sequence attention (one head, d = 64): our row-statistics pass and on-demand tiles against tfjs
// doing the same with a materialized N×N matrix, in the same page on the same device.
//   lse-throughput: the row-statistics pass (2·N²·d flops) against tfjs's matMul of the same Q·Kᵀ plus
//                   the row max that any per-row result needs; both output the row maxima m_i.
//                   GFLOP/s = params.gflop / ms · 1000; ratio = ours_ms / peer_ms (goal ≤ 2, i.e. ≥ 50%).
//   screen-tiles:   one 1024 × 1024-cell screen of exact tiles, row statistics cached, against tfjs
//                   recomputing the full softmax and pooling (overview) or slicing (1:1) the same screen.
//   max-n:          N = 131,072 (causal): each stage's work for one slice (the last 64 queries' row statistics;
//                   the last row of 1,024 overview cells, 128 × 131,072 entries), both sides at that N (tfjs
//                   materializes the slice's scores). A full stage is ~1,024 (row statistics) or ~512 (screen)
//                   such slices; VITE_GLASSBOX_MAX_N=full adds them (max-n-full.ts, over an hour: opt-in).
import * as tf from '@tensorflow/tfjs-core';
import { createAttentionRowStats, type BlockRange, type LongAttentionParams } from '../../src/kernels/attention-row-stats';
import { createAttentionTiles, type TileRequest } from '../../src/kernels/attention-tiles';
import { randomFloats, tensorFromTf, type Engine, type GpuTensor } from '../../src/index';
import { readBufferRange } from '../../src/memory/readback';
import type { BenchCase, CaseSetup } from '../harness';

const D = 64;
const SCREEN = 1024;

type LseParams = { N: number; d: number; exact: boolean; gflop: number };

export const lseThroughputCase: BenchCase<LseParams> = {
  name: 'lse-throughput',
  peer: 'tfjs-webgpu matMul + max',
  params: [true, false].map((exact) => ({ N: 2048, d: D, exact, gflop: (2 * 2048 ** 2 * D) / 1e9 })),
  warmup: 1,
  samples: 10,
  setup(engine, { N, exact }) {
    const inputs = sharedInputs(engine, N);
    return {
      ours() {
        const rowStats = createRowStatsSide(engine, inputs, exact, 'bench.lse');
        return {
          record: (encoder, timestampWrites) => rowStats.record(encoder, timestampWrites),
          read: async () => (await rowStats.readStats()).filter((_, index) => index % 4 === 0),
          dispose: () => rowStats.dispose(),
        };
      },
      peer: () => tf.max(tf.matMul(inputs.qScaled, inputs.kTensor, false, true), -1),
      dispose: () => inputs.dispose(),
    };
  },
};

type ScreenParams = { N: number; view: 'overview' | '1:1'; reduce: 'max' | 'mean' };

export const screenTilesCase: BenchCase<ScreenParams> = {
  name: 'screen-tiles',
  peer: 'tfjs-webgpu softmax(matMul) + pool/slice',
  // N = 2048: tfjs's softmax at its largest N here (16,383) takes 7 minutes per run on SwiftShader; that
  // N is screenTilesAtTfjsLargestCase, opt-in.
  params: [
    { N: 2048, view: '1:1', reduce: 'max' },
    { N: 2048, view: 'overview', reduce: 'mean' },
  ],
  warmup: 1,
  samples: 10,
  setup: screenSetup,
};

/** tfjs's largest N here: its softmax at 16,384 returns zeros without an error (see max-n). */
export const TFJS_LARGEST_N = 16_383;

/**
 * The 1:1 screen at tfjs's largest N, opt-in (VITE_GLASSBOX_TFJS_LARGEST=1): the harness runs the peer four
 * times (bytes, timed, wall, compared), ~7 minutes each on SwiftShader, so no warmup and one sample.
 */
export const screenTilesAtTfjsLargestCase: BenchCase<ScreenParams> = {
  ...screenTilesCase,
  params: String(import.meta.env.VITE_GLASSBOX_TFJS_LARGEST ?? '') === '1' ? [{ N: TFJS_LARGEST_N, view: '1:1', reduce: 'max' }] : [],
  warmup: 0,
  samples: 1,
};

function screenSetup(engine: Engine, { N, view, reduce }: ScreenParams): CaseSetup {
  const inputs = sharedInputs(engine, N);
  // 1:1: the screen shows a 1024 × 1024 block of entries around the middle of the matrix.
  const first = view === '1:1' ? Math.floor((N - SCREEN) / 2) : 0;
  const span = view === '1:1' ? SCREEN : N;
  const request: TileRequest = {
    head: 0,
    rows: [first, first + span],
    cols: [first, first + span],
    width: SCREEN,
    height: SCREEN,
    reduce,
  };
  return {
    ours() {
      // The row statistics are computed once here (submitted, not timed): the tiles use them cached.
      const rowStats = createRowStatsSide(engine, inputs, true, 'bench.screen');
      const screen = createScreenSide(engine, inputs, rowStats, 'bench.screen');
      return {
        record: (encoder, timestampWrites) => screen.record(encoder, request, timestampWrites),
        read: () => readFloats(engine, screen.out),
        dispose: () => screen.dispose(),
      };
    },
    peer() {
      const p = tf.softmax(tf.matMul(inputs.qScaled, inputs.kTensor, false, true)) as tf.Tensor3D;
      if (view === '1:1') return tf.slice(p, [0, first, first], [1, SCREEN, SCREEN]);
      const window = N / SCREEN;
      const image = tf.reshape(p, [1, N, N, 1]) as tf.Tensor4D;
      return reduce === 'max' ? tf.maxPool(image, window, window, 'valid') : tf.avgPool(image, window, window, 'valid');
    },
    dispose: () => inputs.dispose(),
  };
}


export type MaxNParams = { N: number; stage: 'row-stats' | 'screen-tiles' | 'profiles'; slice: string; peer_N: number };

export const MAX_N = 131_072;

export const maxNCase: BenchCase<MaxNParams> = {
  name: 'max-n',
  peer: 'tfjs-webgpu materialized',
  params: [
    { N: MAX_N, stage: 'row-stats', slice: 'last 64 queries', peer_N: MAX_N },
    { N: MAX_N, stage: 'screen-tiles', slice: 'last 128 rows: 1024x1 cells', peer_N: MAX_N },
  ],
  warmup: 0,
  samples: 1, // seconds per run on SwiftShader
  setup(engine, { N, stage }): CaseSetup {
    const inputs = sharedInputs(engine, N);
    // The slice's rows, the last of the matrix; tfjs gets the same rows over all N keys.
    const rows = stage === 'row-stats' ? 64 : 128;
    const peerQ = tf.slice(inputs.qScaled, [0, N - rows, 0], [1, rows, D]);
    const mask = causalMask(N - rows, rows, N);
    const blocks = { head: 0, firstBlock: (N - rows) / 64, blocks: rows / 64 };
    const screen: TileRequest = { head: 0, rows: [N - rows, N], cols: [0, N], width: SCREEN, height: 1, reduce: 'mean' };
    return {
      ours() {
        const rowStats = createRowStatsSide(engine, inputs, true, 'bench.maxN', { causal: true, ranges: [blocks] });
        if (stage === 'row-stats') {
          return {
            record: (encoder, timestampWrites) => rowStats.record(encoder, timestampWrites),
            read: async () => lseOf((await rowStats.readStats()).subarray(4 * (N - rows), 4 * N)),
            dispose: () => rowStats.dispose(),
          };
        }
        const tiles = createScreenSide(engine, inputs, rowStats, 'bench.maxN');
        return {
          record: (encoder, timestampWrites) => tiles.record(encoder, screen, timestampWrites),
          read: async () => (await readFloats(engine, tiles.out)).subarray(0, SCREEN),
          dispose: () => tiles.dispose(),
        };
      },
      peer() {
        const scores = tf.add(tf.matMul(peerQ, inputs.kTensor, false, true), mask);
        if (stage === 'row-stats') return tf.logSumExp(scores, -1);
        const p = tf.reshape(tf.softmax(scores), [1, rows, N, 1]) as tf.Tensor4D;
        return tf.avgPool(p, [rows, N / SCREEN], [rows, N / SCREEN], 'valid');
      },
      dispose() {
        tf.dispose([peerQ, mask]);
        inputs.dispose();
      },
    };
  },
};

/** Additive causal mask for queries [first, first + rows) over `keys` keys: -1e30 where key > query. */
export function causalMask(first: number, rows: number, keys: number): tf.Tensor {
  return tf.tidy(() => {
    const query = tf.reshape(tf.add(tf.range(0, rows, 1, 'int32'), tf.scalar(first, 'int32')), [rows, 1]);
    const key = tf.reshape(tf.range(0, keys, 1, 'int32'), [1, keys]);
    return tf.reshape(tf.mul(tf.cast(tf.greater(key, query), 'float32'), tf.scalar(-1e30)), [1, rows, keys]);
  });
}

/** L = m + log l from stats vec4s (m, log l, entropy, 0). */
function lseOf(stats: Float32Array): Float32Array {
  return Float32Array.from({ length: stats.length / 4 }, (_, row) => stats[4 * row]! + stats[4 * row + 1]!);
}

// ---- shared pieces ------------------------------------------------------------------------------

export interface SharedInputs {
  N: number;
  /** Our views of tfjs's own buffers (zero-copy). */
  q: GpuTensor;
  k: GpuTensor;
  /** Q · scale for the peer (scaled once here, not timed), so that its matMul gives the scores. */
  qScaled: tf.Tensor;
  kTensor: tf.Tensor;
  dispose(): void;
}

/** One head of Q and K, [1, N, 64], with logits of a few units, as in a trained model. */
export function sharedInputs(engine: Engine, N: number): SharedInputs {
  const shape = [1, N, D];
  const q = tf.tensor(randomFloats(N * D, 1, 2), shape, 'float32');
  const kTensor = tf.tensor(randomFloats(N * D, 2, 2), shape, 'float32');
  const qScaled = tf.mul(q, tf.scalar(1 / Math.sqrt(D)));
  const qGpu = tensorFromTf(engine, q);
  const kGpu = tensorFromTf(engine, kTensor);
  return {
    N,
    q: qGpu,
    k: kGpu,
    qScaled,
    kTensor,
    dispose() {
      qGpu.destroy();
      kGpu.destroy();
      tf.dispose([q, kTensor, qScaled]);
    },
  };
}

export interface RowStatsSide {
  params: LongAttentionParams;
  stats: GPUBuffer;
  record(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void;
  readStats(): Promise<Float32Array>;
  dispose(): void;
}

/** Our row-statistics pass over the given query blocks (default all), in one compute pass. */
export function createRowStatsSide(
  engine: Engine,
  inputs: SharedInputs,
  exact: boolean,
  label: string,
  options: { causal?: boolean; ranges?: BlockRange[] } = {},
): RowStatsSide {
  const { N } = inputs;
  const causal = options.causal ?? false;
  const params = { heads: 1, nq: N, nk: N, d: D, scale: 1 / Math.sqrt(D), causal, keyLength: N, exact };
  const kernel = createAttentionRowStats(engine, `${label}.rowStats`);
  const stats = engine.createBuffer({
    label: `${label}.stats`,
    size: N * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const io = { stats, q: inputs.q.buffer, k: inputs.k.buffer };
  const ranges = options.ranges ?? [{ head: 0, firstBlock: 0, blocks: Math.ceil(N / 64) }];
  return {
    params,
    stats,
    record: (encoder, timestampWrites) => kernel.record(encoder, io, params, ranges, timestampWrites),
    readStats: () => readFloats(engine, stats),
    dispose() {
      kernel.destroy();
      stats.destroy();
    },
  };
}

interface ScreenSide {
  /** SCREEN × SCREEN floats. */
  out: GPUBuffer;
  record(encoder: GPUCommandEncoder, request: TileRequest, timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Frees the tiles kernel, the screen and the row statistics it was given. */
  dispose(): void;
}

/** Tiles over cached row statistics: the statistics are submitted once here, not timed. */
function createScreenSide(engine: Engine, inputs: SharedInputs, rowStats: RowStatsSide, label: string): ScreenSide {
  const encoder = engine.device.createCommandEncoder({ label: `${label}.rowStats` });
  rowStats.record(encoder);
  engine.submit([encoder.finish()]);
  const tiles = createAttentionTiles(engine, `${label}.tiles`);
  const out = engine.createBuffer({
    label: `${label}.out`,
    size: SCREEN * SCREEN * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const io = { out, q: inputs.q.buffer, k: inputs.k.buffer, stats: rowStats.stats };
  return {
    out,
    record: (encoder, request, timestampWrites) => tiles.record(encoder, io, rowStats.params, request, timestampWrites),
    dispose() {
      tiles.destroy();
      out.destroy();
      rowStats.dispose();
    },
  };
}

export async function readFloats(engine: Engine, buffer: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await readBufferRange(engine, buffer, 0, buffer.size));
}
