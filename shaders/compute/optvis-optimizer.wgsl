// One optimizer step in place on a parameter tensor x and its moments, for feature inversion and activation
// maximization. With g = scale · grad (scale = 1 minimizes, −1 maximizes):
//
//   adam          m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²,
//                 x ← x − lr · (m / c1) / (√(v / c2) + ε),   c1 = 1 − β1^t, c2 = 1 − β2^t (from the host, in
//                 float64: t is the 1-based step count);
//   sgd_momentum  u ← μ u + g,   x ← x − lr · u, or with Nesterov x ← x − lr · (g + μ u)  (u lives in `m`);
//
// then, when clamp ≠ 0, x ← clamp(x, lo, hi).
//
// Inputs:  grad [count] float32, read only.
// Output:  x, m (and v for adam) [count], read and written in place; each element by exactly one thread.
// Status:  an element whose g is NaN or ±Inf, or whose new x, m or v would not be finite, is left as it was
//          (x, m and v all unchanged) and counted, with the smallest such index, so the host can stop and
//          report while x stays at its last finite state.
// Cost:    one thread per element, 4–5 loads and 3 stores; memory bound.

struct Params {
  count: u32,
  groups_x: u32,     // workgroup g = id.y · groups_x + id.x
  learning_rate: f32,
  scale: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,  // from the host in float64: 1 − f32(0.999) is off by 1.3e-5 relative
  one_minus_beta2: f32,
  epsilon: f32,
  bias_correction1: f32,
  bias_correction2: f32,
  momentum: f32,
  nesterov: u32,
  clamp: u32,
  lo: f32,
  hi: f32,
}

struct Status {
  skipped: atomic<u32>,
  first_index: atomic<u32>,  // 0xffffffff when none
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> status: Status;
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const WORKGROUP_SIZE: u32 = 256u;

fn element_index(group: vec3<u32>, local_index: u32) -> u32 {
  return (group.y * params.groups_x + group.x) * WORKGROUP_SIZE + local_index;
}

fn skip(e: u32) {
  atomicAdd(&status.skipped, 1u);
  atomicMin(&status.first_index, e);
}

fn clamped(value: f32) -> f32 {
  return select(value, clamp(value, params.lo, params.hi), params.clamp != 0u);
}

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let e = element_index(group, local_index);
  if (e >= params.count) {
    return;
  }
  let raw = grad[e];
  if (!is_finite_f32(raw)) {
    skip(e);
    return;
  }
  let g = params.scale * raw;
  let first = params.beta1 * m[e] + params.one_minus_beta1 * g;
  let second = params.beta2 * v[e] + params.one_minus_beta2 * (g * g);
  let step = (first / params.bias_correction1) / (sqrt(second / params.bias_correction2) + params.epsilon);
  let next = x[e] - params.learning_rate * step;
  if (!(is_finite_f32(g) && is_finite_f32(first) && is_finite_f32(second) && is_finite_f32(next))) {
    skip(e);
    return;
  }
  m[e] = first;
  v[e] = second;
  x[e] = clamped(next);
}

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let e = element_index(group, local_index);
  if (e >= params.count) {
    return;
  }
  let raw = grad[e];
  if (!is_finite_f32(raw)) {
    skip(e);
    return;
  }
  let g = params.scale * raw;
  let velocity = params.momentum * m[e] + g;
  let direction = select(velocity, g + params.momentum * velocity, params.nesterov != 0u);
  let next = x[e] - params.learning_rate * direction;
  if (!(is_finite_f32(g) && is_finite_f32(velocity) && is_finite_f32(next))) {
    skip(e);
    return;
  }
  m[e] = velocity;
  x[e] = clamped(next);
}
