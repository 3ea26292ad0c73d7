// Plumbing shared by the three long-attention kernels (row statistics, tiles, profiles): bind group
// layout entries, the per-head binding windows that keep every binding under the device limit, dispatch
// grids, and a ring of uniform slots with dynamic offsets so one submit can hold many dispatches.
import doubleFloatWgsl from '../../shaders/common/double-float.wgsl?raw';
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import scoreTileWgsl from '../../shaders/common/score-tile.wgsl?raw';
import type { Engine } from '../core/engine';
import { shaderModule } from '../core/wgsl';
import { DeviceLimitError, formatBytes } from '../core/errors';
import type { UniformLayout } from '../memory/uniforms';
import type { LongAttentionParams } from './attention-row-stats';

/** WebGPU's guaranteed maximum workgroups per dispatch dimension. */
const MAX_GROUPS_PER_DIMENSION = 65535;

/**
 * A long-attention kernel's shader module (the shared score tile and its own WGSL), bind group layout, and
 * a pipeline maker per entry point; `exact` sets the EXACT override where the entry point computes scores.
 */
export function scoreKernelPipelines(device: GPUDevice, name: string, wgsl: string, entries: GPUBindGroupLayoutEntry[]) {
  const module = shaderModule(device, `${name}.module`, [numericsWgsl, doubleFloatWgsl, scoreTileWgsl, wgsl]);
  const bindGroupLayout = device.createBindGroupLayout({ label: `${name}.bindGroupLayout`, entries });
  const layout = device.createPipelineLayout({ label: `${name}.layout`, bindGroupLayouts: [bindGroupLayout] });
  const pipeline = (entryPoint: string, exact?: boolean) =>
    device.createComputePipeline({
      label: `${name}.${entryPoint}${exact === false ? '.fast' : ''}`,
      layout,
      compute: { module, entryPoint, ...(exact !== undefined && { constants: { EXACT: exact ? 1 : 0 } }) },
    });
  return { bindGroupLayout, pipeline };
}

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
