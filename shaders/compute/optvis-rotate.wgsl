// Rotation of an image about its centre with bilinear sampling and zero fill, and its exact adjoint: the
// `rotate` transform of optvis (Lucid's standard_transforms turn the image by up to ±10° each step).
//
// Forward (one thread per output pixel p = (y, x), every channel):
//   s(p) = R(p − c) + c, with sy = cos·(y − cy) − sin·(x − cx) + cy, sx = sin·(y − cy) + cos·(x − cx) + cx,
//   c = ((H − 1)/2, (W − 1)/2): the output position turned back by −θ;
//   out[p] = Σ over the four pixels q around s(p) inside the image of tent(sy − qy)·tent(sx − qx)·in[q],
//   tent(d) = 1 − |d| (0 past 1). A tap outside the image reads 0.
// Adjoint (one thread per input pixel q): grad_in[q] = Σ_p weight(p, q)·grad_out[p] over the output pixels
//   whose taps include q. Those have |s(p) − q| < 1 in both axes, so p lies within (|cos| + |sin|) ≤ √2 of
//   R⁻¹(q − c) + c: a 4 × 4 window of candidates, each of whose weights is recomputed with the forward's
//   own expressions (tap_weight), so the adjoint is the forward's transpose to the last bit of its weights.
//   A gather, not the scatter-add of the forward's transpose: no atomics, no tables on the CPU.
// Layout: NHWC, one image [H, W, C] at element offset 0 of from_values (the image, or the output's gradient
// for the adjoint) and to_values (the rotated image, or the input's gradient); H·W·C < 2³².
// Cost: 4·C reads per output pixel; 16 candidates × C reads per input pixel in the adjoint.

struct Params {
  height: u32,
  width: u32,
  channels: u32,
  cos_theta: f32,
  sin_theta: f32,
}

@group(0) @binding(0) var<storage, read> from_values: array<f32>;
@group(0) @binding(1) var<storage, read_write> to_values: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const WORKGROUP = 64u;

// c, the centre the image turns about, as (y, x).
fn centre() -> vec2<f32> {
  return (vec2<f32>(f32(params.height), f32(params.width)) - 1.0) * 0.5;
}

// s(p): where output pixel (y, x) samples the input, in input pixel coordinates (y, x).
fn sample_point(y: u32, x: u32) -> vec2<f32> {
  let d = vec2<f32>(f32(y), f32(x)) - centre();
  return vec2<f32>(params.cos_theta * d.x - params.sin_theta * d.y, params.sin_theta * d.x + params.cos_theta * d.y) + centre();
}

// The weight output pixel p's bilinear sample at s gives input pixel (qy, qx): its tap, or 0.
fn tap_weight(s: vec2<f32>, qy: i32, qx: i32) -> f32 {
  let base = floor(s);
  let frac = s - base;
  let oy = qy - i32(base.x);
  let ox = qx - i32(base.y);
  if (oy < 0 || oy > 1 || ox < 0 || ox > 1) {
    return 0.0;
  }
  let wy = select(1.0 - frac.x, frac.x, oy == 1);
  let wx = select(1.0 - frac.y, frac.y, ox == 1);
  return wy * wx;
}

fn inside(qy: i32, qx: i32) -> bool {
  return qy >= 0 && qy < i32(params.height) && qx >= 0 && qx < i32(params.width);
}

@compute @workgroup_size(WORKGROUP)
fn rotate_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = id.x + id.y * groups.x * WORKGROUP;
  if (p >= params.height * params.width) {
    return;
  }
  let s = sample_point(p / params.width, p % params.width);
  let base = vec2<i32>(floor(s));
  let c = params.channels;
  for (var k = 0u; k < c; k++) {
    var sum = 0.0;
    for (var t = 0; t < 4; t++) {
      let qy = base.x + t / 2;
      let qx = base.y + t % 2;
      if (inside(qy, qx)) {
        sum += tap_weight(s, qy, qx) * from_values[(u32(qy) * params.width + u32(qx)) * c + k];
      }
    }
    to_values[p * c + k] = sum;
  }
}

@compute @workgroup_size(WORKGROUP)
fn rotate_adjoint(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let q = id.x + id.y * groups.x * WORKGROUP;
  if (q >= params.height * params.width) {
    return;
  }
  let qy = i32(q / params.width);
  let qx = i32(q % params.width);
  // R⁻¹(q − c) + c: the output pixel whose sample point is q exactly.
  let d = vec2<f32>(f32(qy), f32(qx)) - centre();
  let exact = vec2<f32>(params.cos_theta * d.x + params.sin_theta * d.y, -params.sin_theta * d.x + params.cos_theta * d.y) + centre();
  let first = vec2<i32>(floor(exact - vec2<f32>(1.5)));
  let c = params.channels;
  for (var k = 0u; k < c; k++) {
    var sum = 0.0;
    for (var t = 0; t < 16; t++) {
      let py = first.x + t / 4;
      let px = first.y + t % 4;
      if (inside(py, px)) {
        let w = tap_weight(sample_point(u32(py), u32(px)), qy, qx);
        if (w != 0.0) {
          sum += w * from_values[(u32(py) * params.width + u32(px)) * c + k];
        }
      }
    }
    to_values[q * c + k] = sum;
  }
}
