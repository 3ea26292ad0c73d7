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
//          slices of d); normalize reads each visible row prefix twice and writes every entry once.

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
const THREADS: u32 = 16u;   // per side; each thread owns a 4×4 block of outputs, strided by 16

var<workgroup> q_tile: array<array<f32, 64>, 16>;  // [slice component][query in tile]
var<workgroup> k_tile: array<array<f32, 64>, 16>;  // [slice component][key in tile]
var<workgroup> row_max_bits: array<atomic<u32>, 64>; // ordered_bits of each tile row's largest score

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

fn tiles_per_row() -> u32 {
  return (params.nk + TILE - 1u) / TILE;
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

  // (sum, compensation) per output; the compensation stays 0 unless EXACT.
  var acc: array<array<vec2<f32>, 4>, 4>;
  for (var d0 = 0u; d0 < params.d; d0 += SLICE) {
    stage_slice(q_base, k_base, row0, col0, d0, local_index);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      var qv: array<f32, 4>;
      var kv: array<f32, 4>;
      var q_split: array<vec2<f32>, 4>;
      var k_split: array<vec2<f32>, 4>;
      for (var a = 0u; a < 4u; a++) {
        qv[a] = q_tile[c][local.y + a * THREADS];
        kv[a] = k_tile[c][local.x + a * THREADS];
        if (EXACT) {
          q_split[a] = split(qv[a]);
          k_split[a] = split(kv[a]);
        }
      }
      for (var a = 0u; a < 4u; a++) {
        for (var bb = 0u; bb < 4u; bb++) {
          if (EXACT) {
            acc[a][bb] = dot2_step(acc[a][bb], qv[a], kv[bb], q_split[a], k_split[bb]);
          } else {
            acc[a][bb].x = fma(qv[a], kv[bb], acc[a][bb].x);
          }
        }
      }
    }
    workgroupBarrier();
  }

  // Scale, mask, and find each tile row's maximum; then store scores relative to it.
  var score: array<array<f32, 4>, 4>;
  var score_low: array<array<f32, 4>, 4>;
  for (var a = 0u; a < 4u; a++) {
    let i = row0 + local.y + a * THREADS;
    let limit = select(0u, visible_keys(i), i < params.nq);
    var local_max = MASKED;
    for (var bb = 0u; bb < 4u; bb++) {
      let j = col0 + local.x + bb * THREADS;
      var s = MASKED;
      if (j < limit) {
        // (scale + scale_low) · (sum + compensation) in double-float, keeping the product's rounding error.
        let scaled = two_product(acc[a][bb].x, params.scale, split(acc[a][bb].x), split(params.scale));
        score_low[a][bb] = scaled.y + (acc[a][bb].x * params.scale_low + acc[a][bb].y * params.scale);
        s = scaled.x;
        if (!is_finite_f32(s)) {
          let at = (b * params.nq + i) * params.nk + j;
          atomicAdd(&status.non_finite_count, 1u);
          atomicMin(&status.first_non_finite, at);
          s = MASKED;
        }
      }
      score[a][bb] = s;
      local_max = max(local_max, s);
    }
    atomicMax(&row_max_bits[local.y + a * THREADS], ordered_bits(local_max));
  }
  workgroupBarrier();

  for (var a = 0u; a < 4u; a++) {
    let i = row0 + local.y + a * THREADS;
    if (i >= params.nq) {
      continue;
    }
    let r = from_ordered_bits(atomicLoad(&row_max_bits[local.y + a * THREADS]));
    if (local.x == 0u) {
      tile_max[(b * params.nq + i) * tiles_per_row() + group.x] = r;
    }
    let limit = visible_keys(i);
    for (var bb = 0u; bb < 4u; bb++) {
      let j = col0 + local.x + bb * THREADS;
      if (j < limit) {
        let s = score[a][bb];
        // s - r is exact when s is near r (Sterbenz); the low part then restores the lost bits.
        p[(b * params.nq + i) * params.nk + j] = select((s - r) + score_low[a][bb], MASKED, s == MASKED);
      }
    }
  }
}

// ---- normalize_rows -----------------------------------------------------------------------------
const ROW_THREADS: u32 = 256u;

var<workgroup> partial: array<f32, 256>;

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

@compute @workgroup_size(256)
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
