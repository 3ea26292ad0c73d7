// Plumbing shared by the three long-attention kernels (row statistics, tiles, profiles): their shader
// modules and pipeline variants, the score uniforms, and the per-head bind groups that keep every binding
// under the device limit. What any kernel needs is in kernel-bindings.ts.
import doubleFloatWgsl from '../../shaders/common/double-float.wgsl?raw';
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import scoreTileWgsl from '../../shaders/common/score-tile.wgsl?raw';
import type { Engine } from '../core/engine';
import { shaderModule } from '../core/wgsl';
import type { LongAttentionParams } from './attention-row-stats';
import { assertBindingFits, bindingWindow, type UniformRing } from './kernel-bindings';

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

