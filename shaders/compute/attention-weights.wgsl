// Attention weights P = softmax(Q Kᵀ · scale + mask), computed in place in one [batch, nq, nk] buffer.
//
// Inputs:  q [batch, nq, d], k [batch, nk, d], float32, row-major.
// Output:  p [batch, nq, nk]: `scores` writes s_ij = scale·q_i·k_j (MASKED where masked), then
//          `normalize_rows` rewrites each row in place as exp(s_ij - m_i) / l_i. No second N×N buffer.
// Masks:   causal (key j > query i), key padding (j >= key_length). A row with every key masked is zeros.
// Status:  non-finite scores (NaN/Inf inputs, overflow) are masked, counted, and the first one's linear
//          index kept, so the host can report them instead of spreading NaN.
// Cost:    scores 2·batch·nq·nk·d FLOPs through 64×64 tiles staged in workgroup memory (16-wide slices of
//          d); normalize reads each unmasked row prefix twice and writes every entry once.

struct Params {
  batch: u32,
  nq: u32,
  nk: u32,
  d: u32,
  key_length: u32,
  causal: u32,
  scale: f32,
  rows_per_slice: u32,  // normalize_rows: row = workgroup_id.y * rows_per_slice + workgroup_id.x
}

struct Status {
  non_finite_count: atomic<u32>,
  first_non_finite: atomic<u32>,  // linear index into p; 0xffffffff when none
}

@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read_write> status: Status;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// ---- scores -------------------------------------------------------------------------------------
const TILE: u32 = 64u;      // queries and keys per workgroup
const SLICE: u32 = 16u;     // components of d staged per step
const THREADS: u32 = 16u;   // per side; each thread owns a 4×4 block of outputs, strided by 16

var<workgroup> q_tile: array<array<f32, 64>, 16>;  // [slice component][query in tile]
var<workgroup> k_tile: array<array<f32, 64>, 16>;  // [slice component][key in tile]

// Number of keys query `row` can see: the rest of its row is masked and never read again.
fn visible_keys(row: u32) -> u32 {
  var limit = min(params.nk, params.key_length);
  if (params.causal != 0u) {
    limit = min(limit, row + 1u);
  }
  return limit;
}

// Loads components [d0, d0 + SLICE) of this tile's 64 queries and 64 keys, transposed so that the
// inner loop reads consecutive words across threads. Rows past the end and components past d are 0.
fn stage_slice(q_base: u32, k_base: u32, row0: u32, col0: u32, d0: u32, local_index: u32) {
  for (var e = local_index; e < TILE * SLICE; e += THREADS * THREADS) {
    let r = e / SLICE;
    let c = e % SLICE;
    let in_d = d0 + c < params.d;
    var qv = 0.0;
    if (in_d && row0 + r < params.nq) {
      qv = q[q_base + (row0 + r) * params.d + d0 + c];
    }
    var kv = 0.0;
    if (in_d && col0 + r < params.nk) {
      kv = k[k_base + (col0 + r) * params.d + d0 + c];
    }
    q_tile[c][r] = qv;
    k_tile[c][r] = kv;
  }
}

@compute @workgroup_size(16, 16)
fn scores(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
          @builtin(local_invocation_index) local_index: u32) {
  let b = group.z;
  let row0 = group.y * TILE;
  let col0 = group.x * TILE;
  // Keys no query of this tile can see are skipped: normalize_rows writes their zeros.
  if (col0 >= visible_keys(min(row0 + TILE, params.nq) - 1u)) {
    return;
  }
  let q_base = b * params.nq * params.d;
  let k_base = b * params.nk * params.d;

  var acc: array<array<f32, 4>, 4>;
  for (var d0 = 0u; d0 < params.d; d0 += SLICE) {
    stage_slice(q_base, k_base, row0, col0, d0, local_index);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      var qv: array<f32, 4>;
      var kv: array<f32, 4>;
      for (var a = 0u; a < 4u; a++) {
        qv[a] = q_tile[c][local.y + a * THREADS];
        kv[a] = k_tile[c][local.x + a * THREADS];
      }
      for (var a = 0u; a < 4u; a++) {
        for (var bb = 0u; bb < 4u; bb++) {
          acc[a][bb] = fma(qv[a], kv[bb], acc[a][bb]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var a = 0u; a < 4u; a++) {
    let i = row0 + local.y + a * THREADS;
    if (i >= params.nq) {
      continue;
    }
    let limit = visible_keys(i);
    for (var bb = 0u; bb < 4u; bb++) {
      let j = col0 + local.x + bb * THREADS;
      if (j >= limit) {
        continue;
      }
      let at = (b * params.nq + i) * params.nk + j;
      var s = acc[a][bb] * params.scale;
      if (!is_finite_f32(s)) {
        atomicAdd(&status.non_finite_count, 1u);
        atomicMin(&status.first_non_finite, at);
        s = MASKED;
      }
      p[at] = s;
    }
  }
}

// ---- normalize_rows -----------------------------------------------------------------------------
const ROW_THREADS: u32 = 256u;

var<workgroup> part_max: array<f32, 256>;
var<workgroup> part_sum: array<f32, 256>;

// Online-softmax merge of (max, sum of exp(s - max)) pairs.
fn merge(m1: f32, l1: f32, m2: f32, l2: f32) -> vec2<f32> {
  let m = max(m1, m2);
  return vec2<f32>(m, l1 * exp(m1 - m) + l2 * exp(m2 - m));
}

@compute @workgroup_size(256)
fn normalize_rows(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = group.y * params.rows_per_slice + group.x;  // uniform across the workgroup
  if (row >= params.batch * params.nq) {
    return;
  }
  let i = row % params.nq;
  let base = row * params.nk;
  let limit = visible_keys(i);

  var m = MASKED;
  var l = 0.0;
  for (var j = t; j < limit; j += ROW_THREADS) {
    let merged = merge(m, l, p[base + j], 1.0);
    m = merged.x;
    l = merged.y;
  }
  part_max[t] = m;
  part_sum[t] = l;
  for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (t < stride) {
      let merged = merge(part_max[t], part_sum[t], part_max[t + stride], part_sum[t + stride]);
      part_max[t] = merged.x;
      part_sum[t] = merged.y;
    }
  }
  workgroupBarrier();
  let row_max = part_max[0];
  let row_sum = part_sum[0];

  // Every key masked (or no key at all): zeros, never 0/0.
  let all_masked = row_max == MASKED;
  let inv_sum = select(1.0 / row_sum, 0.0, all_masked);
  for (var j = t; j < params.nk; j += ROW_THREADS) {
    var value = 0.0;
    if (j < limit && !all_masked) {
      value = exp(p[base + j] - row_max) * inv_sum;
    }
    p[base + j] = value;
  }
}
