// Feature objectives for activation maximization and feature inversion: each entry point writes
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
//          only); each element by exactly one thread, so results are deterministic. partials[g] = Σ of
//          workgroup g's terms; `sum_partials` (one workgroup, dispatched right after) leaves
//          value_scale · Σ partials in values[value_slot] (shaders/common/partial-sums.wgsl).
// Cost:    one thread per element, 1–2 loads and at most 1 load + 1 store of grad; memory bound.

struct Params {
  count: u32,          // N·H·W·C
  groups: u32,         // ceil(count / 256): workgroups holding elements, and partials
  groups_x: u32,       // workgroup g = id.y · groups_x + id.x
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

const WORKGROUP_SIZE: u32 = 256u;
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

fn group_index(group: vec3<u32>) -> u32 {
  return group.y * params.groups_x + group.x;
}

@compute @workgroup_size(256)
fn feature_match(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group_index(group);
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var term = 0.0;
  if (e < params.count) {
    let d = h[e] - target_h[e];
    term = d * d;
    write_gradient(e, true, d);
  }
  finish_group(g, local_index, term);
}

@compute @workgroup_size(256)
fn channel(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group_index(group);
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var term = 0.0;
  if (e < params.count) {
    let selected = (e / params.stride_channel) % params.channels == params.channel;
    term = select(0.0, h[e], selected);
    write_gradient(e, selected, 1.0);
  }
  finish_group(g, local_index, term);
}

@compute @workgroup_size(256)
fn neuron(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group_index(group);
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var term = 0.0;
  if (e < params.count) {
    let selected = e % params.stride_batch == params.position;
    term = select(0.0, h[e], selected);
    write_gradient(e, selected, 1.0);
  }
  finish_group(g, local_index, term);
}

@compute @workgroup_size(256)
fn deep_dream(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let g = group_index(group);
  if (g >= params.groups) {
    return;
  }
  let e = g * WORKGROUP_SIZE + local_index;
  var term = 0.0;
  if (e < params.count) {
    let v = h[e];
    term = v * v;
    write_gradient(e, true, v);
  }
  finish_group(g, local_index, term);
}

// One workgroup: values[value_slot] = value_scale · Σ partials[0 .. groups).
@compute @workgroup_size(256)
fn sum_partials(@builtin(local_invocation_index) local_index: u32) {
  let total = partials_total(local_index);
  if (local_index == 0u) {
    values[params.value_slot] = params.value_scale * total;
  }
}
