// On-demand tiles of a long attention matrix: for one head, the rectangle rows [row0, row0 + rows) ×
// columns [col0, col0 + cols) is shown as a grid of grid_w × grid_h cells, and each cell gets the max or
// the mean of the exact P_ij = exp(s_ij - L_i) it covers, from the cached row statistics.
//
// Cells:   along each axis, cell c covers entries [floor(c·R/G), floor((c+1)·R/G)) of the R shown (R ≥ G),
//          or, zoomed past 1:1 (R < G), the single entry under its centre, floor((2c+1)·R/(2G)). Masked
//          entries (causal j > i, padding j ≥ key_length) are true zeros: they count in the mean and can
//          be the max. Only cells [cell_x0, cell_x1) × [cell_y0, cell_y1) are computed and written, so a
//          viewer can spread one screen over several frames.
// Inputs:  q [nq, d] from q_base, k [nk, d] from k_base (this head's windows), stats [nq] vec4 from
//          stats_base: (m, log l, entropy, 0) from attention-row-stats.
// Output:  out[out_base + y · out_stride + x] for each computed cell (x, y).
// Layout:  "sources" are the cells that own distinct entries: the cells themselves when pooling, the
//          entries themselves when zoomed in (several cells then show one source). Workgroup (gx, gy) owns
//          block_w × block_h sources, chosen on the host so that a block spans at most 64 entries along an
//          axis unless it is a single source. It walks its entries in 64×64 tiles: scores as in the other
//          long-attention kernels (score-tile.wgsl), P into workgroup memory, then reduced in place, first
//          along each row into column sources, then down each column into row sources; sources spanning
//          several tiles accumulate in registers (compensated sums).
// Cost:    2·d flops per covered entry (×~5 with EXACT), one exp per entry; tiles wholly masked (above
//          the causal diagonal, past key_length) are skipped: by the loop bound where a block is one
//          column source (an overview cell), else by a branch. O(1) memory beyond the output.

struct Params {
  q_base: u32,
  k_base: u32,
  stats_base: u32,
  out_base: u32,
  out_stride: u32,
  nq: u32,
  nk: u32,
  d: u32,
  key_length: u32,
  causal: u32,
  scale: f32,
  scale_low: f32,
  reduce_max: u32,
  row0: u32,
  rows: u32,
  grid_h: u32,
  cell_y0: u32,
  cell_y1: u32,
  src_y0: u32,
  src_y1: u32,
  block_h: u32,
  col0: u32,
  cols: u32,
  grid_w: u32,
  cell_x0: u32,
  cell_x1: u32,
  src_x0: u32,
  src_x1: u32,
  block_w: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> params: Params;

// Staging for score_tile, then P of the current tile, S[r][c] = tile_memory[r·16 + c/4][c%4].
var<workgroup> tile_memory: array<vec4<f32>, 1024>;

fn s_get(r: u32, c: u32) -> f32 {
  return tile_memory[r * 16u + c / 4u][c % 4u];
}

fn s_set(r: u32, c: u32, value: f32) {
  tile_memory[r * 16u + c / 4u][c % 4u] = value;
}

// ---- cells and sources along one axis ----------------------------------------------------------
struct Axis {
  first: u32,  // first entry shown
  count: u32,  // R: entries shown
  grid: u32,   // G: cells
  q: u32,      // R / G and R % G when pooling: source s starts at first + s·q + floor(s·r / G)
  r: u32,
}

fn make_axis(first: u32, count: u32, grid: u32) -> Axis {
  return Axis(first, count, grid, count / grid, count % grid);
}

fn pooled(a: Axis) -> bool {
  return a.count >= a.grid;
}

// Walks sources in order without dividing: `start` is the first entry of the current source and
// `frac` = s·r mod G, the part of its exact start (s·R/G) that the floor dropped.
struct Cursor {
  start: u32,
  frac: u32,
}

// s ≤ G < 2^15, so s·r < 2^30.
fn cursor_at(a: Axis, s: u32) -> Cursor {
  if (!pooled(a)) {
    return Cursor(a.first + s, 0u);
  }
  let spill = s * a.r;
  return Cursor(a.first + s * a.q + spill / a.grid, spill % a.grid);
}

fn cursor_next(a: Axis, c: Cursor) -> Cursor {
  if (!pooled(a)) {
    return Cursor(c.start + 1u, 0u);
  }
  let frac = c.frac + a.r;
  let carry = select(0u, 1u, frac >= a.grid);
  return Cursor(c.start + a.q + carry, frac - carry * a.grid);
}

// Zoomed in, the entry under the centre of cell c: floor((2c+1)·R / 2G), with (2c+1)·R < 2^32.
fn source_of_cell(a: Axis, c: u32) -> u32 {
  return select((2u * c + 1u) * a.count / (2u * a.grid), c, pooled(a));
}

// The first cell whose source is ≥ s: zoomed in, the least c with (2c+1)·R ≥ 2·G·s.
fn first_cell_of_source(a: Axis, s: u32) -> u32 {
  return select((2u * a.grid * s + a.count - 1u) / (2u * a.count), s, pooled(a));
}

// ---- reductions -------------------------------------------------------------------------------
// P ≥ 0, so 0 is the identity of both max and +. A mean is taken as a mean of means: each row's sum
// over a column source is divided by its width, then each column's sum over a row source by its height.
fn combine(a: f32, b: f32) -> f32 {
  return select(a + b, max(a, b), params.reduce_max != 0u);
}

// What a sum over `n` entries is scaled by: 1/n for the mean, 1 for the max.
fn scale_for(n: u32) -> f32 {
  return select(1.0 / f32(n), 1.0, params.reduce_max != 0u);
}

// A value accumulated across tiles: (sum, compensation) by Knuth's TwoSum, or (max, 0).
fn accumulate_value(acc: vec2<f32>, v: f32) -> vec2<f32> {
  if (params.reduce_max != 0u) {
    return vec2<f32>(max(acc.x, v), 0.0);
  }
  let s = acc.x + v;
  let z = s - acc.x;
  return vec2<f32>(s, acc.y + ((acc.x - (s - z)) + (v - z)));
}

// P of one tile row for this thread's eight keys, into S; zeros for rows past the tile.
fn store_p_row(r: u32, tr: u32, nr: u32, j0: u32, left: Dot2x4, right: Dot2x4, x: u32) {
  var p_left = vec4<f32>(0.0);
  var p_right = vec4<f32>(0.0);
  if (r < nr) {
    let i = tr + r;
    let st = stats[params.stats_base + i];
    p_left = probabilities4(row_scores(left, i, j0, true), st.x, st.y);
    p_right = probabilities4(row_scores(right, i, j0 + 4u, true), st.x, st.y);
  }
  tile_memory[r * 16u + 2u * x] = p_left;
  tile_memory[r * 16u + 2u * x + 1u] = p_right;
}

// S = P of the tile rows [tr, tr + nr) × columns [tc, tc + nc); zeros where wholly masked (not computed).
fn p_tile(tr: u32, nr: u32, tc: u32, nc: u32, local: vec3<u32>, local_index: u32) {
  let r = 8u * local.y;
  if (tc < visible_keys(tr + nr - 1u)) {
    let t = score_tile(params.q_base + tr * params.d, nr, params.k_base + tc * params.d, nc, local, local_index);
    let j0 = tc + 8u * local.x;
    store_p_row(r, tr, nr, j0, t.upper_left.r0, t.upper_right.r0, local.x);
    store_p_row(r + 1u, tr, nr, j0, t.upper_left.r1, t.upper_right.r1, local.x);
    store_p_row(r + 2u, tr, nr, j0, t.upper_left.r2, t.upper_right.r2, local.x);
    store_p_row(r + 3u, tr, nr, j0, t.upper_left.r3, t.upper_right.r3, local.x);
    store_p_row(r + 4u, tr, nr, j0, t.lower_left.r0, t.lower_right.r0, local.x);
    store_p_row(r + 5u, tr, nr, j0, t.lower_left.r1, t.lower_right.r1, local.x);
    store_p_row(r + 6u, tr, nr, j0, t.lower_left.r2, t.lower_right.r2, local.x);
    store_p_row(r + 7u, tr, nr, j0, t.lower_left.r3, t.lower_right.r3, local.x);
  } else {
    for (var a = 0u; a < 8u; a++) {
      tile_memory[(r + a) * 16u + 2u * local.x] = vec4<f32>(0.0);
      tile_memory[(r + a) * 16u + 2u * local.x + 1u] = vec4<f32>(0.0);
    }
  }
}

// Row r of the tile reduced over each column source, in place: S[r][cl] for the ncx sources from sx_a
// (a source has ≥ 1 column, so cl never overtakes the columns still to read). With one source spanning
// several tiles (multi_cols), the row's plain value over this tile is returned instead.
fn reduce_row_cells(cols: Axis, r: u32, nr: u32, tc: u32, nc: u32, sx_a: u32, ncx: u32, multi_cols: bool) -> f32 {
  var value = 0.0;
  if (r >= nr) {
    return value;
  }
  if (multi_cols) {
    for (var c = 0u; c < nc; c++) {
      value = combine(value, s_get(r, c));
    }
    return value;
  }
  var source = cursor_at(cols, sx_a);
  var c = 0u;
  for (var cl = 0u; cl < ncx; cl++) {
    let next = cursor_next(cols, source);
    var v = 0.0;
    for (; c < next.start - tc; c++) {
      v = combine(v, s_get(r, c));
    }
    s_set(r, cl, v * scale_for(next.start - source.start));
    source = next;
  }
  return value;
}

// Column cl of S reduced down each row source, in place into S[yl][cl]; with one source spanning
// several tiles (multi_rows), the column's plain value over rows [0, nr) is returned instead.
fn reduce_column_cells(rows: Axis, cl: u32, nr: u32, tr: u32, sy_a: u32, ncy: u32, multi_rows: bool) -> f32 {
  var value = 0.0;
  if (multi_rows) {
    for (var r = 0u; r < nr; r++) {
      value = combine(value, s_get(r, cl));
    }
    return value;
  }
  var source = cursor_at(rows, sy_a);
  var r = 0u;
  for (var yl = 0u; yl < ncy; yl++) {
    let next = cursor_next(rows, source);
    var v = 0.0;
    for (; r < next.start - tr; r++) {
      v = combine(v, s_get(r, cl));
    }
    s_set(yl, cl, v * scale_for(next.start - source.start));
    source = next;
  }
  return value;
}

// Writes every requested cell whose source is in this workgroup's block; S[yl][cl] holds the sources.
fn write_cells(rows: Axis, cols: Axis, sy_a: u32, sy_b: u32, sx_a: u32, sx_b: u32, local: vec3<u32>) {
  let y_lo = max(params.cell_y0, first_cell_of_source(rows, sy_a));
  let y_hi = min(params.cell_y1, first_cell_of_source(rows, sy_b));
  let x_lo = max(params.cell_x0, first_cell_of_source(cols, sx_a));
  let x_hi = min(params.cell_x1, first_cell_of_source(cols, sx_b));
  for (var y = y_lo + local.y; y < y_hi; y += 8u) {
    let sy = source_of_cell(rows, y) - sy_a;
    let row = params.out_base + y * params.out_stride;
    for (var x = x_lo + local.x; x < x_hi; x += 8u) {
      out[row + x] = s_get(sy, source_of_cell(cols, x) - sx_a);
    }
  }
}

@compute @workgroup_size(8, 8)
fn tiles(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
         @builtin(local_invocation_index) local_index: u32) {
  let rows = make_axis(params.row0, params.rows, params.grid_h);
  let cols = make_axis(params.col0, params.cols, params.grid_w);
  let sy_a = params.src_y0 + group.y * params.block_h;
  let sy_b = min(sy_a + params.block_h, params.src_y1);
  let sx_a = params.src_x0 + group.x * params.block_w;
  let sx_b = min(sx_a + params.block_w, params.src_x1);
  let ra = cursor_at(rows, sy_a).start;
  let rb = cursor_at(rows, sy_b).start;
  let ca = cursor_at(cols, sx_a).start;
  let cb = cursor_at(cols, sx_b).start;
  let ncy = sy_b - sy_a;
  let ncx = sx_b - sx_a;
  let multi_rows = rb - ra > TILE;  // then this block is a single row source
  let multi_cols = cb - ca > TILE;  // then this block is a single column source

  var row_acc = vec2<f32>(0.0);
  var col_acc = vec2<f32>(0.0);
  for (var tr = ra; tr < rb; tr += TILE) {
    let nr = min(TILE, rb - tr);
    // A block that is one column source accumulates across tiles, where a wholly masked tile (zeros: no
    // change to a max or a sum; the mean divides by the full width) can be left out. So the loop stops at
    // the last visible key: a bound, not a branch, since software rasterizers pay for untaken branches.
    let c_end = select(cb, min(cb, visible_keys(tr + nr - 1u)), multi_cols);
    for (var tc = ca; tc < c_end; tc += TILE) {
      let nc = min(TILE, cb - tc);
      p_tile(tr, nr, tc, nc, local, local_index);
      workgroupBarrier();
      row_acc = accumulate_value(row_acc, reduce_row_cells(cols, local_index, nr, tc, nc, sx_a, ncx, multi_cols));
      workgroupBarrier();
      if (!multi_cols && local_index < ncx) {
        col_acc = accumulate_value(col_acc, reduce_column_cells(rows, local_index, nr, tr, sy_a, ncy, multi_rows));
      }
      workgroupBarrier();
    }
  }

  // Sources that spanned several tiles: finish their reduction from the accumulators.
  if (multi_cols) {
    s_set(local_index, 0u, (row_acc.x + row_acc.y) * scale_for(cb - ca));
    workgroupBarrier();
    if (local_index == 0u) {
      let rows_held = select(rb - ra, TILE, multi_rows);
      let value = reduce_column_cells(rows, 0u, rows_held, ra, sy_a, ncy, multi_rows);
      if (multi_rows) {
        s_set(0u, 0u, value * scale_for(rb - ra));
      }
    }
  } else if (multi_rows && local_index < ncx) {
    s_set(0u, local_index, (col_acc.x + col_acc.y) * scale_for(rb - ra));
  }
  workgroupBarrier();
  write_cells(rows, cols, sy_a, sy_b, sx_a, sx_b, local);
}
