// Hugging Face's .safetensors format (https://github.com/huggingface/safetensors, README "Format"):
//   8 bytes: N, the header length, an unsigned little-endian 64-bit integer;
//   N bytes: a UTF-8 JSON object {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [BEGIN, END]}, ...}
//            with an optional "__metadata__" string-to-string map, padded with spaces;
//   the rest: the byte buffer. Offsets are relative to its start; the tensors cover it exactly, with no
//            overlaps and no holes. Little-endian, C order.
// Validation follows the reference implementation (safetensors/src/tensor.rs), and everything is checked
// from the header before any tensor is decoded.
import { formatBytes } from '../core/errors';
import { FileFormatError, asBytes, checkedElementCount, decodeFloat32, describe, type FileBytes } from './bytes';
import { decodeBfloat16, decodeFloat16 } from './half';

/** The safetensors dtypes Glassbox reads and writes (all decoded to float32). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

/** One tensor of a parsed file. Its bytes stay in the file's buffer until `data` is first read. */
export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The tensor's bytes as stored (a view into the file, not a copy). */
  readonly bytes: Uint8Array;
  /** The values as float32 (F16 and BF16 converted exactly), decoded on first read and then kept. */
  readonly data: Float32Array;
}

/** A parsed .safetensors file; its tensors are views into the input bytes, decoded lazily. */
export interface SafetensorsFile {
  /** Tensors in the order of their data in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** The header's "__metadata__" map; empty when the file has none. */
  metadata: Record<string, string>;
}

/**
 * Reads a .safetensors file. Only the header is parsed here; each tensor is decoded when its `data` is read,
 * so picking two tensors out of a large dump costs two tensors. Throws FileFormatError for a header that is
 * too large (> 100 MB, the reference limit) or runs past the file, invalid UTF-8 or JSON, offsets that overlap,
 * leave holes or run past the buffer, shapes whose size disagrees with their offsets, and dtypes other than
 * F32, F16 and BF16. Duplicate names cannot be seen through JSON.parse; a duplicate that hides another tensor
 * leaves a hole in the buffer and is rejected as one.
 */
export function parseSafetensors(input: FileBytes): SafetensorsFile {
  const bytes = asBytes(input, 'safetensors');
  const headerLength = readHeaderLength(bytes);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength));
  const buffer = bytes.subarray(8 + headerLength);
  const metadata = metadataOf(header['__metadata__']);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, info]) => entryOf(name, info, buffer.length));
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkCoverage(entries, buffer.length);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries) tensors.set(entry.name, new LazyTensor(entry, buffer.subarray(entry.begin, entry.end)));
  return { tensors, metadata };
}

export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];
const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** The reference implementation refuses headers above this size; so do we, before reading them. */
export const MAX_HEADER_BYTES = 100_000_000;

// Implementation.

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

// Names the reference implementation knows but Glassbox does not read: they get "not supported", not "unknown".
const OTHER_DTYPES = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'F64', 'C64', 'F8_E5M2',
  'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'F4', 'F6_E2M3', 'F6_E3M2'];

function readHeaderLength(bytes: Uint8Array): number {
  if (bytes.length < 8) {
    throw new FileFormatError(
      `safetensors: the file is ${bytes.length} bytes; expected at least 8 (the header length) and a header.`,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new FileFormatError(
      `safetensors: the header length field says ${length.toLocaleString('en-US')} bytes, more than the ` +
        `${formatBytes(MAX_HEADER_BYTES)} a header may have (not a safetensors file, or a corrupt one).`,
    );
  }
  if (Number(length) > bytes.length - 8) {
    throw new FileFormatError(
      `safetensors: the header length field says ${formatBytes(Number(length))}, but the file has only ` +
        `${formatBytes(bytes.length - 8)} after it (truncated).`,
    );
  }
  return Number(length);
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new FileFormatError('safetensors: the header is not valid UTF-8.');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(`safetensors: the header is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new FileFormatError(`safetensors: the header should be a JSON object; got ${describe(header)}.`);
  }
  return header as Record<string, unknown>;
}

function metadataOf(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const isMap = typeof value === 'object' && value !== null && !Array.isArray(value);
  const bad = isMap ? Object.entries(value).find(([, item]) => typeof item !== 'string') : undefined;
  if (!isMap || bad) {
    const what = bad ? `"${bad[0]}" is ${describe(bad[1])}` : `got ${describe(value)}`;
    throw new FileFormatError(`safetensors: "__metadata__" should map strings to strings; ${what}.`);
  }
  return { ...(value as Record<string, string>) };
}

function entryOf(name: string, info: unknown, bufferLength: number): Entry {
  const where = `safetensors: tensor '${name}'`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new FileFormatError(`${where} should be {"dtype", "shape", "data_offsets"}; got ${describe(info)}.`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  const checkedDtype = dtypeOf(dtype, where);
  if (!Array.isArray(shape)) throw new FileFormatError(`${where}: "shape" should be a list of integers; got ${describe(shape)}.`);
  const [begin, end] = offsetsOf(offsets, where, bufferLength);
  const room = `its data_offsets [${begin}, ${end}] span ${formatBytes(end - begin)} ` +
    `(the data buffer is ${formatBytes(bufferLength)})`;
  const count = checkedElementCount(shape, DTYPE_BYTES[checkedDtype], end - begin, where, room);
  if (count * DTYPE_BYTES[checkedDtype] !== end - begin) {
    throw new FileFormatError(
      `${where}: shape [${shape.join(', ')}] of ${checkedDtype} needs ` +
        `${formatBytes(count * DTYPE_BYTES[checkedDtype])}, but its data_offsets [${begin}, ${end}] ` +
        `span ${formatBytes(end - begin)}.`,
    );
  }
  return { name, dtype: checkedDtype, shape: shape as number[], count, begin, end };
}

function dtypeOf(dtype: unknown, where: string): SafetensorsDtype {
  if (SAFETENSORS_DTYPES.includes(dtype as SafetensorsDtype)) return dtype as SafetensorsDtype;
  if (dtype === undefined) throw new FileFormatError(`${where}: "dtype" is missing; expected F32, F16 or BF16.`);
  const kind = typeof dtype === 'string' && OTHER_DTYPES.includes(dtype) ? 'is not supported' : 'is not a safetensors dtype';
  throw new FileFormatError(
    `${where}: dtype ${describe(dtype)} ${kind}; expected F32, F16 or BF16 ` +
      '(in PyTorch: tensor.float(), tensor.half() or tensor.bfloat16()).',
  );
}

function offsetsOf(offsets: unknown, where: string, bufferLength: number): [number, number] {
  const valid = Array.isArray(offsets) && offsets.length === 2 &&
    offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0) && offsets[0] <= offsets[1];
  if (!valid) {
    throw new FileFormatError(
      `${where}: "data_offsets" should be [BEGIN, END] with 0 ≤ BEGIN ≤ END; got ${JSON.stringify(offsets) ?? 'nothing'}.`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end > bufferLength) {
    throw new FileFormatError(
      `${where}: data_offsets [${begin}, ${end}] run past the end of the data buffer, which holds ` +
        `${formatBytes(bufferLength)} (truncated, or the header lies).`,
    );
  }
  return [begin, end];
}

/** Sorted by offsets, the tensors must tile [0, bufferLength) exactly: no overlaps, no holes, no tail. */
function checkCoverage(entries: readonly Entry[], bufferLength: number): void {
  let covered = 0;
  let previous: string | null = null;
  for (const entry of entries) {
    if (entry.begin !== covered) {
      const expected = previous === null ? 'the first tensor must start at byte 0' : `'${previous}' ends at byte ${covered}`;
      const problem = entry.begin < covered ? 'overlaps the tensor before it' : 'leaves a hole before it';
      throw new FileFormatError(
        `safetensors: tensor '${entry.name}' starts at byte ${entry.begin} of the data buffer, but ${expected}: ` +
          `it ${problem}. Tensors must cover the buffer contiguously.`,
      );
    }
    covered = entry.end;
    previous = entry.name;
  }
  if (covered !== bufferLength) {
    throw new FileFormatError(
      `safetensors: the tensors cover ${formatBytes(covered)} of the data buffer, but it holds ` +
        `${formatBytes(bufferLength)}: the extra bytes at the end belong to no tensor.`,
    );
  }
}

class LazyTensor implements SafetensorsTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
  readonly #count: number;
  #data: Float32Array | null = null;

  constructor(entry: Entry, bytes: Uint8Array) {
    this.name = entry.name;
    this.dtype = entry.dtype;
    this.shape = Object.freeze([...entry.shape]);
    this.bytes = bytes;
    this.#count = entry.count;
  }

  get data(): Float32Array {
    this.#data ??= DECODERS[this.dtype](this.bytes, this.#count);
    return this.#data;
  }
}

const DECODERS: Record<SafetensorsDtype, (bytes: Uint8Array, count: number) => Float32Array> = {
  F32: decodeFloat32,
  F16: decodeFloat16,
  BF16: decodeBfloat16,
};
