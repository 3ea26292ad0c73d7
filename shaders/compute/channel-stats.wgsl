// Per-channel statistics of one feature layer, and the layer's own record merged from them.
// Joined after shaders/common/numerics.wgsl (is_finite_f32) and shaders/common/feature-range.wgsl
// (StatsRecord, whose layout src/reference/channel-stats.ts defines); channel-stats-quads.wgsl follows.
//
// Inputs:  values, float32 activations; element (n, y, x, c) of this chunk sits at
//          base + n·stride_batch + y·stride_y + x·stride_x + c·stride_channel, with stride_y = width·stride_x
//          (FeatureLayer's dense NHWC and NCHW), so the kernels walk positions p = y·width + x as p·stride_x.
// Output:  stats[record_offset + c] for every channel c, then stats[record_offset + channels] for the whole
//          layer (layer_stats): (min, max, mean, std (population)), (finite count, non-finite count,
//          max |v|, 0). NaN and ±Inf are only counted; a record with no finite value is zeros but for that
//          count.
// Passes:  channel_partials: thread (channel, lane) sums d = v − shift and d² over positions lane,
//          lane + lanes, … of every batch item in the chunk into channel_sums; channel_records: a thread per
//          channel merges its `lanes` partials in lane order by Chan et al.'s pairwise update and writes the
//          record. (Dense NHWC layers whose channels and strides are multiples of four take the same two
//          passes four channels at a time: channel-stats-quads.wgsl.) Then layer_stats.
//          All of a channel's threads work on v − shift, shift being the channel's first value in the
//          chunk (0 if that is not finite), so that 1000 + noise keeps the noise's digits through the merge.
//          A layer too large for one binding comes in chunks of batch items; every chunk after the first
//          (accumulate = 1) merges into the records the previous one wrote.
// Layout:  channel_fastest = 1 (channel-contiguous layouts): thread t = lane · channels + channel, so
//          neighbouring threads read neighbouring channels; 0 (planar layouts): t = channel · lanes + lane,
//          so they read neighbouring positions of one channel.
// Why no workgroup reduction: on CPU-backed adapters (SwiftShader) a barrier makes the whole workgroup run
//          as coroutines; with a workgroup per channel, 4,096 planar channels of 56×56 took 6.5 s.
// Cost:    one read and ~6 flops per value (the finite test only for threads that met a NaN or ±Inf),
//          no division; counts are f32, exact up to 2^24 finite values per record.

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
  lanes: u32,           // position lanes per channel (per quad of four channels in the quads passes)
  channel_fastest: u32, // thread order of channel_partials (see Layout)
}

@group(0) @binding(0) var<storage, read_write> stats: array<StatsRecord>;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> channel_sums: array<Summary>;

const PASS_GROUP: u32 = 64u;  // threads per workgroup of the partials and records passes
const THREADS: u32 = 256u;    // layer_stats
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

// A record as a Summary of v - shift (M2 = std² · n: rounded, but only once per chunk).
fn from_record(r: StatsRecord, shift: f32) -> Summary {
  let n = r.hi4.x;
  if (n == 0.0) {
    return Summary(0.0, 0.0, 0.0, r.hi4.y, LARGEST, -LARGEST, 0.0);
  }
  return Summary(n, r.lo4.z - shift, r.lo4.w * r.lo4.w * n, r.hi4.y, r.lo4.x, r.lo4.y, r.hi4.z);
}

// Shifted sums: n, Σd, Σd² over the finite values, and their min and max.
struct Sums {
  n: f32,
  sum: f32,
  squares: f32,
  lo: f32,
  hi: f32,
}

// A summary of the sums, `visited` values having been read (the rest of them were not finite).
fn summary_of(s: Sums, visited: f32) -> Summary {
  if (s.n == 0.0) {
    return Summary(0.0, 0.0, 0.0, visited, LARGEST, -LARGEST, 0.0);
  }
  let mean = s.sum / s.n;
  return Summary(s.n, mean, max(s.squares - s.sum * mean, 0.0), visited - s.n, s.lo, s.hi, max(abs(s.lo), abs(s.hi)));
}

// The value every thread of a channel subtracts: the chunk's first value of the channel, when finite.
fn channel_shift(channel: u32) -> f32 {
  let first = values[params.base + channel * params.stride_channel];
  return select(0.0, first, is_finite_f32(first));
}

// The thread's positions lane, lane + lanes, … of every batch item in the chunk, as element indices.
struct Walk {
  start: u32,   // item 0's first position
  step: u32,    // from one of the thread's positions to the next
  count: u32,   // positions per batch item
}

fn channel_walk(channel: u32, lane: u32) -> Walk {
  let plane = params.height * params.width;
  return Walk(params.base + channel * params.stride_channel + lane * params.stride_x, params.lanes * params.stride_x,
              (plane + params.lanes - 1u - lane) / params.lanes);
}

// Every value taken as finite. A NaN or ±Inf makes sum non-finite (so does a square past f32's range), and
// the thread then sums again with careful_sums. (The quads passes have the same two loops on vec4.)
// Finite values only, so a compare and select is min and max: SwiftShader's min() and max() (NaN rules)
// took a third of the pass.
fn fast_sums(w: Walk, shift: f32) -> Sums {
  var s = Sums(0.0, 0.0, 0.0, LARGEST, -LARGEST);
  for (var item = 0u; item < params.batch; item++) {
    var i = w.start + item * params.stride_batch;
    for (var k = 0u; k < w.count; k++) {
      let v = values[i];
      let d = v - shift;
      s.sum += d;
      s.squares += d * d;
      s.lo = select(s.lo, v, v < s.lo);
      s.hi = select(s.hi, v, v > s.hi);
      i += w.step;
    }
  }
  s.n = f32(params.batch * w.count);
  return s;
}

// NaN and ±Inf skipped (selected away, not branched around) and counted by what n lacks.
fn careful_sums(w: Walk, shift: f32) -> Sums {
  var s = Sums(0.0, 0.0, 0.0, LARGEST, -LARGEST);
  for (var item = 0u; item < params.batch; item++) {
    var i = w.start + item * params.stride_batch;
    for (var k = 0u; k < w.count; k++) {
      let v = values[i];
      let finite = is_finite_f32(v);
      let d = select(0.0, v - shift, finite);
      s.n += select(0.0, 1.0, finite);
      s.sum += d;
      s.squares += d * d;
      s.lo = min(s.lo, select(LARGEST, v, finite));
      s.hi = max(s.hi, select(-LARGEST, v, finite));
      i += w.step;
    }
  }
  return s;
}

// channel_sums index of (channel, lane): the thread order of channel_partials.
fn partial_index(channel: u32, lane: u32) -> u32 {
  return select(channel * params.lanes + lane, lane * params.channels + channel, params.channel_fastest == 1u);
}

fn thread_index(group: vec3<u32>, local: u32) -> u32 {
  return (group.y * params.groups_x + group.x) * PASS_GROUP + local;
}

@compute @workgroup_size(PASS_GROUP)
fn channel_partials(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let t = thread_index(group, local);
  if (t >= params.channels * params.lanes) {
    return;
  }
  var channel = t / params.lanes;
  var lane = t % params.lanes;
  if (params.channel_fastest == 1u) {
    channel = t % params.channels;
    lane = t / params.channels;
  }
  let shift = channel_shift(channel);
  let w = channel_walk(channel, lane);
  var s = fast_sums(w, shift);
  if (!is_finite_f32(s.sum) || !is_finite_f32(s.squares)) {
    s = careful_sums(w, shift);
  }
  channel_sums[t] = summary_of(s, f32(params.batch * w.count));
}

@compute @workgroup_size(PASS_GROUP)
fn channel_records(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let channel = thread_index(group, local);
  if (channel >= params.channels) {
    return;
  }
  var total = channel_sums[partial_index(channel, 0u)];
  for (var lane = 1u; lane < params.lanes; lane++) {
    total = merge(total, channel_sums[partial_index(channel, lane)]);
  }
  let shift = channel_shift(channel);
  let record = params.record_offset + channel;
  if (params.accumulate == 1u) {
    total = merge(from_record(stats[record], shift), total);
  }
  stats[record] = to_record(total, shift);
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
