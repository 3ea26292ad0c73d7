// Attention links: one line per drawn (group g, i, j), read straight from a weights buffer: a 1-pixel line
// primitive where the link is at most a pixel wide (hairline_vertex), else a quad (link_vertex).
// Needs numerics.wgsl and links.wgsl (the Links struct, group 0's bindings 0..2, link_alpha, link_width).
//
// Inputs:  weights, float32 [groups, n, n] row-major somewhere in a storage buffer, starting at element
//          `element_offset` (a layer of [L, H, n, n] is an offset, not a binding offset);
//          colours, one premultiplied-ready RGBA per group (alpha 0 turns the group off);
//          links, the arrangement in target pixels (y down): end A of link (g, i, j) sits at
//          a_origin + g·group_step + i·a_step, end B at b_origin + g·group_step + j·b_step.
//          The head view puts queries (i) in a left column and keys (j) in a right one, with group_step 0;
//          the layered graph puts node (l+1, i) above node (l, j), one row per layer (group_step ≠ 0);
//          drawn, the links to draw, listed by link-compaction.wgsl in the same submit: hairlines, then
//          wider links, each in link order, and every group's run of each.
// Output:  a line of width max(min_width, p·max_width) pixels and opacity p·opacity, premultiplied, for
//          blending with (one, one-minus-src-alpha) so that overlapping heads mix, a later group over an
//          earlier one: each group's hairlines, then its wider links (one colour per group, for which
//          "over" commutes: see link-compaction.wgsl). A hairline covers one pixel per step along its
//          longer axis (a line primitive), where a 1-pixel quad covers 1/cos θ of them. Not drawn
//          (link_alpha is 0, so the compaction leaves them out): a link below the threshold, of a disabled
//          group, outside the focused row/column, or non-finite; and a link whose opacity is below
//          invisible_alpha: half a step of an 8-bit target (0 for others). Blending that one would move a
//          channel by |c·α − dst·α| ≤ α < half a step, which rounds back to the byte that was there, so it
//          cannot change a pixel; at n = 512 most links of a softmax row are that faint.
// Cost:    two indirect draws per group: 2 vertices per hairline (a line list) and 6 per wider link (a
//          triangle list), pulled by vertex index; each vertex reads its link, P and the colour; the fragment
//          stage only passes the flat colour through. On SwiftShader hairlines cut a frame of 12 heads at
//          n = 512, almost all of whose links are thinner than a pixel, by ~30%.
//          Only drawn links reach the vertex stage: on SwiftShader six invocations for each of 12·n² links,
//          most of them above the causal diagonal or too faint, were most of a frame. Not instanced: there,
//          196,608 instanced four-vertex strips (12 heads, n = 128) took 8.5 s of GPU time a frame, a list 2.5 s.
// Nodes (layered graph only): node (l, i) at b_origin + l·group_step + i·b_step, a square of node_size
//          pixels (six vertices each) coloured through the colormap from node_values, or node_rgb where a node has no value.

@group(0) @binding(3) var<storage, read> drawn: array<u32>; // the drawn links in order (link-compaction.wgsl)
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

// Where the ends of link (g, i, j) are, in target pixels.
fn link_points(ends: LinkEnds) -> array<vec2<f32>, 2> {
  let shift = f32(ends.g) * vec2<f32>(links.group_step_x, links.group_step_y);
  let a = vec2<f32>(links.a_origin_x, links.a_origin_y) + shift + f32(ends.i) * vec2<f32>(links.a_step_x, links.a_step_y);
  let b = vec2<f32>(links.b_origin_x, links.b_origin_y) + shift + f32(ends.j) * vec2<f32>(links.b_step_x, links.b_step_y);
  return array<vec2<f32>, 2>(a, b);
}

fn link_colour(link: u32, ends: LinkEnds) -> vec4<f32> {
  let alpha = link_alpha(link);
  return vec4<f32>(colours[ends.g * links.colour_stride].rgb * alpha, alpha);
}

// A link wider than a pixel: a quad of two triangles, 6 vertices.
@vertex
fn link_vertex(@builtin(vertex_index) vertex: u32) -> Flat {
  let link = drawn[vertex / 6u];
  let corner = QUAD_CORNERS[vertex % 6u];
  let ends = link_ends(link);
  let points = link_points(ends);
  let along = points[1] - points[0];
  let normal = vec2<f32>(-along.y, along.x) / max(length(along), 1e-6);
  let width = link_width(weights[links.element_offset + link]);
  let end = points[select(0u, 1u, corner >= 2u)];
  let side = select(-0.5, 0.5, (corner & 1u) == 1u);
  return Flat(to_clip(end + side * width * normal), link_colour(link, ends));
}

// A link at most a pixel wide: a 1-pixel line primitive, 2 vertices.
@vertex
fn hairline_vertex(@builtin(vertex_index) vertex: u32) -> Flat {
  let link = drawn[vertex / 2u];
  let ends = link_ends(link);
  return Flat(to_clip(link_points(ends)[vertex & 1u]), link_colour(link, ends));
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
