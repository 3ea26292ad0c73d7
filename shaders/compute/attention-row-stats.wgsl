// Row statistics for long-sequence attention, per query row i of one head over its visible keys:
//   m_i = a float32 score at the row maximum (up to rounding): the reference point,
//   l_i = Σ_j exp(s_ij - m_i), so that L_i = m_i + log l_i is the log-sum-exp, kept as this unevaluated
//         sum of two floats (m exact, log l ∈ [0, log N]) and P_ij = exp((s_ij - m_i) - log l_i) exactly,
//   H_i = -Σ_j P_ij log P_ij = log l_i - Σ_j P_ij (s_ij - m_i), the entropy, almost free in the same pass,
// by the online-softmax recurrence over key blocks (FlashAttention's forward pass without V). N×N is
// never held.
//
// Inputs:  q [nq, d] from element q_base, k [nk, d] from k_base: this head's windows, float32 row-major.
// Output:  stats[stats_base + i] = vec4(m_i, log l_i, H_i, 0); a row with no visible finite score gets
//          vec4(MASKED, 0, 0, 0), which the tile and profile kernels read as a row of zeros.
// Status:  non-finite scores (NaN/Inf inputs, overflow) are masked; the rows that had one are counted,
//          with the smallest such row (row_index_base + i) and the smallest such key.
// Layout:  workgroup g = id.y · groups_x + id.x of a dispatch handles queries of block first_block + g
//          (64 per block). Each thread owns 8 queries × 8 keys of every 64-key block and keeps its own
//          running (m, l, t) per query; the eight threads sharing a query merge them at the end.
// Cost:    2·64·(visible keys)·d flops per workgroup (×~5 with EXACT), one exp per score; memory O(d).

struct Params {
  q_base: u32,
  k_base: u32,
  stats_base: u32,
  row_index_base: u32,  // head · nq: makes reported rows global
  nq: u32,
  nk: u32,
  d: u32,
  key_length: u32,
  causal: u32,
  scale: f32,
  scale_low: f32,       // scale - f32(scale): 1/√d is not a float32, and its rounding matters at |s| ~ 1e4
  first_block: u32,
  blocks: u32,
  groups_x: u32,
}

struct Status {
  bad_rows: atomic<u32>,
  first_row: atomic<u32>,  // 0xffffffff when none
  first_key: atomic<u32>,
}

@group(0) @binding(0) var<storage, read_write> stats: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> status: Status;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// Staging for score_tile; after the key loop, the per-thread row states [row · 8 + x].
var<workgroup> tile_memory: array<vec4<f32>, 512>;
var<workgroup> first_bad_key: array<atomic<u32>, 64>;

const NONE: u32 = 0xffffffffu;

// A query's running state over the keys seen so far: the reference point m, l = Σ exp(s - m) and
// t = Σ exp(s - m)(s - m), the sums as (sum, compensation) pairs: a row of 131,072 keys adds 16,384
// terms per thread, where a plain float32 sum may lose up to n·ε ≈ 1e-3 (random inputs: ~1e-6).
struct RowState {
  m: f32,
  l: vec2<f32>,
  t: vec2<f32>,
}

const EMPTY: RowState = RowState(MASKED, vec2<f32>(0.0), vec2<f32>(0.0));  // no key seen yet

fn max4(v: vec4<f32>) -> f32 {
  return max(max(v.x, v.y), max(v.z, v.w));
}

// Knuth's TwoSum: adds v to a (sum, compensation) pair.
fn add_compensated(acc: vec2<f32>, v: f32) -> vec2<f32> {
  let s = acc.x + v;
  let z = s - acc.x;
  return vec2<f32>(s, acc.y + ((acc.x - (s - z)) + (v - z)));
}

// Folds eight scores into a running state. A new maximum rescales what was summed: with α = exp(m_old - m)
// and δ = m_old - m, l ← α l and t ← α (t + δ l); α = 1 and δ = 0 (exactly) while the maximum stands.
fn online_update(state: RowState, a: Scores4, b: Scores4) -> RowState {
  let m = max(state.m, max(max4(a.hi), max4(b.hi)));
  if (m == MASKED) {
    return state;
  }
  let delta = state.m - m;  // finite even when state.m is MASKED; then l = t = 0 and they stay 0
  let alpha = exp(delta);
  let xa = (a.hi - vec4<f32>(m)) + a.lo;
  let xb = (b.hi - vec4<f32>(m)) + b.lo;
  let ea = select(exp(xa), vec4<f32>(0.0), a.hi == vec4<f32>(MASKED));
  let eb = select(exp(xb), vec4<f32>(0.0), b.hi == vec4<f32>(MASKED));
  let one = vec4<f32>(1.0);
  let l = add_compensated(state.l * alpha, dot(ea, one) + dot(eb, one));
  let t = add_compensated((state.t + delta * state.l) * alpha, dot(ea, xa) + dot(eb, xb));
  return RowState(m, l, t);
}

// One query's eight scores of this key block, masked, with non-finite ones noted for the status.
fn update_row(state: RowState, left: Dot2x4, right: Dot2x4, i: u32, j0: u32, tile_row: u32) -> RowState {
  let in_matrix = i < params.nq;
  let limit = select(0u, visible_keys(i), in_matrix);
  let left_scores = scaled_scores(left);
  let right_scores = scaled_scores(right);
  let left_visible = visible4(j0, limit);
  let right_visible = visible4(j0 + 4u, limit);
  let left_finite = finite4(left_scores.hi);
  let right_finite = finite4(right_scores.hi);
  if (any(left_visible & !left_finite) || any(right_visible & !right_finite)) {
    note_non_finite(tile_row, j0, left_visible & !left_finite, right_visible & !right_finite);
  }
  return online_update(state, masked_scores(left_scores, left_visible & left_finite),
                       masked_scores(right_scores, right_visible & right_finite));
}

fn note_non_finite(tile_row: u32, j0: u32, left: vec4<bool>, right: vec4<bool>) {
  for (var lane = 0u; lane < 4u; lane++) {
    if (left[lane]) {
      atomicMin(&first_bad_key[tile_row], j0 + lane);
    }
    if (right[lane]) {
      atomicMin(&first_bad_key[tile_row], j0 + 4u + lane);
    }
  }
}

fn packed(state: RowState) -> vec4<f32> {
  return vec4<f32>(state.m, state.l.x + state.l.y, state.t.x + state.t.y, 0.0);
}

// Merges the eight threads' states of tile row r and writes its statistics.
fn finish_row(r: u32, row0: u32) {
  let i = row0 + r;
  if (i >= params.nq) {
    return;
  }
  var m = MASKED;
  for (var x = 0u; x < 8u; x++) {
    m = max(m, tile_memory[r * 8u + x].x);
  }
  var out = vec4<f32>(MASKED, 0.0, 0.0, 0.0);
  if (m != MASKED) {
    var l = 0.0;
    var t = 0.0;
    for (var x = 0u; x < 8u; x++) {
      let s = tile_memory[r * 8u + x];
      let delta = s.x - m;
      let alpha = exp(delta);
      l += s.y * alpha;
      t += (s.z + delta * s.y) * alpha;
    }
    let log_l = log(l);
    out = vec4<f32>(m, log_l, max(log_l - t / l, 0.0), 0.0);
  }
  stats[params.stats_base + i] = out;
  let bad_key = atomicLoad(&first_bad_key[r]);
  if (bad_key != NONE) {
    atomicAdd(&status.bad_rows, 1u);
    atomicMin(&status.first_row, params.row_index_base + i);
    atomicMin(&status.first_key, bad_key);
  }
}

@compute @workgroup_size(8, 8)
fn row_stats(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
             @builtin(local_invocation_index) local_index: u32) {
  let g = group.y * params.groups_x + group.x;
  if (g >= params.blocks) {
    return;
  }
  let row0 = (params.first_block + g) * TILE;
  let q_rows = min(TILE, params.nq - row0);
  // Keys past what the tile's last query can see are never loaded (the causal loop stops at the diagonal).
  let key_end = visible_keys(row0 + q_rows - 1u);
  atomicStore(&first_bad_key[local_index], NONE);

  let tile_row0 = 8u * local.y;
  let i0 = row0 + tile_row0;
  var s0 = EMPTY;
  var s1 = EMPTY;
  var s2 = EMPTY;
  var s3 = EMPTY;
  var s4 = EMPTY;
  var s5 = EMPTY;
  var s6 = EMPTY;
  var s7 = EMPTY;
  for (var col0 = 0u; col0 < key_end; col0 += TILE) {
    let t = score_tile(params.q_base + row0 * params.d, q_rows, params.k_base + col0 * params.d,
                       min(TILE, params.nk - col0), local, local_index);
    let j0 = col0 + 8u * local.x;
    s0 = update_row(s0, t.upper_left.r0, t.upper_right.r0, i0, j0, tile_row0);
    s1 = update_row(s1, t.upper_left.r1, t.upper_right.r1, i0 + 1u, j0, tile_row0 + 1u);
    s2 = update_row(s2, t.upper_left.r2, t.upper_right.r2, i0 + 2u, j0, tile_row0 + 2u);
    s3 = update_row(s3, t.upper_left.r3, t.upper_right.r3, i0 + 3u, j0, tile_row0 + 3u);
    s4 = update_row(s4, t.lower_left.r0, t.lower_right.r0, i0 + 4u, j0, tile_row0 + 4u);
    s5 = update_row(s5, t.lower_left.r1, t.lower_right.r1, i0 + 5u, j0, tile_row0 + 5u);
    s6 = update_row(s6, t.lower_left.r2, t.lower_right.r2, i0 + 6u, j0, tile_row0 + 6u);
    s7 = update_row(s7, t.lower_left.r3, t.lower_right.r3, i0 + 7u, j0, tile_row0 + 7u);
  }

  // score_tile ended with a barrier: tile_memory is free for the row states, (m, l, t) each.
  workgroupBarrier();
  let slot = tile_row0 * 8u + local.x;
  tile_memory[slot] = packed(s0);
  tile_memory[slot + 8u] = packed(s1);
  tile_memory[slot + 16u] = packed(s2);
  tile_memory[slot + 24u] = packed(s3);
  tile_memory[slot + 32u] = packed(s4);
  tile_memory[slot + 40u] = packed(s5);
  tile_memory[slot + 48u] = packed(s6);
  tile_memory[slot + 56u] = packed(s7);
  workgroupBarrier();
  finish_row(local_index, row0);
}
