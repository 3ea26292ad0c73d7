// The compute passes before every link draw (shaders/compute/link-compaction.wgsl): the links that will be
// drawn, hairlines and wider links listed apart, each in order, and two indirect draws' arguments per
// group, so that the vertex stage runs for those links only. Recorded every draw, in the draw's own
// encoder: the weights may have changed in place since the last frame, and nothing is read back.
import type { Engine } from '../../core/engine';
import { grid2d, GrowingBuffer } from '../../kernels/kernel-bindings';
import type { LinkPipelines } from './link-pipelines';

/** Links judged by one thread (CHUNK in link-compaction.wgsl). */
const CHUNK = 64;
/** Threads in a workgroup of count_chunks and write_chunks. */
const WORKGROUP = 64;

export interface LinkInputs {
  weights: GPUBufferBinding;
  colours: GPUBuffer;
  uniforms: GPUBuffer;
}

/** Bytes before the first group's draw arguments in `draws` (the counts of hairlines and wider links). */
const DRAWS_HEADER_BYTES = 16;
/** Bytes of drawIndirect's arguments (vertices, instances, first vertex, first instance). */
const DRAW_ARGS_BYTES = 16;

export interface LinkCompaction {
  /**
   * The draws' buffer, with room for `groups` groups (a new buffer after it grows): the counts (hairlines,
   * wider links) in u32 0..1, then group g's drawIndirect arguments: its hairlines' at `hairlineDraw(g)`,
   * its wider links' at `widerDraw(g)`.
   */
  drawsFor(groups: number): GPUBuffer;
  /**
   * The binding of the list of drawn links (hairlines, then wider links), with room for `links` of them (a
   * new buffer after it grows).
   */
  drawnFor(links: number): GPUBufferBinding;
  /** The weights, colours and arrangement to judge links by (again whenever one of those buffers changes). */
  setInputs(inputs: LinkInputs): void;
  /**
   * Records the compaction of links 0 .. links − 1 in `groups` groups (the arrangement's link_count and
   * per_group must say the same).
   */
  record(encoder: GPUCommandEncoder, links: number, groups: number): void;
  destroy(): void;
}

export function createLinkCompaction(engine: Engine, pipelines: LinkPipelines, label: string, onDrawnGrown: () => void): LinkCompaction {
  const { device } = engine;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST; // copies: for tests to poison and read
  let lists: GPUBindGroup | null = null;
  let inputs: GPUBindGroup | null = null;
  const forgetLists = () => {
    lists = null;
    onDrawnGrown();
  };
  const offsets = new GrowingBuffer(engine, `${label}.chunkOffsets`, usage, () => (lists = null));
  const drawn = new GrowingBuffer(engine, `${label}.drawn`, usage, forgetLists);
  const draws = new GrowingBuffer(engine, `${label}.draws`, usage | GPUBufferUsage.INDIRECT, () => (lists = null));
  const bindingLimit = engine.limits.maxStorageBufferBindingSize;
  const whole = (buffer: GPUBuffer): GPUBufferBinding => ({ buffer, size: Math.min(buffer.size, bindingLimit) });

  function listsFor(links: number, groups: number): GPUBindGroup {
    const chunkOffsets = offsets.atLeast(2 * 4 * Math.ceil(links / CHUNK)); // hairlines' counts, then the others'
    const drawnLinks = drawn.atLeast(4 * links);
    const groupDraws = draws.atLeast(hairlineDraw(groups));
    lists ??= device.createBindGroup({
      label: `${label}.lists`,
      layout: pipelines.compactionLists,
      entries: [
        { binding: 0, resource: whole(chunkOffsets) },
        { binding: 1, resource: whole(drawnLinks) },
        { binding: 2, resource: { buffer: groupDraws } },
      ],
    });
    return lists;
  }

  return {
    drawsFor: (groups) => draws.atLeast(hairlineDraw(groups)),
    drawnFor: (links) => whole(drawn.atLeast(4 * Math.max(1, links))),
    setInputs({ weights, colours, uniforms }) {
      inputs = device.createBindGroup({
        label: `${label}.inputs`,
        layout: pipelines.compactionInputs,
        entries: [
          { binding: 0, resource: weights },
          { binding: 1, resource: { buffer: colours } },
          { binding: 2, resource: { buffer: uniforms } },
        ],
      });
    },
    record(encoder, links, groups) {
      if (!inputs) throw new Error(`${label}: setInputs() before record().`);
      const bindLists = listsFor(links, groups);
      const [x, y] = grid2d(Math.ceil(Math.ceil(links / CHUNK) / WORKGROUP));
      const pass = encoder.beginComputePass({ label: `${label}.compaction` });
      pass.setBindGroup(0, inputs);
      pass.setBindGroup(1, bindLists);
      pass.setPipeline(pipelines.countChunks);
      pass.dispatchWorkgroups(x, y);
      pass.setPipeline(pipelines.scanChunks);
      pass.dispatchWorkgroups(1);
      pass.setPipeline(pipelines.writeChunks);
      pass.dispatchWorkgroups(x, y);
      pass.setPipeline(pipelines.groupDraws);
      pass.dispatchWorkgroups(Math.ceil((2 * groups) / WORKGROUP));
      pass.end();
    },
    destroy() {
      offsets.destroy();
      drawn.destroy();
      draws.destroy();
    },
  };
}

/** Byte offset in `draws` of group g's hairlines' drawIndirect arguments. */
export function hairlineDraw(group: number): number {
  return DRAWS_HEADER_BYTES + 2 * DRAW_ARGS_BYTES * group;
}

/** Byte offset in `draws` of group g's wider links' drawIndirect arguments. */
export function widerDraw(group: number): number {
  return hairlineDraw(group) + DRAW_ARGS_BYTES;
}
