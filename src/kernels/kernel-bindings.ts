// Plumbing every compute kernel wrapper shares: bind group layout entries, 2D dispatch grids past the
// 65,535-workgroup limit, aligned binding windows into large buffers, a clear error when a binding is too
// big, and a ring of uniform slots with dynamic offsets so one submit can hold many dispatches.
import type { Engine } from '../core/engine';
import { DeviceLimitError, formatBytes } from '../core/errors';
import type { UniformLayout } from '../memory/uniforms';

/** WebGPU's guaranteed maximum workgroups per dispatch dimension. */
const MAX_GROUPS_PER_DIMENSION = 65535;

export function storageEntry(binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry {
  return { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } };
}

/** The parameters slot: a uniform with a dynamic offset into a UniformRing. */
export function paramsEntry(binding: number): GPUBindGroupLayoutEntry {
  return { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } };
}

/** `groups` workgroups as a 2D dispatch, at most 65,535 (or `perDimension`) along each dimension. */
export function grid2d(groups: number, perDimension = MAX_GROUPS_PER_DIMENSION): [number, number] {
  const x = Math.max(1, Math.min(groups, perDimension));
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

export function assertBindingFits(label: string, what: string, bytes: number, limits: GPUSupportedLimits, hint = ''): void {
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new DeviceLimitError(
      `${label}: ${what} needs ${formatBytes(bytes)} in one binding, but this device's ` +
        `maxStorageBufferBindingSize is ${formatBytes(limits.maxStorageBufferBindingSize)}.${hint ? ` ${hint}` : ''}`,
    );
  }
}

/** assertBindingFits for a float32 tensor of `shape`, named with its shape in the message. */
export function assertShapeBindable(label: string, what: string, shape: readonly number[], limits: GPUSupportedLimits, hint = ''): void {
  const bytes = shape.reduce((product, dim) => product * dim, 4);
  assertBindingFits(label, `${what} of shape [${shape.join(', ')}]`, bytes, limits, hint);
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
  readonly #engine: Engine;
  #next = 0;
  /** engine.submissions at the pushes counted in #pushedUnsubmitted. */
  #submission = -1;
  #pushedUnsubmitted = 0;

  constructor(engine: Engine, layout: UniformLayout, label: string, slots: number) {
    const alignment = engine.limits.minUniformBufferOffsetAlignment;
    this.#layout = layout;
    this.#engine = engine;
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
    this.#countUnsubmitted();
    const offset = (this.#next++ % this.#slots) * this.#stride;
    this.#engine.device.queue.writeBuffer(this.buffer, offset, this.#view.buffer);
    return offset;
  }

  // A write lands before the next submit, so a slot written twice before one submit holds the later values
  // for both passes that bind it: more pushes than slots between submits would be silently wrong.
  #countUnsubmitted(): void {
    if (this.#engine.submissions !== this.#submission) {
      this.#submission = this.#engine.submissions;
      this.#pushedUnsubmitted = 0;
    }
    if (this.#pushedUnsubmitted === this.#slots) {
      throw new Error(`${this.buffer.label}: all ${this.#slots} parameter slots are taken by work not yet submitted; another would overwrite the first. Submit in between, or give the ring more slots.`);
    }
    this.#pushedUnsubmitted++;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}

/**
 * A scratch buffer that grows on demand, at least doubling. The buffer it replaces is retired, not destroyed,
 * until destroy(): passes already recorded into the caller's unsubmitted encoder may still bind it, and
 * destroying it would fail that submit. `grown` runs on every replacement, so bind groups over the old
 * buffer can be dropped.
 */
export class GrowingBuffer {
  #current: GPUBuffer | null = null;
  readonly #retired: GPUBuffer[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly label: string,
    private readonly usage: GPUBufferUsageFlags,
    private readonly grown: () => void = () => {},
  ) {}

  /** A buffer of at least `bytes` bytes. */
  atLeast(bytes: number): GPUBuffer {
    const current = this.#current;
    if (current && current.size >= bytes) return current;
    if (current) this.#retired.push(current);
    this.grown();
    this.#current = this.engine.createBuffer({ label: this.label, size: Math.max(bytes, 2 * (current?.size ?? 0)), usage: this.usage });
    return this.#current;
  }

  destroy(): void {
    this.#current?.destroy();
    for (const buffer of this.#retired.splice(0)) buffer.destroy();
    this.#current = null;
  }
}
