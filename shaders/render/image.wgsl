// One float image drawn straight from its storage buffer: the image an optimizer rewrites in place every
// step, or the original it is compared with. No texture, no upload: each frame reads the latest values.
// Inputs:  pixels, float32, element (y, x, c) at offset + y·stride_y + x·stride_x + c·stride_c (NHWC:
//          W·C, C, 1); C = 1 grey, 3 RGB, 4 RGBA (alpha not drawn); values in [0, 1], clamped.
//          params: where the image lies on the target, in target pixels, and how to sample it.
// Output:  one quad over that rectangle. Each fragment's colour is quantized here to k / 255 with
//          k = floor(clamp(v, 0, 1) · 255 + 0.5), so an 8-bit target holds exactly k (export-png.ts uses the
//          same rule). A texel with any non-finite channel (in any of the bilinear taps) is magenta.
// Cost:    per fragment 3 reads (nearest) or 12 (bilinear) of 4 bytes.

struct ImageParams {
  left: f32,           // target pixels
  top: f32,
  width: f32,
  height: f32,
  target_width: f32,
  target_height: f32,
  image_height: u32,
  image_width: u32,
  channels: u32,
  offset: u32,         // elements
  stride_y: u32,
  stride_x: u32,
  stride_c: u32,
  bilinear: u32,       // 0 nearest, 1 bilinear (texel centres at half-integers, clamped at the edges)
}

@group(0) @binding(0) var<storage, read> pixels: array<f32>;
@group(0) @binding(1) var<uniform> params: ImageParams;

const NON_FINITE_COLOUR = vec4<f32>(1.0, 0.0, 1.0, 1.0);

@vertex
fn vertex_main(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
  let corner_x = array<f32, 6>(0.0, 1.0, 0.0, 0.0, 1.0, 1.0);
  let corner_y = array<f32, 6>(0.0, 0.0, 1.0, 1.0, 1.0, 0.0);
  let pixel = vec2<f32>(params.left + corner_x[vertex] * params.width, params.top + corner_y[vertex] * params.height);
  let ndc = vec2<f32>(pixel.x / params.target_width * 2.0 - 1.0, 1.0 - pixel.y / params.target_height * 2.0);
  return vec4<f32>(ndc, 0.0, 1.0);
}

// RGB of texel (x, y); grey repeats its one channel.
fn texel(x: u32, y: u32) -> vec3<f32> {
  let base = params.offset + y * params.stride_y + x * params.stride_x;
  let last = params.channels - 1u;
  return vec3<f32>(pixels[base], pixels[base + min(1u, last) * params.stride_c], pixels[base + min(2u, last) * params.stride_c]);
}

fn finite3(v: vec3<f32>) -> bool {
  return is_finite_f32(v.x) && is_finite_f32(v.y) && is_finite_f32(v.z);
}

@fragment
fn fragment_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  // position.xy is the pixel centre in target pixels; t is the same point in texel units.
  let size = vec2<f32>(f32(params.image_width), f32(params.image_height));
  let t = (position.xy - vec2<f32>(params.left, params.top)) / vec2<f32>(params.width, params.height) * size;
  let last = vec2<i32>(i32(params.image_width) - 1, i32(params.image_height) - 1);
  var rgb: vec3<f32>;
  if (params.bilinear == 0u) {
    let at = vec2<u32>(clamp(vec2<i32>(floor(t)), vec2<i32>(0), last));
    rgb = texel(at.x, at.y);
    if (!finite3(rgb)) { return NON_FINITE_COLOUR; }
  } else {
    let s = t - 0.5;
    let f = s - floor(s);
    let a = vec2<u32>(clamp(vec2<i32>(floor(s)), vec2<i32>(0), last));
    let b = vec2<u32>(clamp(vec2<i32>(floor(s)) + 1, vec2<i32>(0), last));
    let t00 = texel(a.x, a.y);
    let t10 = texel(b.x, a.y);
    let t01 = texel(a.x, b.y);
    let t11 = texel(b.x, b.y);
    if (!(finite3(t00) && finite3(t10) && finite3(t01) && finite3(t11))) { return NON_FINITE_COLOUR; }
    rgb = mix(mix(t00, t10, f.x), mix(t01, t11, f.x), f.y);
  }
  return vec4<f32>(floor(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)) * 255.0 + 0.5) / 255.0, 1.0);
}
