// Attention weights P = softmax(Q Kᵀ · scale + mask), computed in place in one [batch, nq, nk] buffer.
//
// Inputs:  q [batch, nq, d], k [batch, nk, d], float32, row-major.
// Output:  p [batch, nq, nk]. `scores` writes each score relative to its 64-key tile's maximum,
//          s_ij - r_it, and r_it into `tile_max` [batch·nq, ceil(nk/64)] (1/64 of P, not a second N×N
//          buffer); `normalize_rows` rewrites each row in place as exp(s_ij - m_i) / l_i.
// Why relative: a float32 score near 1e4 carries an absolute error of 5e-4, which exp() turns into the same
//          relative error in P. Near the row maximum, s - r is small and keeps its low-order bits; with
//          EXACT, the dot products themselves are compensated (double-float accurate), so P is accurate to
//          ~1e-6 even with logits of 1e4. EXACT = false accumulates plainly, ~4× less arithmetic.
// Masks:   causal (key j > query i), key padding (j >= key_length). A row with every key masked is zeros.
// Status:  non-finite scores (NaN/Inf inputs, overflow) are masked, counted, and the first one's linear
//          index kept, so the host can report them instead of spreading NaN.
// Cost:    scores 2·batch·nq·nk·d multiply-adds through 64×64 tiles staged in workgroup memory (16-wide
//          slices of d), each thread a 4×4 block in vec4 lanes; normalize reads each visible row prefix twice and writes every entry once.

override EXACT: bool = true;

struct Params {
  batch: u32,
  nq: u32,
  nk: u32,
  d: u32,
  key_length: u32,
  causal: u32,
  scale: f32,
  scale_low: f32,       // scale - f32(scale): 1/√d is not a float32, and its rounding matters at |s| ~ 1e4
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
@group(0) @binding(5) var<storage, read_write> tile_max: array<f32>;

// ---- scores -------------------------------------------------------------------------------------
const TILE: u32 = 64u;      // queries and keys per workgroup
const SLICE: u32 = 16u;     // components of d staged per step
const THREADS: u32 = 16u;   // per side; thread (x, y) owns queries 4y..4y+3 × keys 4x..4x+3 of the tile

// Staged slices, transposed and packed in fours: q_tile[c][g] holds component c of queries 4g..4g+3, so
// the inner loop reads one vec4 of queries and one of keys per component.
var<workgroup> q_tile: array<array<vec4<f32>, 16>, 16>;
var<workgroup> k_tile: array<array<vec4<f32>, 16>, 16>;
var<workgroup> row_max_bits: array<atomic<u32>, 64>; // ordered_bits of each tile row's largest score

// Number of keys query `row` can see: the rest of its row is masked and never read again.
fn visible_keys(row: u32) -> u32 {
  var limit = min(params.nk, params.key_length);
  if (params.causal != 0u) {
    limit = min(limit, row + 1u);
  }
  return limit;
}

fn tiles_per_row() -> u32 {
  return (params.nk + TILE - 1u) / TILE;
}

// Loads components [d0, d0 + SLICE) of this tile's 64 queries and 64 keys. Rows past the end and
// components past d are 0, so they add nothing to any dot product.
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
    q_tile[c][r / 4u][r % 4u] = qv;
    k_tile[c][r / 4u][r % 4u] = kv;
  }
}

// One query's four scores: scale · (sum + compensation) as a double-float (hi, lo), MASKED where masked
// or non-finite (counted in `status`).
struct Scores4 {
  hi: vec4<f32>,
  lo: vec4<f32>,
}

fn scale_and_mask(b: u32, i: u32, j0: u32, acc: Dot2x4) -> Scores4 {
  var out = Scores4(vec4<f32>(MASKED), vec4<f32>(0.0));
  let limit = select(0u, visible_keys(i), i < params.nq);
  let scale_hi = split(params.scale);
  for (var lane = 0u; lane < 4u; lane++) {
    let j = j0 + lane;
    if (j >= limit) {
      continue;
    }
    let scaled = two_product(acc.sum[lane], params.scale, split(acc.sum[lane]), scale_hi);
    let s = scaled.x;
    if (!is_finite_f32(s)) {
      atomicAdd(&status.non_finite_count, 1u);
      atomicMin(&status.first_non_finite, (b * params.nq + i) * params.nk + j);
      continue;
    }
    out.hi[lane] = s;
    out.lo[lane] = scaled.y + (acc.sum[lane] * params.scale_low + acc.comp[lane] * params.scale);
  }
  return out;
}

// Writes one query's four scores relative to its tile row maximum r; the thread owning the row's first
// keys also records r for normalize_rows.
fn write_relative(b: u32, i: u32, j0: u32, tile_row: u32, tile_col: u32, scores: Scores4) {
  if (i >= params.nq) {
    return;
  }
  let r = from_ordered_bits(atomicLoad(&row_max_bits[tile_row]));
  if (j0 % TILE == 0u) {
    tile_max[(b * params.nq + i) * tiles_per_row() + tile_col] = r;
  }
  let limit = visible_keys(i);
  let base = (b * params.nq + i) * params.nk;
  for (var lane = 0u; lane < 4u; lane++) {
    let j = j0 + lane;
    if (j < limit) {
      let s = scores.hi[lane];
      // s - r is exact when s is near r (Sterbenz); the low part then restores the bits f32 lost.
      p[base + j] = select((s - r) + scores.lo[lane], MASKED, s == MASKED);
    }
  }
}

fn record_row_max(tile_row: u32, scores: Scores4) {
  let m = max(max(scores.hi.x, scores.hi.y), max(scores.hi.z, scores.hi.w));
  atomicMax(&row_max_bits[tile_row], ordered_bits(m));
}

@compute @workgroup_size(16, 16)
fn scores(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
          @builtin(local_invocation_index) local_index: u32) {
  let b = group.z;
  let row0 = group.y * TILE;
  let col0 = group.x * TILE;
  // Keys no query of this tile can see are skipped: normalize_rows never reads them and writes their zeros.
  if (col0 >= visible_keys(min(row0 + TILE, params.nq) - 1u)) {
    return;
  }
  let q_base = b * params.nq * params.d;
  let k_base = b * params.nk * params.d;
  if (local_index < TILE) {
    atomicStore(&row_max_bits[local_index], ordered_bits(MASKED));
  }

  // Rows 0..3 of this thread's 4×4 block; compensations stay 0 unless EXACT.
  var acc0 = Dot2x4(vec4<f32>(0.0), vec4<f32>(0.0));
  var acc1 = acc0;
  var acc2 = acc0;
  var acc3 = acc0;
  for (var d0 = 0u; d0 < params.d; d0 += SLICE) {
    stage_slice(q_base, k_base, row0, col0, d0, local_index);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      let qv = q_tile[c][local.y];
      let kv = k_tile[c][local.x];
      if (EXACT) {
        let k_hi = split4_hi(kv);
        let k_lo = kv - k_hi;
        acc0 = dot2_step4(acc0, qv.x, split(qv.x), kv, k_hi, k_lo);
        acc1 = dot2_step4(acc1, qv.y, split(qv.y), kv, k_hi, k_lo);
        acc2 = dot2_step4(acc2, qv.z, split(qv.z), kv, k_hi, k_lo);
        acc3 = dot2_step4(acc3, qv.w, split(qv.w), kv, k_hi, k_lo);
      } else {
        acc0.sum = fma(vec4<f32>(qv.x), kv, acc0.sum);
        acc1.sum = fma(vec4<f32>(qv.y), kv, acc1.sum);
        acc2.sum = fma(vec4<f32>(qv.z), kv, acc2.sum);
        acc3.sum = fma(vec4<f32>(qv.w), kv, acc3.sum);
      }
    }
    workgroupBarrier();
  }

  let i0 = row0 + 4u * local.y;
  let j0 = col0 + 4u * local.x;
  let s0 = scale_and_mask(b, i0, j0, acc0);
  let s1 = scale_and_mask(b, i0 + 1u, j0, acc1);
  let s2 = scale_and_mask(b, i0 + 2u, j0, acc2);
  let s3 = scale_and_mask(b, i0 + 3u, j0, acc3);
  record_row_max(4u * local.y, s0);
  record_row_max(4u * local.y + 1u, s1);
  record_row_max(4u * local.y + 2u, s2);
  record_row_max(4u * local.y + 3u, s3);
  workgroupBarrier();
  write_relative(b, i0, j0, 4u * local.y, group.x, s0);
  write_relative(b, i0 + 1u, j0, 4u * local.y + 1u, group.x, s1);
  write_relative(b, i0 + 2u, j0, 4u * local.y + 2u, group.x, s2);
  write_relative(b, i0 + 3u, j0, 4u * local.y + 3u, group.x, s3);
}

// ---- normalize_rows -----------------------------------------------------------------------------
const ROW_THREADS: u32 = 64u;

var<workgroup> partial: array<f32, 64>;

// Reduces `partial` across the workgroup with max (is_max) or +; every thread gets the result.
fn reduce_partial(t: u32, value: f32, is_max: bool) -> f32 {
  workgroupBarrier();
  partial[t] = value;
  for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (t < stride) {
      let other = partial[t + stride];
      partial[t] = select(partial[t] + other, max(partial[t], other), is_max);
    }
  }
  workgroupBarrier();
  return partial[0];
}

@compute @workgroup_size(64)
fn normalize_rows(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = group.y * params.rows_per_slice + group.x;  // uniform across the workgroup
  if (row >= params.batch * params.nq) {
    return;
  }
  let i = row % params.nq;
  let base = row * params.nk;
  let tiles_base = row * tiles_per_row();
  let limit = visible_keys(i);
  let visible_tiles = (limit + TILE - 1u) / TILE;

  var m = MASKED;
  for (var tile = t; tile < visible_tiles; tile += ROW_THREADS) {
    m = max(m, tile_max[tiles_base + tile]);
  }
  m = reduce_partial(t, m, true);
  let all_masked = m == MASKED;  // every key masked (or none at all): zeros, never 0/0

  var l = 0.0;
  for (var j = t; j < limit && !all_masked; j += ROW_THREADS) {
    l += shifted_exp(p[base + j], tile_max[tiles_base + j / TILE], m);
  }
  let inv_sum = select(1.0 / reduce_partial(t, l, false), 0.0, all_masked);

  for (var j = t; j < params.nk; j += ROW_THREADS) {
    var value = 0.0;
    if (j < limit && !all_masked) {
      value = shifted_exp(p[base + j], tile_max[tiles_base + j / TILE], m) * inv_sum;
    }
    p[base + j] = value;
  }
}

// exp(s - m) from the stored s - r and the tile maximum r; masked entries give exactly 0.
fn shifted_exp(relative: f32, r: f32, m: f32) -> f32 {
  if (relative == MASKED) {
    return 0.0;
  }
  return exp(relative + (r - m));
}
