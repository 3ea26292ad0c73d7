// Attention links: one quad per (group g, i, j), read straight from a weights buffer.
//
// Inputs:  weights, float32 [groups, n, n] row-major somewhere in a storage buffer, starting at element
//          `element_offset` (a layer of [L, H, n, n] is an offset, not a binding offset);
//          colours, one premultiplied-ready RGBA per group (alpha 0 turns the group off);
//          links, the arrangement in target pixels (y down): end A of link (g, i, j) sits at
//          a_origin + g·group_step + i·a_step, end B at b_origin + g·group_step + j·b_step.
//          The head view puts queries (i) in a left column and keys (j) in a right one, with group_step 0;
//          the layered graph puts node (l+1, i) above node (l, j), one row per layer (group_step ≠ 0).
// Output:  a line of width max(min_width, p·max_width) pixels and opacity p·opacity, premultiplied, for
//          blending with (one, one-minus-src-alpha) so that overlapping heads mix. A link below the
//          threshold, of a disabled group, outside the focused row/column, or non-finite collapses to a
//          degenerate quad (four equal corners: no fragments). So does a link whose opacity is below
//          invisible_alpha: half a step of an 8-bit target (0 for others). Blending it would move a channel
//          by |c·α − dst·α| ≤ α < half a step, which rounds back to the byte that was there, so it cannot
//          change a pixel; at n = 512 most links of a softmax row are that faint.
// Cost:    draw(6·groups·n²), a triangle list pulled by vertex index (link = vertex / 6): six vertex
//          invocations per link, one 4-byte read of P and one 16-byte colour read each; the fragment stage
//          only passes the flat colour through. Not instanced: on SwiftShader, 196,608 instanced
//          four-vertex strips (12 heads, n = 128) took 8.5 s of GPU time a frame, this list 2.5 s.
// Nodes (layered graph only): node (l, i) at b_origin + l·group_step + i·b_step, a square of node_size
//          pixels (six vertices each) coloured through the colormap from node_values, or node_rgb where a node has no value.

struct Links {
  viewport_w: f32,
  viewport_h: f32,
  a_origin_x: f32,
  a_origin_y: f32,
  a_step_x: f32,
  a_step_y: f32,
  b_origin_x: f32,
  b_origin_y: f32,
  b_step_x: f32,
  b_step_y: f32,
  group_step_x: f32,
  group_step_y: f32,
  tokens: u32,         // n
  per_group: u32,      // n², precomputed so a vertex does one division less
  element_offset: u32,
  colour_stride: u32,  // 1: one colour per group (heads); 0: every group takes colour 0
  threshold: f32,
  min_width: f32,
  max_width: f32,
  opacity: f32,
  invisible_alpha: f32, // links fainter than this change no pixel of the target (see Output)
  focus_a: i32,        // keep only links with i == focus_a (−1: all)
  focus_b: i32,        // keep only links with j == focus_b (−1: all)
  node_size: f32,
  node_offset: u32,    // element of node_values holding node (0, 0)
  node_layers: u32,    // layers with values: 0 none, 1 the input row only, groups + 1 every layer
  node_lo: f32,
  node_inv_range: f32,
  node_r: f32,         // colour of nodes without a value
  node_g: f32,
  node_b: f32,
}

@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> colours: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> links: Links;
@group(1) @binding(0) var<storage, read> node_values: array<f32>;
@group(1) @binding(1) var colormap: texture_2d<f32>;

struct Flat {
  @builtin(position) position: vec4<f32>,
  @location(0) @interpolate(flat) colour: vec4<f32>,
}

fn to_clip(pixel: vec2<f32>) -> vec4<f32> {
  let ndc = pixel / vec2<f32>(links.viewport_w, links.viewport_h) * 2.0 - 1.0;
  return vec4<f32>(ndc.x, -ndc.y, 0.0, 1.0);
}

// Corners of a link's two triangles: 0 = A−, 1 = A+, 2 = B−, 3 = B+.
const QUAD_CORNERS = array<u32, 6>(0u, 1u, 2u, 1u, 3u, 2u);

fn collapsed() -> Flat {
  return Flat(vec4<f32>(2.0, 2.0, 0.0, 1.0), vec4<f32>(0.0));
}

@vertex
fn link_vertex(@builtin(vertex_index) vertex: u32) -> Flat {
  let link = vertex / 6u;
  let corner = QUAD_CORNERS[vertex - link * 6u];
  let g = link / links.per_group;
  let within = link - g * links.per_group;
  let i = within / links.tokens;
  let j = within - i * links.tokens;
  let p = weights[links.element_offset + link];
  let colour = colours[g * links.colour_stride];
  let focused = (links.focus_a < 0 || u32(links.focus_a) == i) && (links.focus_b < 0 || u32(links.focus_b) == j);
  let alpha = clamp(p * links.opacity, 0.0, 1.0) * colour.a;
  if (!is_finite_f32(p) || p <= 0.0 || p < links.threshold || alpha <= 0.0 || alpha < links.invisible_alpha || !focused) {
    return collapsed();
  }
  let shift = f32(g) * vec2<f32>(links.group_step_x, links.group_step_y);
  let a = vec2<f32>(links.a_origin_x, links.a_origin_y) + shift + f32(i) * vec2<f32>(links.a_step_x, links.a_step_y);
  let b = vec2<f32>(links.b_origin_x, links.b_origin_y) + shift + f32(j) * vec2<f32>(links.b_step_x, links.b_step_y);
  let along = b - a;
  let normal = vec2<f32>(-along.y, along.x) / max(length(along), 1e-6);
  let width = max(links.min_width, min(p, 1.0) * links.max_width);
  let end = select(a, b, corner >= 2u);
  let side = select(-0.5, 0.5, (corner & 1u) == 1u);
  return Flat(to_clip(end + side * width * normal), vec4<f32>(colour.rgb * alpha, alpha));
}

@vertex
fn node_vertex(@builtin(vertex_index) vertex: u32) -> Flat {
  let node = vertex / 6u;
  let corner = QUAD_CORNERS[vertex - node * 6u];
  let l = node / links.tokens;
  let i = node - l * links.tokens;
  let centre = vec2<f32>(links.b_origin_x, links.b_origin_y)
    + f32(l) * vec2<f32>(links.group_step_x, links.group_step_y)
    + f32(i) * vec2<f32>(links.b_step_x, links.b_step_y);
  var colour = vec4<f32>(links.node_r, links.node_g, links.node_b, 1.0);
  if (l < links.node_layers) {
    let value = node_values[links.node_offset + node];
    if (is_finite_f32(value)) {
      let t = clamp((value - links.node_lo) * links.node_inv_range, 0.0, 1.0);
      colour = textureLoad(colormap, vec2<u32>(min(u32(floor(t * 256.0)), 255u), 0u), 0);
    }
  }
  let offset = (vec2<f32>(f32(corner & 1u), f32(corner >> 1u)) - 0.5) * links.node_size;
  return Flat(to_clip(centre + offset), colour);
}

@fragment
fn fragment_main(input: Flat) -> @location(0) vec4<f32> {
  return input.colour;
}
