// Feature-map grid: every channel of one layer, drawn straight from the activation buffer.
//
// Inputs:  group 0 (shared by every layer's draw)
//            stats, the per-channel statistics records (src/reference/channel-stats.ts layout);
//            colormap, a 256×1 rgba8unorm lookup texture read with textureLoad (exact bytes);
//            overlay, the input image (1×1 when none) and its linear sampler;
//            view, the camera and the display settings.
//          group 1 (one per layer)
//            activations, the layer's float32 buffer (or the range of it that holds the batch item,
//            when the whole buffer exceeds the binding limit), indexed with element strides, so NHWC
//            and NCHW cost the same;
//            layer, its geometry, strides and offsets.
// Output:  one instanced draw per layer, instance = one row of maps: six vertices make the quad from the
//          left edge of the row's first map to the right edge of its last (src/render/feature-grid/
//          grid-layout.ts mapRect: channel 0's rectangle plus column/row × cell pitch); the fragment finds
//          its column, hence its channel, from its world x and leaves the gaps between maps unwritten.
//          Colour = colormap[floor(t·256)], t from feature_normalized; NaN/±Inf in non_finite; then the
//          overlay mixed in by overlay_opacity.
// Why rows: a quad per map made thousands of tiny triangles per layer, and their setup, not the pixels,
//          was then most of the draw (4,096 maps on SwiftShader: ~120 ms a draw; by rows ~45 ms).
// Cost:    per pixel 16 bytes of the channel's statistics record (of the layer's with MODE 1), one 4-byte
//          read (nearest) or four (BILINEAR) and one texel fetch (two with an overlay).

struct View {
  center_x: f32,
  center_y: f32,
  scale: f32,          // pixels per world unit
  viewport_w: f32,
  viewport_h: f32,
  robust_k: f32,
  non_finite_r: f32,
  non_finite_g: f32,
  non_finite_b: f32,
  overlay_opacity: f32, // 0 when there is no overlay
}

struct Layer {
  first_x: f32,        // world rectangle of channel 0's map
  first_y: f32,
  map_w: f32,
  map_h: f32,
  pitch: f32,          // world units from one cell to the next
  columns: u32,
  height: u32,
  width: u32,
  stride_y: u32,       // element strides
  stride_x: u32,
  stride_channel: u32,
  element_offset: u32, // the batch item's first element, counted from the start of the bound range
  stats_offset: u32,   // record index of channel 0; the layer's record follows the last channel's
  channels: u32,
}

// Shader variants (one pipeline each): BILINEAR samples four texels instead of the nearest; OVERLAY mixes
// the input image in; MODE is the normalization (NORMALIZATION_MODES index). Constants rather than
// uniforms, so that the branches a frame does not take are not compiled (a CPU-backed adapter otherwise
// runs every side of a branch under a lane mask, loads included).
override BILINEAR: bool = false;
override OVERLAY: bool = false;
override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read> stats: array<StatsRecord>;
@group(0) @binding(1) var colormap: texture_2d<f32>;
@group(0) @binding(2) var overlay: texture_2d<f32>;
@group(0) @binding(3) var overlay_sampler: sampler;
@group(0) @binding(4) var<uniform> view: View;
@group(1) @binding(0) var<storage, read> activations: array<f32>;
@group(1) @binding(1) var<uniform> layer: Layer;

struct Varyings {
  @builtin(position) position: vec4<f32>,
  // World position relative to the row's first map's top-left corner: x runs across the row's cells.
  @location(0) local: vec2<f32>,
  @location(1) @interpolate(flat) row: u32,
}

@vertex
fn vertex_main(@builtin(vertex_index) vertex: u32, @builtin(instance_index) row: u32) -> Varyings {
  // Two triangles: (0,0) (1,0) (0,1) and (0,1) (1,0) (1,1).
  let corner_x = array<f32, 6>(0.0, 1.0, 0.0, 0.0, 1.0, 1.0);
  let corner_y = array<f32, 6>(0.0, 0.0, 1.0, 1.0, 0.0, 1.0);
  let maps = min(layer.columns, layer.channels - row * layer.columns);
  let size = vec2<f32>(f32(maps - 1u) * layer.pitch + layer.map_w, layer.map_h);
  let local = vec2<f32>(corner_x[vertex], corner_y[vertex]) * size;
  let world = vec2<f32>(layer.first_x, layer.first_y + f32(row) * layer.pitch) + local;
  let half_viewport = 0.5 * vec2<f32>(view.viewport_w, view.viewport_h);
  let pixel = (world - vec2<f32>(view.center_x, view.center_y)) * view.scale;
  var out: Varyings;
  out.position = vec4<f32>(pixel.x / half_viewport.x, -pixel.y / half_viewport.y, 0.0, 1.0);
  out.local = local;
  out.row = row;
  return out;
}

fn activation(channel: u32, y: u32, x: u32) -> f32 {
  return activations[layer.element_offset + y * layer.stride_y + x * layer.stride_x + channel * layer.stride_channel];
}

// The value range of a channel that its normalization maps onto the colormap: 0 the channel's min..max,
// 1 the layer's, 2 ±max|v| of the channel, 3 the channel's mean ± k·std. Only the vec4 of the record
// that the mode needs is read (on SwiftShader, reading both records per pixel was 40% of the draw).
fn range_of(channel: u32) -> vec2<f32> {
  let record = layer.stats_offset + channel;
  switch MODE {
    case 1u: { return stats[layer.stats_offset + layer.channels].lo4.xy; }
    case 2u: { let m = stats[record].hi4.z; return vec2<f32>(-m, m); }
    case 3u: {
      let r = stats[record].lo4;
      return vec2<f32>(r.z - view.robust_k * r.w, r.z + view.robust_k * r.w);
    }
    default: { return stats[record].lo4.xy; }
  }
}

// The four texels around p (in texel units, centres at i + 0.5), weighted by distance; non-finite ones
// get weight 0 and the rest are renormalized, so one NaN does not spread over its neighbours' area.
fn bilinear(channel: u32, p: vec2<f32>) -> f32 {
  let q = p - 0.5;
  let base = floor(q);
  let f = q - base;
  let last = vec2<i32>(i32(layer.width) - 1, i32(layer.height) - 1);
  var sum = 0.0;
  var weight = 0.0;
  for (var k = 0u; k < 4u; k++) {
    let offset = vec2<u32>(k & 1u, k >> 1u);
    let texel = vec2<u32>(clamp(vec2<i32>(base) + vec2<i32>(offset), vec2<i32>(0), last));
    let v = activation(channel, texel.y, texel.x);
    let w = select(1.0 - f.x, f.x, offset.x == 1u) * select(1.0 - f.y, f.y, offset.y == 1u);
    if (is_finite_f32(v)) {
      sum += w * v;
      weight += w;
    }
  }
  return sum / weight; // weight > 0: the caller checked that the nearest texel is finite
}

@fragment
fn fragment_main(in: Varyings) -> @location(0) vec4<f32> {
  let column = min(u32(max(floor(in.local.x / layer.pitch), 0.0)), layer.columns - 1u);
  let uv = vec2<f32>((in.local.x - f32(column) * layer.pitch) / layer.map_w, in.local.y / layer.map_h);
  let channel = in.row * layer.columns + column;
  if (uv.x >= 1.0 || channel >= layer.channels) {
    discard; // the gap between two maps
  }
  let range = range_of(channel);
  let size = vec2<f32>(f32(layer.width), f32(layer.height));
  let p = clamp(uv, vec2<f32>(0.0), vec2<f32>(1.0)) * size;
  // min() guards against uv rounding up to exactly 1 at the far edge.
  let nearest = min(vec2<u32>(p), vec2<u32>(layer.width - 1u, layer.height - 1u));
  var value = activation(channel, nearest.y, nearest.x);
  var colour: vec3<f32>;
  if (!is_finite_f32(value)) {
    colour = vec3<f32>(view.non_finite_r, view.non_finite_g, view.non_finite_b);
  } else {
    if (BILINEAR) {
      value = bilinear(channel, p);
    }
    let t = feature_normalized(value, range);
    let entry = min(u32(floor(t * 256.0)), 255u);
    colour = textureLoad(colormap, vec2<u32>(entry, 0u), 0).rgb;
  }
  if (OVERLAY) {
    let image = textureSampleLevel(overlay, overlay_sampler, uv, 0.0).rgb;
    colour = mix(colour, image, view.overlay_opacity);
  }
  return vec4<f32>(colour, 1.0);
}
