// Kernel wrapper for shaders/compute/attention-weights.wgsl: scores, then row softmax in place.
import doubleFloatWgsl from '../../shaders/common/double-float.wgsl?raw';
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import attentionWeightsWgsl from '../../shaders/compute/attention-weights.wgsl?raw';
import type { Engine } from '../core/engine';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { UniformBuffer, uniformLayout } from '../memory/uniforms';

export interface AttentionWeightsIo {
  /** [batch, nq, nk], written completely. */
  out: GPUBuffer;
  /** [batch, nq, d] */
  q: GPUBuffer;
  /** [batch, nk, d] */
  k: GPUBuffer;
}

/** Sizes and options of one record; they must match the buffers in `AttentionWeightsIo` (float32, row-major). */
export interface AttentionWeightsParams {
  batch: number;
  nq: number;
  nk: number;
  d: number;
  scale: number;
  causal: boolean;
  /** Keys at index >= keyLength are padding and masked. */
  keyLength: number;
  /** Compensated (double-float accurate) dot products; false accumulates plainly (about 2× faster). */
  exact: boolean;
}

/**
 * Attention weights P = softmax(Q Kᵀ · scale + mask), computed in place in the caller's output buffer.
 * Rows with every key masked come out as zeros; non-finite scores are masked and reported in `status`.
 */
export interface AttentionWeightsKernel {
  /**
   * Records both passes into one compute pass (timed as a whole when `timestampWrites` is given).
   * One record per submit: parameters are written to the queue at record time.
   */
  record(
    encoder: GPUCommandEncoder,
    io: AttentionWeightsIo,
    params: AttentionWeightsParams,
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** { count, firstIndex } of non-finite scores since the last record, 8 bytes, in `status`. */
  readonly status: GPUBuffer;
  /** Destroys the buffers the kernel owns (`status`, parameters, scratch); the io buffers stay the caller's. */
  destroy(): void;
}

const TILE = 64;
const ROWS_PER_GROUP = 4; // normalize_rows handles four rows per workgroup
const MAX_GROUPS_PER_DIMENSION = 65535;
const PARAMS = uniformLayout(attentionWeightsWgsl, 'Params');
const NO_NON_FINITE = 0xffffffff;

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'AttentionWeights.module', [numericsWgsl, doubleFloatWgsl, attentionWeightsWgsl]);
  const storage = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
    binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type },
  });
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'AttentionWeights.bindGroupLayout',
    entries: [
      storage(0, 'storage'), // out
      storage(1, 'storage'), // status
      storage(2, 'read-only-storage'), // q
      storage(3, 'read-only-storage'), // k
      storage(4, 'uniform'), // params
      storage(5, 'storage'), // tile_max
    ],
  });
  const layout = device.createPipelineLayout({ label: 'AttentionWeights.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = (entryPoint: string, exact: boolean) =>
    device.createComputePipeline({
      label: `AttentionWeights.${entryPoint}${exact ? '' : '.fast'}`,
      layout,
      compute: { module, entryPoint, constants: { EXACT: exact ? 1 : 0 } },
    });
  const variant = (exact: boolean) => ({
    scores: pipeline('scores', exact),
    normalizeRows: pipeline('normalize_rows', exact),
  });
  return { bindGroupLayout, exact: variant(true), fast: variant(false) };
}

/**
 * Creates an attention-weights kernel. Pipelines are compiled once per device; the kernel owns its uniform,
 * `status` and scratch buffers (the scratch grows to the largest problem seen). `label` prefixes every GPU
 * object it creates.
 */
export function createAttentionWeightsKernel(engine: Engine, label = 'AttentionWeights'): AttentionWeightsKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const params = new UniformBuffer(engine, PARAMS, `${label}.params`);
  const status = engine.createBuffer({
    label: `${label}.status`,
    size: 8,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const statusReset = new Uint32Array([0, NO_NON_FINITE]);
  let tileMax: GPUBuffer | null = null;
  let bindGroup: GPUBindGroup | null = null;
  let bound: AttentionWeightsIo | null = null;

  // Per-row tile maxima: grown when a larger problem comes, kept otherwise.
  function tileMaxFor(p: AttentionWeightsParams): GPUBuffer {
    const bytes = p.batch * p.nq * Math.ceil(p.nk / TILE) * 4;
    if (tileMax && tileMax.size >= bytes) return tileMax;
    tileMax?.destroy();
    bindGroup = null;
    tileMax = engine.createBuffer({ label: `${label}.tileMax`, size: bytes, usage: GPUBufferUsage.STORAGE });
    return tileMax;
  }

  // Bind groups are reused while the same buffers come back (every frame of a live view).
  function bindGroupFor(io: AttentionWeightsIo, tiles: GPUBuffer): GPUBindGroup {
    if (bindGroup && bound && bound.out === io.out && bound.q === io.q && bound.k === io.k) return bindGroup;
    bound = { ...io };
    bindGroup = engine.device.createBindGroup({
      label: `${label}.bindGroup`,
      layout: pipelines.bindGroupLayout,
      entries: [io.out, status, io.q, io.k, params.buffer, tiles].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    return bindGroup;
  }

  return {
    status,
    record(encoder, io, p, timestampWrites) {
      const rowGroups = Math.ceil((p.batch * p.nq) / ROWS_PER_GROUP);
      const groupsPerSlice = Math.min(rowGroups, MAX_GROUPS_PER_DIMENSION);
      params.write({
        batch: p.batch,
        nq: p.nq,
        nk: p.nk,
        d: p.d,
        key_length: p.keyLength,
        causal: p.causal ? 1 : 0,
        scale: p.scale,
        scale_low: p.scale - Math.fround(p.scale),
        groups_per_slice: groupsPerSlice,
      });
      engine.device.queue.writeBuffer(status, 0, statusReset);
      const group = bindGroupFor(io, tileMaxFor(p));
      const variant = p.exact ? pipelines.exact : pipelines.fast;
      const pass = encoder.beginComputePass({ label: `${label}.pass`, ...(timestampWrites && { timestampWrites }) });
      pass.setBindGroup(0, group);
      pass.setPipeline(variant.scores);
      pass.dispatchWorkgroups(Math.ceil(p.nk / TILE), Math.ceil(p.nq / TILE), p.batch);
      pass.setPipeline(variant.normalizeRows);
      pass.dispatchWorkgroups(groupsPerSlice, Math.ceil(rowGroups / groupsPerSlice));
      pass.end();
    },
    destroy() {
      params.destroy();
      status.destroy();
      tileMax?.destroy();
      tileMax = null;
      bindGroup = null;
      bound = null;
    },
  };
}
