// Requesting the one GPUDevice that Glassbox and TensorFlow.js share.
import { WebGpuUnavailableError } from './errors';

export interface DeviceRequest {
  powerPreference?: GPUPowerPreference;
}

// The limits our kernels grow into: take everything the adapter offers, so that a large attention matrix
// or a whole model's activations can be bound at once where the hardware allows it.
const LIMITS_TO_MAXIMIZE = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

// 'subgroups' is newer than some @webgpu/types releases, hence the cast.
const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups'] as GPUFeatureName[];

export async function requestDevice(request: DeviceRequest = {}): Promise<GPUDevice> {
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  if (!gpu) {
    throw new WebGpuUnavailableError(
      'WebGPU is not available here: navigator.gpu is undefined. Glassbox needs a browser with WebGPU ' +
        '(Chrome/Edge 113+, Safari 26+, Firefox 141+) on a secure page (https or http://localhost). ' +
        'In headless Chromium pass --enable-unsafe-webgpu (and the SwiftShader flags without a GPU).',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: request.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new WebGpuUnavailableError(
      'WebGPU is present but navigator.gpu.requestAdapter() returned no adapter: the GPU may be blocklisted ' +
        'or disabled. Check chrome://gpu, or start Chromium with --enable-unsafe-webgpu.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_TO_MAXIMIZE) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature));
  try {
    return await adapter.requestDevice({ label: 'Glassbox.device', requiredLimits, requiredFeatures });
  } catch (cause) {
    throw new WebGpuUnavailableError(`The adapter refused a device with its own maximum limits: ${String(cause)}`);
  }
}
