// Kernel wrapper for shaders/compute/optvis-regularizers.wgsl: total variation, α-norm and L2 gradients
// added in place into a gradient buffer, each term's value R left in a slot of `values` for the loss curve.
// Terms go to the GPU together, one of each kind per pass: two dispatches however many terms.
import partialSumsWgsl from '../../shaders/common/partial-sums.wgsl?raw';
import regularizersWgsl from '../../shaders/compute/optvis-regularizers.wgsl?raw';
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import type { GpuTensor } from '../memory/gpu-tensor';
import { uniformLayout } from '../memory/uniforms';
import { UniformRing, assertBindingFits, grid2d, paramsEntry, storageEntry, GrowingBuffer } from './kernel-bindings';

/** A regularizer and its weight λ: the gradient gets λ·∂R/∂x; λ = 0 computes the value only. */
export type RegularizerTerm =
  /** Σ (a² + b² + ε)^{β/2} over right (a) and down (b) differences. β defaults to 2 (M&V). */
  | { kind: 'totalVariation'; weight: number; beta?: number; epsilon?: number }
  /** Σ |x|^α, α ≥ 1, default 6 (M&V). */
  | { kind: 'alphaNorm'; weight: number; alpha?: number }
  | { kind: 'l2'; weight: number };

/** A term and the slot of `values` its R lands in. */
export interface SlottedTerm {
  term: RegularizerTerm;
  valueSlot: number;
}

/** The tensors of one regularizer encode: the image `x` is read, its gradient `grad` is added into. */
export interface RegularizerIo {
  /** Gradient, same shape as x: receives += weight · ∂R/∂x. */
  grad: GpuTensor;
  /** Image [H, W, C] or [N, H, W, C], NHWC, read only. */
  x: GpuTensor;
}

/**
 * Image regularizers (total variation, α-norm, L2) on the GPU: each encode adds λ·∂R/∂x to a gradient in
 * place and leaves R in a slot of `values`, for the loss curve.
 */
export interface OptvisRegularizers {
  /**
   * Records the term's pass and the sum of its partials into `encoder`; R lands in values[valueSlot].
   * Up to `uniformSlots` passes (encodes, and encodeTerms' passes) may share one submit.
   */
  encode(encoder: GPUCommandEncoder, io: RegularizerIo, term: RegularizerTerm, valueSlot?: number): void;
  /**
   * Records every term into `encoder` in as few passes as it can: one for up to one term of each kind (two
   * dispatches), another for a second term of a kind, and so on. Each R lands in its own valueSlot; the
   * gradient gets the sum of all λ·∂R/∂x.
   */
  encodeTerms(encoder: GPUCommandEncoder, io: RegularizerIo, terms: readonly SlottedTerm[]): void;
  /** float32 [valueSlots]: R of the last term encoded into each slot (unweighted). */
  readonly values: GPUBuffer;
  readonly valueSlots: number;
  /** Destroys `values` and the kernel's uniform and scratch buffers; `x` and `grad` stay the caller's. */
  destroy(): void;
}

export interface OptvisRegularizersOptions {
  label?: string;
  valueSlots?: number;
  uniformSlots?: number;
}

/** β of total variation when a term gives none: 2, squared differences (Mahendran & Vedaldi). */
export const DEFAULT_TV_BETA = 2;
/** α of the α-norm when a term gives none: 6 (Mahendran & Vedaldi). */
export const DEFAULT_ALPHA = 6;
/** ε inside the TV power when β < 2 (0 otherwise): keeps β(a²+b²+ε)^{β/2−1}·a finite where a = b = 0. */
export const DEFAULT_TV_EPSILON = 1e-8;

/** A term with every parameter filled in: β, ε for total variation, α for the α-norm. */
export interface ResolvedTerm {
  kind: RegularizerTerm['kind'];
  weight: number;
  exponent: number;
  epsilon: number;
}

export function resolveTerm(term: RegularizerTerm): ResolvedTerm {
  invalidArgument(Number.isFinite(term.weight), () => `Regularizer ${term.kind}: weight must be finite; got ${term.weight}.`);
  if (term.kind === 'totalVariation') {
    const beta = term.beta ?? DEFAULT_TV_BETA;
    const epsilon = term.epsilon ?? (beta < 2 ? DEFAULT_TV_EPSILON : 0);
    invalidArgument(Number.isFinite(beta) && beta > 0, () => `totalVariation: β must be a finite number > 0; got ${beta}.`);
    invalidArgument(Number.isFinite(epsilon) && epsilon >= 0, () => `totalVariation: ε must be finite and ≥ 0; got ${epsilon}.`);
    return { kind: term.kind, weight: term.weight, exponent: beta, epsilon };
  }
  if (term.kind === 'alphaNorm') {
    const alpha = term.alpha ?? DEFAULT_ALPHA;
    invalidArgument(Number.isFinite(alpha) && alpha >= 1, () => `alphaNorm: α must be a finite number ≥ 1; got ${alpha}.`);
    return { kind: term.kind, weight: term.weight, exponent: alpha, epsilon: 0 };
  }
  invalidArgument(term.kind === 'l2', () => `Unknown regularizer '${(term as { kind: string }).kind}': expected totalVariation, alphaNorm or l2.`);
  return { kind: term.kind, weight: term.weight, exponent: 2, epsilon: 0 };
}

/** Elements per thread of the first pass (RUN in shaders/common/partial-sums.wgsl). */
const RUN = 16;
/** Threads in a workgroup of the first pass (THREADS in the WGSL). */
const THREADS = 64;
const PARAMS = uniformLayout(regularizersWgsl, 'Params');
/** ABSENT in the WGSL: a kind with no term in a pass. */
const ABSENT = 0xffffffff;
/** The kinds, in the order of their rows of partials (TV, ALPHA, L2 in the WGSL). */
const KINDS = ['totalVariation', 'alphaNorm', 'l2'] as const;

/** The Params fields of one pass's terms: at most one of each kind, the others ABSENT. */
function termFields(pass: readonly (readonly [ResolvedTerm, number])[]): Record<string, number> {
  const fields: Record<string, number> = {
    tv_slot: ABSENT, tv_weight: 0, tv_beta: 0, tv_epsilon: 0,
    alpha_slot: ABSENT, alpha_weight: 0, alpha: 0,
    l2_slot: ABSENT, l2_weight: 0,
  };
  for (const [term, slot] of pass) {
    if (term.kind === 'totalVariation') Object.assign(fields, { tv_slot: slot, tv_weight: term.weight, tv_beta: term.exponent, tv_epsilon: term.epsilon });
    else if (term.kind === 'alphaNorm') Object.assign(fields, { alpha_slot: slot, alpha_weight: term.weight, alpha: term.exponent });
    else Object.assign(fields, { l2_slot: slot, l2_weight: term.weight });
  }
  return fields;
}

/** Terms split into passes of at most one term of each kind, in order. */
function passesOf(terms: readonly (readonly [ResolvedTerm, number])[]): (readonly [ResolvedTerm, number])[][] {
  const passes: (readonly [ResolvedTerm, number])[][] = [];
  for (const entry of terms) {
    const pass = passes.find((p) => p.every(([term]) => term.kind !== entry[0].kind));
    if (pass) pass.push(entry);
    else passes.push([entry]);
  }
  return passes;
}

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'OptvisRegularizers.module', [partialSumsWgsl, regularizersWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'OptvisRegularizers.bindGroupLayout',
    entries: [
      storageEntry(0, 'storage'), // grad
      storageEntry(1, 'storage'), // partials
      storageEntry(2, 'storage'), // values
      storageEntry(3, 'read-only-storage'), // x
      paramsEntry(4),
    ],
  });
  const layout = device.createPipelineLayout({ label: 'OptvisRegularizers.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = (entryPoint: string) =>
    device.createComputePipeline({ label: `OptvisRegularizers.${entryPoint}`, layout, compute: { module, entryPoint } });
  return { bindGroupLayout, regularize: pipeline('regularize'), sumPartials: pipeline('sum_partials') };
}

/**
 * Creates the regularizer kernels; pipelines are compiled once per device. `valueSlots` (default 8) sizes
 * `values`, `uniformSlots` (default 64) bounds the encodes per submit. Throws `InvalidArgumentError` when
 * `valueSlots` is not an integer ≥ 1.
 */
export function createOptvisRegularizers(engine: Engine, options: OptvisRegularizersOptions = {}): OptvisRegularizers {
  const label = options.label ?? 'OptvisRegularizers';
  const valueSlots = options.valueSlots ?? 8;
  invalidArgument(Number.isInteger(valueSlots) && valueSlots >= 1, () => `${label}: valueSlots must be an integer ≥ 1; got ${valueSlots}.`);
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, options.uniformSlots ?? 64);
  const values = engine.createBuffer({
    label: `${label}.values`,
    size: valueSlots * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  // Bind groups by (grad, x) buffer, rebuilt only when new buffers come or the partials buffer grows.
  let groups = new WeakMap<GPUBuffer, WeakMap<GPUBuffer, GPUBindGroup>>();

  // Bind groups over an outgrown partials buffer are dropped with it.
  const partials = new GrowingBuffer(engine, `${label}.partials`, GPUBufferUsage.STORAGE, () => (groups = new WeakMap()));
  const partialsFor = (count: number) => partials.atLeast(KINDS.length * Math.ceil(count / RUN) * 4);

  function bindGroupFor(grad: GPUBuffer, x: GPUBuffer, partialBuffer: GPUBuffer): GPUBindGroup {
    let byX = groups.get(grad);
    if (!byX) groups.set(grad, (byX = new WeakMap()));
    let group = byX.get(x);
    if (!group) {
      group = engine.device.createBindGroup({
        label: `${label}.bindGroup`,
        layout: pipelines.bindGroupLayout,
        entries: [
          { binding: 0, resource: { buffer: grad } },
          { binding: 1, resource: { buffer: partialBuffer } },
          { binding: 2, resource: { buffer: values } },
          { binding: 3, resource: { buffer: x } },
          { binding: 4, resource: { buffer: ring.buffer, size: ring.bindingSize } },
        ],
      });
      byX.set(x, group);
    }
    return group;
  }

  function encodeTerms(encoder: GPUCommandEncoder, io: RegularizerIo, terms: readonly SlottedTerm[]): void {
    const resolved = terms.map(({ term, valueSlot }) => {
      invalidArgument(
        Number.isInteger(valueSlot) && valueSlot >= 0 && valueSlot < valueSlots,
        () => `${label}: valueSlot must be an integer in [0, ${valueSlots}); got ${valueSlot}.`,
      );
      return [resolveTerm(term), valueSlot] as const;
    });
    const shape = checkIo(label, io);
    if (resolved.length === 0) return;
    const count = io.x.size;
    assertBindingFits(label, 'x', io.x.buffer.size, engine.limits);
    assertBindingFits(label, 'grad', io.grad.buffer.size, engine.limits);
    const runs = Math.ceil(count / RUN);
    const [groupsX, groupsY] = grid2d(Math.ceil(runs / THREADS));
    const group = bindGroupFor(io.grad.buffer, io.x.buffer, partialsFor(count));
    const pass = encoder.beginComputePass({ label: `${label}.pass` });
    for (const terms of passesOf(resolved)) {
      const offset = ring.push({
        count, height: shape.height, width: shape.width, channels: shape.channels, runs, groups_x: groupsX,
        ...termFields(terms),
      });
      pass.setBindGroup(0, group, [offset]);
      pass.setPipeline(pipelines.regularize);
      pass.dispatchWorkgroups(groupsX, groupsY);
      pass.setPipeline(pipelines.sumPartials);
      pass.dispatchWorkgroups(KINDS.length);
    }
    pass.end();
  }

  return {
    values,
    valueSlots,
    encode: (encoder, io, term, valueSlot = 0) => encodeTerms(encoder, io, [{ term, valueSlot }]),
    encodeTerms,
    destroy() {
      ring.destroy();
      values.destroy();
      partials.destroy();
      groups = new WeakMap();
    },
  };
}

/** [H, W, C] or [N, H, W, C] of the image, after checking that grad matches it and is a separate buffer. */
function checkIo(label: string, io: RegularizerIo): { height: number; width: number; channels: number } {
  const { x, grad } = io;
  x.assertUsable();
  grad.assertUsable();
  invalidArgument(
    x.shape.length === 3 || x.shape.length === 4,
    () => `${label}: x is an image [H, W, C] or a batch [N, H, W, C]; got shape [${x.shape.join(', ')}].`,
  );
  invalidArgument(
    grad.shape.length === x.shape.length && grad.shape.every((dim, axis) => dim === x.shape[axis]),
    () => `${label}: grad must have the shape of x, [${x.shape.join(', ')}]; got [${grad.shape.join(', ')}].`,
  );
  invalidArgument(grad.buffer !== x.buffer, () => `${label}: grad and x must be different buffers; both are '${x.buffer.label}'.`);
  const [height, width, channels] = x.shape.slice(-3) as [number, number, number];
  return { height, width, channels };
}
