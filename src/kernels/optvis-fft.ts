// Kernel wrapper for shaders/compute/optvis-fft.wgsl: the image parameterizations of activation
// maximization. `createFftImage` is a plan for one image size (Lucid's fft_image + to_valid_rgb with
// decorrelation: spectrum → RGB, and its exact adjoint); `createPixelImage` the plain per-pixel mapping.
// Both record into the caller's encoder; the constants (twiddles, 1/f weights, colour matrix) are made once
// in float64 on the host.
import fftWgsl from '../../shaders/compute/optvis-fft.wgsl?raw';
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { createTensorBuffer, type GpuTensor } from '../memory/gpu-tensor';
import { uniformLayout } from '../memory/uniforms';
import { UniformRing, assertBindingFits, grid2d, paramsEntry, storageEntry } from './kernel-bindings';

/** How the colour components become pixel values in [0, 1]. */
export type ImageMapping = 'sigmoid' | 'clamp';

/** Lucid's color_correlation_svd_sqrt, row-major (rows: output colour; columns: decorrelated component). */
export const COLOR_CORRELATION_SVD_SQRT = Object.freeze([0.26, 0.09, 0.02, 0.27, 0.0, -0.05, 0.27, -0.09, 0.03]);

export interface ImageMappingOptions {
  /** Mix colours by Lucid's color_correlation_svd_sqrt / max column norm; default true (Lucid's image()). */
  decorrelate?: boolean;
  /** σ (default, Lucid) or clamp to [0, 1]. */
  mapping?: ImageMapping;
  label?: string;
}

export interface FftImageOptions extends ImageMappingOptions {
  height: number;
  width: number;
  batch?: number;
  /** Exponent of the 1/f spectrum scaling; Lucid's default 1. */
  decayPower?: number;
}

export interface BackwardOptions {
  /** Add into the gradient instead of overwriting it; default false. */
  accumulate?: boolean;
}

/**
 * An image parameterized by its decorrelated Fourier spectrum (Lucid's fft_image), for one image size:
 * the forward map spectrum → image and its exact adjoint, recorded into the caller's encoder.
 */
export interface FftImage {
  /** `[2, N, 3, H, ⌊W/2⌋ + 1]`: real plane, then imaginary plane (Lucid's variable). */
  readonly spectrumShape: readonly number[];
  /** [N, H, W, 3] (NHWC); [H, W, 3] is accepted when N = 1. */
  readonly imageShape: readonly number[];
  /** image ← σ(D · irfft2(scale ⊙ spectrum) / 4). */
  encodeForward(encoder: GPUCommandEncoder, io: { image: GpuTensor; spectrum: GpuTensor }): void;
  /** gradSpectrum ← (or +=) Jᵀ gradImage at the spectrum whose forward output is `image`. */
  encodeBackward(encoder: GPUCommandEncoder, io: { gradSpectrum: GpuTensor; gradImage: GpuTensor; image: GpuTensor }, options?: BackwardOptions): void;
  /** Destroys the plan's constants, scratch and uniform buffers; the tensors passed in stay the caller's. */
  destroy(): void;
}

/** A per-pixel image mapping (colours mixed, then σ or clamp) and its adjoint, recorded into the caller's encoder. */
export interface PixelImage {
  /** image ← mapping(D x) per pixel; x and image [..., 3]. */
  encodeForward(encoder: GPUCommandEncoder, io: { image: GpuTensor; x: GpuTensor }): void;
  /** gradX ← (or +=) Dᵀ(gradImage ⊙ mapping′), mapping′ read from the forward `image`. */
  encodeBackward(encoder: GPUCommandEncoder, io: { gradX: GpuTensor; gradImage: GpuTensor; image: GpuTensor }, options?: BackwardOptions): void;
  /** Destroys the uniform buffer; the tensors passed in stay the caller's. */
  destroy(): void;
}

const WORKGROUP_SIZE = 64;
const PARAMS = uniformLayout(fftWgsl, 'Params');

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'OptvisFft.module', [fftWgsl]);
  // Outputs first; each family binds only what its entry points read (a forward pass writes the image,
  // so it cannot also bind it read-only at 3).
  const family = (name: string, bindings: number[], entryPoints: string[]) => {
    const bindGroupLayout = device.createBindGroupLayout({
      label: `OptvisFft.${name}.bindGroupLayout`,
      entries: bindings.map((b) => (b === 5 ? paramsEntry(5) : storageEntry(b, b <= 1 ? 'storage' : 'read-only-storage'))),
    });
    const layout = device.createPipelineLayout({ label: `OptvisFft.${name}.layout`, bindGroupLayouts: [bindGroupLayout] });
    const pipelines = entryPoints.map((entryPoint) =>
      device.createComputePipeline({ label: `OptvisFft.${entryPoint}`, layout, compute: { module, entryPoint } }));
    return { bindGroupLayout, pipelines, bindings };
  };
  return {
    fftForward: family('fftForward', [0, 1, 2, 4, 5], ['inverse_columns', 'inverse_rows']),
    fftBackward: family('fftBackward', [0, 1, 2, 3, 4, 5], ['adjoint_rows', 'adjoint_columns']),
    pixelsForward: family('pixelsForward', [0, 2, 5], ['pixels_forward']),
    pixelsBackward: family('pixelsBackward', [0, 2, 3, 5], ['pixels_backward']),
  };
}
type Family = ReturnType<typeof buildPipelines>['fftForward'];

/**
 * Creates an FFT image plan for `height` × `width` (batch default 1, `decayPower` default 1); its constants
 * are computed in float64 and uploaded once. Throws `InvalidArgumentError` on a bad size or option.
 */
export function createFftImage(engine: Engine, options: FftImageOptions): FftImage {
  const { height, width, batch = 1, decayPower = 1 } = options;
  const label = options.label ?? 'FftImage';
  for (const [name, value] of [['height', height], ['width', width], ['batch', batch]] as const) {
    invalidArgument(Number.isInteger(value) && value >= 1, () => `${label}: ${name} must be an integer ≥ 1; got ${value}.`);
  }
  invalidArgument(Number.isFinite(decayPower) && decayPower >= 0, () => `${label}: decayPower must be finite and ≥ 0; got ${decayPower}.`);
  const columns = spectrumColumns(width);
  const spectrumShape = Object.freeze([2, batch, 3, height, columns]);
  const imageShape = Object.freeze([batch, height, width, 3]);
  const families = cachedPerDevice(engine.device, buildPipelines);
  const { ring, offsets } = mappingUniforms(engine, label, options, { batch, height, width, columns, pixels: 0 });
  const scratch = createTensorBuffer(engine, [batch * 3 * height * columns, 2], `${label}.spectrumRows`);
  const constants = createTensorBuffer(engine, [2 * (height + width) + height * columns], `${label}.constants`);
  engine.device.queue.writeBuffer(constants, 0, fftConstants(height, width, decayPower));
  const bindGroups = new BindGroupCache(engine, label, ring);
  const spectrumGroups = grid2d(Math.ceil((batch * 3 * height * columns) / WORKGROUP_SIZE));

  return {
    spectrumShape,
    imageShape,
    encodeForward(encoder, { image, spectrum }) {
      checkShape(label, 'spectrum', spectrum, spectrumShape);
      checkImage(label, 'image', image, imageShape);
      checkDistinct(label, { image, spectrum });
      const group = bindGroups.get(families.fftForward, { 0: image.buffer, 1: scratch, 2: spectrum.buffer, 4: constants });
      const pass = encoder.beginComputePass({ label: `${label}.forward.pass` });
      pass.setBindGroup(0, group, [offsets[0]]);
      pass.setPipeline(families.fftForward.pipelines[0]!);
      pass.dispatchWorkgroups(...spectrumGroups);
      pass.setPipeline(families.fftForward.pipelines[1]!);
      pass.dispatchWorkgroups(...grid2d(Math.ceil((batch * height * width) / WORKGROUP_SIZE)));
      pass.end();
    },
    encodeBackward(encoder, { gradSpectrum, gradImage, image }, backward = {}) {
      checkShape(label, 'gradSpectrum', gradSpectrum, spectrumShape);
      checkImage(label, 'gradImage', gradImage, imageShape);
      checkImage(label, 'image', image, imageShape);
      checkDistinct(label, { gradSpectrum, gradImage, image });
      const buffers = { 0: gradSpectrum.buffer, 1: scratch, 2: gradImage.buffer, 3: image.buffer, 4: constants };
      const group = bindGroups.get(families.fftBackward, buffers);
      const pass = encoder.beginComputePass({ label: `${label}.backward.pass` });
      pass.setBindGroup(0, group, [offsets[backward.accumulate ? 1 : 0]]);
      pass.setPipeline(families.fftBackward.pipelines[0]!);
      pass.dispatchWorkgroups(...grid2d(Math.ceil((batch * height * columns) / WORKGROUP_SIZE)));
      pass.setPipeline(families.fftBackward.pipelines[1]!);
      pass.dispatchWorkgroups(...spectrumGroups);
      pass.end();
    },
    destroy() {
      ring.destroy();
      scratch.destroy();
      constants.destroy();
      bindGroups.clear();
    },
  };
}

/**
 * Creates a per-pixel image mapping (decorrelated and σ by default). Up to 64 encodes may share one submit.
 * Throws `InvalidArgumentError` on an unknown mapping.
 */
export function createPixelImage(engine: Engine, options: ImageMappingOptions = {}): PixelImage {
  const label = options.label ?? 'PixelImage';
  const mapping = mappingFields(label, options); // checked before anything is allocated
  const families = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, 64);
  const bindGroups = new BindGroupCache(engine, label, ring);

  function record(encoder: GPUCommandEncoder, family: Family, buffers: Record<number, GPUBuffer>, pixels: number, accumulate: boolean) {
    const offset = ring.push({ batch: 0, height: 0, width: 0, columns: 0, pixels, ...mapping, accumulate: accumulate ? 1 : 0 });
    const pass = encoder.beginComputePass({ label: `${label}.${family.pipelines[0]!.label}.pass` });
    pass.setBindGroup(0, bindGroups.get(family, buffers), [offset]);
    pass.setPipeline(family.pipelines[0]!);
    pass.dispatchWorkgroups(...grid2d(Math.ceil(pixels / WORKGROUP_SIZE)));
    pass.end();
  }

  return {
    encodeForward(encoder, { image, x }) {
      const pixels = checkPixels(label, { x, image });
      record(encoder, families.pixelsForward, { 0: image.buffer, 2: x.buffer }, pixels, false);
    },
    encodeBackward(encoder, { gradX, gradImage, image }, backward = {}) {
      const pixels = checkPixels(label, { gradX, gradImage, image });
      record(encoder, families.pixelsBackward, { 0: gradX.buffer, 2: gradImage.buffer, 3: image.buffer }, pixels, backward.accumulate ?? false);
    },
    destroy() {
      ring.destroy();
      bindGroups.clear();
    },
  };
}

/** Columns of the real spectrum of an image W wide: ⌊W/2⌋ + 1. */
export function spectrumColumns(width: number): number {
  return Math.floor(width / 2) + 1;
}

/**
 * Twiddles (cos, sin)(2πm/H), (cos, sin)(2πm/W), then weight[h, k] = c_k · scale[h, k] / (4·H·W), in float64:
 * Lucid's scale √(HW) / max(f, 1/max(H, W))^decay with f = |(fftfreq_H[h], fftfreq_W[k])|, its /4, and the
 * irfft's 1/(HW) with c_k = 2 for the columns that also stand for their mirror W − k.
 */
export function fftConstants(height: number, width: number, decayPower: number): Float32Array<ArrayBuffer> {
  const columns = spectrumColumns(width);
  const out = new Float32Array(2 * (height + width) + height * columns);
  let at = 0;
  for (const n of [height, width])
    for (let m = 0; m < n; m++) {
      out[at++] = Math.cos((2 * Math.PI * m) / n);
      out[at++] = Math.sin((2 * Math.PI * m) / n);
    }
  const floor = 1 / Math.max(height, width);
  for (let h = 0; h < height; h++)
    for (let k = 0; k < columns; k++) {
      const f = Math.hypot(Math.min(h, height - h) / height, k / width);
      const scale = Math.sqrt(height * width) / Math.max(f, floor) ** decayPower;
      const mirrored = k > 0 && 2 * k !== width ? 2 : 1;
      out[at++] = (mirrored * scale) / (4 * height * width);
    }
  return out;
}

/** D = COLOR_CORRELATION_SVD_SQRT / its largest column norm (Lucid's _linear_decorrelate_color), row-major. */
export function decorrelationMatrix(): Float64Array {
  const m = COLOR_CORRELATION_SVD_SQRT;
  const largest = Math.max(...[0, 1, 2].map((j) => Math.hypot(m[j]!, m[3 + j]!, m[6 + j]!)));
  return Float64Array.from(m, (v) => v / largest);
}

function mappingFields(label: string, options: ImageMappingOptions): Record<string, number> {
  const mapping = options.mapping ?? 'sigmoid';
  invalidArgument(mapping === 'sigmoid' || mapping === 'clamp', () => `${label}: mapping must be 'sigmoid' or 'clamp'; got '${mapping}'.`);
  const d = (options.decorrelate ?? true) ? decorrelationMatrix() : Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  const fields: Record<string, number> = { mapping: mapping === 'clamp' ? 1 : 0 };
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) fields[`d${i}${j}`] = d[i * 3 + j]!;
  return fields;
}

/** A plan's uniforms never change but for `accumulate`: two slots written once, overwrite at [0], add at [1]. */
function mappingUniforms(engine: Engine, label: string, options: ImageMappingOptions, geometry: Record<string, number>) {
  const fields = { ...geometry, ...mappingFields(label, options) };
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, 2);
  const offsets = [ring.push({ ...fields, accumulate: 0 }), ring.push({ ...fields, accumulate: 1 })] as const;
  return { ring, offsets };
}

/** Bind groups by the buffers at each binding (object identity, nested WeakMaps), per family. */
class BindGroupCache {
  #root = new WeakMap<object, unknown>();
  constructor(private readonly engine: Engine, private readonly label: string, private readonly ring: UniformRing) {}

  get(family: Family, buffers: Record<number, GPUBuffer>): GPUBindGroup {
    const storage = family.bindings.filter((b) => b !== 5);
    let node = this.#root;
    for (const key of [family.bindGroupLayout, ...storage.map((b) => buffers[b]!)]) {
      if (!node.has(key)) node.set(key, new WeakMap());
      node = node.get(key) as WeakMap<object, unknown>;
    }
    const leaf = node as WeakMap<object, unknown> & { group?: GPUBindGroup };
    if (!leaf.group) {
      for (const b of storage) assertBindingFits(this.label, `binding ${b}`, buffers[b]!.size, this.engine.limits);
      leaf.group = this.engine.device.createBindGroup({
        label: `${this.label}.bindGroup`,
        layout: family.bindGroupLayout,
        entries: family.bindings.map((binding) => ({
          binding,
          resource: binding === 5 ? { buffer: this.ring.buffer, size: this.ring.bindingSize } : { buffer: buffers[binding]! },
        })),
      });
    }
    return leaf.group;
  }

  clear(): void {
    this.#root = new WeakMap();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, axis) => dim === b[axis]);
}

function checkShape(label: string, name: string, tensor: GpuTensor, shape: readonly number[]): void {
  tensor.assertUsable();
  invalidArgument(sameShape(tensor.shape, shape), () => `${label}: ${name} must be [${shape.join(', ')}]; got [${tensor.shape.join(', ')}].`);
}

function checkImage(label: string, name: string, tensor: GpuTensor, shape: readonly number[]): void {
  tensor.assertUsable();
  const ok = sameShape(tensor.shape, shape) || (shape[0] === 1 && sameShape(tensor.shape, shape.slice(1)));
  invalidArgument(ok, () => `${label}: ${name} must be [${shape.join(', ')}]${shape[0] === 1 ? ` or [${shape.slice(1).join(', ')}]` : ''}; got [${tensor.shape.join(', ')}].`);
}

function checkDistinct(label: string, tensors: Record<string, GpuTensor>): void {
  const entries = Object.entries(tensors);
  for (const [i, [a, ta]] of entries.entries())
    for (const [b, tb] of entries.slice(i + 1)) {
      invalidArgument(ta.buffer !== tb.buffer, () => `${label}: ${a} and ${b} must be different buffers; both are '${ta.buffer.label}'.`);
    }
}

/** Pixels in the first tensor (shape [..., 3]) after checking the others have its shape, each its own buffer. */
function checkPixels(label: string, tensors: Record<string, GpuTensor>): number {
  const [[firstName, first], ...others] = Object.entries(tensors) as [[string, GpuTensor], ...[string, GpuTensor][]];
  first.assertUsable();
  const shape = first.shape;
  invalidArgument(shape[shape.length - 1] === 3, () => `${label}: ${firstName} must end in 3 colour channels ([..., 3]); got [${shape.join(', ')}].`);
  for (const [name, tensor] of others) checkShape(label, name, tensor, shape);
  checkDistinct(label, tensors);
  return first.size / 3;
}
