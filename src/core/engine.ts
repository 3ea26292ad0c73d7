// The engine owns the device, the only place work is submitted, and the record of live GPU buffers.
import { DeviceLostError, GpuOperationError } from './errors';

/** Something else that records into the same device and batches its own work (tfjs). */
export interface PendingWorkSource {
  /** Submit whatever has been recorded but not yet submitted, so our commands see its results. */
  flush(): void;
}

/** Optional WebGPU features enabled on the device: 'timestamp-query' (GPU pass timing) and 'subgroups'. */
export interface EngineFeatures {
  readonly timestampQuery: boolean;
  readonly subgroups: boolean;
}

/**
 * Owns the one GPUDevice that kernels, views and tfjs share: the only place work is submitted (after
 * flushing tfjs), and the record of live GPU buffers. Made by {@link createEngine}; `destroy()` destroys the
 * device only when the engine requested it.
 */
export class Engine {
  readonly device: GPUDevice;
  readonly features: EngineFeatures;
  /** Set once the device is lost; every later submit throws a DeviceLostError that carries it. */
  lostReason: string | null = null;

  readonly #liveBuffers = new Set<GPUBuffer>();
  readonly #pendingSources: PendingWorkSource[] = [];
  readonly #destroyHooks: (() => void)[] = [];
  readonly #ownsDevice: boolean;
  #submissions = 0;

  constructor(device: GPUDevice, options: { ownsDevice: boolean }) {
    this.device = device;
    this.#ownsDevice = options.ownsDevice;
    this.features = {
      timestampQuery: device.features.has('timestamp-query'),
      subgroups: device.features.has('subgroups'),
    };
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Creates a buffer the engine counts as live until it is destroyed. Every buffer gets a label. */
  createBuffer(descriptor: GPUBufferDescriptor & { label: string }): GPUBuffer {
    const buffer = this.device.createBuffer(descriptor);
    this.#liveBuffers.add(buffer);
    // Wrap destroy on this instance so the count stays right however the buffer is released.
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      this.#liveBuffers.delete(buffer);
      destroy();
    };
    return buffer;
  }

  /** Buffers created through this engine and not yet destroyed: the number leak tests watch. */
  liveBufferCount(): number {
    return this.#liveBuffers.size;
  }

  /** Labels of the live buffers, for a leak report that says what leaked. */
  liveBufferLabels(): string[] {
    return [...this.#liveBuffers].map((buffer) => buffer.label);
  }

  /** Registers another producer on this device whose batched work is flushed before every submit. */
  addPendingWorkSource(source: PendingWorkSource): void {
    this.#pendingSources.push(source);
  }

  /** Flush every other producer on this device (tfjs) so that buffers we are about to read are written. */
  flushPendingWork(): void {
    for (const source of this.#pendingSources) source.flush();
  }

  /** The one submit: flushes pending work from other producers first, then submits our commands in order. */
  submit(commandBuffers: GPUCommandBuffer[]): void {
    this.assertAlive();
    this.flushPendingWork();
    this.device.queue.submit(commandBuffers);
    this.#submissions++;
  }

  /** How many times submit() has run: work recorded between two values went to the GPU together. */
  get submissions(): number {
    return this.#submissions;
  }

  /**
   * Records `record` into a fresh encoder, submits it, and turns any WebGPU validation or out-of-memory
   * error raised while doing so into a GpuOperationError named after `label`.
   */
  async run<T>(label: string, record: (encoder: GPUCommandEncoder) => T): Promise<T> {
    this.assertAlive();
    return this.withErrorScope(label, () => {
      const encoder = this.device.createCommandEncoder({ label: `${label}.encoder` });
      const result = record(encoder);
      this.submit([encoder.finish()]);
      return result;
    });
  }

  /** Runs `body` inside validation and out-of-memory error scopes and throws what they caught. */
  async withErrorScope<T>(label: string, body: () => T): Promise<T> {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    let result: T;
    try {
      result = body();
    } finally {
      const outOfMemory = await this.device.popErrorScope();
      const validation = await this.device.popErrorScope();
      const error = outOfMemory ?? validation;
      if (error) {
        const kind = outOfMemory ? 'out of memory' : 'validation error';
        throw new GpuOperationError(`${label}: WebGPU ${kind}: ${error.message}`);
      }
    }
    return result;
  }

  /** Throws a DeviceLostError once the device has been lost; a no-op before that. */
  assertAlive(): void {
    if (this.lostReason !== null) {
      throw new DeviceLostError(`The GPU device was lost (${this.lostReason}); create a new engine.`);
    }
  }

  /** Runs `hook` when the engine is destroyed, before its buffers are (tfjs's backend is removed this way). */
  onDestroy(hook: () => void): void {
    this.#destroyHooks.push(hook);
  }

  /** Destroys every buffer still live; the device too when the engine created it. */
  destroy(): void {
    for (const hook of this.#destroyHooks.splice(0)) hook();
    for (const buffer of [...this.#liveBuffers]) buffer.destroy();
    if (this.#ownsDevice) this.device.destroy();
  }
}
