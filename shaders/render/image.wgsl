// One float image drawn straight from its buffer: the image being optimized, rewritten by the optimizer's
// kernels every step, or the original it is compared with.
// Inputs:  pixels, float32 NHWC [1, H, W, C] (C = 1 grey, 3 RGB, 4 RGBA; alpha ignored), values in [0, 1]
//          (clamped; NaN/±Inf drawn magenta); placement, where the image lies on the target, in pixels.
// Output:  a quad over the placement rectangle (one triangle pair), each pixel showing the nearest texel.
// Cost:    per pixel one to three 4-byte reads.

struct Placement {
  left: f32,           // target pixels
  top: f32,
  width: f32,
  height: f32,
  target_width: f32,
  target_height: f32,
  image_height: u32,
  image_width: u32,
  channels: u32,
}

@group(0) @binding(0) var<storage, read> pixels: array<f32>;
@group(0) @binding(1) var<uniform> placement: Placement;

struct Varyings {
  @builtin(position) position: vec4<f32>,
  @location(0) uv: vec2<f32>,
}

@vertex
fn vertex_main(@builtin(vertex_index) vertex: u32) -> Varyings {
  let corner_x = array<f32, 6>(0.0, 1.0, 0.0, 0.0, 1.0, 1.0);
  let corner_y = array<f32, 6>(0.0, 0.0, 1.0, 1.0, 1.0, 0.0);
  let uv = vec2<f32>(corner_x[vertex], corner_y[vertex]);
  let pixel = vec2<f32>(placement.left, placement.top) + uv * vec2<f32>(placement.width, placement.height);
  let ndc = vec2<f32>(pixel.x / placement.target_width * 2.0 - 1.0, 1.0 - pixel.y / placement.target_height * 2.0);
  var out: Varyings;
  out.position = vec4<f32>(ndc, 0.0, 1.0);
  out.uv = uv;
  return out;
}

fn channel_value(base: u32, c: u32) -> f32 {
  return pixels[base + min(c, placement.channels - 1u)];
}

@fragment
fn fragment_main(in: Varyings) -> @location(0) vec4<f32> {
  let texel = min(vec2<u32>(in.uv * vec2<f32>(f32(placement.image_width), f32(placement.image_height))),
                  vec2<u32>(placement.image_width - 1u, placement.image_height - 1u));
  let base = (texel.y * placement.image_width + texel.x) * placement.channels;
  let rgb = vec3<f32>(channel_value(base, 0u), channel_value(base, 1u), channel_value(base, 2u));
  if (!(is_finite_f32(rgb.x) && is_finite_f32(rgb.y) && is_finite_f32(rgb.z))) {
    return vec4<f32>(1.0, 0.0, 1.0, 1.0);
  }
  return vec4<f32>(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
