// The data behind what a view shows, as arrays ready for .npy: what a researcher exports to look at in
// numpy. Each function says which part of the data counts as "visible" for its view.
import { invalidArgument } from '../core/errors';
import type { FeatureLayer } from '../features/feature-layer';
import { featureIndex } from '../features/feature-layer';
import { writeNpy } from '../io/npy';
import type { GpuTensor } from '../memory/gpu-tensor';
import type { Camera, WorldRect } from '../render/camera';
import { visibleChannels, visibleSections } from '../render/feature-grid/grid-layout';
import type { FeatureGridView } from '../render/feature-grid/feature-grid-view';
import type { HeadView } from '../render/head-view/head-view';
import type { HeatmapLayout } from '../render/heatmap-layout';
import type { HeatmapView } from '../render/heatmap-view';

export interface VisibleData {
  /** Row-major float32 values of `shape`. */
  data: Float32Array;
  shape: number[];
  /** Index of the first element in the source's own axes (e.g. [head, query, key]). */
  origin: number[];
  /** What the array is, in a line: for a file name or a caption. */
  description: string;
}

/** The .npy bytes of visible data (readable by numpy and by parseNpy). */
export function visibleDataNpy(visible: VisibleData): Uint8Array {
  return writeNpy(visible.data, visible.shape);
}

/** The world rectangle a camera shows. */
export function cameraRect(camera: Camera): WorldRect {
  return { x: camera.centerX - camera.width / 2 / camera.scale, y: camera.centerY - camera.height / 2 / camera.scale, width: camera.width / camera.scale, height: camera.height / camera.scale };
}

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
  const { queries: n, keys: m } = view.layout;
  const [rows, cols] = [region.queries[1] - region.queries[0], region.keys[1] - region.keys[0]];
  const data = new Float32Array(region.heads.length * rows * cols);
  for (const [slot, head] of region.heads.entries()) {
    // One read per head from its first visible row to its last: rows are contiguous in P.
    const block = await weights.readRange((head * n + region.queries[0]) * m, rows * m);
    for (let r = 0; r < rows; r++) data.set(block.subarray(r * m + region.keys[0], r * m + region.keys[1]), (slot * rows + r) * cols);
  }
  const heads = region.heads.length === 1 ? `head ${region.heads[0]}` : `heads ${region.heads[0]}–${region.heads.at(-1)}`;
  return {
    data,
    shape: [region.heads.length, rows, cols],
    origin: [region.heads[0]!, region.queries[0], region.keys[0]],
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
 * The visible maps of a feature grid: of the layer with the most channels on screen, those channels as
 * [channels, height, width] (one map after another, whatever the tensor's layout) of the shown batch item.
 */
export async function featureGridVisibleData(view: FeatureGridView, layers: readonly FeatureLayer[], batchItem = 0): Promise<VisibleData> {
  const rect = cameraRect(view.camera);
  const best = visibleSections(view.layout, rect)
    .map((section) => ({ section, range: { ...visibleChannels(view.layout, section, rect) } }))
    .reduce<{ layer: number; first: number; count: number } | null>(
      (top, { section, range }) => (range.count > (top?.count ?? 0) ? { layer: section.layer, ...range } : top),
      null,
    );
  invalidArgument(best, () => 'featureGridVisibleData: no map is on screen; pan or zoom back onto the grid.');
  const layer = layers[best.layer];
  invalidArgument(layer, () => `featureGridVisibleData: the grid shows layer ${best.layer}; ${layers.length} layers were given.`);
  const values = await layer.tensor.read();
  const { height, width } = layer;
  const data = new Float32Array(best.count * height * width);
  for (let c = 0; c < best.count; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = values[featureIndex(layer, batchItem, y, x, best.first + c)]!;
    }
  }
  return {
    data,
    shape: [best.count, height, width],
    origin: [batchItem, best.first],
    description: `${layer.name}, channels ${best.first}–${best.first + best.count - 1}`,
  };
}
