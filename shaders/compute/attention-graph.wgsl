// The rollout graph of every layer: Â_l = rownorm(discard(fuse_h P_l,h) + I) (Abnar & Zuidema 2020).
//
// Inputs:  p [layers, heads, n, n] float32, row-major (attention weights; rows normally sum to 1).
// Output:  graph [layers, n, n]: Â_l, each ROW divided by its own sum (never a column: that is the bug of
//          `a / a.sum(dim=-1)` without keepdim). Layer 0 is also written to rollout [layers, n, n], since
//          R_0 = Â_0 and rollout-matmul.wgsl starts from it.
// Fusion:  mean, max or min over heads, elementwise (params.fusion 0, 1, 2).
// Discard: per row (not over the flattened matrix, as popular scripts do), entries strictly smaller than
//          the row's (discard_count + 1)-th smallest fused value become 0: at most discard_count go, ties
//          at the threshold stay, and the diagonal is never discarded. The rank is found exactly by a
//          4-pass radix select over the order-preserving bits of the fused values (any n, no sort).
//          For mean, selection compares head SUMS (the same order as means, with no rounded division).
// Status:  NaN/±Inf entries of p are counted (fused as 0) and the smallest linear index into p kept, so
//          the host can say where they are instead of spreading NaN.
// Layout:  one workgroup of 64 threads per (layer, row); thread t owns columns t, t + 64, ... in every
//          phase, so it only ever reads back graph entries it wrote itself (no storage barrier needed).
// Cost:    per row: heads·n reads of p; n writes of the fused row; with discard, 4 passes re-reading the
//          row into a 256-bucket histogram in workgroup memory, walked by one thread (3 barriers a pass);
//          then one read-write pass to add I and sum, and one to scale. O(heads·n²) per layer, no n×n
//          workspace. Barriers are kept few: on CPU-like devices (SwiftShader) they dominate short rows.

struct Params {
  layers: u32,
  heads: u32,
  n: u32,
  fusion: u32,            // 0 mean, 1 max, 2 min
  discard_count: u32,     // floor(ratio · n): the most entries one row may lose
  groups_per_slice: u32,  // row = workgroup_id.y * groups_per_slice + workgroup_id.x
}

struct Status {
  non_finite_count: atomic<u32>,
  first_non_finite: atomic<u32>,  // linear index into p; 0xffffffff when none
}

@group(0) @binding(0) var<storage, read_write> graph: array<f32>;
@group(0) @binding(1) var<storage, read_write> rollout: array<f32>;
@group(0) @binding(2) var<storage, read_write> status: Status;
@group(0) @binding(3) var<storage, read> p: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const THREADS: u32 = 64u;
const RADIX_BITS: u32 = 8u;
const BUCKETS: u32 = 256u;  // 2^RADIX_BITS

var<workgroup> histogram: array<atomic<u32>, 256>;
var<workgroup> chosen: vec2<u32>;  // (digit, rank within that digit's bucket) of the current pass
var<workgroup> partial: array<f32, 64>;

// Head fusion of p[l, :, i, j] for selection: the sum for mean (divided later), max or min otherwise.
fn fused_key(l: u32, i: u32, j: u32) -> f32 {
  let n = params.n;
  var acc = 0.0;
  for (var h = 0u; h < params.heads; h++) {
    let index = ((l * params.heads + h) * n + i) * n + j;
    var x = p[index];
    if (!is_finite_f32(x)) {
      atomicAdd(&status.non_finite_count, 1u);
      atomicMin(&status.first_non_finite, index);
      x = 0.0;
    }
    if (h == 0u || params.fusion == 0u) {
      acc = select(x, acc + x, h > 0u);
    } else if (params.fusion == 1u) {
      acc = max(acc, x);
    } else {
      acc = min(acc, x);
    }
  }
  // -0 and +0 must tie: their ordered bits differ.
  return select(acc, 0.0, acc == 0.0);
}

// Ordered bits of the row's rank-th smallest key (rank from 1): radix select, most significant digit first.
// One thread walks the 256 bucket counts: on a CPU-like device (SwiftShader) barriers cost far more than
// 256 adds, and a parallel scan needs eight of them.
fn select_rank(base: u32, t: u32, rank_in: u32) -> u32 {
  var prefix = 0u;
  var rank = rank_in;
  for (var digit_pass = 0u; digit_pass < 4u; digit_pass++) {
    let shift = 32u - RADIX_BITS * (digit_pass + 1u);
    let known_mask = select(0xffffffffu << (shift + RADIX_BITS), 0u, digit_pass == 0u);
    for (var bucket = t; bucket < BUCKETS; bucket += THREADS) {
      atomicStore(&histogram[bucket], 0u);
    }
    workgroupBarrier();
    for (var j = t; j < params.n; j += THREADS) {
      let bits = ordered_bits(graph[base + j]);
      if ((bits & known_mask) == prefix) {
        atomicAdd(&histogram[(bits >> shift) & (BUCKETS - 1u)], 1u);
      }
    }
    workgroupBarrier();
    if (t == 0u) {
      var below = 0u;
      for (var bucket = 0u; bucket < BUCKETS; bucket++) {
        let count = atomicLoad(&histogram[bucket]);
        if (below + count >= rank) {
          chosen = vec2<u32>(bucket, rank - below);
          break;
        }
        below += count;
      }
    }
    let picked = workgroupUniformLoad(&chosen);
    prefix |= picked.x << shift;
    rank = picked.y;
  }
  return prefix;
}

// Sum of `value` over the workgroup; every thread gets it. Each thread adds the 64 partial sums itself:
// two barriers instead of a tree's six.
fn workgroup_sum(t: u32, value: f32) -> f32 {
  workgroupBarrier();
  partial[t] = value;
  workgroupBarrier();
  var sum = 0.0;
  for (var k = 0u; k < THREADS; k++) {
    sum += partial[k];
  }
  return sum;
}

@compute @workgroup_size(64)
fn attention_graph(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = group.y * params.groups_per_slice + group.x;
  // The grid has whole rows of workgroups: the spare ones leave together (uniformly).
  if (row >= params.layers * params.n) {
    return;
  }
  let n = params.n;
  let l = row / n;
  let i = row % n;
  let base = row * n;

  for (var j = t; j < n; j += THREADS) {
    graph[base + j] = fused_key(l, i, j);
  }
  var threshold = 0u;  // ordered bits: 0 is below every float, so nothing is discarded
  if (params.discard_count > 0u) {
    threshold = select_rank(base, t, params.discard_count + 1u);
  }

  let scale = select(1.0, 1.0 / f32(params.heads), params.fusion == 0u);
  var sum = 0.0;
  for (var j = t; j < n; j += THREADS) {
    let key = graph[base + j];
    let kept = j == i || ordered_bits(key) >= threshold;
    let value = select(0.0, key * scale, kept) + select(0.0, 1.0, j == i);
    graph[base + j] = value;
    sum += value;
  }
  let inv_sum = 1.0 / workgroup_sum(t, sum);
  for (var j = t; j < n; j += THREADS) {
    let value = graph[base + j] * inv_sum;
    graph[base + j] = value;
    if (l == 0u) {
      rollout[base + j] = value;
    }
  }
}
