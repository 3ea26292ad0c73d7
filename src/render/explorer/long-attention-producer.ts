// The explorer's tiles from a LongAttention (Q and K on the GPU, row statistics cached): each strip is one
// recordTile call writing straight into the explorer's atlas; hovering reads one exact entry back.
import type { Engine } from '../../core/engine';
import type { LongAttention } from '../../attention/long-attention';
import { STATS_BYTES_PER_ROW } from '../../kernels/attention-row-stats';
import { readBufferRange } from '../../memory/readback';
import type { TileProducer } from './tile-producer';

/**
 * Adapts a `LongAttention` to the explorer's `TileProducer`: strips are recorded straight into the explorer's
 * atlas, and hovering reads one exact entry back. Tiles are drawn once `computeRowStats()` has finished. The
 * attention stays the caller's to destroy.
 */
export function tileProducerFor(engine: Engine, attention: LongAttention): TileProducer {
  const { heads, nq, nk, causal } = attention.params;
  return {
    heads,
    rows: nq,
    cols: nk,
    causal,
    isReady: () => attention.rowStatsReady,
    recordTileStrip(encoder, request, out, outOffset, timestampWrites) {
      const { rect } = request;
      attention.recordTile(
        encoder,
        {
          head: request.head,
          rows: [rect.rowStart, rect.rowEnd],
          cols: [rect.colStart, rect.colEnd],
          width: rect.width,
          height: rect.height,
          reduce: request.pooling,
          cells: { x0: 0, x1: rect.width, y0: request.cellRowStart, y1: request.cellRowEnd },
        },
        out,
        outOffset / 4,
        timestampWrites,
      );
    },
    async readEntry(head, query, key) {
      const request = { head, rows: [query, query + 1], cols: [key, key + 1], width: 1, height: 1, reduce: 'max' } as const;
      const [weightValues, statsBytes] = await Promise.all([
        attention.tile(request),
        readBufferRange(engine, attention.stats, (head * nq + query) * STATS_BYTES_PER_ROW, STATS_BYTES_PER_ROW),
      ]);
      const weight = weightValues[0] ?? 0;
      const [m = 0, logL = 0] = new Float32Array(statsBytes);
      // s_ij = L_i + log P_ij; a weight of exactly 0 is a masked (or underflowed) entry.
      return { weight, score: weight > 0 ? m + logL + Math.log(weight) : -Infinity };
    },
  };
}
