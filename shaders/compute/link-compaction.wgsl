// Link compaction: the lists of links the link views draw (link_alpha > 0), in link order, and the indirect
// draws' arguments for them. Needs numerics.wgsl and links.wgsl (the Links struct, group 0, link_alpha,
// is_hairline).
//
// Inputs:  links.link_count links (link_count / per_group groups), judged by link_alpha and is_hairline
//          from the weights, colours and arrangement.
// Output:  drawn[0 .. T) the T drawn hairlines (links at most one pixel wide), then drawn[T .. T + W) the W
//          drawn wider links, each in increasing link order;
//          draws[0..2) = (T, W); then for group g, two drawIndirect argument sets from u32 4 + 8g on:
//          its hairlines (2 vertices each) and its wider links (6 each), as (vertices, 1, first vertex, 0),
//          the first vertex pointing into drawn (vertex v draws drawn[v / 2] or drawn[v / 6]).
//          Order matters: blending "over" is not commutative, so a later group must still land over an
//          earlier one; within a group every link has the group's colour, and "over" of one colour at two
//          opacities commutes (c·a₁ + (1 − a₁)(c·a₂ + (1 − a₂)d) is symmetric in a₁, a₂), so a group's
//          hairlines may go before its wider links.
// Passes:  count_chunks: chunk c of CHUNK consecutive links counts its drawn hairlines into chunk_offsets[c]
//                        and its other drawn links into chunk_offsets[chunks + c].
//          scan_chunks:  one workgroup turns those 2·chunks counts into exclusive prefix sums (each thread
//                        scans a contiguous run, then the runs' totals are scanned in workgroup memory), so
//                        the wider links' offsets start after the last hairline, and writes (T, W).
//          write_chunks: chunk c writes its drawn hairlines from drawn[chunk_offsets[c]] on and its other
//                        drawn links from drawn[chunk_offsets[chunks + c]] on, in order.
//          group_draws:  one thread per (group, kind) finds the group's run of that kind by binary search.
// Cost:    two reads of every weight (and of its colour), one thread per chunk: no atomics, and the only
//          barriers are in the single scanning workgroup.

const CHUNK: u32 = 64u;
const SCAN_THREADS: u32 = 256u;
const DRAWS_HEADER: u32 = 4u; // (T, W, 0, 0): the draws start 16 bytes in
const HAIRLINE_VERTICES: u32 = 2u;
const QUAD_VERTICES: u32 = 6u;

@group(1) @binding(0) var<storage, read_write> chunk_offsets: array<u32>;
@group(1) @binding(1) var<storage, read_write> drawn_out: array<u32>;
@group(1) @binding(2) var<storage, read_write> draws: array<u32>;

var<workgroup> run_totals: array<u32, SCAN_THREADS>;

fn chunk_count() -> u32 {
  return (links.link_count + CHUNK - 1u) / CHUNK;
}

// Chunk index of a thread of a 2D dispatch of 64-thread workgroups.
fn chunk_of(id: vec3<u32>, groups: vec3<u32>) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

@compute @workgroup_size(64)
fn count_chunks(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let chunk = chunk_of(id, groups);
  let chunks = chunk_count();
  if (chunk >= chunks) {
    return;
  }
  let end = min(links.link_count, (chunk + 1u) * CHUNK);
  var hairlines = 0u;
  var others = 0u;
  for (var link = chunk * CHUNK; link < end; link++) {
    if (link_alpha(link) > 0.0) {
      if (is_hairline(link)) {
        hairlines++;
      } else {
        others++;
      }
    }
  }
  chunk_offsets[chunk] = hairlines;
  chunk_offsets[chunks + chunk] = others;
}

@compute @workgroup_size(SCAN_THREADS)
fn scan_chunks(@builtin(local_invocation_index) thread: u32) {
  let chunks = chunk_count();
  let counts = 2u * chunks;
  let run = (counts + SCAN_THREADS - 1u) / SCAN_THREADS;
  let first = min(counts, thread * run);
  let end = min(counts, first + run);
  var total = 0u;
  for (var c = first; c < end; c++) {
    total += chunk_offsets[c];
  }
  run_totals[thread] = total;
  workgroupBarrier();
  // Inclusive Hillis–Steele scan of the runs' totals.
  for (var step = 1u; step < SCAN_THREADS; step *= 2u) {
    var add = 0u;
    if (thread >= step) {
      add = run_totals[thread - step];
    }
    workgroupBarrier();
    run_totals[thread] += add;
    workgroupBarrier();
  }
  var offset = run_totals[thread] - total;
  for (var c = first; c < end; c++) {
    let count = chunk_offsets[c];
    chunk_offsets[c] = offset;
    offset += count;
  }
  storageBarrier(); // chunk_offsets[chunks] may be another thread's
  if (thread == SCAN_THREADS - 1u) {
    // The wider links start where the hairlines end; `chunks` is 0 only for an empty list.
    let hairlines = select(0u, chunk_offsets[chunks], chunks > 0u);
    draws[0] = hairlines;
    draws[1] = run_totals[thread] - hairlines;
    draws[2] = 0u;
    draws[3] = 0u;
  }
}

@compute @workgroup_size(64)
fn write_chunks(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let chunk = chunk_of(id, groups);
  let chunks = chunk_count();
  if (chunk >= chunks) {
    return;
  }
  let end = min(links.link_count, (chunk + 1u) * CHUNK);
  var hairline_at = chunk_offsets[chunk];
  var other_at = chunk_offsets[chunks + chunk];
  for (var link = chunk * CHUNK; link < end; link++) {
    if (link_alpha(link) > 0.0) {
      if (is_hairline(link)) {
        drawn_out[hairline_at] = link;
        hairline_at++;
      } else {
        drawn_out[other_at] = link;
        other_at++;
      }
    }
  }
}

// The first index in drawn_out[lo .. hi) (sorted) holding a link ≥ value; hi if none.
fn lower_bound(lo_in: u32, hi_in: u32, value: u32) -> u32 {
  var lo = lo_in;
  var hi = hi_in;
  while (lo < hi) {
    let mid = lo + (hi - lo) / 2u;
    if (drawn_out[mid] < value) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return lo;
}

@compute @workgroup_size(64)
fn group_draws(@builtin(global_invocation_id) id: vec3<u32>) {
  let groups = links.link_count / links.per_group;
  let group = id.x / 2u;
  if (group >= groups) {
    return;
  }
  let hairlines = draws[0];
  let wide = (id.x & 1u) == 1u;
  let lo = select(0u, hairlines, wide);
  let hi = select(hairlines, hairlines + draws[1], wide);
  let start = lower_bound(lo, hi, group * links.per_group);
  let end = lower_bound(start, hi, (group + 1u) * links.per_group);
  let vertices = select(HAIRLINE_VERTICES, QUAD_VERTICES, wide);
  let at = DRAWS_HEADER + 4u * id.x;
  draws[at] = vertices * (end - start);
  draws[at + 1u] = 1u;
  draws[at + 2u] = vertices * start;
  draws[at + 3u] = 0u;
}
