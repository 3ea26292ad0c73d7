// Kernel wrapper for shaders/compute/channel-stats.wgsl: per-channel statistics records of a feature layer,
// then the layer's record merged from them, recorded into the caller's compute pass.
//
// Per layer slot (record offset) the wrapper keeps a plan: the chunks of batch items that fit one storage
// binding, their uniforms (written once), and bind groups for the last two activation buffers it saw.
// tfjs hands out a different buffer on most forward passes; the bound keeps that from growing without end,
// while a view re-encoding the same buffers every frame allocates nothing.
import channelStatsWgsl from '../../shaders/compute/channel-stats.wgsl?raw';
import channelStatsQuadsWgsl from '../../shaders/compute/channel-stats-quads.wgsl?raw';
import featureRangeWgsl from '../../shaders/common/feature-range.wgsl?raw';
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import type { Engine } from '../core/engine';
import { DeviceLimitError, formatBytes, invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import type { FeatureLayer } from '../features/feature-layer';
import { uniformLayout } from '../memory/uniforms';
import { STATS_RECORD_FLOATS } from '../reference/channel-stats';
import { UniformRing, assertBindingFits, bindingWindow, grid2d, storageEntry } from './kernel-bindings';

/** Bytes of one statistics record (`STATS_RECORD_FLOATS` float32 values). */
export const STATS_RECORD_BYTES = STATS_RECORD_FLOATS * 4;

/** Options of `createChannelStatsKernel`. */
export interface ChannelStatsKernelOptions {
  label?: string;
  /**
   * Largest binding of activations in bytes; the device's maxStorageBufferBindingSize by default. A layer
   * larger than this is bound in chunks of batch items (tests lower it to reach that path with small data).
   */
  maxBindingBytes?: number;
  /** Workgroups per dispatch dimension before the grid becomes 2D; 65,535 by default (tests lower it). */
  maxGroupsPerDimension?: number;
}

/**
 * Per-channel statistics of feature layers (min, max, mean, std, counts, max|v|), written as records into a
 * caller's storage buffer. Pipelines, per-layer plans and bind groups are reused across frames.
 */
export interface ChannelStatsKernel {
  /**
   * Records into `pass` the dispatches that write `layer`'s records into `stats`: channel c at record
   * `recordOffset + c`, the whole layer at `recordOffset + layer.channels` (statsRecordsOf(layer) records).
   */
  encode(pass: GPUComputePassEncoder, layer: FeatureLayer, stats: GPUBuffer, recordOffset: number): void;
  /** Frees the uniform and scratch buffers; pipelines stay cached for the device. */
  destroy(): void;
}

/** Records a layer takes in a stats buffer: one per channel, then the layer's. */
export function statsRecordsOf(layer: FeatureLayer): number {
  return layer.channels + 1;
}

const PARAMS = uniformLayout(channelStatsWgsl, 'Params');
const BYTES_PER_FLOAT = 4;
/** Threads per workgroup of the partials and records passes (PASS_GROUP). */
const PASS_GROUP = 64;
/** Bytes of one partial: Summary (seven f32) per channel, Summary4 (six vec4<f32>) per quad. */
const PARTIAL_BYTES: Record<ChannelPass, number> = { channels: 28, quads: 96 };
/** Position lanes are added until a layer has about this many threads... */
const TARGET_THREADS = 4096;
/** ...and until no thread sums more than this many values in sequence (f32 sums drift with length). */
const MAX_VALUES_PER_THREAD = 1024;
const MAX_LANES = 256;
/** Bind groups kept per layer slot: the buffers of the current and the previous forward pass. */
const RECENT_BUFFERS = 2;

/**
 * Creates a channel-statistics kernel; pipelines are compiled once per device. The kernel owns its uniform and
 * scratch buffers (freed by `destroy()`); the activations and the stats buffer stay the caller's.
 */
export function createChannelStatsKernel(engine: Engine, options: ChannelStatsKernelOptions = {}): ChannelStatsKernel {
  const label = options.label ?? 'ChannelStats';
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const plans = new Map<number, LayerPlan>();
  // The partials pass's sums, shared by every layer this kernel encodes: their passes run one after the
  // other, so one buffer of the largest plan's size serves them all (not one per layer). A buffer outgrown
  // may still be bound by commands encoded but not yet submitted, so it is kept until destroy(); growth at
  // least doubles, so there are few.
  const scratch: GPUBuffer[] = [];
  const scratchFor = (bytes: number): GPUBuffer => {
    const current = scratch.at(-1);
    if (current && current.size >= bytes) return current;
    for (const plan of plans.values()) plan.forgetBindGroups();
    const size = Math.max(bytes, Math.min(2 * (current?.size ?? 0), engine.limits.maxStorageBufferBindingSize));
    scratch.push(engine.createBuffer({ label: `${label}.partials`, size, usage: GPUBufferUsage.STORAGE }));
    return scratch.at(-1)!;
  };
  const maxBindingBytes = Math.min(options.maxBindingBytes ?? Infinity, engine.limits.maxStorageBufferBindingSize);

  return {
    encode(pass, layer, stats, recordOffset) {
      const records = statsRecordsOf(layer);
      invalidArgument(
        Number.isInteger(recordOffset) && recordOffset >= 0 && (recordOffset + records) * STATS_RECORD_BYTES <= stats.size,
        () => `${label}: layer '${layer.name}' needs records [${recordOffset}, ${recordOffset + records}) of ` +
          `${STATS_RECORD_BYTES} bytes, but stats buffer '${stats.label}' holds ${stats.size / STATS_RECORD_BYTES} records.`,
      );
      layer.tensor.assertUsable();
      let plan = plans.get(recordOffset);
      if (!plan || !plan.fits(layer)) {
        plan?.destroy();
        plan = new LayerPlan(engine, label, layer, recordOffset, maxBindingBytes, options.maxGroupsPerDimension);
        plans.set(recordOffset, plan);
      }
      const partials = scratchFor(plan.partialBytes);
      const groups = plan.bindGroups(pipelines.bindGroupLayout, layer.tensor.buffer, stats, partials);
      const passes = pipelines[plan.kind];
      for (let chunk = 0; chunk < groups.length; chunk++) {
        pass.setBindGroup(0, groups[chunk]!);
        pass.setPipeline(passes.partials);
        pass.dispatchWorkgroups(plan.grid[0], plan.grid[1]);
        pass.setPipeline(passes.records);
        pass.dispatchWorkgroups(plan.recordGrid[0], plan.recordGrid[1]);
      }
      pass.setPipeline(pipelines.layer);
      pass.setBindGroup(0, groups[0]!);
      pass.dispatchWorkgroups(1);
    },
    destroy() {
      for (const plan of plans.values()) plan.destroy();
      plans.clear();
      for (const buffer of scratch.splice(0)) buffer.destroy();
    },
  };
}

/** Consecutive batch items bound as bytes [offset, offset + size) of the tensor's buffer. */
interface Chunk {
  items: number;
  offset: number;
  size: number;
  /** Element of the chunk's first item's (0, 0, 0) within the binding. */
  base: number;
}

interface BindingSet {
  values: GPUBuffer;
  stats: GPUBuffer;
  groups: GPUBindGroup[];
}

/**
 * Which passes fit a layer: `quads` (four channels per thread, 16-byte loads) for dense channel-contiguous
 * layers whose channels and strides are multiples of four; `channels` (one channel per thread) for the rest.
 */
export type ChannelPass = 'quads' | 'channels';

export function channelPassOf(layer: FeatureLayer): ChannelPass {
  const s = layer.strides;
  const quadAligned = s.channel === 1 && layer.channels % 4 === 0 && s.x % 4 === 0 && s.batch % 4 === 0;
  return quadAligned ? 'quads' : 'channels';
}

/** Position lanes per channel (or quad): a power of two, see TARGET_THREADS, at most one per position. */
function lanesOf(layer: FeatureLayer, units: number): number {
  const positions = layer.height * layer.width;
  const forThreads = TARGET_THREADS / units;
  const forLength = 2 ** Math.ceil(Math.log2(Math.max(1, (layer.batch * positions) / MAX_VALUES_PER_THREAD)));
  const wanted = Math.min(Math.max(forThreads, forLength), positions, MAX_LANES);
  return 2 ** Math.max(0, Math.floor(Math.log2(wanted)));
}

class LayerPlan {
  readonly kind: ChannelPass;
  /** Workgroups of the partials pass. */
  readonly grid: [number, number];
  /** Workgroups of the records pass, on the same grid width as `grid` (params.groups_x serves both). */
  readonly recordGrid: [number, number];
  readonly lanes: number;
  /** Bytes of the partials pass's sums: one summary per thread. */
  readonly partialBytes: number;
  readonly #chunks: Chunk[];
  readonly #params: UniformRing;
  readonly #shape: FeatureLayer;
  readonly #slotOffsets: number[] = [];
  readonly #recent: BindingSet[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly label: string,
    layer: FeatureLayer,
    recordOffset: number,
    maxBindingBytes: number,
    maxGroupsPerDimension?: number,
  ) {
    this.#shape = layer;
    this.#chunks = chunksOf(layer, label, maxBindingBytes, engine.limits.minStorageBufferOffsetAlignment);
    this.kind = channelPassOf(layer);
    const units = this.kind === 'quads' ? layer.channels / 4 : layer.channels; // records-pass threads
    this.lanes = lanesOf(layer, units);
    this.grid = grid2d(Math.ceil((units * this.lanes) / PASS_GROUP), maxGroupsPerDimension);
    const recordGroups = Math.ceil(units / PASS_GROUP);
    this.recordGrid = [Math.min(recordGroups, this.grid[0]), Math.ceil(recordGroups / this.grid[0])];
    this.partialBytes = units * this.lanes * PARTIAL_BYTES[this.kind];
    this.#params = new UniformRing(engine, PARAMS, `${label}.params.record${recordOffset}`, this.#chunks.length);
    const s = layer.strides;
    this.#chunks.forEach((chunk, index) => {
      this.#slotOffsets.push(this.#params.push({
        base: chunk.base,
        batch: chunk.items,
        height: layer.height,
        width: layer.width,
        channels: layer.channels,
        stride_batch: s.batch,
        stride_x: s.x,
        stride_channel: s.channel,
        record_offset: recordOffset,
        accumulate: index > 0 ? 1 : 0,
        groups_x: this.grid[0],
        lanes: this.lanes,
        channel_fastest: s.channel === 1 ? 1 : 0,
      }));
    });
  }

  /** Whether `layer` has the shape, layout and strides this plan was made for. */
  fits(layer: FeatureLayer): boolean {
    const a = this.#shape;
    const [s, t] = [a.strides, layer.strides];
    return a.layout === layer.layout && a.batch === layer.batch && a.height === layer.height &&
      a.width === layer.width && a.channels === layer.channels && s.batch === t.batch && s.y === t.y &&
      s.x === t.x && s.channel === t.channel;
  }

  /** One bind group per chunk for these buffers, built on first sight, the oldest of three forgotten. */
  bindGroups(layout: GPUBindGroupLayout, values: GPUBuffer, stats: GPUBuffer, partials: GPUBuffer): GPUBindGroup[] {
    for (const set of this.#recent) {
      if (set.values === values && set.stats === stats) return set.groups;
    }
    assertBindingFits(this.label, `stats buffer '${stats.label}'`, stats.size, this.engine.limits);
    const groups = this.#chunks.map((chunk, index) =>
      this.engine.device.createBindGroup({
        label: `${this.label}.bindGroup.${this.#shape.name}.chunk${index}`,
        layout,
        entries: [
          { binding: 0, resource: { buffer: stats } },
          { binding: 1, resource: { buffer: values, offset: chunk.offset, size: chunk.size } },
          { binding: 2, resource: { buffer: this.#params.buffer, offset: this.#slotOffsets[index]!, size: this.#params.bindingSize } },
          { binding: 3, resource: { buffer: partials } },
        ],
      }));
    this.#recent.unshift({ values, stats, groups });
    if (this.#recent.length > RECENT_BUFFERS) this.#recent.pop();
    return groups;
  }

  /** The kernel's partials buffer was replaced: bind groups are made again on next use. */
  forgetBindGroups(): void {
    this.#recent.length = 0;
  }

  destroy(): void {
    this.#params.destroy();
    this.#recent.length = 0;
  }
}

/** The whole layer as one binding when it fits; otherwise as many batch items per binding as fit. */
function chunksOf(layer: FeatureLayer, label: string, limit: number, alignment: number): Chunk[] {
  const s = layer.strides;
  // Elements from an item's first to its last, plus one: the same as the batch stride for dense layouts.
  const itemExtent = (layer.height - 1) * s.y + (layer.width - 1) * s.x + (layer.channels - 1) * s.channel + 1;
  const spanOf = (items: number) => ((items - 1) * s.batch + itemExtent) * BYTES_PER_FLOAT;
  if (spanOf(layer.batch) <= limit) {
    return [{ items: layer.batch, offset: 0, size: spanOf(layer.batch), base: 0 }];
  }
  // An aligned-down offset adds up to alignment − 4 bytes in front of the chunk's first item.
  const slack = alignment - BYTES_PER_FLOAT;
  if (spanOf(1) + slack > limit) {
    throw new DeviceLimitError(
      `${label}: one batch item of layer '${layer.name}' ([${layer.batch}, ${layer.height}, ${layer.width}, ` +
        `${layer.channels}] ${layer.layout}) spans ${formatBytes(spanOf(1))}, which with up to ${slack} bytes of ` +
        `offset alignment does not fit this device's maxStorageBufferBindingSize of ${formatBytes(limit)}.`,
    );
  }
  const perChunk = Math.floor((limit - slack - itemExtent * BYTES_PER_FLOAT) / (s.batch * BYTES_PER_FLOAT)) + 1;
  const chunks: Chunk[] = [];
  for (let first = 0; first < layer.batch; first += perChunk) {
    const items = Math.min(perChunk, layer.batch - first);
    const window = bindingWindow(first * s.batch, spanOf(items) / BYTES_PER_FLOAT, BYTES_PER_FLOAT, alignment);
    chunks.push({ items, offset: window.offset, size: window.size, base: window.base });
  }
  return chunks;
}

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'ChannelStats.module', [numericsWgsl, featureRangeWgsl, channelStatsWgsl, channelStatsQuadsWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'ChannelStats.bindGroupLayout',
    entries: [
      storageEntry(0, 'storage'), // stats
      storageEntry(1, 'read-only-storage'), // values
      { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      storageEntry(3, 'storage'), // partial summaries
    ],
  });
  const layout = device.createPipelineLayout({ label: 'ChannelStats.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = (entryPoint: string) =>
    device.createComputePipeline({ label: `ChannelStats.${entryPoint}`, layout, compute: { module, entryPoint } });
  return {
    bindGroupLayout,
    channels: { partials: pipeline('channel_partials'), records: pipeline('channel_records') },
    quads: { partials: pipeline('quad_partials'), records: pipeline('quad_records') },
    layer: pipeline('layer_stats'),
  };
}
