// Kernel wrapper for shaders/compute/attention-profiles.wgsl: attention received per key (column sums of
// the exact P) and per-row entropy, for whole heads, from cached row statistics.
import profilesWgsl from '../../shaders/compute/attention-profiles.wgsl?raw';
import type { Engine } from '../core/engine';
import { cachedPerDevice } from '../core/pipeline-cache';
import { uniformLayout } from '../memory/uniforms';
import {
  STATS_BYTES_PER_ROW,
  TILE,
  type BlockRange,
  type LongAttentionParams,
} from './attention-row-stats';
import { UniformRing, grid2d, paramsEntry, storageEntry } from './kernel-bindings';
import {
  PerHeadBindGroups,
  lazyVariants,
  scoreKernelPipelines,
  scoreUniforms,
  type BindingSource,
} from './long-attention-shared';

export interface AttentionProfilesIo {
  /** [heads, nk]: Σ_i P_ij, written for the recorded column blocks. */
  columnSums: GPUBuffer;
  /** [heads, nq]: H_i = -Σ_j P_ij log P_ij. */
  entropy: GPUBuffer;
  /** [heads, nq, d] */
  q: GPUBuffer;
  /** [heads, nk, d] */
  k: GPUBuffer;
  /** [heads, nq] vec4 from attention-row-stats. */
  stats: GPUBuffer;
}

export interface AttentionProfilesKernel {
  /**
   * Column sums of the given column blocks (64 keys each), one dispatch per range, in one compute pass.
   * Each block walks every query row: a viewer can spread a head over several frames by ranges.
   */
  recordColumnSums(
    encoder: GPUCommandEncoder,
    io: AttentionProfilesIo,
    params: LongAttentionParams,
    ranges: readonly BlockRange[],
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** Entropy of every row of the given heads (a copy out of the row statistics: cheap). */
  recordEntropy(encoder: GPUCommandEncoder, io: AttentionProfilesIo, params: LongAttentionParams, heads: readonly number[]): void;
  destroy(): void;
}

const PARAMS = uniformLayout(profilesWgsl, 'Params');

export function createAttentionProfiles(engine: Engine, label = 'AttentionProfiles', slots = 256): AttentionProfilesKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, slots);
  const groups = new PerHeadBindGroups(engine, label, pipelines.bindGroupLayout, ring);

  const sourcesFor = (io: AttentionProfilesIo, p: LongAttentionParams): BindingSource[] => [
    { buffer: io.columnSums, name: 'sums', perHead: p.nk, bytesPerElement: 4 },
    { buffer: io.entropy, name: 'entropy', perHead: p.nq, bytesPerElement: 4 },
    { buffer: io.q, name: 'q', perHead: p.nq * p.d, bytesPerElement: 4 },
    { buffer: io.k, name: 'k', perHead: p.nk * p.d, bytesPerElement: 4 },
    { buffer: io.stats, name: 'stats', perHead: p.nq, bytesPerElement: STATS_BYTES_PER_ROW },
  ];

  // One dispatch over `range` with the pass's pipeline, its parameters in the next ring slot.
  function dispatch(pass: GPUComputePassEncoder, io: AttentionProfilesIo, p: LongAttentionParams, range: BlockRange) {
    const head = groups.forHead(sourcesFor(io, p), range.head);
    const [x, y] = grid2d(range.blocks);
    const offset = ring.push({
      q_base: head.base.q!,
      k_base: head.base.k!,
      stats_base: head.base.stats!,
      sums_base: head.base.sums!,
      entropy_base: head.base.entropy!,
      ...scoreUniforms(p),
      first_block: range.firstBlock,
      blocks: range.blocks,
      groups_x: x,
    });
    pass.setBindGroup(0, head.group, [offset]);
    pass.dispatchWorkgroups(x, y);
  }

  return {
    recordColumnSums(encoder, io, p, ranges, timestampWrites) {
      const pass = encoder.beginComputePass({ label: `${label}.columnSums`, ...(timestampWrites && { timestampWrites }) });
      pass.setPipeline(pipelines.columnSums(p.exact));
      for (const range of ranges) dispatch(pass, io, p, range);
      pass.end();
    },
    recordEntropy(encoder, io, p, heads) {
      const pass = encoder.beginComputePass({ label: `${label}.entropy` });
      pass.setPipeline(pipelines.entropy(true));
      for (const head of heads) dispatch(pass, io, p, { head, firstBlock: 0, blocks: Math.ceil(p.nq / TILE) });
      pass.end();
    },
    destroy() {
      ring.destroy();
    },
  };
}

function buildPipelines(device: GPUDevice) {
  const kernel = scoreKernelPipelines(device, 'AttentionProfiles', profilesWgsl, [
    storageEntry(0, 'storage'), // column sums
    storageEntry(1, 'storage'), // entropy
    storageEntry(2, 'read-only-storage'), // q
    storageEntry(3, 'read-only-storage'), // k
    storageEntry(4, 'read-only-storage'), // stats
    paramsEntry(5),
  ]);
  return {
    bindGroupLayout: kernel.bindGroupLayout,
    columnSums: lazyVariants((exact) => kernel.pipeline('column_sums', exact)),
    // The entropy copy computes no scores, so it takes no EXACT constant.
    entropy: lazyVariants(() => kernel.pipeline('entropy')),
  };
}
