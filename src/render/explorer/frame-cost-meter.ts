// Measures the GPU time of a frame's tile work with timestamp queries (the first strip's pass begins the
// span, the last one's ends it) and reports (entries, ms) when the result comes back, so the scheduler's
// cost model follows the device. One measurement in flight at a time; frames in between go unmeasured.
import type { Engine } from '../../core/engine';

export interface FrameCostMeter {
  /** timestampWrites for strip `index` of `count`, or undefined when this frame is not measured. */
  timestampWrites(index: number, count: number): GPUComputePassTimestampWrites | undefined;
  /** After the strips: resolve, and report the measurement once it is read back. */
  record(encoder: GPUCommandEncoder, entries: number, report: (entries: number, ms: number) => void): void;
  destroy(): void;
}

export function createFrameCostMeter(engine: Engine, label: string): FrameCostMeter {
  if (!engine.features.timestampQuery) {
    return { timestampWrites: () => undefined, record() {}, destroy() {} };
  }
  const querySet = engine.device.createQuerySet({ label: `${label}.costQueries`, type: 'timestamp', count: 2 });
  const resolve = engine.createBuffer({
    label: `${label}.costResolve`,
    size: 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = engine.createBuffer({ label: `${label}.costRead`, size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  let busy = false;
  let destroyed = false;

  return {
    timestampWrites(index, count) {
      if (busy) return undefined;
      const writes: GPUComputePassTimestampWrites = { querySet };
      if (index === 0) writes.beginningOfPassWriteIndex = 0;
      if (index === count - 1) writes.endOfPassWriteIndex = 1;
      return index === 0 || index === count - 1 ? writes : undefined;
    },
    record(encoder, entries, report) {
      if (busy) return;
      busy = true;
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
      // Mapped after this frame's submit: the microtask runs once the encoder's commands are queued.
      queueMicrotask(() => {
        read
          .mapAsync(GPUMapMode.READ)
          .then(() => {
            const [begin = 0n, end = 0n] = new BigInt64Array(read.getMappedRange());
            read.unmap();
            report(entries, Number(end - begin) / 1e6);
          })
          .catch(() => {}) // destroyed while mapping
          .finally(() => {
            busy = destroyed;
          });
      });
    },
    destroy() {
      destroyed = true;
      querySet.destroy();
      resolve.destroy();
      read.destroy();
    },
  };
}
