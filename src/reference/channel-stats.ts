// Float64 CPU reference of the per-channel statistics kernel (shaders/compute/channel-stats.wgsl), and
// of how a normalization mode turns a record into the value range the grid view maps onto its colormap
// (shaders/common/feature-range.wgsl computes the same on the GPU).
//
// Record layout, STATS_RECORD_FLOATS floats per record, one record per channel then one for the layer:
//   [0] min  [1] max  [2] mean  [3] std (population)  [4] finite count  [5] non-finite count  [6] max |v|  [7] 0
// Statistics cover the finite values of every batch item and position; NaN and ±Inf are only counted.
// A record with no finite value has min = max = mean = std = max|v| = 0.

/** Floats in one statistics record (the last one is padding, always 0). */
export const STATS_RECORD_FLOATS = 8;

/** Index of each statistic within a record. */
export const STATS_FIELD = Object.freeze({
  min: 0,
  max: 1,
  mean: 2,
  std: 3,
  finiteCount: 4,
  nonFiniteCount: 5,
  absMax: 6,
});

/**
 * The range a feature map is normalized against before its colormap: the channel's min..max, the layer's
 * min..max, ±max|v| of the channel ('symmetric'), or the channel's mean ± k·std ('robust').
 */
export type FeatureNormalization = 'channel' | 'layer' | 'symmetric' | 'robust';

/** The order of the normalization modes as the shaders number them. */
export const NORMALIZATION_MODES: readonly FeatureNormalization[] = Object.freeze(['channel', 'layer', 'symmetric', 'robust']);

/** One layer's activations on the CPU: `values` dense in `layout`, [batch, H, W, C] or [batch, C, H, W]. */
export interface ReferenceFeatureInput {
  values: ArrayLike<number>;
  batch: number;
  height: number;
  width: number;
  channels: number;
  layout: 'NHWC' | 'NCHW';
}

/** (channels + 1) records: channel c at c·STATS_RECORD_FLOATS, the whole layer last. */
export function referenceChannelStats(input: ReferenceFeatureInput): Float64Array {
  const { values, batch, height, width, channels, layout } = input;
  const out = new Float64Array((channels + 1) * STATS_RECORD_FLOATS);
  const everything: number[] = [];
  let nonFiniteInLayer = 0;
  for (let c = 0; c < channels; c++) {
    const finite: number[] = [];
    let nonFinite = 0;
    for (let n = 0; n < batch; n++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const index = layout === 'NHWC'
            ? ((n * height + y) * width + x) * channels + c
            : ((n * channels + c) * height + y) * width + x;
          const v = values[index]!;
          if (Number.isFinite(v)) finite.push(v);
          else nonFinite++;
        }
      }
    }
    writeRecord(out, c, finite, nonFinite);
    for (const v of finite) everything.push(v);
    nonFiniteInLayer += nonFinite;
  }
  writeRecord(out, channels, everything, nonFiniteInLayer);
  return out;
}

/**
 * [lo, hi] that a value is normalized against: t = (v − lo) / (hi − lo), clamped to [0, 1]; when hi = lo,
 * t = 0.5. 'channel': the channel's min..max; 'layer': the layer's min..max; 'symmetric': ±max|v| of the
 * channel (for diverging colormaps, zero in the middle); 'robust': the channel's mean ± k·std.
 */
export function normalizationRange(
  mode: FeatureNormalization,
  channel: ArrayLike<number>,
  layer: ArrayLike<number>,
  k = 3,
): [number, number] {
  const f = STATS_FIELD;
  switch (mode) {
    case 'channel':
      return [channel[f.min]!, channel[f.max]!];
    case 'layer':
      return [layer[f.min]!, layer[f.max]!];
    case 'symmetric':
      return [-channel[f.absMax]!, channel[f.absMax]!];
    case 'robust':
      return [channel[f.mean]! - k * channel[f.std]!, channel[f.mean]! + k * channel[f.std]!];
  }
}

/** t in [0, 1] for a finite value, as the grid view's fragment shader computes it. */
export function normalizedValue(v: number, [lo, hi]: readonly [number, number]): number {
  if (!(hi > lo)) return 0.5;
  return Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
}

function writeRecord(out: Float64Array, record: number, finite: number[], nonFinite: number): void {
  const base = record * STATS_RECORD_FLOATS;
  out[base + STATS_FIELD.finiteCount] = finite.length;
  out[base + STATS_FIELD.nonFiniteCount] = nonFinite;
  if (finite.length === 0) return;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of finite) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const mean = sum / finite.length;
  let squares = 0;
  for (const v of finite) squares += (v - mean) ** 2;
  out[base + STATS_FIELD.min] = min;
  out[base + STATS_FIELD.max] = max;
  out[base + STATS_FIELD.mean] = mean;
  out[base + STATS_FIELD.std] = Math.sqrt(squares / finite.length);
  out[base + STATS_FIELD.absMax] = Math.max(Math.abs(min), Math.abs(max));
}
