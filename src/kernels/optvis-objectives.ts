// Kernel wrapper for shaders/compute/optvis-objectives.wgsl: feature objectives (featureMatch, channel,
// neuron, deepDream) whose gradient dL/dh lands in a buffer shaped like the layer — the upstream gradient
// of the vector-Jacobian product through the model — and whose value L lands in a slot of `values`.
// Every objective is a loss to minimize: channel, neuron and deepDream are Lucid's objectives negated.
import partialSumsWgsl from '../../shaders/common/partial-sums.wgsl?raw';
import objectivesWgsl from '../../shaders/compute/optvis-objectives.wgsl?raw';
import type { Engine } from '../core/engine';
import { InvalidArgumentError, invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import type { FeatureLayer } from '../features/feature-layer';
import type { GpuTensor } from '../memory/gpu-tensor';
import { readBufferRange } from '../memory/readback';
import { uniformLayout } from '../memory/uniforms';
import { UniformRing, assertBindingFits, grid2d, paramsEntry, storageEntry, GrowingBuffer } from './kernel-bindings';

/** A feature-inversion target h_t and its squared norm ‖h_t‖² (> 0), measured once. */
export interface FeatureTarget {
  readonly tensor: GpuTensor;
  readonly normSquared: number;
}

/** An objective on one layer; weight (default 1) scales the gradient written, not the value L. */
export type FeatureObjective =
  /** L = ‖h − h_t‖² / ‖h_t‖². */
  | { kind: 'featureMatch'; target: FeatureTarget; weight?: number }
  /** L = −mean over (n, y, x) of h[n, y, x, c]. */
  | { kind: 'channel'; channel: number; weight?: number }
  /** L = −mean over the batch of h[n, y, x, c]; (y, x) defaults to the centre (⌊H/2⌋, ⌊W/2⌋), as in Lucid. */
  | { kind: 'neuron'; channel: number; y?: number; x?: number; weight?: number }
  /** L = −mean(h²). */
  | { kind: 'deepDream'; weight?: number };

/**
 * How the gradient reaches `grad`: 'accumulate' (+=, the default, as the regularizers do: clear once per
 * step with zeroGradient, then every term adds), 'overwrite' (the first term of a step; saves the clear),
 * or 'none' (the value only).
 */
export type GradientWrite = 'accumulate' | 'overwrite' | 'none';

export interface ObjectiveIo {
  /** The activations h (read only). */
  layer: FeatureLayer;
  /** dL/dh · weight, same shape and layout as layer.tensor; a different buffer. */
  grad: GpuTensor;
}

export interface ObjectiveEncodeOptions {
  write?: GradientWrite;
  valueSlot?: number;
}

/**
 * Feature objectives on the GPU (featureMatch, channel, neuron, deepDream), each a loss to minimize: an
 * encode writes dL/dh into a gradient shaped like the layer and leaves L in a slot of `values`.
 */
export interface OptvisObjectives {
  /** Records the objective's pass and the sum of its partials; L lands in values[valueSlot] (default 0). */
  encode(encoder: GPUCommandEncoder, io: ObjectiveIo, objective: FeatureObjective, options?: ObjectiveEncodeOptions): void;
  /** ‖target‖² on the GPU, read back once (setup, not per frame); throws if it is 0 or not finite. */
  measureTarget(target: GpuTensor): Promise<FeatureTarget>;
  /** float32 [valueSlots]: L of the last objective encoded into each slot (unweighted). */
  readonly values: GPUBuffer;
  readonly valueSlots: number;
  /** Destroys `values` and the kernel's uniform and scratch buffers; the tensors passed in stay the caller's. */
  destroy(): void;
}

export interface OptvisObjectivesOptions {
  label?: string;
  valueSlots?: number;
  /** Encodes (all objectives together) that may share one submit; default 64. */
  uniformSlots?: number;
}

/** A target with a known squared norm, checked: a zero target has no relative error to minimize. */
export function featureTarget(tensor: GpuTensor, normSquared: number): FeatureTarget {
  invalidArgument(
    Number.isFinite(normSquared) && normSquared > 0,
    () => normSquared === 0
      ? `featureMatch: the target '${tensor.buffer.label}' is all zeros (‖h_t‖² = 0), so the relative error ` +
        `‖h − h_t‖² / ‖h_t‖² is undefined; capture the target from an input that activates the layer.`
      : `featureMatch: the target's squared norm must be finite and > 0; got ${normSquared}.`,
  );
  return Object.freeze({ tensor, normSquared });
}

/** The per-launch constants of an objective on a layer, in float64 before they become f32 uniforms. */
export interface ResolvedObjective {
  kind: (typeof KINDS)[number];
  gradientScale: number;
  valueScale: number;
  channel: number;
  /** neuron: element index of (0, y, x, c). */
  position: number;
}

export function resolveObjective(layer: FeatureLayer, objective: FeatureObjective): ResolvedObjective {
  const weight = objective.weight ?? 1;
  invalidArgument(Number.isFinite(weight), () => `Objective ${objective.kind}: weight must be finite; got ${weight}.`);
  const count = layer.batch * layer.height * layer.width * layer.channels;
  const base = { channel: 0, position: 0 };
  switch (objective.kind) {
    case 'featureMatch': {
      const { normSquared } = featureTarget(objective.target.tensor, objective.target.normSquared);
      return { ...base, kind: 'feature_match', gradientScale: (2 * weight) / normSquared, valueScale: 1 / normSquared };
    }
    case 'channel': {
      checkChannel(layer, objective.channel);
      const pixels = layer.batch * layer.height * layer.width;
      return { ...base, kind: 'channel', channel: objective.channel, gradientScale: -weight / pixels, valueScale: -1 / pixels };
    }
    case 'neuron': {
      checkChannel(layer, objective.channel);
      const y = objective.y ?? Math.floor(layer.height / 2);
      const x = objective.x ?? Math.floor(layer.width / 2);
      invalidArgument(
        Number.isInteger(y) && Number.isInteger(x) && y >= 0 && y < layer.height && x >= 0 && x < layer.width,
        () => `neuron: position (y ${y}, x ${x}) is outside layer '${layer.name}' of ${layer.height}×${layer.width}.`,
      );
      const s = layer.strides;
      const position = y * s.y + x * s.x + objective.channel * s.channel;
      return { ...base, kind: 'neuron', channel: objective.channel, position, gradientScale: -weight / layer.batch, valueScale: -1 / layer.batch };
    }
    case 'deepDream':
      return { ...base, kind: 'deep_dream', gradientScale: (-2 * weight) / count, valueScale: -1 / count };
    default:
      throw invalidKind(objective);
  }
}

/** What a pass needs of the layer: element count and the strides that locate channels and images. */
interface Geometry {
  count: number;
  channels: number;
  strideChannel: number;
  strideBatch: number;
}

/** Elements per thread of the first pass (RUN in shaders/common/partial-sums.wgsl). */
const RUN = 16;
/** Threads in a workgroup of the first pass (THREADS in the WGSL). */
const THREADS = 64;
const PARAMS = uniformLayout(objectivesWgsl, 'Params');
const MODES: Record<GradientWrite, number> = { none: 0, overwrite: 1, accumulate: 2 };
/** The objectives, in the order of the WGSL's OBJECTIVE values. */
const KINDS = ['feature_match', 'channel', 'neuron', 'deep_dream'] as const;

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'OptvisObjectives.module', [partialSumsWgsl, objectivesWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'OptvisObjectives.bindGroupLayout',
    entries: [
      storageEntry(0, 'storage'), // grad
      storageEntry(1, 'storage'), // partials
      storageEntry(2, 'storage'), // values
      storageEntry(3, 'read-only-storage'), // h
      storageEntry(4, 'read-only-storage'), // target (h again for the other objectives)
      paramsEntry(5),
    ],
  });
  const layout = device.createPipelineLayout({ label: 'OptvisObjectives.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = (label: string, entryPoint: string, constants?: Record<string, number>) =>
    device.createComputePipeline({ label: `OptvisObjectives.${label}`, layout, compute: { module, entryPoint, ...(constants && { constants }) } });
  const byKind = Object.fromEntries(KINDS.map((kind, k) => [kind, pipeline(kind, 'objective', { OBJECTIVE: k })]));
  // sum_partials never reads OBJECTIVE, but an override without a default must still be given a value.
  return { bindGroupLayout, ...(byKind as Record<(typeof KINDS)[number], GPUComputePipeline>), sum_partials: pipeline('sum_partials', 'sum_partials', { OBJECTIVE: 0 }) };
}

/**
 * Creates the objective kernels; pipelines are compiled once per device. `valueSlots` (default 8) sizes
 * `values`, `uniformSlots` (default 64) bounds the encodes per submit. Throws `InvalidArgumentError` when
 * `valueSlots` is not an integer ≥ 1.
 */
export function createOptvisObjectives(engine: Engine, options: OptvisObjectivesOptions = {}): OptvisObjectives {
  const label = options.label ?? 'OptvisObjectives';
  const valueSlots = options.valueSlots ?? 8;
  invalidArgument(Number.isInteger(valueSlots) && valueSlots >= 1, () => `${label}: valueSlots must be an integer ≥ 1; got ${valueSlots}.`);
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, options.uniformSlots ?? 64);
  // One slot past the caller's holds measureTarget's norm, so measuring never clobbers a loss value.
  const values = engine.createBuffer({
    label: `${label}.values`,
    size: (valueSlots + 1) * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  let noGradient: GPUBuffer | null = null; // bound as grad by value-only measurements, never written
  // Bind groups by (grad, h, target) buffer, rebuilt only when new buffers come or the partials buffer grows.
  let groups = new WeakMap<GPUBuffer, WeakMap<GPUBuffer, WeakMap<GPUBuffer, GPUBindGroup>>>();

  // Bind groups over an outgrown partials buffer are dropped with it.
  const partials = new GrowingBuffer(engine, `${label}.partials`, GPUBufferUsage.STORAGE, () => (groups = new WeakMap()));
  const partialsFor = (count: number) => partials.atLeast(Math.ceil(count / RUN) * 4);

  function bindGroupFor(grad: GPUBuffer, h: GPUBuffer, target: GPUBuffer, partialBuffer: GPUBuffer): GPUBindGroup {
    let byH = groups.get(grad);
    if (!byH) groups.set(grad, (byH = new WeakMap()));
    let byTarget = byH.get(h);
    if (!byTarget) byH.set(h, (byTarget = new WeakMap()));
    let group = byTarget.get(target);
    if (!group) {
      const buffers = [grad, partialBuffer, values, h, target];
      group = engine.device.createBindGroup({
        label: `${label}.bindGroup`,
        layout: pipelines.bindGroupLayout,
        entries: [
          ...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
          { binding: 5, resource: { buffer: ring.buffer, size: ring.bindingSize } },
        ],
      });
      byTarget.set(target, group);
    }
    return group;
  }

  function record(encoder: GPUCommandEncoder, buffers: { grad: GPUBuffer; h: GPUBuffer; target: GPUBuffer }, geometry: Geometry,
    resolved: ResolvedObjective, mode: number, valueSlot: number): void {
    const { count } = geometry;
    const runs = Math.ceil(count / RUN);
    const [groupsX, groupsY] = grid2d(Math.ceil(runs / THREADS));
    const offset = ring.push({
      count,
      runs,
      groups_x: groupsX,
      channels: geometry.channels,
      stride_channel: geometry.strideChannel,
      stride_batch: geometry.strideBatch,
      channel: resolved.channel,
      position: resolved.position,
      mode,
      gradient_scale: resolved.gradientScale,
      value_scale: resolved.valueScale,
      value_slot: valueSlot,
    });
    const group = bindGroupFor(buffers.grad, buffers.h, buffers.target, partialsFor(count));
    const pass = encoder.beginComputePass({ label: `${label}.${resolved.kind}.pass` });
    pass.setBindGroup(0, group, [offset]);
    pass.setPipeline(pipelines[resolved.kind]);
    pass.dispatchWorkgroups(groupsX, groupsY);
    pass.setPipeline(pipelines.sum_partials);
    pass.dispatchWorkgroups(1);
    pass.end();
  }

  return {
    values,
    valueSlots,
    encode(encoder, io, objective, encodeOptions = {}) {
      const { write = 'accumulate', valueSlot = 0 } = encodeOptions;
      invalidArgument(Object.hasOwn(MODES, write), () => `${label}: write must be 'accumulate', 'overwrite' or 'none'; got '${write}'.`);
      invalidArgument(
        Number.isInteger(valueSlot) && valueSlot >= 0 && valueSlot < valueSlots,
        () => `${label}: valueSlot must be an integer in [0, ${valueSlots}); got ${valueSlot}.`,
      );
      checkIo(label, io);
      const resolved = resolveObjective(io.layer, objective);
      const h = io.layer.tensor.buffer;
      let target = h;
      if (objective.kind === 'featureMatch') {
        checkTarget(label, io, objective.target.tensor);
        target = objective.target.tensor.buffer;
      }
      for (const [name, buffer] of [['h', h], ['grad', io.grad.buffer], ['target', target]] as const) {
        assertBindingFits(label, name, buffer.size, engine.limits);
      }
      const { layer } = io;
      const geometry = { count: layer.tensor.size, channels: layer.channels, strideChannel: layer.strides.channel, strideBatch: layer.strides.batch };
      record(encoder, { grad: io.grad.buffer, h, target }, geometry, resolved, MODES[write], valueSlot);
    },
    async measureTarget(target) {
      target.assertUsable();
      assertBindingFits(label, 'target', target.buffer.size, engine.limits);
      noGradient ??= engine.createBuffer({ label: `${label}.noGradient`, size: 4, usage: GPUBufferUsage.STORAGE });
      const grad = noGradient;
      const geometry = { count: target.size, channels: 1, strideChannel: 1, strideBatch: target.size };
      const sumOfSquares: ResolvedObjective = { kind: 'deep_dream', gradientScale: 0, valueScale: 1, channel: 0, position: 0 };
      await engine.run(`${label}.measureTarget`, (encoder) =>
        record(encoder, { grad, h: target.buffer, target: target.buffer }, geometry, sumOfSquares, MODES.none, valueSlots));
      const [normSquared] = new Float32Array(await readBufferRange(engine, values, valueSlots * 4, 4));
      return featureTarget(target, normSquared!);
    },
    destroy() {
      ring.destroy();
      values.destroy();
      partials.destroy();
      noGradient?.destroy();
      noGradient = null;
      groups = new WeakMap();
    },
  };
}

function checkIo(label: string, io: ObjectiveIo): void {
  const { layer, grad } = io;
  layer.tensor.assertUsable();
  grad.assertUsable();
  const shape = layer.tensor.shape;
  invalidArgument(
    grad.shape.length === shape.length && grad.shape.every((dim, axis) => dim === shape[axis]),
    () => `${label}: grad must have the shape of layer '${layer.name}', [${shape.join(', ')}]; got [${grad.shape.join(', ')}].`,
  );
  invalidArgument(grad.buffer !== layer.tensor.buffer,
    () => `${label}: grad and the activations of '${layer.name}' must be different buffers; both are '${grad.buffer.label}'.`);
}

function checkTarget(label: string, io: ObjectiveIo, target: GpuTensor): void {
  const { layer, grad } = io;
  target.assertUsable();
  const shape = layer.tensor.shape;
  invalidArgument(
    target.shape.length === shape.length && target.shape.every((dim, axis) => dim === shape[axis]),
    () => `featureMatch: the target must have the shape of layer '${layer.name}', [${shape.join(', ')}]; got [${target.shape.join(', ')}].`,
  );
  invalidArgument(
    target.layout === layer.layout || target.layout === 'row-major',
    () => `featureMatch: the target is ${target.layout} but layer '${layer.name}' is ${layer.layout}; they are compared element by element.`,
  );
  invalidArgument(target.buffer !== grad.buffer, () => `${label}: grad and the featureMatch target must be different buffers.`);
}

function checkChannel(layer: FeatureLayer, channel: number): void {
  invalidArgument(
    Number.isInteger(channel) && channel >= 0 && channel < layer.channels,
    () => `Layer '${layer.name}' has channels 0 … ${layer.channels - 1}; got channel ${channel}.`,
  );
}

function invalidKind(objective: never): Error {
  return new InvalidArgumentError(`Unknown objective '${(objective as { kind: string }).kind}': expected featureMatch, channel, neuron or deepDream.`);
}
