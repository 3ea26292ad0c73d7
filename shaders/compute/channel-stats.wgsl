// Per-channel statistics of one feature layer, and the layer's own record merged from them.
// Joined after shaders/common/numerics.wgsl (is_finite_f32) and shaders/common/feature-range.wgsl
// (StatsRecord, whose layout src/reference/channel-stats.ts defines).
//
// Inputs:  values, float32 activations; element (n, y, x, c) of this chunk sits at
//          base + n·stride_batch + y·stride_y + x·stride_x + c·stride_channel, with stride_y = width·stride_x
//          (FeatureLayer's dense NHWC and NCHW), so the kernel walks positions p = y·width + x as p·stride_x.
// Output:  stats[record_offset + c] for every channel c (channel_stats), then
//          stats[record_offset + channels] for the whole layer (layer_stats, a second dispatch):
//          (min, max, mean, std (population)), (finite count, non-finite count, max |v|, 0).
//          NaN and ±Inf are only counted; a record with no finite value is zeros but for that count.
// Method:  every thread sums d = v − shift and d² over its values (see channel_summary), then the threads'
//          (count, mean, M2) are combined by Chan et al.'s pairwise merge in workgroup memory.
//          All of a channel's threads work on v − shift, shift being the channel's first value in the
//          chunk (0 if that is not finite), so that 1000 + noise keeps the noise's digits through the merge.
//          A layer too large for one binding comes in chunks of batch items, one dispatch each; every
//          chunk after the first (accumulate = 1) merges into the records the previous one wrote.
// Layout:  GROUP_CHANNELS = 32 (channel-contiguous layouts whose channels or strides are not multiples
//          of four; the others take channel-stats-quads.wgsl): a workgroup is 32 neighbouring channels × 8
//          position lanes, so each row of threads reads 128 contiguous bytes. GROUP_CHANNELS = 1 (planar
//          layouts, few channels): a workgroup per channel, 256 lanes striding its contiguous plane.
// Cost:    one read and ~8 flops per value, no division; counts are f32,
//          exact up to 2^24 finite values per record (a layer record of more is rounded at ~1e-7).

struct Params {
  base: u32,            // element of (0, 0, 0, 0) of this chunk within the bound window
  batch: u32,           // batch items in this chunk
  height: u32,
  width: u32,
  channels: u32,
  stride_batch: u32,
  stride_x: u32,
  stride_channel: u32,
  record_offset: u32,   // record of channel 0; the layer record is at record_offset + channels
  accumulate: u32,      // 1: merge into the records written by the previous chunk of this layer
  groups_x: u32,        // width of the 2D dispatch grid
  lanes: u32,           // position lanes per quad of four channels (channel-stats-quads.wgsl only)
}

@group(0) @binding(0) var<storage, read_write> stats: array<StatsRecord>;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override GROUP_CHANNELS: u32 = 32u;
const THREADS: u32 = 256u;
const LARGEST: f32 = 0x1.fffffep+127f;

// Statistics of some values: count, mean and M2 = Σ (v - mean)² of the finite ones, the non-finite count.
// mean is of v - shift, for the shift of the channel being summed (0 in layer_stats); lo, hi are of v.
struct Summary {
  count: f32,
  mean: f32,
  m2: f32,
  non_finite: f32,
  lo: f32,
  hi: f32,
  abs_max: f32,
}

const EMPTY: Summary = Summary(0.0, 0.0, 0.0, 0.0, LARGEST, -LARGEST, 0.0);

var<workgroup> partials: array<Summary, THREADS>;

// Chan, Golub & LeVeque's pairwise update: the mean moves by δ·n_b/n, M2 gains δ²·n_a·n_b/n.
fn merge(a: Summary, b: Summary) -> Summary {
  let n = a.count + b.count;
  let non_finite = a.non_finite + b.non_finite;
  if (b.count == 0.0) {
    return Summary(a.count, a.mean, a.m2, non_finite, a.lo, a.hi, a.abs_max);
  }
  if (a.count == 0.0) {
    return Summary(b.count, b.mean, b.m2, non_finite, b.lo, b.hi, b.abs_max);
  }
  let delta = b.mean - a.mean;
  let weight_b = b.count / n;
  return Summary(n, a.mean + delta * weight_b, a.m2 + b.m2 + delta * delta * a.count * weight_b, non_finite,
                 min(a.lo, b.lo), max(a.hi, b.hi), max(a.abs_max, b.abs_max));
}

fn to_record(s: Summary, shift: f32) -> StatsRecord {
  if (s.count == 0.0) {
    return StatsRecord(vec4<f32>(0.0), vec4<f32>(0.0, s.non_finite, 0.0, 0.0));
  }
  let deviation = sqrt(max(s.m2, 0.0) / s.count);
  return StatsRecord(vec4<f32>(s.lo, s.hi, shift + s.mean, deviation), vec4<f32>(s.count, s.non_finite, s.abs_max, 0.0));
}

// A record as a Summary of v - shift (M2 = std² · n: rounded, but only once per chunk or channel).
fn from_record(r: StatsRecord, shift: f32) -> Summary {
  let n = r.hi4.x;
  if (n == 0.0) {
    return Summary(0.0, 0.0, 0.0, r.hi4.y, LARGEST, -LARGEST, 0.0);
  }
  return Summary(n, r.lo4.z - shift, r.lo4.w * r.lo4.w * n, r.hi4.y, r.lo4.x, r.lo4.y, r.hi4.z);
}

// The value every thread of a channel subtracts: the chunk's first value of the channel, when finite.
fn channel_shift(channel: u32) -> f32 {
  let first = values[params.base + channel * params.stride_channel];
  return select(0.0, first, is_finite_f32(first));
}

// Shifted sums over positions lane, lane + lanes, … of every batch item in the chunk, for one channel.
// Σd and Σd² of d = v − shift need no division per value (Welford's update needs one, and on CPU-backed
// adapters it dominated the pass); with the channel's own first value as the shift, |mean(d)| is of the
// order of the spread, so M2 = Σd² − (Σd)²/n loses only a few bits to cancellation, and the pairwise merge
// above keeps the threads apart. The maps are dense (FeatureLayer's strides): within a batch item, position
// p = y·width + x lies at p·stride_x, so no division finds (y, x) either.
fn channel_summary(channel: u32, shift: f32, lane: u32, lanes: u32) -> Summary {
  let plane = params.height * params.width;
  var n = 0.0;
  var sum = 0.0;
  var squares = 0.0;
  var non_finite = 0.0;
  var lo = LARGEST;
  var hi = -LARGEST;
  for (var item = 0u; item < params.batch; item++) {
    let item_base = params.base + item * params.stride_batch + channel * params.stride_channel;
    for (var p = lane; p < plane; p += lanes) {
      let v = values[item_base + p * params.stride_x];
      if (!is_finite_f32(v)) {
        non_finite += 1.0;
        continue;
      }
      let d = v - shift;
      n += 1.0;
      sum += d;
      squares += d * d;
      lo = min(lo, v);
      hi = max(hi, v);
    }
  }
  if (n == 0.0) {
    return Summary(0.0, 0.0, 0.0, non_finite, LARGEST, -LARGEST, 0.0);
  }
  let mean = sum / n;
  return Summary(n, mean, max(squares - sum * mean, 0.0), non_finite, lo, hi, max(abs(lo), abs(hi)));
}

// Merges partials[lane · columns + column] over the lanes (a power of two) into lane 0 of each column.
fn reduce_lanes(lane: u32, column: u32, lanes: u32, columns: u32) {
  for (var step = lanes / 2u; step > 0u; step /= 2u) {
    workgroupBarrier();
    if (lane < step) {
      let slot = lane * columns + column;
      partials[slot] = merge(partials[slot], partials[slot + step * columns]);
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(GROUP_CHANNELS, THREADS / GROUP_CHANNELS)
fn channel_stats(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let groups = (params.channels + GROUP_CHANNELS - 1u) / GROUP_CHANNELS;
  let g = group.y * params.groups_x + group.x;
  if (g >= groups) {
    return;
  }
  let lanes = THREADS / GROUP_CHANNELS;
  let channel = g * GROUP_CHANNELS + local.x;
  var s = EMPTY;
  var shift = 0.0;
  if (channel < params.channels) {
    shift = channel_shift(channel);
    s = channel_summary(channel, shift, local.y, lanes);
  }
  partials[local.y * GROUP_CHANNELS + local.x] = s;
  reduce_lanes(local.y, local.x, lanes, GROUP_CHANNELS);
  if (local.y == 0u && channel < params.channels) {
    let record = params.record_offset + channel;
    var total = partials[local.x];
    if (params.accumulate == 1u) {
      total = merge(from_record(stats[record], shift), total);
    }
    stats[record] = to_record(total, shift);
  }
}

// One workgroup: the layer's record from its channel records, weighted by their finite counts.
@compute @workgroup_size(THREADS)
fn layer_stats(@builtin(local_invocation_index) t: u32) {
  var s = EMPTY;
  for (var c = t; c < params.channels; c += THREADS) {
    s = merge(s, from_record(stats[params.record_offset + c], 0.0));
  }
  partials[t] = s;
  reduce_lanes(t, 0u, THREADS, 1u);
  if (t == 0u) {
    stats[params.record_offset + params.channels] = to_record(partials[0], 0.0);
  }
}
