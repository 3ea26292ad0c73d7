// Long-sequence explorer: draws computed tiles of exact attention straight from the tile atlas.
//
// Inputs:  atlas, slots of TILE_CELLS² floats written by the attention-tiles kernel (no copy, no readback);
//          tiles, one TileInstance per tile to draw this frame, coarse levels first so finer ones cover
//          them; colormap, a 256×1 rgba8unorm texture; view, the camera and the colour scale.
// Output:  instanced quads, one per tile, in world units of entries (key j along x, query i along y).
//          Cell rows not yet computed are discarded, so the coarser tile beneath shows through.
// Cost:    per covered pixel one 4-byte read of the atlas and one texel fetch.

struct View {
  center_x: f32,
  center_y: f32,
  scale: f32,         // pixels per entry
  viewport_w: f32,
  viewport_h: f32,
  lo: f32,            // vmin, or log(vmin) on the log scale
  inv_range: f32,     // 1 / (vmax − vmin), or 1 / (log vmax − log vmin)
  log_scale: u32,
}

struct TileInstance {
  x0: f32,
  y0: f32,
  x1: f32,
  y1: f32,
  slot: u32,
  width: u32,         // cells across
  height: u32,        // cells down
  rows_ready: u32,    // cell rows [0, rows_ready) are computed
}

const TILE_CELLS: u32 = 256u;
const LOG_FLOOR: f32 = 1e-30;

@group(0) @binding(0) var<storage, read> atlas: array<f32>;
@group(0) @binding(1) var<storage, read> tiles: array<TileInstance>;
@group(0) @binding(2) var colormap: texture_2d<f32>;
@group(0) @binding(3) var<uniform> view: View;

struct Varyings {
  @builtin(position) position: vec4<f32>,
  @location(0) uv: vec2<f32>,
  @location(1) @interpolate(flat) tile: u32,
}

@vertex
fn vertex_main(@builtin(vertex_index) vertex: u32, @builtin(instance_index) instance: u32) -> Varyings {
  // Two triangles: corners (0,0) (1,0) (0,1) / (0,1) (1,0) (1,1).
  let corner = vec2<f32>(f32((0x32u >> vertex) & 1u), f32((0x2cu >> vertex) & 1u));
  let t = tiles[instance];
  let world = mix(vec2<f32>(t.x0, t.y0), vec2<f32>(t.x1, t.y1), corner);
  let pixel = (world - vec2<f32>(view.center_x, view.center_y)) * view.scale
            + 0.5 * vec2<f32>(view.viewport_w, view.viewport_h);
  let clip = pixel / vec2<f32>(view.viewport_w, view.viewport_h) * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0);
  return Varyings(vec4<f32>(clip, 0.0, 1.0), corner, instance);
}

@fragment
fn fragment_main(in: Varyings) -> @location(0) vec4<f32> {
  let t = tiles[in.tile];
  let cell = min(vec2<u32>(in.uv * vec2<f32>(f32(t.width), f32(t.height))), vec2<u32>(t.width - 1u, t.height - 1u));
  if (cell.y >= t.rows_ready) {
    discard;
  }
  let value = atlas[t.slot * TILE_CELLS * TILE_CELLS + cell.y * t.width + cell.x];
  let x = select(value, log(max(value, LOG_FLOOR)), view.log_scale != 0u);
  let s = clamp((x - view.lo) * view.inv_range, 0.0, 1.0);
  return textureLoad(colormap, vec2<u32>(min(u32(floor(s * 256.0)), 255u), 0u), 0);
}
