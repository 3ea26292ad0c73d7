// createLongAttention(engine, q, k): attention over long sequences without ever holding N×N. One pass
// computes per-row statistics (max, log-sum-exp, entropy: O(heads·N) memory); after that every entry is
// exact on demand, P_ij = exp(s_ij - L_i), pooled into tiles at screen resolution, or summed into profiles.
import type { Engine } from '../core/engine';
import { DeviceLimitError, NonFiniteError, formatBytes, formatCount, invalidArgument } from '../core/errors';
import { createAttentionProfiles } from '../kernels/attention-profiles';
import {
  NO_INDEX,
  STATS_BYTES_PER_ROW,
  TILE,
  clearRowStats,
  createAttentionRowStats,
  decodeRowStats,
  type BlockRange,
  type LongAttentionParams,
} from '../kernels/attention-row-stats';
import { assertTileRequest, createAttentionTiles, type TileRequest } from '../kernels/attention-tiles';
import { GpuTensor, createTensorBuffer } from '../memory/gpu-tensor';
import { readBufferRange } from '../memory/readback';
import { attentionParams, type AttentionWeightsOptions } from './attention-weights';

/** Options for {@link createLongAttention}; the shared ones as in {@link AttentionWeightsOptions}. */
export interface LongAttentionOptions extends Pick<AttentionWeightsOptions, 'scale' | 'causal' | 'keyLength' | 'exact'> {
  /**
   * What a NaN or ±Inf score does: `'throw'` (default) makes computeRowStats reject with a NonFiniteError
   * that says where; `'mask'` gives it weight 0 like a masked key. Tiles and profiles always treat it as 0.
   */
  nonFinite?: 'throw' | 'mask';
  label?: string;
}

/** Progress of a chunked pass: `fraction` of its work (score entries) done. */
export interface LongAttentionProgress {
  fraction: number;
  chunksDone: number;
  chunks: number;
}

/** How `computeRowStats()` and `profiles()` split their work into submissions. */
export interface ChunkedRunOptions {
  /** Called as each chunk's GPU work completes (one chunk behind submission), and once more at fraction 1. */
  onProgress?: (progress: LongAttentionProgress) => void;
  /** Stops between chunks; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Blocks of 64 rows (row statistics) or 64 columns (profiles) per submission; default about 1 GFLOP each. */
  blocksPerChunk?: number;
}

/** Per-key and per-query summaries of every head; the caller owns both tensors and destroys them. */
export interface LongAttentionProfiles {
  /** Attention received by each key, Σ_i P_ij: `[heads, nk]`. */
  columnSums: GpuTensor;
  /** Entropy of each query row, H_i = -Σ_j P_ij log P_ij (nats): `[heads, nq]`. */
  entropy: GpuTensor;
}

/**
 * Long-sequence attention that never holds N×N: per-row statistics, then exact tiles and profiles on demand.
 * Made by {@link createLongAttention}; call `destroy()` when done.
 */
export interface LongAttention {
  readonly params: Readonly<LongAttentionParams>;
  /** [heads, nq] vec4<f32> (m_i, log l_i, H_i, 0), L_i = m_i + log l_i; rows not yet computed show as zeros. */
  readonly stats: GPUBuffer;
  /** True once computeRowStats() has finished (and found nothing to report). */
  readonly rowStatsReady: boolean;
  /** The row statistics pass as submissions of `blocksPerChunk` query blocks, for a caller spreading it over frames. */
  rowStatsChunks(blocksPerChunk?: number): BlockRange[];
  /**
   * Records the row statistics of `ranges` (see `rowStatsChunks`) into `encoder`. Neither sets `rowStatsReady`
   * nor reports non-finite scores: `computeRowStats()` does both.
   */
  recordRowStats(encoder: GPUCommandEncoder, ranges: readonly BlockRange[], timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Runs the row statistics pass chunk by chunk, with progress and cancellation between chunks. */
  computeRowStats(options?: ChunkedRunOptions): Promise<void>;
  /** Records one tile request (see TileRequest) into `out` [height, width] from element `outOffset`. */
  recordTile(
    encoder: GPUCommandEncoder,
    request: TileRequest,
    out: GPUBuffer | GpuTensor,
    outOffset?: number,
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** A tile read back, [height, width] (cells outside request.cells are 0). For tests and export. */
  tile(request: TileRequest): Promise<Float32Array>;
  /**
   * Records column sums of the given column blocks into `out`, and the entropy of each head whose range
   * starts at block 0 (a copy out of the row statistics).
   */
  recordProfiles(encoder: GPUCommandEncoder, out: LongAttentionProfiles, ranges: readonly BlockRange[]): void;
  /** Column sums and entropy of every head (the caller owns the tensors). */
  profiles(options?: ChunkedRunOptions): Promise<LongAttentionProfiles>;
  /** The statistics read back: m, L = m + log l in float64 (-Infinity for fully masked rows), entropy. */
  rowStats(): Promise<{ m: Float32Array; lse: Float64Array; entropy: Float32Array }>;
  /** Frees the row statistics and kernels (Q, K and `profiles()` tensors stay the caller's). Safe twice. */
  destroy(): void;
}

/** Work per submission when the caller does not say: about 2^30 flops (a few ms on a discrete GPU). */
const FLOPS_PER_CHUNK = 2 ** 30;

/**
 * Long-sequence attention of q [...batch, nq, d] and k [...batch, nk, d] (batch = heads): allocates the
 * row statistics (16 bytes per query row) and builds the kernels; the caller runs computeRowStats() next.
 * Q and K stay the caller's and must outlive this object.
 */
export function createLongAttention(engine: Engine, q: GpuTensor, k: GpuTensor, options: LongAttentionOptions = {}): LongAttention {
  const label = options.label ?? 'longAttention';
  const { batch: heads, ...rest } = attentionParams(q, k, options);
  const params: LongAttentionParams = { heads, ...rest };
  assertFits(engine, label, params);
  // Pipelines are compiled on first use; what is made here are buffers, whose errors surface at first run.
  const stats = createTensorBuffer(engine, [heads, params.nq, STATS_BYTES_PER_ROW / 4], `${label}.stats`);
  const rowStatsKernel = createAttentionRowStats(engine, `${label}.rowStats`);
  const tilesKernel = createAttentionTiles(engine, `${label}.tiles`);
  const profilesKernel = createAttentionProfiles(engine, `${label}.profiles`);
  clearRowStats(engine, stats, heads * params.nq);
  const io = { stats, q: q.buffer, k: k.buffer };
  let ready = false;
  let destroyed = false;

  const assertLive = () => {
    invalidArgument(!destroyed, () => `${label} was used after destroy().`);
    q.assertUsable();
    k.assertUsable();
  };
  const recordRowStats = (encoder: GPUCommandEncoder, ranges: readonly BlockRange[], timestampWrites?: GPUComputePassTimestampWrites) => {
    assertLive();
    ranges.forEach((range) => assertRange(range, heads, Math.ceil(params.nq / TILE), 'query'));
    rowStatsKernel.record(encoder, io, params, ranges, timestampWrites);
  };
  const recordTile: LongAttention['recordTile'] = (encoder, request, out, outOffset = 0, timestampWrites) => {
    assertLive();
    const buffer = out instanceof GpuTensor ? out.buffer : out;
    assertTileRequest(request, params, buffer, outOffset);
    tilesKernel.record(encoder, { out: buffer, outOffset, ...io }, params, request, timestampWrites);
  };
  const recordProfiles = (encoder: GPUCommandEncoder, out: LongAttentionProfiles, ranges: readonly BlockRange[]) => {
    assertLive();
    ranges.forEach((range) => assertRange(range, heads, Math.ceil(params.nk / TILE), 'column'));
    const profileIo = { ...io, columnSums: out.columnSums.buffer, entropy: out.entropy.buffer };
    profilesKernel.recordColumnSums(encoder, profileIo, params, ranges);
    // The entropy is a copy out of the row statistics: once per head, with its first column block.
    const firstBlocks = ranges.filter((range) => range.firstBlock === 0).map((range) => range.head);
    if (firstBlocks.length > 0) profilesKernel.recordEntropy(encoder, profileIo, params, firstBlocks);
  };

  return {
    params,
    stats,
    get rowStatsReady() {
      return ready;
    },
    rowStatsChunks: (blocksPerChunk) => chunksOf(heads, params.nq, blocksPerChunk ?? defaultBlocks(params.nk, params.d)),
    recordRowStats,
    async computeRowStats(run = {}) {
      assertLive();
      ready = false;
      rowStatsKernel.resetStatus();
      const chunks = chunksOf(heads, params.nq, run.blocksPerChunk ?? defaultBlocks(params.nk, params.d));
      const work = (range: BlockRange) => queryWork(params, range);
      await runChunks(engine, `${label}.rowStats`, chunks, work, run, (encoder, range) => recordRowStats(encoder, [range]));
      const [badRows = 0, firstRow = 0, firstKey = 0] = new Uint32Array(await readBufferRange(engine, rowStatsKernel.status, 0, 12));
      if (badRows > 0 && options.nonFinite !== 'mask') throw nonFiniteError(label, params, badRows, firstRow, firstKey);
      ready = true;
    },
    recordTile,
    async tile(request) {
      invalidArgument(ready, () => `${label}.tile(): compute the row statistics first (await computeRowStats()).`);
      const out = createTensorBuffer(engine, [request.height, request.width], `${label}.tile`);
      try {
        await engine.run(`${label}.tile`, (encoder) => recordTile(encoder, request, out));
        return new Float32Array(await readBufferRange(engine, out, 0, request.width * request.height * 4));
      } finally {
        out.destroy();
      }
    },
    recordProfiles,
    async profiles(run = {}) {
      invalidArgument(ready, () => `${label}.profiles(): compute the row statistics first (await computeRowStats()).`);
      const tensor = (shape: number[], name: string) =>
        new GpuTensor({ engine, buffer: createTensorBuffer(engine, shape, `${label}.${name}`), shape });
      const out = { columnSums: tensor([heads, params.nk], 'columnSums'), entropy: tensor([heads, params.nq], 'entropy') };
      try {
        const chunks = chunksOf(heads, params.nk, run.blocksPerChunk ?? defaultBlocks(params.nq, params.d));
        const work = (range: BlockRange) => columnWork(params, range);
        await runChunks(engine, `${label}.profiles`, chunks, work, run, (encoder, range) => recordProfiles(encoder, out, [range]));
        return out;
      } catch (error) {
        out.columnSums.destroy();
        out.entropy.destroy();
        throw error;
      }
    },
    async rowStats() {
      assertLive();
      return decodeRowStats(new Float32Array(await readBufferRange(engine, stats, 0, heads * params.nq * STATS_BYTES_PER_ROW)));
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const kernel of [rowStatsKernel, tilesKernel, profilesKernel]) kernel.destroy();
      stats.destroy();
    },
  };
}

// ---- chunked passes -----------------------------------------------------------------------------

function defaultBlocks(otherLength: number, d: number): number {
  return Math.max(1, Math.floor(FLOPS_PER_CHUNK / (2 * TILE * Math.max(1, otherLength) * d)));
}

function chunksOf(heads: number, length: number, blocksPerChunk: number): BlockRange[] {
  invalidArgument(
    Number.isInteger(blocksPerChunk) && blocksPerChunk >= 1,
    () => `blocksPerChunk must be a positive integer; got ${blocksPerChunk}.`,
  );
  const blocks = Math.ceil(length / TILE);
  const chunks: BlockRange[] = [];
  for (let head = 0; head < heads; head++) {
    for (let first = 0; first < blocks; first += blocksPerChunk) {
      chunks.push({ head, firstBlock: first, blocks: Math.min(blocksPerChunk, blocks - first) });
    }
  }
  return chunks;
}

/** Score entries a range of query blocks computes (causal rows see a prefix of the keys). */
function queryWork(p: LongAttentionParams, range: BlockRange): number {
  let keys = 0;
  for (let block = range.firstBlock; block < range.firstBlock + range.blocks; block++) {
    const lastRow = Math.min(p.nq, (block + 1) * TILE) - 1;
    keys += Math.min(p.nk, p.keyLength, p.causal ? lastRow + 1 : p.nk);
  }
  return keys + range.blocks; // + blocks: fully masked blocks still take a dispatch
}

/** The query rows a chunk of column blocks visits (profiles): from the diagonal down when causal, none past the keys. */
function columnWork(p: LongAttentionParams, range: BlockRange): number {
  let rows = 0;
  for (let block = range.firstBlock; block < range.firstBlock + range.blocks; block++) {
    const firstKey = block * TILE;
    if (firstKey < p.keyLength) rows += Math.max(0, p.nq - (p.causal ? firstKey : 0));
  }
  return rows + range.blocks; // + blocks: fully masked blocks still take a dispatch
}

/**
 * Submits one chunk at a time, keeping the next one queued while waiting for the previous one (so the
 * GPU does not idle between chunks), reporting progress and honouring `signal` between chunks.
 */
async function runChunks(
  engine: Engine,
  label: string,
  chunks: readonly BlockRange[],
  work: (range: BlockRange) => number,
  run: ChunkedRunOptions,
  record: (encoder: GPUCommandEncoder, range: BlockRange) => void,
): Promise<void> {
  const total = chunks.reduce((sum, range) => sum + work(range), 0);
  let done = 0;
  let previous: Promise<void> | null = null;
  for (const [index, range] of chunks.entries()) {
    run.signal?.throwIfAborted();
    await engine.run(label, (encoder) => record(encoder, range));
    const submitted = engine.device.queue.onSubmittedWorkDone();
    if (previous) await previous;
    previous = submitted;
    if (index > 0) run.onProgress?.({ fraction: done / total, chunksDone: index, chunks: chunks.length });
    done += work(range);
  }
  await previous;
  run.onProgress?.({ fraction: 1, chunksDone: chunks.length, chunks: chunks.length });
}

// ---- validation ---------------------------------------------------------------------------------

function assertFits(engine: Engine, label: string, p: LongAttentionParams): void {
  const { maxStorageBufferBindingSize: bindLimit, maxBufferSize, minStorageBufferOffsetAlignment: align } = engine.limits;
  const perHead = (what: string, shape: number[], bytes: number) => {
    // A head's window starts at an aligned offset: up to align - 4 bytes of the previous head come along.
    if (bytes + align - 4 > bindLimit) {
      throw new DeviceLimitError(
        `${label}: one head of ${what} [${shape.join(', ')}] needs ${formatBytes(bytes)} in one binding, but this ` +
          `device's maxStorageBufferBindingSize is ${formatBytes(bindLimit)}. The long-attention kernels bind ` +
          'one head at a time; use a shorter sequence or a smaller head dimension on this device.',
      );
    }
  };
  perHead('Q', [p.nq, p.d], p.nq * p.d * 4);
  perHead('K', [p.nk, p.d], p.nk * p.d * 4);
  perHead('the row statistics', [p.nq, 4], p.nq * STATS_BYTES_PER_ROW);
  const statsBytes = p.heads * p.nq * STATS_BYTES_PER_ROW;
  if (statsBytes > maxBufferSize || p.heads * Math.max(p.nq, p.nk) >= 2 ** 32) {
    throw new DeviceLimitError(
      `${label}: ${formatCount(p.heads)} heads × ${formatCount(p.nq)} queries need ${formatBytes(statsBytes)} of row ` +
        `statistics (16 bytes per row), more than this device's maxBufferSize of ${formatBytes(maxBufferSize)} ` +
        '(or more rows than 32-bit indices reach). Process fewer heads at a time.',
    );
  }
}

function assertRange(range: BlockRange, heads: number, blocks: number, what: string): void {
  invalidArgument(
    Number.isInteger(range.head) && range.head >= 0 && range.head < heads &&
      Number.isInteger(range.firstBlock) && Number.isInteger(range.blocks) &&
      range.firstBlock >= 0 && range.blocks >= 1 && range.firstBlock + range.blocks <= blocks,
    () => `A range must be a head in [0, ${heads}) and ${what} blocks within [0, ${blocks}); got ` +
      `head ${range.head}, blocks [${range.firstBlock}, ${range.firstBlock + range.blocks}).`,
  );
}

function nonFiniteError(label: string, p: LongAttentionParams, badRows: number, firstRow: number, firstKey: number): NonFiniteError {
  const where =
    firstRow === NO_INDEX ? '' : ` (first at head ${Math.floor(firstRow / p.nq)}, query ${firstRow % p.nq}; smallest key ${firstKey})`;
  return new NonFiniteError(
    `${label}: ${formatCount(badRows)} of ${formatCount(p.heads * p.nq)} query rows had NaN or ±Inf attention scores${where}. ` +
      "Q or K holds NaN/Inf, or q·k overflows float32. Expected finite inputs; pass { nonFinite: 'mask' } to give such " +
      'scores weight 0 instead.',
  );
}
