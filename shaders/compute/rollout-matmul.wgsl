// One step of attention rollout: R_l = Â_l · R_{l-1}, for one layer l ≥ 1 per dispatch.
//
// Inputs:  graph [layers, n, n] (Â from attention-graph.wgsl), rollout layers 0..l-1, float32 row-major.
// Output:  rollout[l] [n, n]. Row i of R_l: how much output token i draws on each input token. Rows of a
//          product of row-stochastic matrices sum to 1, so no renormalization is needed (or done).
// Layout:  64×64 output tiles, one per workgroup of 16×16 threads; each thread owns a 4×4 block. A and B
//          are staged through workgroup memory 16 columns/rows at a time; entries past n load as 0, so n
//          need not be a multiple of 64.
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
const THREADS: u32 = 256u;

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

@compute @workgroup_size(16, 16)
fn rollout_matmul(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
                  @builtin(local_invocation_index) t: u32) {
  let n = params.n;
  let square = n * n;
  let a_base = params.layer * square;
  let b_base = (params.layer - 1u) * square;
  let row0 = group.y * TILE;
  let col0 = group.x * TILE;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < n; k0 += SLICE) {
    stage_slice(a_base, b_base, row0, col0, k0, t);
    workgroupBarrier();
    for (var c = 0u; c < SLICE; c++) {
      let a = a_tile[c][local.y];
      let b = b_tile[c][local.x];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }

  let i0 = row0 + 4u * local.y;
  let j0 = col0 + 4u * local.x;
  store_row(a_base, i0, j0, acc0);
  store_row(a_base, i0 + 1u, j0, acc1);
  store_row(a_base, i0 + 2u, j0, acc2);
  store_row(a_base, i0 + 3u, j0, acc3);
}
