// createEngine: the one GPUDevice that Glassbox kernels, views and TensorFlow.js share.
import { requestDevice } from './core/device';
import { Engine } from './core/engine';
import { connectTfjs, existingTfjsDevice } from './interop/tfjs/backend';

/** Options for {@link createEngine}. */
export interface EngineOptions {
  /** Use this device instead of requesting one; the caller keeps ownership (destroy() leaves it alone). */
  device?: GPUDevice;
  /**
   * Run tfjs's 'webgpu' backend on the engine's device (default true). When tfjs already runs on WebGPU
   * and no device is given, the engine adopts tfjs's device instead of requesting a second one.
   */
  tfjs?: boolean;
  powerPreference?: GPUPowerPreference;
}

/**
 * Creates the engine on `options.device`, else (with `tfjs`) on tfjs's WebGPU device, else on a newly
 * requested device, which the engine then owns and destroys. Call `engine.destroy()` when done.
 *
 * @throws WebGpuUnavailableError when a device must be requested and WebGPU or an adapter is missing.
 * @throws InvalidArgumentError when tfjs's 'webgpu' backend already runs on a different device, or tfjs
 *   cannot switch to it.
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const useTfjs = options.tfjs ?? true;
  const adopted = options.device ?? (useTfjs ? existingTfjsDevice() : null);
  const device = adopted ?? (await requestDevice({ powerPreference: options.powerPreference }));
  const engine = new Engine(device, { ownsDevice: adopted === null });
  try {
    if (useTfjs) await connectTfjs(engine);
  } catch (error) {
    engine.destroy(); // a device requested here would otherwise outlive the failed call
    throw error;
  }
  return engine;
}
