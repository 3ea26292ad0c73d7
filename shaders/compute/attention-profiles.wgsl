// Profiles of a long attention matrix, one head at a time:
//   column_sums: attention received by each key, Σ_i P_ij over every query row, with P_ij = exp(s_ij - L_i)
//                recomputed from the cached row statistics (no float atomics: each workgroup owns 64
//                columns and walks all query blocks itself);
//   entropy:     H_i, already computed by attention-row-stats alongside L_i, copied into a plain array.
//
// Inputs:  q [nq, d] from q_base, k [nk, d] from k_base (this head's windows); stats [nq] vec4 from
//          stats_base: (m, log l, entropy, 0).
// Outputs: sums[sums_base + j] for the dispatched column blocks (first_block + g, 64 columns each);
//          entropies[entropy_base + i] for the dispatched row blocks (entropy entry point).
// Layout:  workgroup g = id.y · groups_x + id.x. Each thread owns 8 rows × 8 columns of every 64×64 tile
//          (score-tile.wgsl) and sums its 8 rows into its 8 columns; across query blocks the sums are
//          compensated (TwoSum), and the eight threads sharing a column add theirs at the end.
// Cost:    column_sums: 2·64·(visible rows)·d flops per workgroup (×~5 with EXACT), one exp per entry;
//          causal: query blocks wholly above the diagonal are never visited. O(1) memory beyond outputs.

struct Params {
  q_base: u32,
  k_base: u32,
  stats_base: u32,
  sums_base: u32,
  entropy_base: u32,
  nq: u32,
  nk: u32,
  d: u32,
  key_length: u32,
  causal: u32,
  scale: f32,
  scale_low: f32,
  first_block: u32,
  blocks: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read_write> sums: array<f32>;
@group(0) @binding(1) var<storage, read_write> entropies: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;

// Staging for score_tile; at the end, the eight partial sums of each column [y · 16 + c / 4][c % 4].
var<workgroup> tile_memory: array<vec4<f32>, 512>;

// Compensated running sums of four columns.
struct Sum4 {
  sum: vec4<f32>,
  comp: vec4<f32>,
}

fn add4(acc: Sum4, v: vec4<f32>) -> Sum4 {
  let s = acc.sum + v;
  let z = s - acc.sum;
  return Sum4(s, acc.comp + ((acc.sum - (s - z)) + (v - z)));
}

// P of query i against this thread's eight keys, zero outside the matrix.
fn p_row(i: u32, j0: u32, left: Dot2x4, right: Dot2x4) -> array<vec4<f32>, 2> {
  if (i >= params.nq) {
    return array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
  }
  let st = stats[params.stats_base + i];
  return array<vec4<f32>, 2>(probabilities4(row_scores(left, i, j0, true), st.x, st.y),
                             probabilities4(row_scores(right, i, j0 + 4u, true), st.x, st.y));
}

@compute @workgroup_size(8, 8)
fn column_sums(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
                    @builtin(local_invocation_index) local_index: u32) {
  let g = group.y * params.groups_x + group.x;
  if (g >= params.blocks) {
    return;
  }
  let col0 = (params.first_block + g) * TILE;
  let nc = min(TILE, params.nk - col0);
  let j0 = col0 + 8u * local.x;
  var left = Sum4(vec4<f32>(0.0), vec4<f32>(0.0));
  var right = left;
  // Causal: rows above the block's first column see none of it. Padding columns are all zero.
  var first_row = select(0u, (col0 / TILE) * TILE, params.causal != 0u);
  if (col0 >= params.key_length) {
    first_row = params.nq;
  }
  for (var tr = first_row; tr < params.nq; tr += TILE) {
    let t = score_tile(params.q_base + tr * params.d, min(TILE, params.nq - tr), params.k_base + col0 * params.d, nc,
                       local, local_index);
    let i0 = tr + 8u * local.y;
    let p0 = p_row(i0, j0, t.upper_left.r0, t.upper_right.r0);
    let p1 = p_row(i0 + 1u, j0, t.upper_left.r1, t.upper_right.r1);
    let p2 = p_row(i0 + 2u, j0, t.upper_left.r2, t.upper_right.r2);
    let p3 = p_row(i0 + 3u, j0, t.upper_left.r3, t.upper_right.r3);
    let p4 = p_row(i0 + 4u, j0, t.lower_left.r0, t.lower_right.r0);
    let p5 = p_row(i0 + 5u, j0, t.lower_left.r1, t.lower_right.r1);
    let p6 = p_row(i0 + 6u, j0, t.lower_left.r2, t.lower_right.r2);
    let p7 = p_row(i0 + 7u, j0, t.lower_left.r3, t.lower_right.r3);
    left = add4(left, ((p0[0] + p1[0]) + (p2[0] + p3[0])) + ((p4[0] + p5[0]) + (p6[0] + p7[0])));
    right = add4(right, ((p0[1] + p1[1]) + (p2[1] + p3[1])) + ((p4[1] + p5[1]) + (p6[1] + p7[1])));
  }

  workgroupBarrier();
  tile_memory[local.y * 16u + 2u * local.x] = left.sum + left.comp;
  tile_memory[local.y * 16u + 2u * local.x + 1u] = right.sum + right.comp;
  workgroupBarrier();
  let c = local_index;
  if (c < nc) {
    var total = 0.0;
    for (var y = 0u; y < 8u; y++) {
      total += tile_memory[y * 16u + c / 4u][c % 4u];
    }
    sums[params.sums_base + col0 + c] = total;
  }
}

@compute @workgroup_size(64)
fn entropy(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group.y * params.groups_x + group.x;
  let i = (params.first_block + g) * TILE + local_index;
  if (g < params.blocks && i < params.nq) {
    entropies[params.entropy_base + i] = stats[params.stats_base + i].z;
  }
}
