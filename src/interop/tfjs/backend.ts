// Sharing one GPUDevice with TensorFlow.js: tfjs's 'webgpu' backend runs on the engine's device, so
// tfjs tensors and Glassbox kernels bind the same buffers.
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Engine } from '../../core/engine';
import { InvalidArgumentError } from '../../core/errors';
import { flushTfjs, missingTfjsInternals } from './internals';

const BACKEND_NAME = 'webgpu';

/**
 * tfjs's initialized 'webgpu' backend, if there is one. Read from the registry directly: tf.findBackend()
 * would start initializing tfjs's own factory, which requests a second device.
 */
function initializedTfjsBackend(): WebGPUBackend | null {
  const backend = tf.engine().registry[BACKEND_NAME];
  return backend instanceof WebGPUBackend ? backend : null;
}

/** The device of tfjs's already-initialized 'webgpu' backend, if there is one. */
export function existingTfjsDevice(): GPUDevice | null {
  return initializedTfjsBackend()?.device ?? null;
}

/**
 * Removes tfjs's 'webgpu' backend if it runs on `device` (a lost one): the next engine then starts tfjs
 * afresh on its new device instead of adopting the dead one.
 */
export function forgetTfjsBackendOn(device: GPUDevice): void {
  if (initializedTfjsBackend()?.device === device) tf.removeBackend(BACKEND_NAME);
}

/** The tfjs backend running on the engine's device, or null when the engine was made without tfjs. */
export function tfjsBackendOf(engine: Engine): WebGPUBackend | null {
  return backends.get(engine) ?? null;
}

const backends = new WeakMap<Engine, WebGPUBackend>();

/**
 * Makes tfjs's 'webgpu' backend run on the engine's device (registering it when tfjs has none yet) and
 * makes it the active backend. The engine flushes tfjs's batched work before each of its own submits.
 */
export async function connectTfjs(engine: Engine): Promise<WebGPUBackend> {
  let backend = initializedTfjsBackend();
  if (backend && backend.device !== engine.device) {
    throw new InvalidArgumentError(
      "tfjs's 'webgpu' backend already runs on another GPUDevice. Create the engine without a device " +
        "(it then adopts tfjs's), pass tfjs's device, or pass { tfjs: false }.",
    );
  }
  if (!backend) {
    if (tf.findBackendFactory(BACKEND_NAME)) tf.removeBackend(BACKEND_NAME);
    const created = new WebGPUBackend(engine.device);
    tf.registerBackend(BACKEND_NAME, () => created, 3);
    backend = created;
    engine.onDestroy(() => tf.removeBackend(BACKEND_NAME));
  }
  if (!(await tf.setBackend(BACKEND_NAME))) {
    throw new InvalidArgumentError("tfjs could not switch to its 'webgpu' backend on the engine's device.");
  }
  const webgpu = backend;
  const missing = missingTfjsInternals(webgpu);
  if (missing.length === 0) engine.addPendingWorkSource({ flush: () => flushTfjs(webgpu) });
  else console.warn(`Glassbox: tfjs ${tf.version_core} lacks ${missing.join(', ')}; zero-copy falls back to copies.`);
  backends.set(engine, webgpu);
  return webgpu;
}
