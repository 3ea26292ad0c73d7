// Every error Glassbox throws says what was expected and what came, so a user can act on it.

/** Base class: catch `GlassboxError` to handle anything this library reports. */
export class GlassboxError extends Error {
  override name = 'GlassboxError';
}

/** WebGPU is missing, or no adapter/device could be had. */
export class WebGpuUnavailableError extends GlassboxError {
  override name = 'WebGpuUnavailableError';
}

/** An argument has the wrong shape, dtype, range or kind. */
export class InvalidArgumentError extends GlassboxError {
  override name = 'InvalidArgumentError';
}

/** A request needs more than the device allows (a binding, a buffer, a dispatch). */
export class DeviceLimitError extends GlassboxError {
  override name = 'DeviceLimitError';
}

/** WebGPU reported a validation or out-of-memory error while recording or submitting labelled work. */
export class GpuOperationError extends GlassboxError {
  override name = 'GpuOperationError';
}

/** The device was lost (driver reset, `device.destroy()`, tab in background for too long on some systems). */
export class DeviceLostError extends GlassboxError {
  override name = 'DeviceLostError';
}

/** Inputs contained NaN or ±Inf where finite numbers were required. */
export class NonFiniteError extends GlassboxError {
  override name = 'NonFiniteError';
}

export function invalidArgument(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new InvalidArgumentError(message());
}

/** `12345678` → `"12,345,678"`: sizes in messages are read by people. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes as a short human string with the exact count: `"256 MiB (268,435,456 bytes)"`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const short = unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(2))} ${units[unit]}`;
  return unit === 0 ? short : `${short} (${formatCount(bytes)} bytes)`;
}
