// Image regularizers for feature inversion and activation maximization (Mahendran & Vedaldi 2015): each
// entry point adds weight · ∂R/∂x into `grad` in place and leaves R (unweighted) in values[value_slot].
//
//   total_variation  R = Σ_{n,i,j,c} T_nijc,  T = (a² + b² + ε)^{β/2},
//                    a = x[n,i,j+1,c] − x[n,i,j,c],  b = x[n,i+1,j,c] − x[n,i,j,c].
//                    Boundary: a difference whose neighbour lies outside the image is dropped (taken as 0);
//                    the last pixel of each image (i = H−1, j = W−1) has none left and no term at all.
//                    Images of a batch never touch each other. ε (≥ 0) keeps the gradient finite at a = b = 0
//                    when β < 2; where a² + b² + ε is exactly 0 the term and its derivative are taken as 0.
//   alpha_norm       R = Σ |x|^α, ∂R/∂x = α |x|^{α−1} sign(x)  (exponent = α ≥ 1).
//   l2               R = Σ x², ∂R/∂x = 2x.
//
// Inputs:  x [N, H, W, C] float32 (NHWC, dense), read only; `grad` the same shape, read and written.
// Output:  grad[e] += weight · ∂R/∂x[e] for every e < count (each element by exactly one thread, so the
//          result is deterministic); nothing is written to grad when weight is 0 (value only).
//          partials[g] = Σ of workgroup g's 256 terms; `sum_partials` (one workgroup, dispatched right after)
//          sums them into values[value_slot]. Two passes instead of fixed-point atomics: the terms range over
//          many orders of magnitude (|x|^6), which no fixed scale holds, and a tree sum is deterministic with
//          a relative error of about log2(count)·2^-24.
// Cost:    one thread per element: TV reads 7 neighbours (cached), the others one value; memory bound.

struct Params {
  count: u32,       // N·H·W·C
  height: u32,
  width: u32,
  channels: u32,
  groups: u32,      // workgroups that hold elements: ceil(count / 256), also the number of partials
  groups_x: u32,    // workgroup g = id.y · groups_x + id.x
  weight: f32,
  exponent: f32,    // β for total_variation, α for alpha_norm
  epsilon: f32,
  value_slot: u32,
}

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const WORKGROUP_SIZE: u32 = 256u;
const LARGEST_INTEGER_EXPONENT: f32 = 64.0;

// base^exponent for base ≥ 0. Integer exponents (α = 6, β/2 − 1 = 0) multiply exactly by squaring, which is
// more accurate than pow's exp2(y·log2(x)); 0^y is taken as 0 for y ≠ 0 (the subgradient choice at 0).
fn power(base: f32, exponent: f32) -> f32 {
  if (exponent == 0.0) {
    return 1.0;
  }
  if (base == 0.0) {
    return 0.0;
  }
  if (exponent > 0.0 && exponent <= LARGEST_INTEGER_EXPONENT && exponent == round(exponent)) {
    var result = 1.0;
    var square = base;
    for (var bits = u32(exponent); bits != 0u; bits >>= 1u) {
      if ((bits & 1u) != 0u) {
        result *= square;
      }
      square *= square;
    }
    return result;
  }
  return pow(base, exponent);
}

fn accumulate(e: u32, derivative: f32) {
  if (params.weight != 0.0) {
    grad[e] += params.weight * derivative;
  }
}

// The differences (a, b) of element e at image position (row, col), 0 where the neighbour is missing.
fn differences(e: u32, row: u32, col: u32) -> vec2<f32> {
  let v = x[e];
  var d = vec2<f32>(0.0);
  if (col + 1u < params.width) {
    d.x = x[e + params.channels] - v;
  }
  if (row + 1u < params.height) {
    d.y = x[e + params.width * params.channels] - v;
  }
  return d;
}

// dT/d(a²+b²) · 2 = β (a² + b² + ε)^{β/2 − 1}: the factor each difference is multiplied by in the gradient.
fn tv_slope(d: vec2<f32>) -> f32 {
  if (params.exponent == 2.0) {
    return 2.0;
  }
  return params.exponent * power(dot(d, d) + params.epsilon, 0.5 * params.exponent - 1.0);
}

fn tv_term(d: vec2<f32>, row: u32, col: u32) -> f32 {
  if (row + 1u == params.height && col + 1u == params.width) {
    return 0.0;
  }
  let s = dot(d, d) + params.epsilon;
  return select(power(s, 0.5 * params.exponent), s, params.exponent == 2.0);
}

@compute @workgroup_size(256)
fn total_variation(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group.y * params.groups_x + group.x;
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var value = 0.0;
  if (e < params.count) {
    let pixel = e / params.channels;
    let col = pixel % params.width;
    let row = (pixel / params.width) % params.height;
    let own = differences(e, row, col);
    value = tv_term(own, row, col);
    // x[e] enters its own term through −a − b, its left neighbour's through +a, the one above's through +b.
    var derivative = -tv_slope(own) * (own.x + own.y);
    if (col > 0u) {
      let left = differences(e - params.channels, row, col - 1u);
      derivative += tv_slope(left) * left.x;
    }
    if (row > 0u) {
      let up = differences(e - params.width * params.channels, row - 1u, col);
      derivative += tv_slope(up) * up.y;
    }
    accumulate(e, derivative);
  }
  finish_group(g, local_index, value);
}

@compute @workgroup_size(256)
fn alpha_norm(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group.y * params.groups_x + group.x;
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var value = 0.0;
  if (e < params.count) {
    let v = x[e];
    let magnitude = abs(v);
    let lower = power(magnitude, params.exponent - 1.0);  // |x|^{α−1}
    value = lower * magnitude;
    accumulate(e, params.exponent * lower * sign(v));
  }
  finish_group(g, local_index, value);
}

@compute @workgroup_size(256)
fn l2(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group.y * params.groups_x + group.x;
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var value = 0.0;
  if (e < params.count) {
    let v = x[e];
    value = v * v;
    accumulate(e, 2.0 * v);
  }
  finish_group(g, local_index, value);
}

// One workgroup: values[value_slot] = Σ partials[0 .. groups).
@compute @workgroup_size(256)
fn sum_partials(@builtin(local_invocation_index) local_index: u32) {
  let total = partials_total(local_index);
  if (local_index == 0u) {
    values[params.value_slot] = total;
  }
}
