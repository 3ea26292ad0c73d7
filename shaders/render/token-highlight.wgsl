// Token highlighting: one instanced quad per token behind the text, coloured by values[offset + t] read
// straight from the values buffer (an attention row, a rollout row: no copy, no readback).
// Needs numerics.wgsl (is_finite_f32).
//
// Inputs:  values, any float32 buffer; the n tokens use values[offset .. offset + n);
//          rects [n] (x, y, width, height) of each token's span in CSS pixels relative to the canvas box,
//          measured on layout and resize only (src/render/token-highlight.ts);
//          colormap, a 256×1 rgba8unorm lookup texture; view, the canvas's CSS size and the value range.
// Colour:  t = (v − vmin) / (vmax − vmin), entry floor(t·256) clamped to [0, 255]; drawn with alpha
//          `opacity` over the cleared background, so dark text stays readable on the lighter mix.
//          Non-finite values draw nothing (alpha 0).
// vmax 'max': with view.automatic_vmax = 1, `find_vmax_main` (one workgroup, recorded before the draw)
//          writes the largest finite value of the n into found_vmax, which the vertex stage uses as vmax;
//          vmin + 1 when none is above vmin (all ≤ vmin or non-finite). That one-float buffer is bound
//          twice, read_write for the kernel and read for the vertex stage, which cannot bind writable storage.
// Cost:    6 vertices per token, one value read and one texel fetch per vertex; a few pixels per fragment.
//          The automatic vmax adds n reads and a 64-lane reduction per frame.

struct View {
  offset: u32,
  count: u32,
  css_width: f32,
  css_height: f32,
  lo: f32,
  inv_range: f32,
  automatic_vmax: u32,
  opacity: f32,
}

struct Varyings {
  @builtin(position) position: vec4<f32>,
  @location(0) @interpolate(flat) colour: vec4<f32>,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> rects: array<vec4<f32>>;
@group(0) @binding(2) var colormap: texture_2d<f32>;
@group(0) @binding(3) var<uniform> view: View;
@group(0) @binding(4) var<storage, read_write> found_vmax_out: f32;
@group(0) @binding(5) var<storage, read> found_vmax: f32;

// Two triangles: (0,0) (1,0) (0,1) and (0,1) (1,0) (1,1).
const CORNERS = array<vec2<f32>, 6>(vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0), vec2(0.0, 1.0), vec2(1.0, 0.0), vec2(1.0, 1.0));
const REDUCE_LANES = 64u;

var<workgroup> lane_max: array<f32, REDUCE_LANES>;

@vertex
fn vertex_main(@builtin(vertex_index) vertex: u32, @builtin(instance_index) token: u32) -> Varyings {
  let rect = rects[token];
  let css = rect.xy + CORNERS[vertex] * rect.zw;
  let clip = vec2<f32>(css.x / view.css_width * 2.0 - 1.0, 1.0 - css.y / view.css_height * 2.0);
  let value = values[view.offset + token];
  var colour = vec4<f32>(0.0);
  if (is_finite_f32(value)) {
    var inv_range = view.inv_range;
    if (view.automatic_vmax != 0u) {
      inv_range = 1.0 / (found_vmax - view.lo);
    }
    let t = clamp((value - view.lo) * inv_range, 0.0, 1.0);
    let entry = min(u32(floor(t * 256.0)), 255u);
    colour = vec4<f32>(textureLoad(colormap, vec2<u32>(entry, 0u), 0).rgb, view.opacity);
  }
  return Varyings(vec4<f32>(clip, 0.0, 1.0), colour);
}

@fragment
fn fragment_main(in: Varyings) -> @location(0) vec4<f32> {
  return in.colour;
}

// One workgroup: each lane takes every 64th value, then a tree reduction. Lanes start at vmin, so a result
// still equal to vmin means no finite value was above it.
@compute @workgroup_size(REDUCE_LANES)
fn find_vmax_main(@builtin(local_invocation_index) lane: u32) {
  var best = view.lo;
  for (var t = lane; t < view.count; t += REDUCE_LANES) {
    let value = values[view.offset + t];
    if (is_finite_f32(value)) {
      best = max(best, value);
    }
  }
  lane_max[lane] = best;
  workgroupBarrier();
  for (var stride = REDUCE_LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      lane_max[lane] = max(lane_max[lane], lane_max[lane + stride]);
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    let top = lane_max[0];
    found_vmax_out = select(view.lo + 1.0, top, top > view.lo);
  }
}
