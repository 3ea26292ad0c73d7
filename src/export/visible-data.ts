// The data behind what a view shows, as arrays ready for .npy: what a researcher exports to look at in
// numpy. Each function says which part of the data counts as "visible" for its view.
import { invalidArgument } from '../core/errors';
import type { FeatureLayer } from '../features/feature-layer';
import { featureIndex } from '../features/feature-layer';
import { writeNpy } from '../io/npy';
import type { GpuTensor } from '../memory/gpu-tensor';
import type { Camera, WorldRect } from '../render/camera';
import { mapRect, visibleChannels, visibleSections } from '../render/feature-grid/grid-layout';
import type { FeatureGridView } from '../render/feature-grid/feature-grid-view';
import type { HeadView } from '../render/head-view/head-view';
import type { HeatmapLayout } from '../render/heatmap-layout';
import type { HeatmapView } from '../render/heatmap-view';

/** The data behind what a view shows, as one array ready for {@link visibleDataNpy}. */
export interface VisibleData {
  /** Row-major float32 values of `shape`. */
  data: Float32Array;
  shape: number[];
  /** Index of the first element in the source's own axes (e.g. [head, query, key]). */
  origin: number[];
  /**
   * The heatmap only: the head of each slab of the first axis, in order (a grid can show heads 0 and 2
   * without 1, so origin[0] alone does not say).
   */
  heads?: number[];
  /** The feature grid only: the channel of each map of the first axis, in order. */
  channels?: number[];
  /** What the array is, in a line: for a file name or a caption. */
  description: string;
  /**
   * Only where cells pool several entries (the explorer zoomed out): the entries [start, end) shown along
   * rows and columns; along each axis, cell c of G covers entries start + [floor(c·R/G), floor((c+1)·R/G))
   * of the R shown, and holds their `reduce`.
   */
  pooled?: { rows: [number, number]; cols: [number, number]; reduce: 'max' | 'mean' };
}

/** The .npy bytes of visible data (readable by numpy and by parseNpy). */
export function visibleDataNpy(visible: VisibleData): Uint8Array {
  return writeNpy(visible.data, visible.shape);
}

/** The world rectangle a camera shows. */
export function cameraRect(camera: Camera): WorldRect {
  return { x: camera.centerX - camera.width / 2 / camera.scale, y: camera.centerY - camera.height / 2 / camera.scale, width: camera.width / camera.scale, height: camera.height / camera.scale };
}

/** The part of a heatmap on screen, in head, query and key indices. */
export interface HeatmapRegion {
  /** Heads whose tile is at least partly on screen, in order. */
  heads: number[];
  /** Visible queries [start, end) and keys [start, end): the union over the visible tiles. */
  queries: [number, number];
  keys: [number, number];
}

/** The cells a heatmap view shows; null when no cell is on screen. */
export function heatmapVisibleRegion(layout: HeatmapLayout, rect: WorldRect): HeatmapRegion | null {
  const pitchX = layout.keys + layout.gap;
  const pitchY = layout.queries + layout.gap;
  const heads: number[] = [];
  let [q0, q1, k0, k1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let slot = 0; slot < layout.shownHeads; slot++) {
    const [x, y] = [(slot % layout.cols) * pitchX, Math.floor(slot / layout.cols) * pitchY];
    const keys = overlap(rect.x - x, rect.x + rect.width - x, layout.keys);
    const queries = overlap(rect.y - y, rect.y + rect.height - y, layout.queries);
    if (!keys || !queries) continue;
    heads.push(layout.firstHead + slot);
    [q0, q1, k0, k1] = [Math.min(q0, queries[0]), Math.max(q1, queries[1]), Math.min(k0, keys[0]), Math.max(k1, keys[1])];
  }
  return heads.length === 0 ? null : { heads, queries: [q0, q1], keys: [k0, k1] };
}

/** Whole cells of [0, size) touched by the world interval [from, to), or null. */
function overlap(from: number, to: number, size: number): [number, number] | null {
  const start = Math.max(0, Math.floor(from));
  const end = Math.min(size, Math.ceil(to));
  return start < end ? [start, end] : null;
}

/** The visible cells of a heatmap of `weights` ([heads, N, M]): [visible heads, queries, keys]. */
export async function heatmapVisibleData(view: HeatmapView, weights: GpuTensor): Promise<VisibleData> {
  const region = heatmapVisibleRegion(view.layout, cameraRect(view.camera));
  invalidArgument(region, () => 'heatmapVisibleData: no cell is on screen; pan or zoom back onto the heatmap.');
  return heatmapRegionData(view.layout, region, (offset, count) => weights.readRange(offset, count));
}

/**
 * The cells of `region` read through `readRange` (elements [offset, offset + count) of the row-major
 * [heads, N, M] data): the GPU tensor's readRange, or a slice of an array where the data is on the CPU.
 */
export async function heatmapRegionData(
  layout: HeatmapLayout,
  region: HeatmapRegion,
  readRange: (offset: number, count: number) => Promise<Float32Array>,
): Promise<VisibleData> {
  const { queries: n, keys: m } = layout;
  const [rows, cols] = [region.queries[1] - region.queries[0], region.keys[1] - region.keys[0]];
  const data = new Float32Array(region.heads.length * rows * cols);
  for (const [slot, head] of region.heads.entries()) {
    // One read per head from its first visible row to its last: rows are contiguous in P.
    const block = await readRange((head * n + region.queries[0]) * m, rows * m);
    for (let r = 0; r < rows; r++) data.set(block.subarray(r * m + region.keys[0], r * m + region.keys[1]), (slot * rows + r) * cols);
  }
  const heads = region.heads.length === 1 ? `head ${region.heads[0]}` : `heads ${region.heads.join(', ')}`;
  return {
    data,
    shape: [region.heads.length, rows, cols],
    origin: [region.heads[0]!, region.queries[0], region.keys[0]],
    heads: [...region.heads],
    description: `${heads}, queries ${region.queries[0]}–${region.queries[1] - 1}, keys ${region.keys[0]}–${region.keys[1] - 1}`,
  };
}

/** P of the layer a head view shows: [heads, n, n] (every head, drawn or toggled off). */
export async function headViewData(view: HeadView, weights: GpuTensor): Promise<VisibleData> {
  const per = view.heads * view.tokens * view.tokens;
  invalidArgument(weights.size === view.layers * per, () => `headViewData: the view shows ${view.layers} × ${per} weights; the tensor has ${weights.size}.`);
  return {
    data: await weights.readRange(view.layer * per, per),
    shape: [view.heads, view.tokens, view.tokens],
    origin: [view.layer, 0, 0, 0],
    description: `layer ${view.layer}, ${view.heads} heads × ${view.tokens} tokens`,
  };
}

/**
 * The visible maps of a feature grid: of the layer with the most maps on screen, the channels whose map
 * overlaps the screen (in channel order, listed in `channels`; a row cut by the edge keeps only its maps
 * on screen), as [channels, height, width] of the shown batch item, whatever the tensor's layout. One
 * layer, because layers differ in size and one .npy holds one shape.
 */
export async function featureGridVisibleData(view: FeatureGridView, layers: readonly FeatureLayer[], batchItem = 0): Promise<VisibleData> {
  const rect = cameraRect(view.camera);
  const layout = view.layout;
  let best: { layer: number; channels: number[] } | null = null;
  for (const section of visibleSections(layout, rect)) {
    const rows = visibleChannels(layout, section, rect); // whole rows: a superset of the maps on screen
    const channels: number[] = [];
    for (let c = rows.first; c < rows.first + rows.count; c++) if (overlaps(mapRect(layout, section, c), rect)) channels.push(c);
    if (channels.length > (best?.channels.length ?? 0)) best = { layer: section.layer, channels };
  }
  invalidArgument(best, () => 'featureGridVisibleData: no map is on screen; pan or zoom back onto the grid.');
  const layer = layers[best.layer];
  invalidArgument(layer, () => `featureGridVisibleData: the grid shows layer ${best.layer}; ${layers.length} layers were given.`);
  invalidArgument(
    Number.isInteger(batchItem) && batchItem >= 0 && batchItem < layer.batch,
    () => `featureGridVisibleData: batchItem must be in [0, ${layer.batch}); got ${batchItem}.`,
  );
  const values = await layer.tensor.read();
  const { height, width } = layer;
  const data = new Float32Array(best.channels.length * height * width);
  best.channels.forEach((channel, c) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = values[featureIndex(layer, batchItem, y, x, channel)]!;
    }
  });
  const [first, last] = [best.channels[0]!, best.channels.at(-1)!];
  return {
    data,
    shape: [best.channels.length, height, width],
    origin: [batchItem, first],
    channels: best.channels,
    description: `${layer.name}, ${best.channels.length} channels from ${first} to ${last}`,
  };
}

function overlaps(a: WorldRect, b: WorldRect): boolean {
  return a.x < b.x + b.width && a.x + a.width > b.x && a.y < b.y + b.height && a.y + a.height > b.y;
}
