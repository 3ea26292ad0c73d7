// Kernel wrapper for shaders/compute/attention-row-stats.wgsl (per-row max, log-sum-exp and entropy). The
// binding plan it shares with the tiles and profiles kernels (per-head binding windows, the uniform ring)
// lives in long-attention-shared.ts.
import rowStatsWgsl from '../../shaders/compute/attention-row-stats.wgsl?raw';
import type { Engine } from '../core/engine';
import { cachedPerDevice } from '../core/pipeline-cache';
import { uniformLayout } from '../memory/uniforms';
import { UniformRing, grid2d, paramsEntry, storageEntry } from './kernel-bindings';
import {
  PerHeadBindGroups,
  lazyVariants,
  scoreKernelPipelines,
  scoreUniforms,
  type BindingSource,
} from './long-attention-shared';

/** Shape and score options common to the long-attention kernels. Q [heads, nq, d], K [heads, nk, d]. */
export interface LongAttentionParams {
  heads: number;
  nq: number;
  nk: number;
  d: number;
  scale: number;
  causal: boolean;
  /** Keys at index ≥ keyLength are padding and masked. */
  keyLength: number;
  /** Compensated (double-float accurate) dot products; false accumulates plainly (about 2× faster). */
  exact: boolean;
}

export interface AttentionRowStatsIo {
  /** [heads, nq] vec4<f32>: (m, log l, entropy, 0); written for the recorded query blocks. */
  stats: GPUBuffer;
  /** [heads, nq, d] */
  q: GPUBuffer;
  /** [heads, nk, d] */
  k: GPUBuffer;
}

/** Blocks [firstBlock, firstBlock + blocks) of 64 rows (or columns) each, of one head. */
export interface BlockRange {
  head: number;
  firstBlock: number;
  blocks: number;
}

export interface AttentionRowStatsKernel {
  /**
   * Records one dispatch per range into one compute pass (timed as a whole with `timestampWrites`).
   * Up to `slots` dispatches (all kernels' records together count per kernel) may share one submit.
   */
  record(
    encoder: GPUCommandEncoder,
    io: AttentionRowStatsIo,
    params: LongAttentionParams,
    ranges: readonly BlockRange[],
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** Clears `status` (queued before the next submit). */
  resetStatus(): void;
  /** { badRows, firstRow, firstKey } as three u32: rows with a non-finite score since the last reset. */
  readonly status: GPUBuffer;
  destroy(): void;
}

export const TILE = 64;
export const STATS_BYTES_PER_ROW = 16;
export const NO_INDEX = 0xffffffff;
/** The lowest finite float32, as MASKED in shaders/common/numerics.wgsl: m of a row with nothing visible. */
export const MASKED = -3.4028234663852886e38;
const PARAMS = uniformLayout(rowStatsWgsl, 'Params');

export function createAttentionRowStats(engine: Engine, label = 'AttentionRowStats', slots = 256): AttentionRowStatsKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, slots);
  const groups = new PerHeadBindGroups(engine, label, pipelines.bindGroupLayout, ring);
  const status = engine.createBuffer({
    label: `${label}.status`,
    size: 12,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const statusReset = new Uint32Array([0, NO_INDEX, NO_INDEX]);
  const resetStatus = () => engine.device.queue.writeBuffer(status, 0, statusReset);
  resetStatus();

  return {
    status,
    resetStatus,
    record(encoder, io, p, ranges, timestampWrites) {
      const sources: BindingSource[] = [
        { buffer: io.stats, name: 'stats', perHead: p.nq, bytesPerElement: STATS_BYTES_PER_ROW },
        { buffer: status, name: 'status' },
        { buffer: io.q, name: 'q', perHead: p.nq * p.d, bytesPerElement: 4 },
        { buffer: io.k, name: 'k', perHead: p.nk * p.d, bytesPerElement: 4 },
      ];
      const pass = encoder.beginComputePass({ label: `${label}.pass`, ...(timestampWrites && { timestampWrites }) });
      pass.setPipeline(pipelines.pipeline(p.exact));
      for (const range of ranges) {
        const head = groups.forHead(sources, range.head);
        const [x, y] = grid2d(range.blocks);
        const offset = ring.push({
          q_base: head.base.q!,
          k_base: head.base.k!,
          stats_base: head.base.stats!,
          row_index_base: range.head * p.nq,
          ...scoreUniforms(p),
          first_block: range.firstBlock,
          blocks: range.blocks,
          groups_x: x,
        });
        pass.setBindGroup(0, head.group, [offset]);
        pass.dispatchWorkgroups(x, y);
      }
      pass.end();
    },
    destroy() {
      ring.destroy();
      status.destroy();
    },
  };
}

/** Every row starts as "masked" (vec4(MASKED, 0, 0, 0)), so rows not yet computed draw as zeros. */
export function clearRowStats(engine: Engine, stats: GPUBuffer, rows: number): void {
  const rowsPerWrite = Math.min(rows, 1 << 16);
  const pattern = new Float32Array(rowsPerWrite * 4);
  for (let row = 0; row < rowsPerWrite; row++) pattern[4 * row] = MASKED;
  for (let row = 0; row < rows; row += rowsPerWrite) {
    const count = Math.min(rowsPerWrite, rows - row);
    engine.device.queue.writeBuffer(stats, row * STATS_BYTES_PER_ROW, pattern, 0, count * 4);
  }
}

/** Row statistics read back: m, L = m + log l in float64 (-Infinity for a fully masked row), entropy. */
export function decodeRowStats(raw: Float32Array): { m: Float32Array; lse: Float64Array; entropy: Float32Array } {
  const rows = raw.length / 4;
  const m = new Float32Array(rows);
  const lse = new Float64Array(rows);
  const entropy = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    m[row] = raw[4 * row]!;
    lse[row] = m[row] === MASKED ? -Infinity : raw[4 * row]! + raw[4 * row + 1]!;
    entropy[row] = raw[4 * row + 2]!;
  }
  return { m, lse, entropy };
}

function buildPipelines(device: GPUDevice) {
  const kernel = scoreKernelPipelines(device, 'AttentionRowStats', rowStatsWgsl, [
    storageEntry(0, 'storage'), // stats
    storageEntry(1, 'storage'), // status
    storageEntry(2, 'read-only-storage'), // q
    storageEntry(3, 'read-only-storage'), // k
    paramsEntry(4),
  ]);
  return { bindGroupLayout: kernel.bindGroupLayout, pipeline: lazyVariants((exact) => kernel.pipeline('row_stats', exact)) };
}
