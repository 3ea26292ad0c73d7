// Kernel wrapper for shaders/compute/attention-row-stats.wgsl (per-row max, log-sum-exp and entropy), and
// the binding plan that the three long-attention kernels share: each head is bound through its own aligned
// window of Q, K and the outputs (so no binding exceeds the device limit however many heads there are),
// and parameters go through a ring of uniform slots with dynamic offsets (so one submit may hold many
// dispatches with different parameters).
import doubleFloatWgsl from '../../shaders/common/double-float.wgsl?raw';
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import scoreTileWgsl from '../../shaders/common/score-tile.wgsl?raw';
import rowStatsWgsl from '../../shaders/compute/attention-row-stats.wgsl?raw';
import type { Engine } from '../core/engine';
import { DeviceLimitError, formatBytes } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { uniformLayout, type UniformLayout } from '../memory/uniforms';

/** Shape and score options common to the long-attention kernels. Q [heads, nq, d], K [heads, nk, d]. */
export interface LongAttentionParams {
  heads: number;
  nq: number;
  nk: number;
  d: number;
  scale: number;
  causal: boolean;
  /** Keys at index ≥ keyLength are padding and masked. */
  keyLength: number;
  /** Compensated (double-float accurate) dot products; false accumulates plainly (about 2× faster). */
  exact: boolean;
}

export interface AttentionRowStatsIo {
  /** [heads, nq] vec4<f32>: (m, log l, entropy, 0); written for the recorded query blocks. */
  stats: GPUBuffer;
  /** [heads, nq, d] */
  q: GPUBuffer;
  /** [heads, nk, d] */
  k: GPUBuffer;
}

/** Blocks [firstBlock, firstBlock + blocks) of 64 rows (or columns) each, of one head. */
export interface BlockRange {
  head: number;
  firstBlock: number;
  blocks: number;
}

export interface AttentionRowStatsKernel {
  /**
   * Records one dispatch per range into one compute pass (timed as a whole with `timestampWrites`).
   * Up to `slots` dispatches (all kernels' records together count per kernel) may share one submit.
   */
  record(
    encoder: GPUCommandEncoder,
    io: AttentionRowStatsIo,
    params: LongAttentionParams,
    ranges: readonly BlockRange[],
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  /** Clears `status` (queued before the next submit). */
  resetStatus(): void;
  /** { badRows, firstRow, firstKey } as three u32: rows with a non-finite score since the last reset. */
  readonly status: GPUBuffer;
  destroy(): void;
}

export const TILE = 64;
export const STATS_BYTES_PER_ROW = 16;
export const MAX_GROUPS_PER_DIMENSION = 65535;
export const NO_INDEX = 0xffffffff;
/** The lowest finite float32, as MASKED in shaders/common/numerics.wgsl: m of a row with nothing visible. */
export const MASKED = -3.4028234663852886e38;
const PARAMS = uniformLayout(rowStatsWgsl, 'Params');

export function createAttentionRowStats(engine: Engine, label = 'AttentionRowStats', slots = 256): AttentionRowStatsKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, slots);
  const groups = new PerHeadBindGroups(engine, label, pipelines.bindGroupLayout, ring);
  const status = engine.createBuffer({
    label: `${label}.status`,
    size: 12,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const statusReset = new Uint32Array([0, NO_INDEX, NO_INDEX]);
  const resetStatus = () => engine.device.queue.writeBuffer(status, 0, statusReset);
  resetStatus();

  return {
    status,
    resetStatus,
    record(encoder, io, p, ranges, timestampWrites) {
      const sources: BindingSource[] = [
        { buffer: io.stats, name: 'stats', perHead: p.nq, bytesPerElement: STATS_BYTES_PER_ROW },
        { buffer: status, name: 'status' },
        { buffer: io.q, name: 'q', perHead: p.nq * p.d, bytesPerElement: 4 },
        { buffer: io.k, name: 'k', perHead: p.nk * p.d, bytesPerElement: 4 },
      ];
      const pass = encoder.beginComputePass({ label: `${label}.pass`, ...(timestampWrites && { timestampWrites }) });
      pass.setPipeline(pipelines.pipeline(p.exact));
      for (const range of ranges) {
        const head = groups.forHead(sources, range.head);
        const [x, y] = grid2d(range.blocks);
        const offset = ring.push({
          q_base: head.base.q!,
          k_base: head.base.k!,
          stats_base: head.base.stats!,
          row_index_base: range.head * p.nq,
          ...scoreUniforms(p),
          first_block: range.firstBlock,
          blocks: range.blocks,
          groups_x: x,
        });
        pass.setBindGroup(0, head.group, [offset]);
        pass.dispatchWorkgroups(x, y);
      }
      pass.end();
    },
    destroy() {
      ring.destroy();
      status.destroy();
    },
  };
}

/** Every row starts as "masked" (vec4(MASKED, 0, 0, 0)), so rows not yet computed draw as zeros. */
export function clearRowStats(engine: Engine, stats: GPUBuffer, rows: number): void {
  const rowsPerWrite = Math.min(rows, 1 << 16);
  const pattern = new Float32Array(rowsPerWrite * 4);
  for (let row = 0; row < rowsPerWrite; row++) pattern[4 * row] = MASKED;
  for (let row = 0; row < rows; row += rowsPerWrite) {
    const count = Math.min(rowsPerWrite, rows - row);
    engine.device.queue.writeBuffer(stats, row * STATS_BYTES_PER_ROW, pattern, 0, count * 4);
  }
}

/** Row statistics read back: m, L = m + log l in float64 (-Infinity for a fully masked row), entropy. */
export function decodeRowStats(raw: Float32Array): { m: Float32Array; lse: Float64Array; entropy: Float32Array } {
  const rows = raw.length / 4;
  const m = new Float32Array(rows);
  const lse = new Float64Array(rows);
  const entropy = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    m[row] = raw[4 * row]!;
    lse[row] = m[row] === MASKED ? -Infinity : raw[4 * row]! + raw[4 * row + 1]!;
    entropy[row] = raw[4 * row + 2]!;
  }
  return { m, lse, entropy };
}

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'AttentionRowStats.module', [numericsWgsl, doubleFloatWgsl, scoreTileWgsl, rowStatsWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'AttentionRowStats.bindGroupLayout',
    entries: [
      storageEntry(0, 'storage'), // stats
      storageEntry(1, 'storage'), // status
      storageEntry(2, 'read-only-storage'), // q
      storageEntry(3, 'read-only-storage'), // k
      paramsEntry(4),
    ],
  });
  const layout = device.createPipelineLayout({ label: 'AttentionRowStats.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = lazyVariants((exact) =>
    device.createComputePipeline({
      label: `AttentionRowStats.row_stats${exact ? '' : '.fast'}`,
      layout,
      compute: { module, entryPoint: 'row_stats', constants: { EXACT: exact ? 1 : 0 } },
    }),
  );
  return { bindGroupLayout, pipeline };
}

// ---- shared by the long-attention kernels -------------------------------------------------------

export function storageEntry(binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry {
  return { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } };
}

/** The parameters slot: a uniform with a dynamic offset into a UniformRing. */
export function paramsEntry(binding: number): GPUBindGroupLayoutEntry {
  return { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } };
}

/** Builds a pipeline variant the first time it is asked for: each one costs a shader compile. */
export function lazyVariants<T>(build: (exact: boolean) => T): (exact: boolean) => T {
  const built = new Map<boolean, T>();
  return (exact) => {
    if (!built.has(exact)) built.set(exact, build(exact));
    return built.get(exact)!;
  };
}

/** The score fields every long-attention Params struct has. */
export function scoreUniforms(p: LongAttentionParams) {
  return {
    nq: p.nq,
    nk: p.nk,
    d: p.d,
    key_length: p.keyLength,
    causal: p.causal ? 1 : 0,
    scale: p.scale,
    scale_low: p.scale - Math.fround(p.scale),
  };
}

/** `groups` workgroups as a 2D dispatch, at most 65,535 along each dimension. */
export function grid2d(groups: number): [number, number] {
  const x = Math.max(1, Math.min(groups, MAX_GROUPS_PER_DIMENSION));
  return [x, Math.ceil(groups / x)];
}

export interface BindingWindow {
  /** Byte offset of the binding: a multiple of the alignment. */
  offset: number;
  size: number;
  /** Index of the first wanted element within the binding. */
  base: number;
}

/** The aligned binding that covers elements [start, start + count) of `bytesPerElement` bytes each. */
export function bindingWindow(start: number, count: number, bytesPerElement: number, alignment: number): BindingWindow {
  const first = start * bytesPerElement;
  const offset = Math.floor(first / alignment) * alignment;
  return { offset, size: first + count * bytesPerElement - offset, base: (first - offset) / bytesPerElement };
}

/** A buffer bound whole (status, a tile output), or per head: head h's elements [h·perHead, (h+1)·perHead). */
export type BindingSource =
  | { buffer: GPUBuffer; name: string }
  | { buffer: GPUBuffer; name: string; perHead: number; bytesPerElement: number };

export interface HeadBinding {
  group: GPUBindGroup;
  /** Element index of the head's first element within each per-head binding, by source name. */
  base: Record<string, number>;
}

/**
 * Bind groups per head, built on first use and cached per combination of buffers (by object identity,
 * through nested WeakMaps): a live view recording every frame allocates nothing after its first frame.
 */
export class PerHeadBindGroups {
  readonly #root = new WeakMap<GPUBuffer, unknown>();
  constructor(
    private readonly engine: Engine,
    private readonly label: string,
    private readonly layout: GPUBindGroupLayout,
    private readonly ring: UniformRing,
  ) {}

  forHead(sources: readonly BindingSource[], head: number): HeadBinding {
    let node: WeakMap<GPUBuffer, unknown> = this.#root;
    sources.forEach((source, index) => {
      const last = index === sources.length - 1;
      if (!node.has(source.buffer)) node.set(source.buffer, last ? [] : new WeakMap());
      node = node.get(source.buffer) as WeakMap<GPUBuffer, unknown>;
    });
    const perHead = node as unknown as HeadBinding[];
    return (perHead[head] ??= this.#build(sources, head));
  }

  #build(sources: readonly BindingSource[], head: number): HeadBinding {
    const limits = this.engine.limits;
    const base: Record<string, number> = {};
    const entries: GPUBindGroupEntry[] = sources.map((source, binding) => {
      if (!('perHead' in source)) {
        assertBindingFits(this.label, source.name, source.buffer.size, limits);
        return { binding, resource: { buffer: source.buffer } };
      }
      const window = bindingWindow(head * source.perHead, source.perHead, source.bytesPerElement,
        limits.minStorageBufferOffsetAlignment);
      assertBindingFits(this.label, `${source.name} of head ${head}`, window.size, limits);
      base[source.name] = window.base;
      return { binding, resource: { buffer: source.buffer, offset: window.offset, size: window.size } };
    });
    entries.push({ binding: entries.length, resource: { buffer: this.ring.buffer, size: this.ring.bindingSize } });
    const group = this.engine.device.createBindGroup({ label: `${this.label}.bindGroup.head${head}`, layout: this.layout, entries });
    return { group, base };
  }
}

export function assertBindingFits(label: string, what: string, bytes: number, limits: GPUSupportedLimits): void {
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new DeviceLimitError(
      `${label}: ${what} needs ${formatBytes(bytes)} in one binding, but this device's ` +
        `maxStorageBufferBindingSize is ${formatBytes(limits.maxStorageBufferBindingSize)}.`,
    );
  }
}

/**
 * Uniform parameters in slots of one buffer, bound with dynamic offsets: each record writes the next
 * slot (queued before the submit that uses it), so up to `slots` dispatches with different parameters
 * can share one submit. The layout is read from the WGSL struct, as for UniformBuffer.
 */
export class UniformRing {
  readonly buffer: GPUBuffer;
  readonly bindingSize: number;
  readonly #layout: UniformLayout;
  readonly #stride: number;
  readonly #slots: number;
  readonly #view: DataView;
  readonly #device: GPUDevice;
  #next = 0;

  constructor(engine: Engine, layout: UniformLayout, label: string, slots: number) {
    const alignment = engine.limits.minUniformBufferOffsetAlignment;
    this.#layout = layout;
    this.#device = engine.device;
    this.#slots = slots;
    this.#stride = Math.ceil(layout.byteLength / alignment) * alignment;
    this.bindingSize = layout.byteLength;
    this.#view = new DataView(new ArrayBuffer(layout.byteLength));
    this.buffer = engine.createBuffer({
      label,
      size: this.#stride * slots,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** Writes every field (a missing or unknown name throws) into the next slot; returns its offset. */
  push(values: Readonly<Record<string, number>>): number {
    const { fields, struct } = this.#layout;
    if (Object.keys(values).length !== fields.size || [...fields.keys()].some((name) => values[name] === undefined)) {
      throw new Error(`${struct}: expected fields ${[...fields.keys()].join(', ')}; got ${Object.keys(values).join(', ')}.`);
    }
    for (const [name, { offset, type }] of fields) {
      const value = values[name]!;
      if (type === 'f32') this.#view.setFloat32(offset, value, true);
      else if (type === 'u32') this.#view.setUint32(offset, value, true);
      else this.#view.setInt32(offset, value, true);
    }
    const offset = (this.#next++ % this.#slots) * this.#stride;
    this.#device.queue.writeBuffer(this.buffer, offset, this.#view.buffer);
    return offset;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
