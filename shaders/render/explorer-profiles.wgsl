// Long-sequence explorer: the profiles along the axes, drawn from their GPU buffers.
//
// Inputs:  column_sums [heads, nk]: attention each key receives, Σ_i P_ij (0 .. nq);
//          entropy [heads, nq]: each query row's entropy in nats (0 .. log nk); both from attention-profiles.
// Output:  a strip `strip` pixels tall along the top (keys, bar height log(1 + Σ_i P_ij) / log(1 + nq)) and
//          one as wide down the left (queries, bar length H_i / log nk), aligned with the matrix under the
//          camera. Other pixels are discarded. Each pixel shows the largest value among the (up to 32,
//          evenly spaced) entries it covers.
// Cost:    one full-screen triangle; per strip pixel up to 32 reads.

struct ProfileView {
  center_x: f32,
  center_y: f32,
  scale: f32,
  viewport_w: f32,
  viewport_h: f32,
  strip: f32,
  nq: u32,
  nk: u32,
  head: u32,
}

@group(0) @binding(0) var<storage, read> column_sums: array<f32>;
@group(0) @binding(1) var<storage, read> entropy: array<f32>;
@group(0) @binding(2) var<uniform> view: ProfileView;

const SAMPLES: u32 = 32u;
const BAR = vec4<f32>(0.85, 0.85, 0.85, 1.0);
const STRIP_BACKGROUND = vec4<f32>(0.07, 0.07, 0.07, 1.0);

@vertex
fn vertex_main(@builtin(vertex_index) index: u32) -> @builtin(position) vec4<f32> {
  let corner = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

// The entries [first, end) that pixel coordinate `p` covers along an axis centred at `center`; first = n
// when the pixel lies wholly outside the matrix.
fn covered(p: f32, center: f32, half_viewport: f32, n: u32) -> vec2<u32> {
  let a = center + (p - 0.5 - half_viewport) / view.scale;
  let b = center + (p + 0.5 - half_viewport) / view.scale;
  if (b <= 0.0 || a >= f32(n)) {
    return vec2<u32>(n, n + 1u);
  }
  let first = u32(clamp(floor(a), 0.0, f32(n)));
  let end = u32(clamp(ceil(b), 0.0, f32(n)));
  return vec2<u32>(first, max(end, first + 1u));
}

fn largest(values_base: u32, range: vec2<u32>, n: u32, from_columns: bool) -> f32 {
  let count = min(range.y, n) - min(range.x, n);
  var best = 0.0;
  for (var s = 0u; s < min(count, SAMPLES); s++) {
    let index = range.x + (s * count) / min(count, SAMPLES);
    let value = select(entropy[values_base + index], column_sums[values_base + index], from_columns);
    best = max(best, value);
  }
  return best;
}

@fragment
fn fragment_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let in_top = position.y < view.strip && position.x >= view.strip;
  let in_left = position.x < view.strip && position.y >= view.strip;
  if (!in_top && !in_left) {
    discard;
  }
  var fraction = 0.0;
  var depth = 0.0;  // distance from the strip's outer edge, in [0, 1]
  if (in_top) {
    let keys = covered(position.x, view.center_x, 0.5 * view.viewport_w, view.nk);
    if (keys.x >= view.nk) {
      return STRIP_BACKGROUND;
    }
    fraction = log(1.0 + largest(view.head * view.nk, keys, view.nk, true)) / log(1.0 + f32(view.nq));
    depth = 1.0 - position.y / view.strip;
  } else {
    let queries = covered(position.y, view.center_y, 0.5 * view.viewport_h, view.nq);
    if (queries.x >= view.nq) {
      return STRIP_BACKGROUND;
    }
    fraction = largest(view.head * view.nq, queries, view.nq, false) / max(log(f32(view.nk)), 1e-6);
    depth = 1.0 - position.x / view.strip;
  }
  return select(STRIP_BACKGROUND, BAR, depth <= fraction);
}
