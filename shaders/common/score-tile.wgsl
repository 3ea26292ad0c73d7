// 64×64 score tiles for the long-sequence attention kernels (attention-row-stats, -tiles, -profiles).
//
// Computes s_ij = scale · q_i·k_j for 64 queries × 64 keys of one head, staged through workgroup memory in
// 16-wide slices of d. Each of the 64 threads owns an 8×8 block as four 4×4 blocks in vec4 lanes (as in
// attention-weights), so four vec4 loads feed sixteen vec4 multiply-adds. With EXACT the dot products are
// compensated (Dot2) and scores come out as double-floats (hi, lo): exp(s - L) then stays within ~1e-6
// even at logits of 1e4. EXACT = false accumulates plainly (lo = 0), about 2× faster.
//
// Expects from the kernel that includes it (after numerics.wgsl and double-float.wgsl):
//   q, k:        storage array<f32>, rows of d floats (this head's window);
//   tile_memory: workgroup array<vec4<f32>, ≥ 512>; [0, 256) holds the query slice, [256, 512) the key
//                slice. Kernels reuse it for their own scratch between tiles;
//   params:      with fields d, nk, key_length, causal (u32), scale, scale_low (f32).
// Cost per tile: 64·64·d multiply-adds, 2·64·d floats read, 2·ceil(d/16) barriers.

override EXACT: bool = true;

const TILE: u32 = 64u;            // queries and keys per tile
const SLICE: u32 = 16u;           // components of d staged per step
const TILE_THREADS: u32 = 64u;    // 8 × 8 threads: thread (x, y) owns queries 8y..8y+7 × keys 8x..8x+7
const KEY_SLICE: u32 = 256u;      // where the key slice starts in tile_memory

// Four queries × four keys of running dot products.
struct Block {
  r0: Dot2x4,
  r1: Dot2x4,
  r2: Dot2x4,
  r3: Dot2x4,
}

// A thread's 8×8 block: queries 8y..8y+3 (upper) and 8y+4..8y+7 (lower) × keys 8x..8x+3 (left) and
// 8x+4..8x+7 (right).
struct ScoreTile {
  upper_left: Block,
  upper_right: Block,
  lower_left: Block,
  lower_right: Block,
}

// One query's four scores as double-floats; hi = MASKED where masked.
struct Scores4 {
  hi: vec4<f32>,
  lo: vec4<f32>,
}

// Number of keys query `i` can see: key padding, and the causal mask (key j > i hidden).
fn visible_keys(i: u32) -> u32 {
  var limit = min(params.nk, params.key_length);
  if (params.causal != 0u) {
    limit = min(limit, i + 1u);
  }
  return limit;
}

// Loads components [d0, d0 + SLICE) of q_rows queries from element q_start and k_rows keys from k_start,
// transposed and packed in fours (slot c·16 + g holds component c of rows 4g..4g+3). Rows past the counts
// and components past d are 0, so they add nothing to any dot product.
fn stage_slice(q_start: u32, q_rows: u32, k_start: u32, k_rows: u32, d0: u32, local_index: u32) {
  for (var e = local_index; e < TILE * SLICE; e += TILE_THREADS) {
    let r = e / SLICE;
    let c = e % SLICE;
    let in_d = d0 + c < params.d;
    var qv = 0.0;
    if (in_d && r < q_rows) {
      qv = q[q_start + r * params.d + d0 + c];
    }
    var kv = 0.0;
    if (in_d && r < k_rows) {
      kv = k[k_start + r * params.d + d0 + c];
    }
    tile_memory[c * 16u + r / 4u][r % 4u] = qv;
    tile_memory[KEY_SLICE + c * 16u + r / 4u][r % 4u] = kv;
  }
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

// Dot products of this thread's 8 queries × 8 keys for the tile whose queries start at element q_start
// and keys at k_start. Contains barriers: call in workgroup-uniform control flow. Ends with a barrier, so
// tile_memory is free for the caller when it returns.
fn score_tile(q_start: u32, q_rows: u32, k_start: u32, k_rows: u32, local: vec3<u32>, local_index: u32) -> ScoreTile {
  let zero = Dot2x4(vec4<f32>(0.0), vec4<f32>(0.0));
  var t = ScoreTile(Block(zero, zero, zero, zero), Block(zero, zero, zero, zero),
                    Block(zero, zero, zero, zero), Block(zero, zero, zero, zero));
  for (var d0 = 0u; d0 < params.d; d0 += SLICE) {
    stage_slice(q_start, q_rows, k_start, k_rows, d0, local_index);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      let k_left = tile_memory[KEY_SLICE + c * 16u + 2u * local.x];
      let k_right = tile_memory[KEY_SLICE + c * 16u + 2u * local.x + 1u];
      var left_hi = k_left;
      var right_hi = k_right;
      if (EXACT) {
        left_hi = split4_hi(k_left);
        right_hi = split4_hi(k_right);
      }
      let left_lo = k_left - left_hi;
      let right_lo = k_right - right_hi;
      let q_upper = tile_memory[c * 16u + 2u * local.y];
      let q_lower = tile_memory[c * 16u + 2u * local.y + 1u];
      t.upper_left = accumulate(t.upper_left, q_upper, k_left, left_hi, left_lo);
      t.upper_right = accumulate(t.upper_right, q_upper, k_right, right_hi, right_lo);
      t.lower_left = accumulate(t.lower_left, q_lower, k_left, left_hi, left_lo);
      t.lower_right = accumulate(t.lower_right, q_lower, k_right, right_hi, right_lo);
    }
    workgroupBarrier();
  }
  return t;
}

// scale · (sum + compensation) as a double-float per lane (Dekker's product with the split scale, plus
// the rounding of scale itself, scale_low). Unmasked: the caller masks with masked_scores.
fn scaled_scores(dots: Dot2x4) -> Scores4 {
  if (!EXACT) {
    return Scores4(dots.sum * params.scale, vec4<f32>(0.0));
  }
  let p = dots.sum * params.scale;
  let a_hi = split4_hi(dots.sum);
  let a_lo = dots.sum - a_hi;
  let b = split(params.scale);
  let product_error = ((a_hi * b.x - p) + a_hi * b.y + a_lo * b.x) + a_lo * b.y;
  return Scores4(p, product_error + (dots.sum * params.scale_low + dots.comp * params.scale));
}

// Lanes j0..j0+3 that query `i` sees (`limit` = visible_keys(i), or 0 for a row outside the matrix).
fn visible4(j0: u32, limit: u32) -> vec4<bool> {
  return vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(limit);
}

fn finite4(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u);
}

fn masked_scores(s: Scores4, keep: vec4<bool>) -> Scores4 {
  return Scores4(select(vec4<f32>(MASKED), s.hi, keep), select(vec4<f32>(0.0), s.lo, keep));
}

// Scaled scores of query i against keys j0..j0+3, masked where hidden or non-finite.
fn row_scores(dots: Dot2x4, i: u32, j0: u32, row_in_matrix: bool) -> Scores4 {
  let s = scaled_scores(dots);
  let limit = select(0u, visible_keys(i), row_in_matrix);
  return masked_scores(s, visible4(j0, limit) & finite4(s.hi));
}

// P = exp(s - L) with L = m + log_l (the row statistics); exactly 0 for masked scores and masked rows.
fn probabilities4(s: Scores4, m: f32, log_l: f32) -> vec4<f32> {
  let p = exp(((s.hi - vec4<f32>(m)) + s.lo) - vec4<f32>(log_l));
  return select(p, vec4<f32>(0.0), (s.hi == vec4<f32>(MASKED)) | vec4<bool>(m == MASKED));
}
