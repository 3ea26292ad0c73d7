// Every use of tfjs-backend-webgpu internals lives in this file (checked against tfjs 4.22).
// tests/gpu/tfjs-internals.test.ts fails loudly when an upgrade changes any of them; the public
// dataToGPU() route (a GPU-side copy) is the fallback when they are missing.
import type * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** The parts of WebGPUBackend we rely on that are not public API. */
interface BackendInternals {
  commandEncoder: GPUCommandEncoder | null;
  tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
  uploadToGPU(dataId: object): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

function internals(backend: WebGPUBackend): BackendInternals {
  return backend as unknown as BackendInternals;
}

/** Names of the internals that this tfjs build lacks; empty when zero-copy is available. */
export function missingTfjsInternals(backend: WebGPUBackend): string[] {
  const b = internals(backend) as unknown as Record<string, unknown>;
  const missing: string[] = [];
  if (!('commandEncoder' in b)) missing.push('commandEncoder');
  for (const method of ['uploadToGPU', 'endComputePassEncoder', 'submitQueue']) {
    if (typeof b[method] !== 'function') missing.push(`${method}()`);
  }
  const tensorMap = b['tensorMap'] as { get?: unknown } | undefined;
  if (typeof tensorMap?.get !== 'function') missing.push('tensorMap.get()');
  return missing;
}

/**
 * Submits the work tfjs has recorded but not yet submitted (it batches dispatches into one open
 * encoder), so that commands we submit next see its results.
 */
export function flushTfjs(backend: WebGPUBackend): void {
  const b = internals(backend);
  if (b.commandEncoder === null) return;
  b.endComputePassEncoder();
  b.submitQueue();
}

/** The tensor's own GPUBuffer (uploading CPU-side values first), or null when it has none. */
export function ownBuffer(backend: WebGPUBackend, tensor: tf.Tensor): GPUBuffer | null {
  const b = internals(backend);
  b.uploadToGPU(tensor.dataId);
  const resource = b.tensorMap.get(tensor.dataId)?.resource;
  return resource instanceof GPUBuffer ? resource : null;
}
