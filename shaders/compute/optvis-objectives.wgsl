// Feature objectives for activation maximization and feature inversion: each objective writes
// dL/dh · weight into `grad` (the upstream gradient later handed to tfjs for the vector-Jacobian product
// through the model) and leaves L (unweighted) in values[value_slot]. Every objective is a loss to
// minimize; Lucid's maximized objectives carry a minus sign here.
//
//   feature_match  L = ‖h − h_t‖² / ‖h_t‖²,  dL/dh = 2(h − h_t) / ‖h_t‖²   (‖h_t‖² from the host)
//   channel        L = −mean_{n,y,x} h[n,y,x,c],  dL/dh = −1/(N·H·W) at channel c, 0 elsewhere
//   neuron         L = −mean_n h[n,y,x,c],  dL/dh = −1/N at (y, x, c) of every image, 0 elsewhere
//   deep_dream     L = −mean h²,  dL/dh = −2h / count
// All four are term(e) · value_scale summed, and derivative(e) · gradient_scale, with the scales (weight
// folded in) computed on the host in float64.
//
// Inputs:  h (the layer's activations, dense NHWC or NCHW, read through the element strides), target_h
//          (feature_match only; other entry points get h bound again; same shape and layout as h), read only.
// Output:  grad[e] for every e < count: overwritten (mode 1), += (mode 2), or untouched (mode 0, value
//          only); each element by exactly one thread, so results are deterministic. partials[t] = Σ of
//          thread t's run of terms; `sum_partials` (one workgroup, dispatched right after) leaves
//          value_scale · Σ partials in values[value_slot] (shaders/common/partial-sums.wgsl).
// Pipelines: one per objective, from the entry point `objective` with the override OBJECTIVE set (the other
//          objectives' branches compiled away).
// Cost:    one thread per run of RUN elements, 1–2 loads and at most 1 load + 1 store of grad per element;
//          memory bound. No barriers in the first pass.

struct Params {
  count: u32,          // N·H·W·C
  runs: u32,           // threads of the first pass, ceil(count / RUN), and partials
  groups_x: u32,       // workgroup g = id.y · groups_x + id.x, of THREADS threads
  channels: u32,
  stride_channel: u32, // element strides of the layout: channel of e = (e / stride_channel) % channels
  stride_batch: u32,   // H·W·C
  channel: u32,        // channel: the chosen channel c
  position: u32,       // neuron: element index of (0, y, x, c); image n's is position + n·stride_batch
  mode: u32,           // 0 value only, 1 overwrite, 2 accumulate
  gradient_scale: f32, // weight · dL/dh per unit derivative
  value_scale: f32,
  value_slot: u32,
}

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read> h: array<f32>;
@group(0) @binding(4) var<storage, read> target_h: array<f32>;  // `target` is a reserved word
@group(0) @binding(5) var<uniform> params: Params;

const THREADS: u32 = 64u;
const FEATURE_MATCH: u32 = 0u; // the values of OBJECTIVE (KINDS' order in optvis-objectives.ts)
const CHANNEL: u32 = 1u;
const NEURON: u32 = 2u;
override OBJECTIVE: u32;
const MODE_VALUE_ONLY: u32 = 0u;
const MODE_OVERWRITE: u32 = 1u;

// `selected` elements get gradient_scale · derivative; the others a gradient of 0, which only overwriting
// needs to store (adding 0 is skipped, so an accumulated buffer keeps its bits exactly).
fn write_gradient(e: u32, selected: bool, derivative: f32) {
  if (params.mode == MODE_VALUE_ONLY) {
    return;
  }
  let value = select(0.0, params.gradient_scale * derivative, selected);
  if (params.mode == MODE_OVERWRITE) {
    grad[e] = value;
  } else if (selected) {
    grad[e] += value;
  }
}

// Element e's term, its gradient written.
fn element_term(e: u32) -> f32 {
  switch OBJECTIVE {
    case FEATURE_MATCH: {
      let d = h[e] - target_h[e];
      write_gradient(e, true, d);
      return d * d;
    }
    case CHANNEL: {
      let selected = (e / params.stride_channel) % params.channels == params.channel;
      write_gradient(e, selected, 1.0);
      return select(0.0, h[e], selected);
    }
    case NEURON: {
      let selected = e % params.stride_batch == params.position;
      write_gradient(e, selected, 1.0);
      return select(0.0, h[e], selected);
    }
    default: { // deep dream
      let v = h[e];
      write_gradient(e, true, v);
      return v * v;
    }
  }
}

@compute @workgroup_size(THREADS)
fn objective(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let t = (group.y * params.groups_x + group.x) * THREADS + local_index;
  if (t >= params.runs) {
    return;
  }
  var sum = Compensated(0.0, 0.0);
  let run = run_range(t, params.count);
  for (var e = run.x; e < run.y; e++) {
    sum = compensated_add(sum, element_term(e));
  }
  partials[t] = compensated_total(sum);
}

// One workgroup: values[value_slot] = value_scale · Σ partials[0 .. runs).
@compute @workgroup_size(SUM_THREADS)
fn sum_partials(@builtin(local_invocation_index) local_index: u32) {
  let total = partials_total(0u, params.runs, local_index);
  if (local_index == 0u) {
    values[params.value_slot] = params.value_scale * total;
  }
}
