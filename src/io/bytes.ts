// Shared pieces of the file readers: the error they throw, byte access, and size checks that run on the
// header alone, before anything the size of the data is allocated.
import { InvalidArgumentError, formatBytes } from '../core/errors';

/**
 * A file's bytes do not follow its format (bad magic, a header that lies about sizes, an unsupported
 * dtype). A kind of InvalidArgumentError: the bytes were the argument.
 */
export class FileFormatError extends InvalidArgumentError {
  override name = 'FileFormatError';
}

/** Bytes a reader accepts: a whole ArrayBuffer, or any view onto part of one (a Node Buffer included). */
export type FileBytes = ArrayBuffer | ArrayBufferView;

export function asBytes(input: FileBytes, format: string): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new FileFormatError(`${format}: expected the file's bytes as an ArrayBuffer or Uint8Array; got ${describe(input)}.`);
}

/**
 * Elements in `shape`, after checking each dimension is a non-negative safe integer and that the data
 * (elements × bytesPerElement) fits in `availableBytes`. The product is checked step by step, so a shape
 * like [2^40, 2^40] is refused from the header without overflowing or allocating anything. `room` says
 * where the bytes should have been, e.g. "the file holds 1 KiB after the header".
 */
export function checkedElementCount(
  shape: readonly unknown[],
  bytesPerElement: number,
  availableBytes: number,
  where: string,
  room: string,
): number {
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new FileFormatError(
        `${where}: a shape is a list of non-negative integers; got [${shape.map(String).join(', ')}].`,
      );
    }
  }
  const dims = shape as readonly number[];
  if (dims.includes(0)) return 0;
  let count = 1;
  for (const dim of dims) {
    count *= dim;
    if (count * bytesPerElement > availableBytes) {
      throw new FileFormatError(
        `${where}: shape [${dims.join(', ')}] declares ${declaredBytes(dims, bytesPerElement)} of data, ` +
          `but ${room} (truncated, or the header lies).`,
      );
    }
  }
  return count;
}

/** Copies `count` little-endian float32 values starting at `bytes[0]` into a new, aligned Float32Array. */
export function decodeFloat32(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 4);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Float32 values as little-endian bytes. */
export function encodeFloat32(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** A short description of an unexpected value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}

// BigInt: the declared size of a lying header can be far beyond 2^53, and the message should still be exact.
function declaredBytes(shape: readonly number[], bytesPerElement: number): string {
  const bytes = shape.reduce((product, dim) => product * BigInt(dim), BigInt(bytesPerElement));
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? formatBytes(Number(bytes)) : `${bytes.toLocaleString('en-US')} bytes`;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
