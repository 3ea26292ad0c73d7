// Where each head's matrix lies in world space: one world unit per cell, key j along x, query i along y
// (row 0 at the top). 'all' lays the heads out row by row in ceil(sqrt(heads)) columns (or as many as asked:
// the model view puts one layer per row, [layers, heads, N, N] in `heads` columns) with a gap between
// tiles. shaders/render/heatmap.wgsl computes the same tiles; this copy hit-tests the pointer.
import { invalidArgument } from '../core/errors';
import type { WorldRect } from './camera';

/** Gap between tiles, as a fraction of the larger side of one matrix. */
export const TILE_GAP_FRACTION = 0.1;

/**
 * Where each head's matrix lies in world space, one world unit per cell: key along x, query along y (row 0
 * at the top), tiles row by row. Made by `heatmapLayout`.
 */
export interface HeatmapLayout {
  /** Heads in the tensor (every leading axis flattened) and the matrix size of each. */
  readonly heads: number;
  readonly queries: number;
  readonly keys: number;
  /** The first head drawn, and how many are drawn from there. */
  readonly firstHead: number;
  readonly shownHeads: number;
  readonly cols: number;
  readonly rows: number;
  /** World units between tiles. */
  readonly gap: number;
  readonly bounds: WorldRect;
}

/** One attention weight: `head` (index over the flattened leading axes), `query` row and `key` column. */
export interface HeatmapCell {
  head: number;
  query: number;
  key: number;
}

/**
 * The layout for a tensor of shape [...heads, N, M] showing one head or all of them, in `columns` tiles per
 * row (default ceil(sqrt(heads shown))).
 */
export function heatmapLayout(shape: readonly number[], head: number | 'all', columns?: number): HeatmapLayout {
  invalidArgument(
    shape.length >= 2,
    () => `A heatmap needs weights of shape [heads, N, M] (or [N, M]); got [${shape.join(', ')}].`,
  );
  const queries = shape[shape.length - 2]!;
  const keys = shape[shape.length - 1]!;
  const heads = shape.slice(0, -2).reduce((product, dim) => product * dim, 1);
  invalidArgument(
    head === 'all' || (Number.isInteger(head) && head >= 0 && head < heads),
    () => `head must be 'all' or an integer in 0..${heads - 1}; got ${String(head)}.`,
  );
  invalidArgument(
    columns === undefined || (Number.isInteger(columns) && columns >= 1),
    () => `columns must be a positive integer; got ${String(columns)}.`,
  );
  const shownHeads = head === 'all' ? heads : 1;
  const cols = Math.min(columns ?? Math.ceil(Math.sqrt(shownHeads)), shownHeads);
  const rows = Math.ceil(shownHeads / cols);
  const gap = shownHeads > 1 ? Math.max(queries, keys) * TILE_GAP_FRACTION : 0;
  const bounds = { x: 0, y: 0, width: cols * (keys + gap) - gap, height: rows * (queries + gap) - gap };
  return { heads, queries, keys, firstHead: head === 'all' ? 0 : head, shownHeads, cols, rows, gap, bounds };
}

/** The cell under world point (x, y), or null over the background and the gaps. */
export function cellAt(layout: HeatmapLayout, x: number, y: number): HeatmapCell | null {
  const pitchX = layout.keys + layout.gap;
  const pitchY = layout.queries + layout.gap;
  if (x < 0 || y < 0) return null;
  const col = Math.floor(x / pitchX);
  const row = Math.floor(y / pitchY);
  const key = Math.floor(x - col * pitchX);
  const query = Math.floor(y - row * pitchY);
  const slot = row * layout.cols + col;
  if (col >= layout.cols || slot >= layout.shownHeads || key >= layout.keys || query >= layout.queries) return null;
  return { head: layout.firstHead + slot, query, key };
}

/** The world point at the centre of a cell: the inverse of cellAt, for tests and for centring on a cell. */
export function cellCenter(layout: HeatmapLayout, cell: HeatmapCell): { x: number; y: number } {
  const slot = cell.head - layout.firstHead;
  const col = slot % layout.cols;
  const row = Math.floor(slot / layout.cols);
  return {
    x: col * (layout.keys + layout.gap) + cell.key + 0.5,
    y: row * (layout.queries + layout.gap) + cell.query + 0.5,
  };
}

/** Index of a cell's value in the row-major weights buffer. */
export function cellIndex(layout: HeatmapLayout, cell: HeatmapCell): number {
  return (cell.head * layout.queries + cell.query) * layout.keys + cell.key;
}
