// What the explorer needs from whoever computes exact attention tiles (src/attention/long-attention.ts
// for Q and K on the GPU). Kept narrow so the view can be tested with any producer.
import type { TileRect } from './tile-pyramid';

/** How a tile cell combines the exact weights it covers: their maximum or their mean. */
export type Pooling = 'max' | 'mean';

/**
 * One strip of one tile for `TileProducer.recordTileStrip`: cell rows [cellRowStart, cellRowEnd) of the
 * grid of `rect`, for `head`, pooled by `pooling`.
 */
export interface TileStripRequest {
  head: number;
  rect: TileRect;
  /** Cell rows [cellRowStart, cellRowEnd) of the tile's grid are computed by this call. */
  cellRowStart: number;
  cellRowEnd: number;
  pooling: Pooling;
}

/**
 * What the explorer needs from whoever computes an attention matrix: `heads` matrices of rows × cols
 * (queries × keys), exact tiles on demand. `tileProducerFor` adapts a `LongAttention`; tests may pass
 * any object with these members.
 */
export interface TileProducer {
  readonly heads: number;
  readonly rows: number;
  readonly cols: number;
  readonly causal: boolean;
  /** True once the per-row statistics of `head` exist; tiles of a head are only asked for after that. */
  isReady(head: number): boolean;
  /**
   * Records the strip into `out` at byte `outOffset`, laid out as rect.height × rect.width floats
   * (row-major, the whole tile's grid; only the strip's rows are written).
   */
  recordTileStrip(
    encoder: GPUCommandEncoder,
    request: TileStripRequest,
    out: GPUBuffer,
    outOffset: number,
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** The exact weight and score of one entry (a few bytes read back), for the hover readout. */
  readEntry(head: number, query: number, key: number): Promise<{ weight: number; score: number }>;
}
