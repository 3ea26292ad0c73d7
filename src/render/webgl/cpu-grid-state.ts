// What the two CPU-fed grids (the regl fallback and the Canvas2D peer) share: their options and defaults,
// the check of the layers they are given, and each layer's statistics and normalization ranges, kept in
// arrays made once per layer shape so that a frame of new values allocates nothing.
import { invalidArgument } from '../../core/errors';
import { STATS_RECORD_FLOATS, type FeatureNormalization } from '../../reference/channel-stats';
import { isColormapName, type ColormapName } from '../colormaps';
import {
  checkNormalization,
  cpuChannelStats,
  cpuNormalizationRanges,
  cpuStatsScratch,
  type CpuFeatureLayer,
  type CpuStatsScratch,
} from './cpu-feature-stats';

export type FeatureSampling = 'nearest' | 'bilinear';
export type Rgb = readonly [number, number, number];

export interface CpuGridOptions {
  /** How values map to the colormap (default 'channel'). */
  normalization?: FeatureNormalization;
  /** k of 'robust' (mean ± k·std; default 3). */
  robustK?: number;
  colormap?: ColormapName;
  /** 'nearest' (default) or 'bilinear' between activation cells. */
  sampling?: FeatureSampling;
  /** Cells per row in every section (default 32, as featureGridLayout). */
  columns?: number;
  /** Colour of NaN and ±Inf values, RGB in 0..1 (default magenta). */
  nonFiniteColor?: Rgb;
  /** Colour behind the maps, RGB in 0..1 (default a dark grey). */
  background?: Rgb;
  /** Which batch item is drawn (default 0); statistics cover every item. */
  batchItem?: number;
}

export interface ResolvedGridOptions {
  normalization: FeatureNormalization;
  robustK: number;
  colormap: ColormapName;
  sampling: FeatureSampling;
  columns: number | undefined;
  nonFiniteColor: Rgb;
  background: Rgb;
  batchItem: number;
}

export const DEFAULT_NON_FINITE: Rgb = [1, 0, 1];
export const DEFAULT_BACKGROUND: Rgb = [0.12, 0.12, 0.12];

export function resolveGridOptions(options: CpuGridOptions, who: string): ResolvedGridOptions {
  const resolved: ResolvedGridOptions = {
    normalization: options.normalization ?? 'channel',
    robustK: options.robustK ?? 3,
    colormap: options.colormap ?? 'viridis',
    sampling: options.sampling ?? 'nearest',
    columns: options.columns,
    nonFiniteColor: options.nonFiniteColor ?? DEFAULT_NON_FINITE,
    background: options.background ?? DEFAULT_BACKGROUND,
    batchItem: options.batchItem ?? 0,
  };
  checkNormalization(resolved.normalization, who);
  invalidArgument(
    Number.isFinite(resolved.robustK) && resolved.robustK > 0,
    () => `${who}: robustK must be a positive number; got ${resolved.robustK}.`,
  );
  invalidArgument(isColormapName(resolved.colormap), () => `${who}: unknown colormap '${String(resolved.colormap)}'.`);
  invalidArgument(
    resolved.sampling === 'nearest' || resolved.sampling === 'bilinear',
    () => `${who}: sampling must be 'nearest' or 'bilinear'; got '${String(resolved.sampling)}'.`,
  );
  return resolved;
}

export function checkCpuLayers(layers: readonly CpuFeatureLayer[], batchItem: number, who: string): void {
  invalidArgument(layers.length > 0, () => `${who}: no layers to draw.`);
  for (const layer of layers) {
    const { name, batch, height, width, channels } = layer;
    invalidArgument(
      layer.layout === 'NHWC' || layer.layout === 'NCHW',
      () => `${who}: layer '${name}' has layout '${String(layer.layout)}'; expected 'NHWC' or 'NCHW'.`,
    );
    invalidArgument(
      [batch, height, width, channels].every((n) => Number.isInteger(n) && n >= 1),
      () => `${who}: layer '${name}' needs positive integer batch, height, width, channels; got ${batch}, ${height}, ${width}, ${channels}.`,
    );
    invalidArgument(
      layer.data instanceof Float32Array && layer.data.length === batch * height * width * channels,
      () => `${who}: layer '${name}' needs a Float32Array of ${batch}·${height}·${width}·${channels} = ` +
        `${batch * height * width * channels} values; got ${describe(layer.data)}.`,
    );
    invalidArgument(
      Number.isInteger(batchItem) && batchItem >= 0 && batchItem < batch,
      () => `${who}: batchItem ${batchItem} is outside layer '${name}' (batch ${batch}).`,
    );
  }
}

/** True when two layer lists have the same names and shapes, so GPU resources and layout can be kept. */
export function sameShapes(a: readonly CpuFeatureLayer[], b: readonly CpuFeatureLayer[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i]!;
    return x.name === y.name && x.layout === y.layout && x.batch === y.batch && x.height === y.height &&
      x.width === y.width && x.channels === y.channels;
  });
}

/** One layer's statistics and per-channel [lo, hi], refreshed from its values. */
export class CpuLayerStats {
  readonly stats: Float64Array;
  /** [lo, hi] per channel for the current normalization. */
  readonly ranges: Float32Array;
  readonly #scratch: CpuStatsScratch;
  #layer: CpuFeatureLayer;
  #itemSource: Float32Array | null = null;
  #item: Float32Array | null = null;

  constructor(layer: CpuFeatureLayer) {
    this.#layer = layer;
    this.#scratch = cpuStatsScratch(layer.channels);
    this.stats = new Float64Array((layer.channels + 1) * STATS_RECORD_FLOATS);
    this.ranges = new Float32Array(2 * layer.channels);
  }

  get layer(): CpuFeatureLayer {
    return this.#layer;
  }

  /** New values of the same shape: recomputes the statistics (call ranges() after). */
  refresh(layer: CpuFeatureLayer): void {
    this.#layer = layer;
    cpuChannelStats(layer, this.#scratch, this.stats);
  }

  updateRanges(mode: FeatureNormalization, robustK: number): void {
    cpuNormalizationRanges(this.stats, this.#layer.channels, mode, robustK, this.ranges);
  }

  /** The values of one batch item (a view, remade only when the data array changes). */
  batchItem(item: number): Float32Array {
    const { data, height, width, channels } = this.#layer;
    const size = height * width * channels;
    if (data !== this.#itemSource || this.#item === null || this.#item.byteOffset !== data.byteOffset + item * size * 4) {
      this.#item = data.subarray(item * size, (item + 1) * size);
      this.#itemSource = data;
    }
    return this.#item;
  }
}

function describe(data: unknown): string {
  if (data instanceof Float32Array) return `a Float32Array of ${data.length}`;
  if (ArrayBuffer.isView(data)) return `a ${data.constructor.name}`;
  return typeof data;
}
