// Two-pass sums of one value per thread: each workgroup leaves its sum in partials[g] (finish_group), then
// one workgroup adds the partials up (partials_total). A tree in workgroup memory, not atomics: the terms of
// a loss range over too many magnitudes for any fixed-point scale, and the result is deterministic, with a
// relative error of about log2(n)·2⁻²⁴.
// The kernel that joins this snippet declares `const WORKGROUP_SIZE: u32 = 256u;`, a
// `partials: array<f32>` storage binding (read_write) and a `params` uniform with a `groups: u32` field.

var<workgroup> sums: array<f32, 256>;

// Sums one value per thread over the workgroup; every thread must call it (it holds barriers).
fn workgroup_sum(local_index: u32, value: f32) -> f32 {
  sums[local_index] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (local_index < stride) {
      sums[local_index] += sums[local_index + stride];
    }
    workgroupBarrier();
  }
  return sums[0];
}

// partials[g] = Σ of workgroup g's values.
fn finish_group(g: u32, local_index: u32, value: f32) {
  let total = workgroup_sum(local_index, value);
  if (local_index == 0u) {
    partials[g] = total;
  }
}

// Σ partials[0 .. params.groups), in the one workgroup of the second pass (every thread gets it).
fn partials_total(local_index: u32) -> f32 {
  var value = 0.0;
  for (var p = local_index; p < params.groups; p += WORKGROUP_SIZE) {
    value += partials[p];
  }
  return workgroup_sum(local_index, value);
}
