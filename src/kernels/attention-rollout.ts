// Kernel wrapper for attention rollout: shaders/compute/attention-graph.wgsl (Â_l for every layer, and
// R_0 = Â_0), then shaders/compute/rollout-matmul.wgsl once per layer l ≥ 1 (R_l = Â_l · R_{l-1}), all in
// one compute pass of the caller's encoder.
import doubleFloatWgsl from '../../shaders/common/double-float.wgsl?raw';
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import attentionGraphWgsl from '../../shaders/compute/attention-graph.wgsl?raw';
import rolloutMatmulWgsl from '../../shaders/compute/rollout-matmul.wgsl?raw';
import type { Engine } from '../core/engine';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { UniformBuffer, uniformLayout } from '../memory/uniforms';
import { UniformRing, grid2d, paramsEntry, storageEntry } from './kernel-bindings';

/** How the heads of one layer are fused, elementwise. */
export type HeadFusion = 'mean' | 'max' | 'min';

export interface AttentionRolloutIo {
  /** Â_l stacked: [layers, n, n], written completely. */
  graph: GPUBuffer;
  /** R_l stacked: [layers, n, n], written completely. */
  rollout: GPUBuffer;
  /** P: [layers, heads, n, n]. */
  weights: GPUBuffer;
}

export interface AttentionRolloutParams {
  layers: number;
  heads: number;
  n: number;
  fusion: HeadFusion;
  /** In [0, 1): each row loses at most floor(ratio · n) entries, those below its (k+1)-th smallest. */
  discardRatio: number;
}

/**
 * Attention rollout on the GPU: the per-layer graphs Â_l (heads fused, small entries discarded, identity added,
 * rows normalized) and the rollouts R_l = Â_l · R_{l-1}, both written to the caller's buffers.
 */
export interface AttentionRolloutKernel {
  /**
   * Records every layer into one compute pass (timed as a whole when `timestampWrites` is given).
   * One record per submit: parameters are written to the queue at record time.
   */
  record(
    encoder: GPUCommandEncoder,
    io: AttentionRolloutIo,
    params: AttentionRolloutParams,
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** { count, firstIndex into P } of NaN/±Inf weights since the last record, 8 bytes. */
  readonly status: GPUBuffer;
  /** Destroys the buffers the kernel owns (`status`, parameters); the io buffers stay the caller's. */
  destroy(): void;
}

const GRAPH_PARAMS = uniformLayout(attentionGraphWgsl, 'Params');
const MATMUL_PARAMS = uniformLayout(rolloutMatmulWgsl, 'Params');
const FUSION_CODES: Record<HeadFusion, number> = { mean: 0, max: 1, min: 2 };
const TILE = 64; // rollout-matmul's output tile
const NO_NON_FINITE = 0xffffffff;

/** Entries a row of n may lose at this discard ratio (the reference uses the same formula). */
export function discardCountOf(ratio: number, n: number): number {
  return Math.floor(ratio * n);
}

function buildPipelines(device: GPUDevice) {
  const graphLayout = device.createBindGroupLayout({
    label: 'AttentionRollout.graph.bindGroupLayout',
    entries: [
      storageEntry(0, 'storage'), // graph
      storageEntry(1, 'storage'), // rollout (layer 0)
      storageEntry(2, 'storage'), // status
      storageEntry(3, 'read-only-storage'), // weights
      storageEntry(4, 'uniform'), // params
    ],
  });
  const matmulLayout = device.createBindGroupLayout({
    label: 'AttentionRollout.matmul.bindGroupLayout',
    entries: [storageEntry(0, 'storage'), storageEntry(1, 'read-only-storage'), paramsEntry(2)],
  });
  const pipeline = (name: string, layout: GPUBindGroupLayout, sources: string[], entryPoint: string) =>
    device.createComputePipeline({
      label: `AttentionRollout.${name}.pipeline`,
      layout: device.createPipelineLayout({ label: `AttentionRollout.${name}.layout`, bindGroupLayouts: [layout] }),
      compute: { module: shaderModule(device, `AttentionRollout.${name}.module`, sources), entryPoint },
    });
  return {
    graphLayout,
    matmulLayout,
    graph: pipeline('graph', graphLayout, [numericsWgsl, doubleFloatWgsl, attentionGraphWgsl], 'attention_graph'),
    matmul: pipeline('matmul', matmulLayout, [rolloutMatmulWgsl], 'rollout_matmul'),
  };
}

/**
 * Creates an attention-rollout kernel. Pipelines are compiled once per device; the kernel owns its uniform
 * and `status` buffers. `label` prefixes every GPU object it creates.
 */
export function createAttentionRolloutKernel(engine: Engine, label = 'AttentionRollout'): AttentionRolloutKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const graphParams = new UniformBuffer(engine, GRAPH_PARAMS, `${label}.graph.params`);
  const status = engine.createBuffer({
    label: `${label}.status`,
    size: 8,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const statusReset = new Uint32Array([0, NO_NON_FINITE]);
  // One uniform slot per matmul layer; a deeper model gets a new ring. Replaced rings are kept until
  // destroy(): an encoder recorded but not yet submitted may still bind them.
  let ring: UniformRing | null = null;
  let ringSlots = 0;
  const retired: UniformRing[] = [];
  let bound: { io: AttentionRolloutIo; ring: UniformRing | null; graph: GPUBindGroup; matmul: GPUBindGroup | null } | null = null;

  function ringFor(layers: number): UniformRing {
    if (ring && ringSlots >= layers) return ring;
    if (ring) retired.push(ring);
    ringSlots = Math.max(layers, 2 * ringSlots);
    ring = new UniformRing(engine, MATMUL_PARAMS, `${label}.matmul.params`, ringSlots);
    return ring;
  }

  // Bind groups are reused while the same buffers come back (every frame of a live view).
  function bindGroupsFor(io: AttentionRolloutIo, matmulRing: UniformRing | null) {
    const same = bound && bound.ring === matmulRing && bound.io.graph === io.graph &&
      bound.io.rollout === io.rollout && bound.io.weights === io.weights;
    if (same) return bound!;
    const entries = (buffers: GPUBuffer[]) => buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    const graph = engine.device.createBindGroup({
      label: `${label}.graph.bindGroup`,
      layout: pipelines.graphLayout,
      entries: entries([io.graph, io.rollout, status, io.weights, graphParams.buffer]),
    });
    const matmul = matmulRing && engine.device.createBindGroup({
      label: `${label}.matmul.bindGroup`,
      layout: pipelines.matmulLayout,
      entries: [
        ...entries([io.rollout, io.graph]),
        { binding: 2, resource: { buffer: matmulRing.buffer, size: matmulRing.bindingSize } },
      ],
    });
    bound = { io: { ...io }, ring: matmulRing, graph, matmul };
    return bound;
  }

  return {
    status,
    record(encoder, io, p, timestampWrites) {
      const rowGrid = grid2d(p.layers * p.n);
      graphParams.write({
        layers: p.layers,
        heads: p.heads,
        n: p.n,
        fusion: FUSION_CODES[p.fusion],
        discard_count: discardCountOf(p.discardRatio, p.n),
        groups_per_slice: rowGrid[0],
      });
      engine.device.queue.writeBuffer(status, 0, statusReset);
      const matmulRing = p.layers > 1 ? ringFor(p.layers - 1) : null;
      const groups = bindGroupsFor(io, matmulRing);
      const pass = encoder.beginComputePass({ label: `${label}.pass`, ...(timestampWrites && { timestampWrites }) });
      pass.setPipeline(pipelines.graph);
      pass.setBindGroup(0, groups.graph);
      pass.dispatchWorkgroups(rowGrid[0], rowGrid[1]);
      if (matmulRing && groups.matmul) {
        const tiles = Math.ceil(p.n / TILE);
        pass.setPipeline(pipelines.matmul);
        for (let layer = 1; layer < p.layers; layer++) {
          pass.setBindGroup(0, groups.matmul, [matmulRing.push({ n: p.n, layer })]);
          pass.dispatchWorkgroups(tiles, tiles);
        }
      }
      pass.end();
    },
    destroy() {
      graphParams.destroy();
      status.destroy();
      ring?.destroy();
      for (const old of retired.splice(0)) old.destroy();
      ring = null;
      bound = null;
    },
  };
}
