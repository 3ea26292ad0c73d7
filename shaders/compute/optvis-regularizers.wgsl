// Image regularizers for feature inversion and activation maximization (Mahendran & Vedaldi 2015): one pass
// adds Σ_k weight_k · ∂R_k/∂x into `grad` in place for up to one term of each kind, and leaves each R_k
// (unweighted) in values[slot_k].
//
//   total variation  R = Σ_{n,i,j,c} T_nijc,  T = (a² + b² + ε)^{β/2},
//                    a = x[n,i,j+1,c] − x[n,i,j,c],  b = x[n,i+1,j,c] − x[n,i,j,c].
//                    Boundary: a difference whose neighbour lies outside the image is dropped (taken as 0);
//                    the last pixel of each image (i = H−1, j = W−1) has none left and no term at all.
//                    Images of a batch never touch each other. ε (≥ 0) keeps the gradient finite at a = b = 0
//                    when β < 2; where a² + b² + ε is exactly 0 the term and its derivative are taken as 0.
//   α-norm           R = Σ |x|^α, ∂R/∂x = α |x|^{α−1} sign(x)  (α ≥ 1).
//   L2               R = Σ x², ∂R/∂x = 2x.
//
// Inputs:  x [N, H, W, C] float32 (NHWC, dense), read only; `grad` the same shape, read and written; the
//          terms in `params`: a kind is absent when its slot is ABSENT.
// Output:  grad[e] += Σ over present terms of nonzero weight of weight · ∂R/∂x[e], for every e < count (each
//          element by exactly one thread, so the result is deterministic); nothing is written to grad when
//          every present weight is 0 (values only, and no 0 · ∞ where a derivative overflows).
//          partials[k·runs + t] = Σ of thread t's run of terms of kind k (shaders/common/partial-sums.wgsl);
//          `sum_partials` (one workgroup per kind, dispatched right after) sums them into values[slot_k].
//          Two passes instead of fixed-point atomics: the terms range over many orders of magnitude (|x|^6),
//          which no fixed scale holds, and compensated sums are deterministic and near exact.
// Cost:    one thread per run of RUN elements for all the terms together (on SwiftShader a dispatch costs
//          about as much as a small image's arithmetic, so terms are not dispatched one by one): TV reads 7
//          neighbours (cached), the others one value; memory bound. No barriers in the first pass.

struct Params {
  count: u32,       // N·H·W·C
  height: u32,
  width: u32,
  channels: u32,
  runs: u32,        // threads of the first pass, ceil(count / RUN), and the partials of each kind
  groups_x: u32,    // workgroup g = id.y · groups_x + id.x, of THREADS threads
  tv_slot: u32,     // ABSENT: no total variation term
  tv_weight: f32,
  tv_beta: f32,
  tv_epsilon: f32,
  alpha_slot: u32,  // ABSENT: no α-norm term
  alpha_weight: f32,
  alpha: f32,
  l2_slot: u32,     // ABSENT: no L2 term
  l2_weight: f32,
}

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const THREADS: u32 = 64u;
const LARGEST_INTEGER_EXPONENT: f32 = 64.0;
const ABSENT: u32 = 0xffffffffu;
// The kinds' rows of `partials`, and the workgroups of `sum_partials`.
const TV: u32 = 0u;
const ALPHA: u32 = 1u;
const L2: u32 = 2u;

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
  if (params.tv_beta == 2.0) {
    return 2.0;
  }
  return params.tv_beta * power(dot(d, d) + params.tv_epsilon, 0.5 * params.tv_beta - 1.0);
}

fn tv_term(d: vec2<f32>, row: u32, col: u32) -> f32 {
  if (row + 1u == params.height && col + 1u == params.width) {
    return 0.0;
  }
  let s = dot(d, d) + params.tv_epsilon;
  return select(power(s, 0.5 * params.tv_beta), s, params.tv_beta == 2.0);
}

// T of element e and ∂R/∂x[e]: its own term's share and its left and upper neighbours'.
fn total_variation(e: u32) -> vec2<f32> {
  let pixel = e / params.channels;
  let col = pixel % params.width;
  let row = (pixel / params.width) % params.height;
  let own = differences(e, row, col);
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
  return vec2<f32>(tv_term(own, row, col), derivative);
}

// |x|^α and its derivative.
fn alpha_norm(v: f32) -> vec2<f32> {
  let magnitude = abs(v);
  let lower = power(magnitude, params.alpha - 1.0); // |x|^{α−1}
  return vec2<f32>(lower * magnitude, params.alpha * lower * sign(v));
}

@compute @workgroup_size(THREADS)
fn regularize(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let t = (group.y * params.groups_x + group.x) * THREADS + local_index;
  if (t >= params.runs) {
    return;
  }
  var tv_sum = Compensated(0.0, 0.0);
  var alpha_sum = Compensated(0.0, 0.0);
  var l2_sum = Compensated(0.0, 0.0);
  let run = run_range(t, params.count);
  for (var e = run.x; e < run.y; e++) {
    // A term of weight 0 adds nothing, not even 0 · ∞ where its derivative overflows.
    var derivative = 0.0;
    var written = false;
    if (params.tv_slot != ABSENT) {
      let tv = total_variation(e);
      tv_sum = compensated_add(tv_sum, tv.x);
      if (params.tv_weight != 0.0) {
        derivative += params.tv_weight * tv.y;
        written = true;
      }
    }
    if (params.alpha_slot != ABSENT) {
      let alpha = alpha_norm(x[e]);
      alpha_sum = compensated_add(alpha_sum, alpha.x);
      if (params.alpha_weight != 0.0) {
        derivative += params.alpha_weight * alpha.y;
        written = true;
      }
    }
    if (params.l2_slot != ABSENT) {
      let v = x[e];
      l2_sum = compensated_add(l2_sum, v * v);
      if (params.l2_weight != 0.0) {
        derivative += params.l2_weight * (2.0 * v);
        written = true;
      }
    }
    if (written) {
      grad[e] += derivative;
    }
  }
  partials[TV * params.runs + t] = compensated_total(tv_sum);
  partials[ALPHA * params.runs + t] = compensated_total(alpha_sum);
  partials[L2 * params.runs + t] = compensated_total(l2_sum);
}

// Workgroup k: values[slot_k] = Σ partials[k·runs .. (k + 1)·runs), for each present kind k.
@compute @workgroup_size(SUM_THREADS)
fn sum_partials(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let kind = group.x;
  let slot = array<u32, 3>(params.tv_slot, params.alpha_slot, params.l2_slot)[kind];
  if (slot == ABSENT) {
    return;
  }
  let total = partials_total(kind * params.runs, params.runs, local_index);
  if (local_index == 0u) {
    values[slot] = total;
  }
}
