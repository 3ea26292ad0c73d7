// GPU time of labelled passes from timestamp queries. Where the device has no 'timestamp-query',
// `available` is false and passes are recorded without timestamps.
import type { Engine } from './engine';

/** Times labelled compute passes with timestamp queries: `pass()` per pass, then `resolve()`, submit, `read()`. */
export interface GpuTimer {
  /** False when the device lacks 'timestamp-query'; every method is then a no-op and `read()` is empty. */
  readonly available: boolean;
  /** timestampWrites for a pass named `name`; undefined when timing is unavailable or slots ran out. */
  pass(name: string): GPUComputePassTimestampWrites | undefined;
  /** Records the resolve of every pass timed since the last read(); call after the timed passes. */
  resolve(encoder: GPUCommandEncoder): void;
  /** Milliseconds per pass name (summed when a name repeats), after the resolving work was submitted. */
  read(): Promise<Map<string, number>>;
  /** Destroys the query set and its two buffers. */
  destroy(): void;
}

/** Creates a timer with room for `capacity` timed passes between reads; `label` names its GPU objects. */
export function createGpuTimer(engine: Engine, capacity = 64, label = 'GpuTimer'): GpuTimer {
  if (!engine.features.timestampQuery) {
    return { available: false, pass: () => undefined, resolve() {}, read: async () => new Map(), destroy() {} };
  }
  const count = capacity * 2;
  const querySet = engine.device.createQuerySet({ label: `${label}.querySet`, type: 'timestamp', count });
  const resolveBuffer = engine.createBuffer({
    label: `${label}.resolve`,
    size: count * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readBuffer = engine.createBuffer({
    label: `${label}.read`,
    size: count * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  let names: string[] = [];

  return {
    available: true,
    pass(name) {
      if (names.length >= capacity) return undefined;
      const slot = names.length;
      names.push(name);
      return { querySet, beginningOfPassWriteIndex: slot * 2, endOfPassWriteIndex: slot * 2 + 1 };
    },
    resolve(encoder) {
      if (names.length === 0) return;
      encoder.resolveQuerySet(querySet, 0, names.length * 2, resolveBuffer, 0);
      encoder.copyBufferToBuffer(resolveBuffer, 0, readBuffer, 0, names.length * 16);
    },
    async read() {
      const timed = names;
      names = [];
      const totals = new Map<string, number>();
      if (timed.length === 0) return totals;
      await readBuffer.mapAsync(GPUMapMode.READ, 0, timed.length * 16);
      const stamps = new BigInt64Array(readBuffer.getMappedRange(0, timed.length * 16));
      timed.forEach((name, slot) => {
        const ns = Number(stamps[slot * 2 + 1]! - stamps[slot * 2]!);
        totals.set(name, (totals.get(name) ?? 0) + Math.max(0, ns) / 1e6);
      });
      readBuffer.unmap();
      return totals;
    },
    destroy() {
      querySet.destroy();
      resolveBuffer.destroy();
      readBuffer.destroy();
    },
  };
}
