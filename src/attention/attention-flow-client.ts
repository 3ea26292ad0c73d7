// Attention flow in a worker, cached by content: a view that asks again for the same layers (a redraw, a
// layer picked twice) gets the answer at once, and two asks for one graph in flight share one computation.
import { GlassboxError, InvalidArgumentError, invalidArgument } from '../core/errors';
import { attentionFlow, checkAttentionFlowArguments, type AttentionFlowOptions } from './attention-flow';
import type { AttentionFlowReply, AttentionFlowRequest } from './attention-flow-worker';

/** {@link attentionFlow} off the main thread, with results cached by content. Call `destroy()` when done. */
export interface AttentionFlowWorker {
  /**
   * attentionFlow(graph, layers, n, options) computed in the worker (or, where Worker is missing, as Node,
   * on this thread): resolves to [outputs.length, n] float64, a copy the caller may keep or change.
   * Bad arguments reject with an InvalidArgumentError before anything is sent.
   */
  compute(graph: Float32Array | Float64Array, layers: number, n: number, options?: AttentionFlowOptions): Promise<Float64Array>;
  /** Stops the worker; pending and later computations reject. */
  destroy(): void;
}

/** Options for {@link createAttentionFlowWorker}. */
export interface AttentionFlowWorkerOptions {
  /** Results kept (least recently used dropped first); an integer ≥ 0, default 16. */
  cacheSize?: number;
}

/**
 * Starts a module worker for attention flow (on this thread where `Worker` is missing). Identical requests
 * share one computation and are answered from an LRU cache of `cacheSize` results.
 */
export function createAttentionFlowWorker(options: AttentionFlowWorkerOptions = {}): AttentionFlowWorker {
  const cacheSize = options.cacheSize ?? 16;
  invalidArgument(Number.isInteger(cacheSize) && cacheSize >= 0,
    () => `createAttentionFlowWorker: cacheSize must be an integer ≥ 0; got ${cacheSize}.`);
  const backend = typeof Worker === 'undefined' ? inlineBackend() : workerBackend();
  const cache = new Map<string, { input: Float64Array; result: Promise<Float64Array> }>();
  let destroyed = false;
  let nextId = 0;

  return {
    async compute(graph, layers, n, flowOptions = {}) {
      if (destroyed) throw new GlassboxError('AttentionFlowWorker.compute: this worker was destroyed.');
      checkAttentionFlowArguments(graph, layers, n, flowOptions);
      const input = Float64Array.from(graph);
      const { outputs, upToLayer } = flowOptions;
      const key = `${layers}|${n}|${upToLayer ?? ''}|${outputs?.join(',') ?? ''}|${hashWords(input)}`;
      const hit = cache.get(key);
      if (hit && sameValues(hit.input, input)) {
        cache.delete(key); // re-inserted: most recently used last
        cache.set(key, hit);
        return (await hit.result).slice();
      }
      const request: AttentionFlowRequest = { id: nextId++, graph: input, layers, n, outputs, upToLayer };
      const entry = { input, result: backend.request(request) };
      cache.set(key, entry);
      while (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
      // A failure is not remembered: the next ask tries again.
      entry.result.catch(() => cache.get(key) === entry && cache.delete(key));
      return (await entry.result).slice();
    },
    destroy() {
      destroyed = true;
      cache.clear();
      backend.terminate();
    },
  };
}

interface Backend {
  request(request: AttentionFlowRequest): Promise<Float64Array>;
  terminate(): void;
}

function workerBackend(): Backend {
  // This exact pattern lets vite bundle the worker, both in dev and in the library build.
  const worker = new Worker(new URL('./attention-flow-worker.ts', import.meta.url), { type: 'module', name: 'glassbox-attention-flow' });
  const pending = new Map<number, { resolve: (flow: Float64Array) => void; reject: (error: Error) => void }>();
  let failure: Error | null = null;
  const rejectAll = (error: Error) => {
    pending.forEach(({ reject }) => reject(error));
    pending.clear();
  };
  worker.onmessage = ({ data }: MessageEvent<AttentionFlowReply>) => {
    const waiting = pending.get(data.id);
    pending.delete(data.id);
    if ('flow' in data) waiting?.resolve(data.flow);
    else waiting?.reject(errorFromWorker(data.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failure = new GlassboxError(`AttentionFlowWorker: the worker failed (${event.message || 'it could not be loaded'}).`);
    rejectAll(failure);
  };
  return {
    request(request) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        pending.set(request.id, { resolve, reject });
        worker.postMessage(request);
      });
    },
    terminate() {
      worker.terminate();
      failure = new GlassboxError('AttentionFlowWorker.compute: this worker was destroyed before the flow was computed.');
      rejectAll(failure);
    },
  };
}

/** Where Worker is missing (Node, tests): the same computation on this thread. */
function inlineBackend(): Backend {
  return {
    request: async ({ graph, layers, n, outputs, upToLayer }) => attentionFlow(graph, layers, n, { outputs, upToLayer }),
    terminate() {},
  };
}

function errorFromWorker({ name, message }: { name: string; message: string }): Error {
  return name === 'InvalidArgumentError' ? new InvalidArgumentError(message) : new GlassboxError(`AttentionFlowWorker: ${message}`);
}

/** A fast 32-bit hash of the bytes: a cache key, confirmed by comparing the values on a hit. */
function hashWords(values: Float64Array): number {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let hash = 0x811c9dc5 ^ words.length;
  for (let index = 0; index < words.length; index++) hash = Math.imul(hash ^ words[index]!, 0x01000193) ^ (hash >>> 15);
  return hash >>> 0;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
