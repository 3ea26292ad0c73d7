// Per-channel statistics on the CPU, for the paths that hold activations as a Float32Array (the regl
// fallback, fed by readback, and the Canvas2D peer). Same record layout and meaning as the GPU kernel and
// src/reference/channel-stats.ts (min, max, mean, population std, finite count, non-finite count, max|v|),
// but one pass over the data with float64 accumulators instead of the reference's arrays of values, and
// no allocation once the caller's scratch exists: this runs every frame.
//
// The variance uses sums of v − s with a per-channel shift s (the channel's first finite value), so a
// large mean does not cancel the spread away; the layer's record is merged from the channels' (Chan et
// al.'s pairwise formula), not summed again.
import { invalidArgument } from '../../core/errors';
import { NORMALIZATION_MODES, STATS_FIELD, STATS_RECORD_FLOATS, type FeatureNormalization } from '../../reference/channel-stats';

/**
 * One layer's activations on the CPU, as the regl fallback and the Canvas2D grid take them: `batch` items of
 * height × width × channels float32 values.
 */
export interface CpuFeatureLayer {
  readonly name: string;
  /** The activations, batch item after batch item, in `layout` order. */
  readonly data: Float32Array;
  readonly layout: 'NHWC' | 'NCHW';
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Accumulators for one layer's channels; make once per channel count with cpuStatsScratch(). */
export interface CpuStatsScratch {
  readonly shift: Float64Array;
  readonly sum: Float64Array;
  readonly squares: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly finite: Float64Array;
}

export function cpuStatsScratch(channels: number): CpuStatsScratch {
  const make = () => new Float64Array(channels);
  return { shift: make(), sum: make(), squares: make(), min: make(), max: make(), finite: make() };
}

/** (channels + 1) records into `out`: channel c at c·STATS_RECORD_FLOATS, the whole layer last. */
export function cpuChannelStats(layer: CpuFeatureLayer, scratch: CpuStatsScratch, out: Float64Array): Float64Array {
  const { channels } = layer;
  const s = scratch;
  s.sum.fill(0);
  s.squares.fill(0);
  s.min.fill(Infinity);
  s.max.fill(-Infinity);
  s.finite.fill(0);
  s.shift.fill(NaN); // set from each channel's first finite value
  if (layer.layout === 'NHWC') accumulateNhwc(layer, s);
  else accumulateNchw(layer, s);
  const total = layer.batch * layer.height * layer.width;
  for (let c = 0; c < channels; c++) {
    writeChannel(out, c, s, c, total);
  }
  writeLayer(out, channels, total);
  return out;
}

/** Writes [lo, hi] of every channel for a mode into `out` (2 floats per channel), as normalizationRange. */
export function cpuNormalizationRanges(
  stats: Float64Array,
  channels: number,
  mode: FeatureNormalization,
  robustK: number,
  out: Float32Array,
): Float32Array {
  const f = STATS_FIELD;
  const layer = channels * STATS_RECORD_FLOATS;
  for (let c = 0; c < channels; c++) {
    const r = c * STATS_RECORD_FLOATS;
    let lo: number;
    let hi: number;
    switch (mode) {
      case 'layer': [lo, hi] = [stats[layer + f.min]!, stats[layer + f.max]!]; break;
      case 'symmetric': [lo, hi] = [-stats[r + f.absMax]!, stats[r + f.absMax]!]; break;
      case 'robust': {
        const [mean, std] = [stats[r + f.mean]!, stats[r + f.std]!];
        [lo, hi] = [mean - robustK * std, mean + robustK * std];
        break;
      }
      default: [lo, hi] = [stats[r + f.min]!, stats[r + f.max]!];
    }
    out[2 * c] = lo;
    out[2 * c + 1] = hi;
  }
  return out;
}

export function checkNormalization(mode: unknown, who: string): asserts mode is FeatureNormalization {
  invalidArgument(
    NORMALIZATION_MODES.includes(mode as FeatureNormalization),
    () => `${who}: normalization must be one of ${NORMALIZATION_MODES.join(', ')}; got '${String(mode)}'.`,
  );
}

// Positions outer, channels inner: the NHWC buffer is read in order.
function accumulateNhwc(layer: CpuFeatureLayer, s: CpuStatsScratch): void {
  const { data, channels } = layer;
  const { shift, sum, squares, min, max, finite } = s;
  const end = layer.batch * layer.height * layer.width * channels;
  for (let base = 0; base < end; base += channels) {
    for (let c = 0; c < channels; c++) {
      const v = data[base + c]!;
      if (v - v !== 0) continue; // NaN or ±Inf: only counted (finite count is known)
      let k = shift[c]!;
      if (k !== k) k = shift[c] = v;
      const d = v - k;
      sum[c] = sum[c]! + d;
      squares[c] = squares[c]! + d * d;
      if (v < min[c]!) min[c] = v;
      if (v > max[c]!) max[c] = v;
      finite[c] = finite[c]! + 1;
    }
  }
}

function accumulateNchw(layer: CpuFeatureLayer, s: CpuStatsScratch): void {
  const { data, channels } = layer;
  const plane = layer.height * layer.width;
  for (let n = 0; n < layer.batch; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * plane;
      let k = s.shift[c]!;
      let [sum, squares, min, max, finite] = [0, 0, s.min[c]!, s.max[c]!, 0];
      for (let i = start; i < start + plane; i++) {
        const v = data[i]!;
        if (v - v !== 0) continue;
        if (k !== k) k = v;
        const d = v - k;
        sum += d;
        squares += d * d;
        if (v < min) min = v;
        if (v > max) max = v;
        finite++;
      }
      s.shift[c] = k;
      s.sum[c] = s.sum[c]! + sum;
      s.squares[c] = s.squares[c]! + squares;
      [s.min[c], s.max[c]] = [min, max];
      s.finite[c] = s.finite[c]! + finite;
    }
  }
}

function writeChannel(out: Float64Array, record: number, s: CpuStatsScratch, c: number, total: number): void {
  const base = record * STATS_RECORD_FLOATS;
  const n = s.finite[c]!;
  out[base + STATS_FIELD.finiteCount] = n;
  out[base + STATS_FIELD.nonFiniteCount] = total - n;
  out[base + 7] = 0;
  if (n === 0) {
    out.fill(0, base, base + 4);
    out[base + STATS_FIELD.absMax] = 0;
    return;
  }
  const meanShifted = s.sum[c]! / n;
  const [min, max] = [s.min[c]!, s.max[c]!];
  out[base + STATS_FIELD.min] = min;
  out[base + STATS_FIELD.max] = max;
  out[base + STATS_FIELD.mean] = s.shift[c]! + meanShifted;
  out[base + STATS_FIELD.std] = Math.sqrt(Math.max(0, s.squares[c]! / n - meanShifted * meanShifted));
  out[base + STATS_FIELD.absMax] = Math.max(Math.abs(min), Math.abs(max));
}

// The layer's record from the channels' records: counts and extremes combine directly; mean and variance
// by the pairwise formula M2 = Σ (n_c·std_c² + n_c·(mean_c − mean)²).
function writeLayer(out: Float64Array, channels: number, total: number): void {
  const f = STATS_FIELD;
  const base = channels * STATS_RECORD_FLOATS;
  let [n, weighted, min, max] = [0, 0, Infinity, -Infinity];
  for (let c = 0; c < channels; c++) {
    const r = c * STATS_RECORD_FLOATS;
    const count = out[r + f.finiteCount]!;
    if (count === 0) continue;
    n += count;
    weighted += count * out[r + f.mean]!;
    min = Math.min(min, out[r + f.min]!);
    max = Math.max(max, out[r + f.max]!);
  }
  out.fill(0, base, base + STATS_RECORD_FLOATS);
  out[base + f.finiteCount] = n;
  out[base + f.nonFiniteCount] = total * channels - n;
  if (n === 0) return;
  const mean = weighted / n;
  let m2 = 0;
  for (let c = 0; c < channels; c++) {
    const r = c * STATS_RECORD_FLOATS;
    const count = out[r + f.finiteCount]!;
    const d = out[r + f.mean]! - mean;
    m2 += count * (out[r + f.std]! ** 2 + d * d);
  }
  out[base + f.min] = min;
  out[base + f.max] = max;
  out[base + f.mean] = mean;
  out[base + f.std] = Math.sqrt(m2 / n);
  out[base + f.absMax] = Math.max(Math.abs(min), Math.abs(max));
}
