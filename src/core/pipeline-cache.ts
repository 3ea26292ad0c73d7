// Compile once per device: a kernel's pipelines are built the first time it is used on a device and
// reused by every later instance. The cache key is the builder function itself (a module constant),
// so no string keys are assembled by hand.
const cache = new WeakMap<GPUDevice, Map<(device: GPUDevice) => unknown, unknown>>();

export function cachedPerDevice<T>(device: GPUDevice, build: (device: GPUDevice) => T): T {
  let perDevice = cache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    cache.set(device, perDevice);
  }
  if (!perDevice.has(build)) perDevice.set(build, build(device));
  return perDevice.get(build) as T;
}
