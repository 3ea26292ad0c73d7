// What the grid view is given, checked before anything is bound or changed: the layers (same engine,
// usable, bindable), the statistics buffer (one record per channel and one per layer, where recordOffsets
// says), the layout they make, and the settings. Errors say what was expected and what came.
import type { Engine } from '../../core/engine';
import { DeviceLimitError, formatBytes, invalidArgument, InvalidArgumentError } from '../../core/errors';
import type { FeatureLayer } from '../../features/feature-layer';
import { NORMALIZATION_MODES, STATS_RECORD_FLOATS, type FeatureNormalization } from '../../reference/channel-stats';
import { featureGridLayout, type FeatureGridLayout } from './grid-layout';
import { layerBindingRange, type LayerBindingInput, type LayerBindingRange } from './layer-binding';

/** The per-channel statistics as the grid binds them (what createFeatureStats makes). */
export interface FeatureStatsBinding {
  /** Records of STATS_RECORD_FLOATS float32 each (src/reference/channel-stats.ts), STORAGE usage. */
  readonly buffer: GPUBuffer;
  /** Record index of channel 0 of each layer; the layer's own record is at recordOffsets[l] + channels. */
  readonly recordOffsets: readonly number[];
}

export interface CheckedGrid {
  readonly grid: FeatureGridLayout;
  /** Bytes of the stats buffer the records of these layers span: what the view binds. */
  readonly statsBytes: number;
}

const RECORD_BYTES = STATS_RECORD_FLOATS * 4;

/** Checks layers and stats; lays the grid out anew unless `same` (same shapes) is given to reuse. */
export function checkedGrid(
  engine: Engine,
  layers: readonly FeatureLayer[],
  stats: FeatureStatsBinding,
  columns: number | undefined,
  label: string,
  same?: CheckedGrid,
): CheckedGrid {
  // Plain ifs, not invalidArgument: this runs on the every-frame path, which must build no closures.
  if (layers.length === 0) throw new InvalidArgumentError(`${label}: no layers to show.`);
  if (stats.recordOffsets.length !== layers.length) {
    throw new InvalidArgumentError(
      `${label}: the stats hold record offsets for ${stats.recordOffsets.length} layers, but ${layers.length} layers were given.`,
    );
  }
  if ((stats.buffer.usage & GPUBufferUsage.STORAGE) === 0) {
    throw new InvalidArgumentError(
      `${label}: the stats buffer '${stats.buffer.label}' needs STORAGE usage; its usage is 0x${stats.buffer.usage.toString(16)}.`,
    );
  }
  let records = 0;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const offset = stats.recordOffsets[i]!;
    layer.tensor.assertUsable();
    if (layer.tensor.engine !== engine) throw new InvalidArgumentError(`${label}: layer '${layer.name}' belongs to another engine.`);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`${label}: recordOffsets[${i}] must be a non-negative integer; got ${offset}.`);
    }
    records = Math.max(records, offset + layer.channels + 1);
  }
  const statsBytes = records * RECORD_BYTES;
  if (stats.buffer.size < statsBytes) {
    throw new InvalidArgumentError(
      `${label}: the stats buffer '${stats.buffer.label}' holds ${formatBytes(stats.buffer.size)}, but these layers' ` +
        `records end at ${formatBytes(statsBytes)} (${records} records of ${RECORD_BYTES} bytes).`,
    );
  }
  if (statsBytes > engine.limits.maxStorageBufferBindingSize) {
    throw new DeviceLimitError(
      `${label}: ${records} statistics records take ${formatBytes(statsBytes)}, more than this device's ` +
        `maxStorageBufferBindingSize of ${formatBytes(engine.limits.maxStorageBufferBindingSize)}.`,
    );
  }
  if (same && same.statsBytes === statsBytes) return same;
  const grid = same?.grid ?? featureGridLayout(layers, columns === undefined ? {} : { columns });
  return { grid, statsBytes };
}

/** Same names and shapes, layer by layer: the grid's geometry and labels stay, only buffers change. */
export function sameShapes(a: readonly FeatureLayer[], b: readonly FeatureLayer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const [p, q] = [a[i]!, b[i]!];
    const same = p.name === q.name && p.layout === q.layout && p.batch === q.batch && p.height === q.height &&
      p.width === q.width && p.channels === q.channels;
    if (!same) return false;
  }
  return true;
}

/** The binding limit: the device's, or a smaller one the caller asks for (never a larger one). */
export function maxBindingBytes(engine: Engine, requested: number | undefined): number {
  const device = engine.limits.maxStorageBufferBindingSize;
  if (requested === undefined) return device;
  const alignment = engine.limits.minStorageBufferOffsetAlignment;
  invalidArgument(
    Number.isInteger(requested) && requested >= alignment && requested % 4 === 0,
    () => `FeatureGridView: maxBindingBytes must be a multiple of 4 of at least ${alignment} bytes; got ${requested}.`,
  );
  return Math.min(requested, device);
}

/** Throws the DeviceLimitError of the first layer whose batch item cannot be bound, before anything changes. */
export function checkBindings(engine: Engine, layers: readonly FeatureLayer[], batchItem: number, limit: number): void {
  const input = scratchInput;
  input.batchItem = batchItem;
  input.limit = limit;
  input.alignment = engine.limits.minStorageBufferOffsetAlignment;
  for (const layer of layers) {
    input.byteLength = layer.tensor.byteLength;
    input.batchStride = layer.strides.batch;
    input.name = layer.name;
    layerBindingRange(input, scratchRange);
  }
}

// Reused by checkBindings, which runs on the live path.
const scratchInput: LayerBindingInput = { byteLength: 0, batchStride: 0, batchItem: 0, limit: 0, alignment: 0, name: '' };
const scratchRange: LayerBindingRange = { offset: 0, size: 0, elementOffset: 0 };

export function checkedBatchItem(item: number, layers: readonly FeatureLayer[], label: string): number {
  const batch = smallestBatch(layers);
  invalidArgument(
    Number.isInteger(item) && item >= 0 && item < batch,
    () => `${label}: batchItem must be an integer in 0..${batch - 1} (the smallest batch among the layers is ${batch}); got ${item}.`,
  );
  return item;
}

export function smallestBatch(layers: readonly FeatureLayer[]): number {
  let least = Infinity;
  for (const layer of layers) least = Math.min(least, layer.batch);
  return least;
}

/** The mode's index in NORMALIZATION_MODES (the shader's numbering), with k checked. */
export function normalizationIndex(mode: FeatureNormalization, robustK: number, label: string): number {
  const index = NORMALIZATION_MODES.indexOf(mode);
  invalidArgument(index >= 0, () => `${label}: normalization must be one of ${NORMALIZATION_MODES.join(', ')}; got '${String(mode)}'.`);
  invalidArgument(Number.isFinite(robustK) && robustK > 0, () => `${label}: robustK must be a positive number; got ${robustK}.`);
  return index;
}

export function checkedSampling(sampling: 'nearest' | 'bilinear', label: string): boolean {
  invalidArgument(
    sampling === 'nearest' || sampling === 'bilinear',
    () => `${label}: sampling must be 'nearest' or 'bilinear'; got '${String(sampling)}'.`,
  );
  return sampling === 'bilinear';
}

export function checkedOpacity(opacity: number, label: string): number {
  invalidArgument(
    Number.isFinite(opacity) && opacity >= 0 && opacity <= 1,
    () => `${label}: overlay opacity must be in [0, 1]; got ${opacity}.`,
  );
  return opacity;
}
