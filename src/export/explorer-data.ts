// The explorer's visible data as an array: the entries of P under the screen, exact when there are few
// enough of them, else pooled at the screen's resolution (one cell per pixel, max or mean as the view
// pools). Computed anew by the producer for exactly that window, not copied from the tile atlas, so it
// never holds a coarser level that happened to be on screen.
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { readBufferRange } from '../memory/readback';
import type { ExplorerView } from '../render/explorer/explorer-view';
import { MAX_TILE_GRID } from '../kernels/attention-tiles';
import { cameraRect, type VisibleData } from './visible-data';

/** Options for {@link explorerVisibleData}. */
export interface ExplorerDataOptions {
  /** Most entries exported one by one (default 2^22, 16 MiB of float32); a larger window is pooled. */
  maxExactEntries?: number;
}

/** The entries of P the explorer shows, [rows, cols] with their first entry as the origin. */
export function explorerVisibleEntries(view: ExplorerView): { rows: [number, number]; cols: [number, number] } | null {
  const rect = cameraRect(view.camera);
  const { rows, cols } = view.producer;
  const span = (from: number, to: number, n: number): [number, number] | null => {
    const [start, end] = [Math.max(0, Math.floor(from)), Math.min(n, Math.ceil(to))];
    return start < end ? [start, end] : null;
  };
  const r = span(rect.y, rect.y + rect.height, rows);
  const c = span(rect.x, rect.x + rect.width, cols);
  return r && c ? { rows: r, cols: c } : null;
}

/**
 * The visible window of the explorer's head: [1, rows, cols] exact P when it holds at most
 * `maxExactEntries` entries, else [1, gy, gx] cells of gx × gy screen pixels, each pooling its entries
 * (see VisibleData.pooled). The producer's row statistics must be ready.
 */
export async function explorerVisibleData(engine: Engine, view: ExplorerView, options: ExplorerDataOptions = {}): Promise<VisibleData> {
  const window = explorerVisibleEntries(view);
  invalidArgument(window, () => 'explorerVisibleData: no entry is on screen; pan or zoom back onto the matrix.');
  const { producer, head, pooling, camera } = view;
  invalidArgument(producer.isReady(head), () => `explorerVisibleData: head ${head}'s row statistics are not computed yet.`);
  const [r0, r1] = window.rows;
  const [c0, c1] = window.cols;
  const maxExact = options.maxExactEntries ?? 2 ** 22;
  const exact = (r1 - r0) * (c1 - c0) <= maxExact && r1 - r0 <= MAX_TILE_GRID && c1 - c0 <= MAX_TILE_GRID;
  // Pooled: one cell per screen pixel the window covers (never more cells than entries).
  const cells = (entries: number) => (exact ? entries : Math.max(1, Math.min(entries, MAX_TILE_GRID, Math.ceil(entries * camera.scale))));
  const [width, height] = [cells(c1 - c0), cells(r1 - r0)];
  const out = engine.createBuffer({ label: 'explorerVisibleData.cells', size: width * height * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  try {
    const rect = { rowStart: r0, rowEnd: r1, colStart: c0, colEnd: c1, width, height };
    await engine.run('explorerVisibleData', (encoder) => {
      producer.recordTileStrip(encoder, { head, rect, cellRowStart: 0, cellRowEnd: height, pooling }, out, 0);
    });
    const data = new Float32Array(await readBufferRange(engine, out, 0, width * height * 4));
    const where = `head ${head}, queries ${r0}–${r1 - 1}, keys ${c0}–${c1 - 1}`;
    return {
      data,
      shape: [1, height, width],
      origin: [head, r0, c0],
      description: exact ? where : `${where}, ${pooling} of ~${((r1 - r0) / height).toFixed(1)}×${((c1 - c0) / width).toFixed(1)} entries per cell`,
      ...(exact ? {} : { pooled: { rows: [r0, r1], cols: [c0, c1], reduce: pooling } }),
    };
  } finally {
    out.destroy();
  }
}
