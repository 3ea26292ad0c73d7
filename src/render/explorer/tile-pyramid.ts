// The explorer's tile pyramid over an N×M attention matrix. Level 0 is the whole matrix in one tile of
// TILE_CELLS × TILE_CELLS cells; each level halves the entries per cell, down to the finest level where a
// cell is at most one entry. A tile at any level is computed exactly (max or mean of exact P over the
// entries of each cell), so no level is ever derived from another: zooming never blurs or approximates.

export const TILE_CELLS = 256;

export interface TileKey {
  level: number;
  tx: number;
  ty: number;
}

/** A tile's rectangle of entries and its cell grid (edge tiles are narrower, with as many cells as fit). */
export interface TileRect {
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
  /** Cells across (columns of the grid) and down (rows of the grid). */
  width: number;
  height: number;
}

export interface Pyramid {
  readonly rows: number;
  readonly cols: number;
  /** Levels 0..finest. */
  readonly finest: number;
}

export function createPyramid(rows: number, cols: number): Pyramid {
  const side = Math.max(rows, cols);
  return { rows, cols, finest: Math.max(0, Math.ceil(Math.log2(side / TILE_CELLS))) };
}

/** Entries along one side of a tile at `level`. */
export function tileSpan(pyramid: Pyramid, level: number): number {
  return Math.max(pyramid.rows, pyramid.cols) / 2 ** level;
}

export function tilesAcross(pyramid: Pyramid, level: number): { x: number; y: number } {
  const span = tileSpan(pyramid, level);
  return { x: Math.ceil(pyramid.cols / span), y: Math.ceil(pyramid.rows / span) };
}

export function tileRect(pyramid: Pyramid, key: TileKey): TileRect {
  const span = tileSpan(pyramid, key.level);
  const perCell = span / TILE_CELLS;
  const colStart = Math.floor(key.tx * span);
  const rowStart = Math.floor(key.ty * span);
  const colEnd = Math.min(pyramid.cols, Math.floor((key.tx + 1) * span));
  const rowEnd = Math.min(pyramid.rows, Math.floor((key.ty + 1) * span));
  const cells = (entries: number) => Math.min(TILE_CELLS, Math.max(1, Math.ceil(entries / Math.max(perCell, 1))));
  return { rowStart, rowEnd, colStart, colEnd, width: cells(colEnd - colStart), height: cells(rowEnd - rowStart) };
}

/** The level whose cells are just smaller than a screen pixel at `pixelsPerEntry`. */
export function levelForScale(pyramid: Pyramid, pixelsPerEntry: number): number {
  const wanted = Math.ceil(Math.log2((Math.max(pyramid.rows, pyramid.cols) * pixelsPerEntry) / TILE_CELLS));
  return Math.min(pyramid.finest, Math.max(0, wanted));
}

/** Tiles of `level` that intersect the rectangle of entries [x0, x1) × [y0, y1), nearest the centre first. */
export function visibleTiles(
  pyramid: Pyramid,
  level: number,
  view: { x0: number; y0: number; x1: number; y1: number },
): TileKey[] {
  const span = tileSpan(pyramid, level);
  const across = tilesAcross(pyramid, level);
  const clampTile = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.floor(v / span)));
  const [tx0, tx1] = [clampTile(view.x0, across.x), clampTile(view.x1 - 1e-9, across.x)];
  const [ty0, ty1] = [clampTile(view.y0, across.y), clampTile(view.y1 - 1e-9, across.y)];
  const keys: TileKey[] = [];
  for (let ty = ty0; ty <= ty1; ty++) for (let tx = tx0; tx <= tx1; tx++) keys.push({ level, tx, ty });
  const cx = (view.x0 + view.x1) / 2;
  const cy = (view.y0 + view.y1) / 2;
  const distance = (k: TileKey) => Math.hypot((k.tx + 0.5) * span - cx, (k.ty + 0.5) * span - cy);
  return keys.sort((a, b) => distance(a) - distance(b));
}

/** Whether a causal matrix has any visible entry in the tile (keys j ≤ query i). */
export function tileHasEntries(rect: TileRect, causal: boolean): boolean {
  return !causal || rect.colStart <= rect.rowEnd - 1;
}

/** Entries a tile covers: its cost, up to the factor d of the dot products. */
export function tileEntries(rect: TileRect): number {
  return (rect.rowEnd - rect.rowStart) * (rect.colEnd - rect.colStart);
}
