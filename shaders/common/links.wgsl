// The links' arrangement and the rule for which links are drawn, shared by the link views' render shader
// (shaders/render/attention-links.wgsl, which says what every field means) and the compaction that lists
// the drawn links before the draw (shaders/compute/link-compaction.wgsl).
// Needs numerics.wgsl (is_finite_f32).

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
  link_count: u32,     // groups · n²: the links to consider
  element_offset: u32,
  colour_stride: u32,  // 1: one colour per group (heads); 0: every group takes colour 0
  threshold: f32,
  min_width: f32,
  max_width: f32,
  opacity: f32,
  invisible_alpha: f32, // links fainter than this change no pixel of the target (attention-links.wgsl, Output)
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

struct LinkEnds {
  g: u32,
  i: u32,
  j: u32,
}

fn link_ends(link: u32) -> LinkEnds {
  let g = link / links.per_group;
  let within = link - g * links.per_group;
  let i = within / links.tokens;
  return LinkEnds(g, i, within - i * links.tokens);
}

// A link's width in target pixels.
fn link_width(p: f32) -> f32 {
  return max(links.min_width, min(p, 1.0) * links.max_width);
}

// Whether link `link` is drawn as a hairline, a 1-pixel line primitive: it is at most a pixel wide. On
// SwiftShader, 2 vertices and a line's one pixel per step of its longer axis cost ~30% less a frame than a
// quad's 6 vertices and its wider diagonal footprint (12 heads, n = 512), and most links are that thin.
fn is_hairline(link: u32) -> bool {
  return link_width(weights[links.element_offset + link]) <= 1.0;
}

// The opacity link `link` is drawn with; 0 when it is not drawn: a weight that is not finite, ≤ 0 or below
// the threshold, a group turned off, outside the focused row/column, or fainter than invisible_alpha.
fn link_alpha(link: u32) -> f32 {
  let p = weights[links.element_offset + link];
  let ends = link_ends(link);
  let colour = colours[ends.g * links.colour_stride];
  let focused = (links.focus_a < 0 || u32(links.focus_a) == ends.i) && (links.focus_b < 0 || u32(links.focus_b) == ends.j);
  let alpha = clamp(p * links.opacity, 0.0, 1.0) * colour.a;
  if (!is_finite_f32(p) || p <= 0.0 || p < links.threshold || alpha <= 0.0 || alpha < links.invisible_alpha || !focused) {
    return 0.0;
  }
  return alpha;
}
