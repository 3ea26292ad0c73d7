// Kernel wrapper for shaders/compute/optvis-optimizer.wgsl: Adam and SGD with momentum, one step in place on
// a parameter tensor and its moments. The state (moments, step count, status) belongs to one object per
// parameter tensor; the pipelines are shared per device.
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import optimizerWgsl from '../../shaders/compute/optvis-optimizer.wgsl?raw';
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { GpuTensor, createTensorBuffer } from '../memory/gpu-tensor';
import { readBufferRange } from '../memory/readback';
import { uniformLayout } from '../memory/uniforms';
import { UniformRing, assertBindingFits, grid2d, paramsEntry, storageEntry } from './kernel-bindings';

export interface ClampRange {
  lo: number;
  hi: number;
}

interface CommonOptions {
  learningRate?: number;
  /** g = scale · grad: 1 (default) minimizes, −1 maximizes. */
  scale?: number;
  /** x is clamped to [lo, hi] after each step; none by default. */
  clamp?: ClampRange | null;
  label?: string;
  /** Steps that may share one submit (each takes a slot of uniforms); default 64. */
  uniformSlots?: number;
}

/** Lucid's Adam(0.05) with TensorFlow's moments: β1 0.9, β2 0.999, ε 1e-8. */
export interface AdamOptions extends CommonOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Momentum 0.9 and learning rate 0.05 by default; Nesterov off. */
export interface SgdOptions extends CommonOptions {
  momentum?: number;
  nesterov?: boolean;
}

export interface OptimizerStatus {
  /** Entries left unchanged since the last reset because their gradient or update was NaN or ±Inf. */
  skipped: number;
  /** The smallest such element index, or null when none. */
  firstIndex: number | null;
}

/**
 * The optimizer of one parameter tensor `x` (Adam or SGD with momentum): its moments, step count and
 * non-finite status. Steps update `x` in place and are recorded into the caller's encoder.
 */
export interface OptimizerState {
  readonly x: GpuTensor;
  /** Steps recorded since creation or the last reset: Adam's t. */
  readonly steps: number;
  /** Adam: [m, v]; SGD: [velocity]. Same shape as x; owned by this state. */
  readonly moments: readonly GpuTensor[];
  /** Read by the next step: a schedule sets it between steps. */
  learningRate: number;
  /** u32 [skipped, firstIndex (0xffffffff when none)], accumulated over steps until resetStatus(). */
  readonly status: GPUBuffer;
  /** Records one step x ← update(x, grad) into `encoder` (grad: as many elements as x, a different buffer). */
  step(encoder: GPUCommandEncoder, grad: GpuTensor): void;
  /** Zeroes the moments and the step count, and clears the status (queued: before the next submit). */
  reset(): void;
  /** Clears `status` (queued with `queue.writeBuffer`: it takes effect before the next submit). */
  resetStatus(): void;
  /** Reads the status back (a few bytes; once per frame at most). */
  readStatus(): Promise<OptimizerStatus>;
  /** Frees the moments, status and uniforms; x belongs to the caller. */
  destroy(): void;
}

export const NO_INDEX = 0xffffffff;

export function resolveAdamOptions(o: AdamOptions = {}) {
  const resolved = {
    learningRate: o.learningRate ?? 0.05,
    beta1: o.beta1 ?? 0.9,
    beta2: o.beta2 ?? 0.999,
    epsilon: o.epsilon ?? 1e-8,
    scale: o.scale ?? 1,
    clamp: o.clamp ?? null,
  };
  checkCommon('Adam', resolved);
  for (const name of ['beta1', 'beta2'] as const) {
    const value = resolved[name];
    invalidArgument(value >= 0 && value < 1, () => `Adam: ${name} must be in [0, 1); got ${value}.`);
  }
  invalidArgument(resolved.epsilon > 0 && Number.isFinite(resolved.epsilon), () => `Adam: ε must be finite and > 0; got ${resolved.epsilon}.`);
  return resolved;
}

export function resolveSgdOptions(o: SgdOptions = {}) {
  const resolved = {
    learningRate: o.learningRate ?? 0.05,
    momentum: o.momentum ?? 0.9,
    nesterov: o.nesterov ?? false,
    scale: o.scale ?? 1,
    clamp: o.clamp ?? null,
  };
  checkCommon('SGD', resolved);
  invalidArgument(resolved.momentum >= 0 && resolved.momentum < 1, () => `SGD: momentum must be in [0, 1); got ${resolved.momentum}.`);
  return resolved;
}

/** Records a clear of the gradient buffer: the start of every step, before the terms accumulate into it. */
export function zeroGradient(encoder: GPUCommandEncoder, grad: GpuTensor): void {
  grad.assertUsable();
  encoder.clearBuffer(grad.buffer, 0, grad.byteLength);
}

/**
 * Creates Adam state for `x` (which stays the caller's), with zeroed moments m and v shaped like it.
 * Throws `InvalidArgumentError` on an option out of range, `DeviceLimitError` when `x` does not fit one binding.
 */
export function createAdamState(engine: Engine, x: GpuTensor, options: AdamOptions = {}): OptimizerState {
  const o = resolveAdamOptions(options);
  return createState(engine, x, options, 'adam', o.learningRate, (t) => ({
    beta1: o.beta1,
    beta2: o.beta2,
    one_minus_beta1: 1 - o.beta1,
    one_minus_beta2: 1 - o.beta2,
    epsilon: o.epsilon,
    // In float64 on the host: β2^t for t in the thousands loses digits in a float32 pow.
    bias_correction1: 1 - Math.pow(o.beta1, t),
    bias_correction2: 1 - Math.pow(o.beta2, t),
    momentum: 0,
    nesterov: 0,
    ...commonUniforms(o),
  }));
}

/**
 * Creates SGD-with-momentum state for `x` (which stays the caller's), with a zeroed velocity shaped like it.
 * Throws `InvalidArgumentError` on an option out of range, `DeviceLimitError` when `x` does not fit one binding.
 */
export function createSgdState(engine: Engine, x: GpuTensor, options: SgdOptions = {}): OptimizerState {
  const o = resolveSgdOptions(options);
  return createState(engine, x, options, 'sgd', o.learningRate, () => ({
    beta1: 0,
    beta2: 0,
    one_minus_beta1: 1,
    one_minus_beta2: 1,
    epsilon: 0,
    bias_correction1: 1,
    bias_correction2: 1,
    momentum: o.momentum,
    nesterov: o.nesterov ? 1 : 0,
    ...commonUniforms(o),
  }));
}

const WORKGROUP_SIZE = 256;
const PARAMS = uniformLayout(optimizerWgsl, 'Params');

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'OptvisOptimizer.module', [numericsWgsl, optimizerWgsl]);
  // SGD keeps one moment (binding 2, v, is Adam's only): each entry point gets a layout of what it uses.
  const variant = (name: 'adam' | 'sgd', entryPoint: string, bindings: number[]) => {
    const bindGroupLayout = device.createBindGroupLayout({
      label: `OptvisOptimizer.${name}.bindGroupLayout`,
      entries: bindings.map((binding) =>
        binding === 5 ? paramsEntry(5) : storageEntry(binding, binding === 4 ? 'read-only-storage' : 'storage')),
    });
    const layout = device.createPipelineLayout({ label: `OptvisOptimizer.${name}.layout`, bindGroupLayouts: [bindGroupLayout] });
    const pipeline = device.createComputePipeline({ label: `OptvisOptimizer.${name}`, layout, compute: { module, entryPoint } });
    return { bindGroupLayout, pipeline, bindings };
  };
  return {
    adam: variant('adam', 'adam', [0, 1, 2, 3, 4, 5]), // x, m, v, status, grad, params
    sgd: variant('sgd', 'sgd_momentum', [0, 1, 3, 4, 5]), // x, velocity, status, grad, params
  };
}

function createState(
  engine: Engine,
  x: GpuTensor,
  options: CommonOptions,
  kind: 'adam' | 'sgd',
  learningRate: number,
  uniformsAt: (t: number) => Record<string, number>,
): OptimizerState {
  x.assertUsable();
  const label = options.label ?? `Optvis.${kind}`;
  assertBindingFits(label, 'x', x.buffer.size, engine.limits);
  const variant = cachedPerDevice(engine.device, buildPipelines)[kind];
  const m = createTensorBuffer(engine, x.shape, kind === 'adam' ? `${label}.m` : `${label}.velocity`);
  const v = kind === 'adam' ? createTensorBuffer(engine, x.shape, `${label}.v`) : null;
  const status = engine.createBuffer({
    label: `${label}.status`,
    size: 8,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, options.uniformSlots ?? 64);
  const statusReset = new Uint32Array([0, NO_INDEX]);
  const [groupsX, groupsY] = grid2d(Math.ceil(x.size / WORKGROUP_SIZE));
  let group: GPUBindGroup | null = null;
  let boundGrad: GPUBuffer | null = null;

  function bindGroupFor(grad: GPUBuffer): GPUBindGroup {
    if (group && boundGrad === grad) return group;
    const buffers: Record<number, GPUBuffer> = { 0: x.buffer, 1: m, 3: status, 4: grad };
    if (v) buffers[2] = v;
    boundGrad = grad;
    group = engine.device.createBindGroup({
      label: `${label}.bindGroup`,
      layout: variant.bindGroupLayout,
      entries: variant.bindings.map((binding) => ({
        binding,
        resource: binding === 5 ? { buffer: ring.buffer, size: ring.bindingSize } : { buffer: buffers[binding]! },
      })),
    });
    return group;
  }

  const resetStatus = () => engine.device.queue.writeBuffer(status, 0, statusReset);
  resetStatus();
  const moments = [m, ...(v ? [v] : [])].map((buffer) => new GpuTensor({ engine, buffer, shape: x.shape, layout: x.layout }));
  const state = {
    x,
    moments,
    steps: 0,
    learningRate,
    status,
    step(encoder: GPUCommandEncoder, grad: GpuTensor) {
      x.assertUsable();
      grad.assertUsable();
      invalidArgument(
        grad.size === x.size,
        () => `${label}.step: grad must have as many elements as x [${x.shape.join(', ')}]; got [${grad.shape.join(', ')}].`,
      );
      invalidArgument(grad.buffer !== x.buffer, () => `${label}.step: grad and x must be different buffers.`);
      invalidArgument(Number.isFinite(state.learningRate), () => `${label}: learning rate must be finite; got ${state.learningRate}.`);
      state.steps += 1;
      const offset = ring.push({ count: x.size, groups_x: groupsX, learning_rate: state.learningRate, ...uniformsAt(state.steps) });
      const pass = encoder.beginComputePass({ label: `${label}.pass` });
      pass.setPipeline(variant.pipeline);
      pass.setBindGroup(0, bindGroupFor(grad.buffer), [offset]);
      pass.dispatchWorkgroups(groupsX, groupsY);
      pass.end();
    },
    reset() {
      const zeros = new Float32Array(x.size);
      engine.device.queue.writeBuffer(m, 0, zeros);
      if (v) engine.device.queue.writeBuffer(v, 0, zeros);
      state.steps = 0;
      resetStatus();
    },
    resetStatus,
    async readStatus(): Promise<OptimizerStatus> {
      const [skipped, first] = new Uint32Array(await readBufferRange(engine, status, 0, 8));
      return { skipped: skipped!, firstIndex: first === NO_INDEX ? null : first! };
    },
    destroy() {
      for (const moment of moments) moment.destroy();
      status.destroy();
      ring.destroy();
      group = null;
      boundGrad = null;
    },
  };
  return state;
}

function commonUniforms(o: { scale: number; clamp: ClampRange | null }) {
  return { scale: o.scale, clamp: o.clamp ? 1 : 0, lo: o.clamp?.lo ?? 0, hi: o.clamp?.hi ?? 0 };
}

function checkCommon(name: string, o: { learningRate: number; scale: number; clamp: ClampRange | null }): void {
  invalidArgument(Number.isFinite(o.learningRate) && o.learningRate > 0, () => `${name}: learning rate must be finite and > 0; got ${o.learningRate}.`);
  invalidArgument(Number.isFinite(o.scale), () => `${name}: scale must be finite; got ${o.scale}.`);
  const clamp = o.clamp;
  invalidArgument(
    !clamp || (Number.isFinite(clamp.lo) && Number.isFinite(clamp.hi) && clamp.lo <= clamp.hi),
    () => `${name}: clamp needs finite lo ≤ hi; got [${clamp?.lo}, ${clamp?.hi}].`,
  );
}
