// Neuron view: draws the panel that shaders/compute/neuron-panel.wgsl wrote, straight from its buffer.
//
// Inputs:  panel, its display region [H, R] (R = 3·dh + 2·n) starting at display_base;
//          diverging, a 256×1 colormap for q, k, q⊙k and the scores (values in [−1, 1]);
//          sequential, a 256×1 colormap for the P row (values in [0, 1]); view, the geometry below.
// Layout:  pixels; a gutter of `gutter` pixels on the left (DOM row labels), then one block per head, stacked
//          down: a title band `title` pixels high (DOM text: head, s_ij, P_ij), then five rows of square
//          cells `cell` pixels wide: q, k, q⊙k (dh cells), s and P (n cells). src/render/neuron-view/layout.ts
//          computes the same geometry for the labels and the tests.
// Colour:  entry floor(t·256) clamped to [0, 255] with t = (v + 1)/2 (diverging) or t = v (P); non-finite
//          values (masked scores, −inf) get the masked colour; key j's cells in the s and P rows get a
//          border of `border` pixels in the highlight colour.
// Cost:    one full-screen triangle; per pixel one 4-byte read and one texel fetch.

struct View {
  heads: u32,
  n: u32,
  dh: u32,
  row_length: u32,
  display_base: u32,
  key: u32,
  gutter: f32,
  title: f32,
  cell: f32,
  border: f32,
  background_r: f32,
  background_g: f32,
  background_b: f32,
  masked_r: f32,
  masked_g: f32,
  masked_b: f32,
  highlight_r: f32,
  highlight_g: f32,
  highlight_b: f32,
}

@group(0) @binding(0) var<storage, read> panel: array<f32>;
@group(0) @binding(1) var diverging: texture_2d<f32>;
@group(0) @binding(2) var sequential: texture_2d<f32>;
@group(0) @binding(3) var<uniform> view: View;

const ROWS: u32 = 5u;  // q, k, q⊙k, s, P
const SCORES_ROW: u32 = 3u;
const WEIGHTS_ROW: u32 = 4u;

@vertex
fn vertex_main(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
  let corner = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

fn rgb(r: f32, g: f32, b: f32) -> vec4<f32> {
  return vec4<f32>(r, g, b, 1.0);
}

fn lookup(map: texture_2d<f32>, t: f32) -> vec4<f32> {
  let entry = min(u32(floor(clamp(t, 0.0, 1.0) * 256.0)), 255u);
  return textureLoad(map, vec2<u32>(entry, 0u), 0);
}

@fragment
fn fragment_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let background = rgb(view.background_r, view.background_g, view.background_b);
  let block = view.title + f32(ROWS) * view.cell;
  let x = position.x - view.gutter;
  let head_f = floor(position.y / block);
  let y = position.y - head_f * block - view.title;
  if (x < 0.0 || y < 0.0 || head_f >= f32(view.heads)) {
    return background;
  }
  let col_f = floor(x / view.cell);
  let row = min(u32(y / view.cell), ROWS - 1u);
  let width = select(view.dh, view.n, row >= SCORES_ROW);
  if (col_f >= f32(width)) {
    return background;
  }
  let col = u32(col_f);
  let head = u32(head_f);
  let offset = select(row * view.dh, 3u * view.dh + (row - SCORES_ROW) * view.n, row >= SCORES_ROW);
  if (row >= SCORES_ROW && col == view.key) {
    let local = vec2<f32>(x - col_f * view.cell, y - f32(row) * view.cell);
    if (any(local < vec2<f32>(view.border)) || any(local >= vec2<f32>(view.cell - view.border))) {
      return rgb(view.highlight_r, view.highlight_g, view.highlight_b);
    }
  }
  let value = panel[view.display_base + head * view.row_length + offset + col];
  if ((bitcast<u32>(value) & 0x7f800000u) == 0x7f800000u) {
    return rgb(view.masked_r, view.masked_g, view.masked_b);
  }
  if (row == WEIGHTS_ROW) {
    return lookup(sequential, value);
  }
  return lookup(diverging, 0.5 * (value + 1.0));
}
