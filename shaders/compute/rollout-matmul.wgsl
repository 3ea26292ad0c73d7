// One step of attention rollout: R_l = Â_l · R_{l-1}, for one layer l ≥ 1 per dispatch.
//
// Inputs:  graph [layers, n, n] (Â from attention-graph.wgsl), rollout layers 0..l-1, float32 row-major.
// Output:  rollout[l] [n, n]. Row i of R_l: how much output token i draws on each input token. Rows of a
//          product of row-stochastic matrices sum to 1, so no renormalization is needed (or done).
// Layout:  64×64 output tiles, one per workgroup of 8×8 threads; each thread owns an 8×8 block as four
//          4×4 blocks in vec4 lanes (few threads, much work each: barriers are dear on CPU-like devices).
//          A and B are staged through workgroup memory 16 columns/rows at a time; entries past n load as
//          0, so n need not be a multiple of 64.
// Cost:    2·n³ multiply-adds per layer. Each staged slice is read from global memory once per tile
//          (n/64 times in all), and each thread does 16 vec4 multiply-adds per four vec4 reads of
//          workgroup memory.

struct Params {
  n: u32,
  layer: u32,
}

@group(0) @binding(0) var<storage, read_write> rollout: array<f32>;
@group(0) @binding(1) var<storage, read> graph: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const TILE: u32 = 64u;
const SLICE: u32 = 16u;
const THREADS: u32 = 64u;

// a_tile[c][g]: column c of the slice, rows 4g..4g+3 of the tile; b_tile[c][g]: row c, columns 4g..4g+3.
var<workgroup> a_tile: array<array<vec4<f32>, 16>, 16>;
var<workgroup> b_tile: array<array<vec4<f32>, 16>, 16>;

fn stage_slice(a_base: u32, b_base: u32, row0: u32, col0: u32, k0: u32, t: u32) {
  let n = params.n;
  for (var e = t; e < TILE * SLICE; e += THREADS) {
    // A: 64 rows × 16 columns, column index fastest (contiguous reads within a row).
    let ar = e / SLICE;
    let ac = e % SLICE;
    var av = 0.0;
    if (row0 + ar < n && k0 + ac < n) {
      av = graph[a_base + (row0 + ar) * n + k0 + ac];
    }
    a_tile[ac][ar / 4u][ar % 4u] = av;
    // B: 16 rows × 64 columns, column index fastest.
    let br = e / TILE;
    let bc = e % TILE;
    var bv = 0.0;
    if (k0 + br < n && col0 + bc < n) {
      bv = rollout[b_base + (k0 + br) * n + col0 + bc];
    }
    b_tile[br][bc / 4u][bc % 4u] = bv;
  }
}

// A 4×4 block of R_l: four rows of four columns.
struct Block {
  r0: vec4<f32>,
  r1: vec4<f32>,
  r2: vec4<f32>,
  r3: vec4<f32>,
}

fn accumulate(block: Block, a: vec4<f32>, b: vec4<f32>) -> Block {
  return Block(fma(vec4<f32>(a.x), b, block.r0), fma(vec4<f32>(a.y), b, block.r1),
               fma(vec4<f32>(a.z), b, block.r2), fma(vec4<f32>(a.w), b, block.r3));
}

fn store_row(out_base: u32, i: u32, j0: u32, values: vec4<f32>) {
  let n = params.n;
  if (i >= n) {
    return;
  }
  for (var lane = 0u; lane < 4u; lane++) {
    if (j0 + lane < n) {
      rollout[out_base + i * n + j0 + lane] = values[lane];
    }
  }
}

fn store_block(out_base: u32, i0: u32, j0: u32, block: Block) {
  store_row(out_base, i0, j0, block.r0);
  store_row(out_base, i0 + 1u, j0, block.r1);
  store_row(out_base, i0 + 2u, j0, block.r2);
  store_row(out_base, i0 + 3u, j0, block.r3);
}

@compute @workgroup_size(8, 8)
fn rollout_matmul(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
                  @builtin(local_invocation_index) t: u32) {
  let n = params.n;
  let square = n * n;
  let a_base = params.layer * square;
  let b_base = (params.layer - 1u) * square;
  let row0 = group.y * TILE;
  let col0 = group.x * TILE;

  // Rows 8y..8y+3 (upper) and 8y+4..8y+7 (lower) × columns 8x..8x+3 (left) and 8x+4..8x+7 (right).
  let zero = vec4<f32>(0.0);
  var upper_left = Block(zero, zero, zero, zero);
  var upper_right = upper_left;
  var lower_left = upper_left;
  var lower_right = upper_left;
  for (var k0 = 0u; k0 < n; k0 += SLICE) {
    stage_slice(a_base, b_base, row0, col0, k0, t);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      let a_upper = a_tile[c][2u * local.y];
      let a_lower = a_tile[c][2u * local.y + 1u];
      let b_left = b_tile[c][2u * local.x];
      let b_right = b_tile[c][2u * local.x + 1u];
      upper_left = accumulate(upper_left, a_upper, b_left);
      upper_right = accumulate(upper_right, a_upper, b_right);
      lower_left = accumulate(lower_left, a_lower, b_left);
      lower_right = accumulate(lower_right, a_lower, b_right);
    }
    workgroupBarrier();
  }

  let i0 = row0 + 8u * local.y;
  let j0 = col0 + 8u * local.x;
  store_block(a_base, i0, j0, upper_left);
  store_block(a_base, i0, j0 + 4u, upper_right);
  store_block(a_base, i0 + 4u, j0, lower_left);
  store_block(a_base, i0 + 4u, j0 + 4u, lower_right);
}
