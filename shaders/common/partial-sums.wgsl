// Two-pass sums of one value per element, deterministic, with a single workgroup barrier: each thread of
// the first pass walks a run of RUN consecutive elements (run_range) and leaves their sum in one partial;
// then one workgroup of SUM_THREADS threads adds the partials up (partials_total).
// Why runs and not a tree in workgroup memory per workgroup: on SwiftShader a barrier suspends and resumes
// every group of four invocations, and a 256-thread tree's nine barriers made a pass over a 16×16×3 image
// cost ~2.5 ms, ten times a barrier-free pass of the same size (0.25 ms). Runs of 16 keep thousands of
// threads busy on large images, and the second pass's threads each add a contiguous stretch of partials.
// Sums are compensated (Neumaier), so the error stays about 2·2⁻²⁴ relative for terms of one sign, whatever
// the count, where a plain serial sum's grows with it.
// The kernel that joins this snippet declares a `partials: array<f32>` storage binding (read_write).

const RUN: u32 = 16u;         // elements per thread of a first pass (RUN in the kernels' TypeScript)
const SUM_THREADS: u32 = 64u; // threads of the one workgroup of a second pass

struct Compensated {
  sum: f32,
  error: f32,
}

// Once the sum overflows (or meets a NaN) there is nothing to compensate: ∞ − ∞ would turn ∞ into NaN.
fn compensated_add(a: Compensated, value: f32) -> Compensated {
  let sum = a.sum + value;
  let lost = select((value - sum) + a.sum, (a.sum - sum) + value, abs(a.sum) >= abs(value));
  let finite = (bitcast<u32>(sum) & 0x7f800000u) != 0x7f800000u; // the bits, which no compiler folds away
  return Compensated(sum, a.error + select(0.0, lost, finite));
}

fn compensated_total(a: Compensated) -> f32 {
  return a.sum + a.error;
}

// The elements [x, y) of thread t's run, for `count` elements.
fn run_range(t: u32, count: u32) -> vec2<u32> {
  let first = min(count, t * RUN);
  return vec2<u32>(first, min(count, first + RUN));
}

var<workgroup> stretch_totals: array<f32, SUM_THREADS>;

// Σ partials[first .. first + count), in the one workgroup of a second pass; every thread calls it (it holds
// the barrier) and gets the same total.
fn partials_total(first: u32, count: u32, local_index: u32) -> f32 {
  let stretch = (count + SUM_THREADS - 1u) / SUM_THREADS;
  let start = min(count, local_index * stretch);
  let end = min(count, start + stretch);
  var sum = Compensated(0.0, 0.0);
  for (var p = start; p < end; p++) {
    sum = compensated_add(sum, partials[first + p]);
  }
  stretch_totals[local_index] = compensated_total(sum);
  workgroupBarrier();
  var whole = Compensated(0.0, 0.0);
  for (var k = 0u; k < SUM_THREADS; k++) {
    whole = compensated_add(whole, stretch_totals[k]);
  }
  return compensated_total(whole);
}
