// Attention weights P = softmax(Q Kᵀ · scale + mask), computed in place in one [batch, nq, nk] buffer.
//
// Inputs:  q [batch, nq, d], k [batch, nk, d], float32, row-major.
// Output:  p [batch, nq, nk]. `scores` writes each score relative to its 64-key tile's maximum,
//          s_ij - r_it, and r_it into `tile_max` [batch·nq, ceil(nk/64)] (1/64 of P, not a second N×N
//          buffer); `normalize_rows` rewrites each row in place as exp(s_ij - m_i) / l_i.
// Why relative: a float32 score near 1e4 carries an absolute error of 5e-4, which exp() turns into the same
//          relative error in P. Near the row maximum, s - r is small and keeps its low-order bits; with
//          EXACT, the dot products themselves are compensated (double-float accurate), so P is accurate to
//          ~1e-6 even with logits of 1e4. EXACT = false accumulates plainly (about 2× faster).
// Masks:   causal (key j > query i), key padding (j >= key_length). A row with every key masked is zeros.
// Status:  non-finite scores (NaN/Inf inputs, overflow) are masked, counted, and the first one's linear
//          index kept, so the host can report them instead of spreading NaN.
// Cost:    scores: 2·batch·nq·nk·d multiply-adds through 64×64 tiles staged in workgroup memory (16-wide
//          slices of d); each of 64 threads owns an 8×8 block as four 4×4 blocks in vec4 lanes, so four
//          vec4 loads feed sixteen vec4 multiply-adds. normalize_rows: four rows per workgroup; reads each
//          visible row prefix twice and writes every entry once.

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
  groups_per_slice: u32,  // normalize_rows: group = workgroup_id.y * groups_per_slice + workgroup_id.x
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
const WORKGROUP_THREADS: u32 = 64u;  // 8 × 8: thread (x, y) owns queries 8y..8y+7 × keys 8x..8x+7

// Staged slices, transposed and packed in fours: q_tile[c][g] holds component c of queries 4g..4g+3, so
// the inner loop reads whole vec4s of queries and keys per component.
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
  for (var e = local_index; e < TILE * SLICE; e += WORKGROUP_THREADS) {
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

// Four queries × four keys of running dot products: one thread owns two such blocks (8 × 4).
struct Block {
  r0: Dot2x4,
  r1: Dot2x4,
  r2: Dot2x4,
  r3: Dot2x4,
}

fn accumulate(block: Block, qv: vec4<f32>, kv: vec4<f32>, k_hi: vec4<f32>, k_lo: vec4<f32>) -> Block {
  var out = block;
  if (EXACT) {
    out.r0 = dot2_step4(block.r0, qv.x, split(qv.x), kv, k_hi, k_lo);
    out.r1 = dot2_step4(block.r1, qv.y, split(qv.y), kv, k_hi, k_lo);
    out.r2 = dot2_step4(block.r2, qv.z, split(qv.z), kv, k_hi, k_lo);
    out.r3 = dot2_step4(block.r3, qv.w, split(qv.w), kv, k_hi, k_lo);
  } else {
    out.r0.sum = fma(vec4<f32>(qv.x), kv, block.r0.sum);
    out.r1.sum = fma(vec4<f32>(qv.y), kv, block.r1.sum);
    out.r2.sum = fma(vec4<f32>(qv.z), kv, block.r2.sum);
    out.r3.sum = fma(vec4<f32>(qv.w), kv, block.r3.sum);
  }
  return out;
}

struct BlockScores {
  s0: Scores4,
  s1: Scores4,
  s2: Scores4,
  s3: Scores4,
}

// Scales and masks a block, and offers each of its rows' maxima to the tile's row maxima.
fn block_scores(b: u32, i0: u32, j0: u32, tile_row0: u32, block: Block) -> BlockScores {
  let out = BlockScores(scale_and_mask(b, i0, j0, block.r0), scale_and_mask(b, i0 + 1u, j0, block.r1),
                        scale_and_mask(b, i0 + 2u, j0, block.r2), scale_and_mask(b, i0 + 3u, j0, block.r3));
  record_row_max(tile_row0, out.s0);
  record_row_max(tile_row0 + 1u, out.s1);
  record_row_max(tile_row0 + 2u, out.s2);
  record_row_max(tile_row0 + 3u, out.s3);
  return out;
}

fn write_block(b: u32, i0: u32, j0: u32, tile_row0: u32, tile_col: u32, scores: BlockScores) {
  write_relative(b, i0, j0, tile_row0, tile_col, scores.s0);
  write_relative(b, i0 + 1u, j0, tile_row0 + 1u, tile_col, scores.s1);
  write_relative(b, i0 + 2u, j0, tile_row0 + 2u, tile_col, scores.s2);
  write_relative(b, i0 + 3u, j0, tile_row0 + 3u, tile_col, scores.s3);
}

@compute @workgroup_size(8, 8)
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
  atomicStore(&row_max_bits[local_index], ordered_bits(MASKED));

  // Queries 8y..8y+3 (upper) and 8y+4..8y+7 (lower) × keys 8x..8x+3 (left) and 8x+4..8x+7 (right);
  // compensations stay 0 unless EXACT.
  let zero = Dot2x4(vec4<f32>(0.0), vec4<f32>(0.0));
  var upper_left = Block(zero, zero, zero, zero);
  var upper_right = upper_left;
  var lower_left = upper_left;
  var lower_right = upper_left;
  for (var d0 = 0u; d0 < params.d; d0 += SLICE) {
    stage_slice(q_base, k_base, row0, col0, d0, local_index);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      let k_left = k_tile[c][2u * local.x];
      let k_right = k_tile[c][2u * local.x + 1u];
      var left_hi = k_left;
      var right_hi = k_right;
      if (EXACT) {
        left_hi = split4_hi(k_left);
        right_hi = split4_hi(k_right);
      }
      let left_lo = k_left - left_hi;
      let right_lo = k_right - right_hi;
      let q_upper = q_tile[c][2u * local.y];
      let q_lower = q_tile[c][2u * local.y + 1u];
      upper_left = accumulate(upper_left, q_upper, k_left, left_hi, left_lo);
      upper_right = accumulate(upper_right, q_upper, k_right, right_hi, right_lo);
      lower_left = accumulate(lower_left, q_lower, k_left, left_hi, left_lo);
      lower_right = accumulate(lower_right, q_lower, k_right, right_hi, right_lo);
    }
    workgroupBarrier();
  }

  let tile_row0 = 8u * local.y;
  let i0 = row0 + tile_row0;
  let j0 = col0 + 8u * local.x;
  let upper_left_scores = block_scores(b, i0, j0, tile_row0, upper_left);
  let upper_right_scores = block_scores(b, i0, j0 + 4u, tile_row0, upper_right);
  let lower_left_scores = block_scores(b, i0 + 4u, j0, tile_row0 + 4u, lower_left);
  let lower_right_scores = block_scores(b, i0 + 4u, j0 + 4u, tile_row0 + 4u, lower_right);
  workgroupBarrier();
  write_block(b, i0, j0, tile_row0, group.x, upper_left_scores);
  write_block(b, i0, j0 + 4u, tile_row0, group.x, upper_right_scores);
  write_block(b, i0 + 4u, j0, tile_row0 + 4u, group.x, lower_left_scores);
  write_block(b, i0 + 4u, j0 + 4u, tile_row0 + 4u, group.x, lower_right_scores);
}

// ---- normalize_rows -----------------------------------------------------------------------------
// Four rows per workgroup, sixteen threads per row: few enough barriers and workgroups that short rows
// do not pay more for scheduling than for arithmetic, and each row still read in contiguous runs.
const ROW_THREADS: u32 = 16u;
const ROWS_PER_GROUP: u32 = 4u;

var<workgroup> partial: array<f32, 64>;

// Reduces `value` over the sixteen threads of one row with max (is_max) or +; each gets the result.
fn reduce_row(t: u32, value: f32, is_max: bool) -> f32 {
  workgroupBarrier();
  partial[t] = value;
  let lane = t % ROW_THREADS;
  for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lane < stride) {
      let other = partial[t + stride];
      partial[t] = select(partial[t] + other, max(partial[t], other), is_max);
    }
  }
  workgroupBarrier();
  return partial[t - lane];
}

@compute @workgroup_size(64)
fn normalize_rows(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = (group.y * params.groups_per_slice + group.x) * ROWS_PER_GROUP + t / ROW_THREADS;
  let lane = t % ROW_THREADS;
  // Rows past the end still join every barrier; they just see no keys and write nothing.
  let in_range = row < params.batch * params.nq;
  let i = row % params.nq;
  let base = row * params.nk;
  let tiles_base = row * tiles_per_row();
  let limit = select(0u, visible_keys(i), in_range);
  let visible_tiles = (limit + TILE - 1u) / TILE;

  var m = MASKED;
  for (var tile = lane; tile < visible_tiles; tile += ROW_THREADS) {
    m = max(m, tile_max[tiles_base + tile]);
  }
  m = reduce_row(t, m, true);
  let all_masked = m == MASKED;  // every key masked (or none at all): zeros, never 0/0

  var l = 0.0;
  for (var j = lane; j < limit && !all_masked; j += ROW_THREADS) {
    l += shifted_exp(p[base + j], tile_max[tiles_base + j / TILE], m);
  }
  let inv_sum = select(1.0 / reduce_row(t, l, false), 0.0, all_masked);

  for (var j = lane; j < params.nk && in_range; j += ROW_THREADS) {
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
