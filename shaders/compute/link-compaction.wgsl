// Link compaction: the list of links the link views draw (link_alpha > 0), in link order, and the indirect
// draw's arguments for it. Needs numerics.wgsl and links.wgsl (the Links struct, group 0, link_alpha).
//
// Inputs:  links.link_count links, judged by link_alpha from the weights, colours and arrangement.
// Output:  drawn[0 .. k) the indices of the k drawn links in increasing order; draw_args = (6·k, 1, 0, 0),
//          the arguments of drawIndirect. Order matters: blending "over" is not commutative, so a later
//          head must still land over an earlier one.
// Passes:  count_chunks: chunk c of CHUNK consecutive links counts its drawn links into chunk_offsets[c].
//          scan_chunks:  one workgroup turns those counts into exclusive prefix sums (each thread scans a
//                        contiguous run of chunks, then the runs' totals are scanned in workgroup memory),
//                        and writes draw_args.
//          write_chunks: chunk c writes its drawn links from drawn[chunk_offsets[c]] on, in order.
// Cost:    two reads of every weight (and of its colour), one thread per chunk: no atomics, and the only
//          barriers are in the single scanning workgroup.

const CHUNK: u32 = 64u;
const SCAN_THREADS: u32 = 256u;

@group(1) @binding(0) var<storage, read_write> chunk_offsets: array<u32>;
@group(1) @binding(1) var<storage, read_write> drawn_out: array<u32>;
@group(1) @binding(2) var<storage, read_write> draw_args: array<u32, 4>;

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
  if (chunk >= chunk_count()) {
    return;
  }
  let end = min(links.link_count, (chunk + 1u) * CHUNK);
  var count = 0u;
  for (var link = chunk * CHUNK; link < end; link++) {
    count += select(0u, 1u, link_alpha(link) > 0.0);
  }
  chunk_offsets[chunk] = count;
}

@compute @workgroup_size(SCAN_THREADS)
fn scan_chunks(@builtin(local_invocation_index) thread: u32) {
  let chunks = chunk_count();
  let run = (chunks + SCAN_THREADS - 1u) / SCAN_THREADS;
  let first = min(chunks, thread * run);
  let end = min(chunks, first + run);
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
  if (thread == SCAN_THREADS - 1u) {
    draw_args = array<u32, 4>(6u * run_totals[thread], 1u, 0u, 0u);
  }
}

@compute @workgroup_size(64)
fn write_chunks(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let chunk = chunk_of(id, groups);
  if (chunk >= chunk_count()) {
    return;
  }
  let end = min(links.link_count, (chunk + 1u) * CHUNK);
  var at = chunk_offsets[chunk];
  for (var link = chunk * CHUNK; link < end; link++) {
    if (link_alpha(link) > 0.0) {
      drawn_out[at] = link;
      at++;
    }
  }
}
