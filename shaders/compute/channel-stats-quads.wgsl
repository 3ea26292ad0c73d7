// Per-channel statistics, four neighbouring channels per thread: channel-stats.wgsl's two passes on vec4
// lanes, for dense channel-contiguous layers (NHWC) whose channel count, strides and base are multiples
// of four. Joined after channel-stats.wgsl (Params, stats, Summary, merge, to_record, from_record,
// LARGEST, PASS_GROUP); `quads` and `quad_sums` alias `values` and `channel_sums` at the same bindings,
// which no entry point uses together.
//
// Two dispatches per chunk:
//   quad_partials: thread t = lane · quad_count + quad sums four channels over positions lane,
//                  lane + lanes, … (channel_partials on vec4 lanes) into quad_sums[t];
//                  neighbouring threads read neighbouring 16-byte quads.
//   quad_records:  a thread per quad merges its `lanes` partials in lane order (Chan et al.'s pairwise
//                  update, as channel_records does) and writes the four channels' records.
// Why: one 16-byte load serves four channels; on SwiftShader, 4,096 channels of 56×56 took half the time
// of the scalar passes.

@group(0) @binding(1) var<storage, read> quads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> quad_sums: array<Summary4>;

struct Summary4 {
  count: vec4<f32>,
  mean: vec4<f32>,
  m2: vec4<f32>,
  non_finite: vec4<f32>,
  lo: vec4<f32>,
  hi: vec4<f32>,
}

fn finite4(v: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u);
}

// merge() on four channels at once, without its branches: an empty side has count 0 and mean 0, so
// weight_b = 0 keeps a and weight_b = 1 takes b exactly.
fn merge4(a: Summary4, b: Summary4) -> Summary4 {
  let n = a.count + b.count;
  let delta = b.mean - a.mean;
  let weight_b = select(vec4<f32>(0.0), b.count / max(n, vec4<f32>(1.0)), n > vec4<f32>(0.0));
  return Summary4(n, a.mean + delta * weight_b, a.m2 + b.m2 + delta * delta * a.count * weight_b,
                  a.non_finite + b.non_finite, min(a.lo, b.lo), max(a.hi, b.hi));
}

// The scalar Summary of one of the four channels.
fn channel_of(s: Summary4, k: u32) -> Summary {
  if (s.count[k] == 0.0) {
    return Summary(0.0, 0.0, 0.0, s.non_finite[k], LARGEST, -LARGEST, 0.0);
  }
  return Summary(s.count[k], s.mean[k], s.m2[k], s.non_finite[k], s.lo[k], s.hi[k], max(abs(s.lo[k]), abs(s.hi[k])));
}

// The value the threads of these four channels subtract: each channel's first value in the chunk, if finite.
fn quad_shift(quad: u32) -> vec4<f32> {
  let first = quads[params.base / 4u + quad];
  return select(vec4<f32>(0.0), first, finite4(first));
}

// Running shifted sums of four channels over one thread's positions.
struct Sums4 {
  n: vec4<f32>,
  sum: vec4<f32>,
  squares: vec4<f32>,
  lo: vec4<f32>,
  hi: vec4<f32>,
}

// Walk (channel-stats.wgsl) in quads[] indices.
fn quad_walk(quad: u32, lane: u32) -> Walk {
  let plane = params.height * params.width;
  let step_x = params.stride_x / 4u;
  return Walk(params.base / 4u + quad + lane * step_x, params.lanes * step_x, (plane + params.lanes - 1u - lane) / params.lanes);
}

// fast_sums and careful_sums of channel-stats.wgsl, on four channels.
fn fast_sums4(w: Walk, shift: vec4<f32>) -> Sums4 {
  var s = Sums4(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(LARGEST), vec4<f32>(-LARGEST));
  for (var item = 0u; item < params.batch; item++) {
    var i = w.start + item * (params.stride_batch / 4u);
    for (var k = 0u; k < w.count; k++) {
      let v = quads[i];
      let d = v - shift;
      s.sum += d;
      s.squares += d * d;
      s.lo = select(s.lo, v, v < s.lo);
      s.hi = select(s.hi, v, v > s.hi);
      i += w.step;
    }
  }
  s.n = vec4<f32>(f32(params.batch * w.count));
  return s;
}

fn careful_sums4(w: Walk, shift: vec4<f32>) -> Sums4 {
  var s = Sums4(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(LARGEST), vec4<f32>(-LARGEST));
  for (var item = 0u; item < params.batch; item++) {
    var i = w.start + item * (params.stride_batch / 4u);
    for (var k = 0u; k < w.count; k++) {
      let v = quads[i];
      let finite = finite4(v);
      let d = select(vec4<f32>(0.0), v - shift, finite);
      s.n += select(vec4<f32>(0.0), vec4<f32>(1.0), finite);
      s.sum += d;
      s.squares += d * d;
      s.lo = min(s.lo, select(vec4<f32>(LARGEST), v, finite));
      s.hi = max(s.hi, select(vec4<f32>(-LARGEST), v, finite));
      i += w.step;
    }
  }
  return s;
}

@compute @workgroup_size(PASS_GROUP)
fn quad_partials(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let quad_count = params.channels / 4u;
  let t = thread_index(group, local);
  if (t >= quad_count * params.lanes) {
    return;
  }
  let quad = t % quad_count;
  let lane = t / quad_count;
  let shift = quad_shift(quad);
  let w = quad_walk(quad, lane);
  var s = fast_sums4(w, shift);
  if (!all(finite4(s.sum) & finite4(s.squares))) {
    s = careful_sums4(w, shift);
  }
  let visited = f32(params.batch * w.count);
  let mean = s.sum / max(s.n, vec4<f32>(1.0));
  quad_sums[t] = Summary4(s.n, mean, max(s.squares - s.sum * mean, vec4<f32>(0.0)), vec4<f32>(visited) - s.n, s.lo, s.hi);
}

@compute @workgroup_size(PASS_GROUP)
fn quad_records(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let quad_count = params.channels / 4u;
  let quad = thread_index(group, local);
  if (quad >= quad_count) {
    return;
  }
  var total = quad_sums[quad];
  for (var lane = 1u; lane < params.lanes; lane++) {
    total = merge4(total, quad_sums[lane * quad_count + quad]);
  }
  let shift = quad_shift(quad);
  for (var k = 0u; k < 4u; k++) {
    let record = params.record_offset + quad * 4u + k;
    var channel = channel_of(total, k);
    if (params.accumulate == 1u) {
      channel = merge(from_record(stats[record], shift[k]), channel);
    }
    stats[record] = to_record(channel, shift[k]);
  }
}
