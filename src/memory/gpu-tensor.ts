// GpuTensor: a GPU buffer with a shape, a dtype and a layout. The one way tensors travel in Glassbox.
import type { Engine } from '../core/engine';
import { DeviceLimitError, formatBytes, formatCount, invalidArgument } from '../core/errors';
import { readBufferRange } from './readback';

/** Element type of a GpuTensor; only float32 (4 bytes per element) so far. */
export type DType = 'float32';

/**
 * How the axes are to be read. Memory is always dense row-major (C order); the layout names the axes so
 * views know which is which: `'row-major'` for plain arrays and `[heads, N, d]` / `[heads, N, N]`
 * attention tensors, `'NHWC'` / `'NCHW'` for activations.
 */
export type Layout = 'row-major' | 'NHWC' | 'NCHW';

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4 };

/**
 * Usage every tensor buffer has: bindable as storage, copyable both ways (readback, tfjs zero-copy).
 * A function, not a constant: GPUBufferUsage does not exist where WebGPU does not, and importing Glassbox
 * there must still work (createEngine then explains what is missing).
 */
export function tensorBufferUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

export interface GpuTensorInit {
  engine: Engine;
  buffer: GPUBuffer;
  shape: readonly number[];
  dtype?: DType;
  layout?: Layout;
  /** Called by destroy() instead of destroying the buffer, when someone else owns it (tfjs, the caller). */
  release?: () => void;
}

/**
 * A GPU buffer with a shape, dtype and layout: the one way tensors travel in Glassbox. `destroy()` frees
 * the buffer, or hands it back when someone else owns it (see `tensorFromBuffer`, `tensorFromTf`).
 * The buffer may be larger than the tensor; elements start at byte 0.
 */
export class GpuTensor {
  readonly engine: Engine;
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly layout: Layout;
  #release: (() => void) | null;
  #destroyed = false;

  constructor(init: GpuTensorInit) {
    assertShape(init.shape);
    this.engine = init.engine;
    this.buffer = init.buffer;
    this.shape = Object.freeze([...init.shape]);
    this.dtype = init.dtype ?? 'float32';
    this.layout = init.layout ?? 'row-major';
    this.#release = init.release ?? null;
    invalidArgument(
      init.buffer.size >= this.byteLength,
      () => `GpuTensor of shape [${this.shape}] needs ${formatBytes(this.byteLength)}, but buffer ` +
        `'${init.buffer.label}' holds only ${formatBytes(init.buffer.size)}.`,
    );
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  get byteLength(): number {
    return this.size * BYTES_PER_ELEMENT[this.dtype];
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Reads the whole tensor back to the CPU. For tests and export only: never on the way to the screen. */
  async read(): Promise<Float32Array> {
    this.assertUsable();
    const bytes = await readBufferRange(this.engine, this.buffer, 0, this.byteLength);
    return new Float32Array(bytes);
  }

  /** Reads elements [start, start + count) back: a hovered value costs four bytes, not the tensor. */
  async readRange(start: number, count: number): Promise<Float32Array> {
    this.assertUsable();
    invalidArgument(
      Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1 && start + count <= this.size,
      () => `readRange(${start}, ${count}) is outside a tensor of ${formatCount(this.size)} elements.`,
    );
    const bytesPerElement = BYTES_PER_ELEMENT[this.dtype];
    const bytes = await readBufferRange(this.engine, this.buffer, start * bytesPerElement, count * bytesPerElement);
    return new Float32Array(bytes);
  }

  /** Frees the buffer, or hands it back to its owner (a tfjs tensor, the caller). Safe to call twice. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#release) this.#release();
    else this.buffer.destroy();
    this.#release = null;
  }

  /** Throws an InvalidArgumentError after `destroy()`, and a DeviceLostError once the device is lost. */
  assertUsable(): void {
    invalidArgument(!this.#destroyed, () => `GpuTensor '${this.buffer.label}' was used after destroy().`);
    this.engine.assertAlive();
  }
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

function assertShape(shape: readonly number[]): void {
  invalidArgument(
    shape.length >= 1 && shape.every((dim) => Number.isInteger(dim) && dim >= 1),
    () => `A shape is a non-empty list of positive integers; got [${shape.join(', ')}].`,
  );
}

/** Allocates an uninitialized tensor buffer, checked against the device's buffer limit. */
export function createTensorBuffer(engine: Engine, shape: readonly number[], label: string): GPUBuffer {
  assertShape(shape);
  const byteLength = sizeOf(shape) * BYTES_PER_ELEMENT.float32;
  if (byteLength > engine.limits.maxBufferSize) {
    throw new DeviceLimitError(
      `${label}: a tensor of shape [${shape.join(', ')}] needs ${formatBytes(byteLength)}, more than this ` +
        `device's maxBufferSize of ${formatBytes(engine.limits.maxBufferSize)}.`,
    );
  }
  // WebGPU buffer sizes must be multiples of 4; float32 sizes always are.
  return engine.createBuffer({ label, size: byteLength, usage: tensorBufferUsage() });
}

/** A new GpuTensor holding a copy of `data`. */
export function tensorFromArray(
  engine: Engine,
  data: Float32Array | readonly number[],
  shape: readonly number[],
  options: { label?: string; layout?: Layout } = {},
): GpuTensor {
  assertShape(shape);
  invalidArgument(
    data.length === sizeOf(shape),
    () => `tensorFromArray: shape [${shape.join(', ')}] holds ${formatCount(sizeOf(shape))} elements, ` +
      `but the data has ${formatCount(data.length)}.`,
  );
  const buffer = createTensorBuffer(engine, shape, options.label ?? 'GpuTensor');
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  engine.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  return new GpuTensor({ engine, buffer, shape, layout: options.layout ?? 'row-major' });
}

/**
 * A GpuTensor over a buffer the caller owns: destroy() leaves the buffer alone. The buffer needs
 * STORAGE usage to be bound by kernels, and COPY_SRC to be read back or handed to tfjs.
 */
export function tensorFromBuffer(
  engine: Engine,
  buffer: GPUBuffer,
  shape: readonly number[],
  options: { layout?: Layout } = {},
): GpuTensor {
  invalidArgument(
    (buffer.usage & GPUBufferUsage.STORAGE) !== 0,
    () => `tensorFromBuffer: buffer '${buffer.label}' needs GPUBufferUsage.STORAGE to be bound by kernels; ` +
      `its usage is 0x${buffer.usage.toString(16)}.`,
  );
  return new GpuTensor({ engine, buffer, shape, layout: options.layout ?? 'row-major', release: () => {} });
}
