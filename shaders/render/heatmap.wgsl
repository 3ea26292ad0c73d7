// Attention heatmap: draws P [heads, N, M] (float32, row-major) straight from its storage buffer.
//
// Inputs:  weights, the attention-weights buffer itself (no copy, no readback);
//          colormap, a 256×1 rgba8unorm lookup texture read with textureLoad (nearest, exact bytes);
//          view, the camera and the tile layout (src/render/heatmap-layout.ts computes the same tiles).
// Output:  one colour per pixel of the target. One world unit is one cell; key j runs along x, query i
//          along y; shown heads are laid out in `cols` columns, `gap` world units apart.
// Colour:  t = (x − lo) · inv_range with x = v, or log(v) when log_scale; entry floor(t·256) clamped to
//          [0, 255], matplotlib's convention. Non-finite values and the gaps get the background colour.
// Cost:    one full-screen triangle; per pixel one 4-byte read of P and one texel fetch.

struct View {
  center_x: f32,
  center_y: f32,
  scale: f32,         // pixels per world unit
  viewport_w: f32,
  viewport_h: f32,
  queries: u32,
  keys: u32,
  first_head: u32,
  shown_heads: u32,
  cols: u32,
  gap: f32,
  lo: f32,            // vmin, or log(vmin) on the log scale
  inv_range: f32,     // 1 / (vmax − vmin), or 1 / (log vmax − log vmin)
  log_scale: u32,
  background_r: f32,
  background_g: f32,
  background_b: f32,
}

@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var colormap: texture_2d<f32>;
@group(0) @binding(2) var<uniform> view: View;

// Smallest value the log scale takes the logarithm of: keeps log() finite for zeros.
const LOG_FLOOR: f32 = 1e-30;

// One triangle that covers the whole target: (-1,-1), (3,-1), (-1,3).
@vertex
fn vertex_main(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
  let corner = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

fn background() -> vec4<f32> {
  return vec4<f32>(view.background_r, view.background_g, view.background_b, 1.0);
}

@fragment
fn fragment_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  // position.xy is the pixel centre (x + 0.5, y + 0.5), y down: the camera's pixel convention.
  let half_viewport = 0.5 * vec2<f32>(view.viewport_w, view.viewport_h);
  let world = vec2<f32>(view.center_x, view.center_y) + (position.xy - half_viewport) / view.scale;
  let size = vec2<f32>(f32(view.keys), f32(view.queries));
  let pitch = size + view.gap;
  let tile = floor(world / pitch);
  let local = world - tile * pitch;
  if (any(world < vec2<f32>(0.0)) || tile.x >= f32(view.cols) || any(local >= size)) {
    return background();
  }
  let slot = u32(tile.y) * view.cols + u32(tile.x);
  if (tile.y >= f32(view.shown_heads) || slot >= view.shown_heads) {
    return background();
  }
  // min() guards against local rounding up to exactly `size` in f32.
  let key = min(u32(local.x), view.keys - 1u);
  let query = min(u32(local.y), view.queries - 1u);
  let value = weights[((view.first_head + slot) * view.queries + query) * view.keys + key];
  if (!is_finite_f32(value)) {
    return background();
  }
  let x = select(value, log(max(value, LOG_FLOOR)), view.log_scale != 0u);
  let t = clamp((x - view.lo) * view.inv_range, 0.0, 1.0);
  let entry = min(u32(floor(t * 256.0)), 255u);
  return textureLoad(colormap, vec2<u32>(entry, 0u), 0);
}
