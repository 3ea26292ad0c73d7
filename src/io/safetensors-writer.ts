// Writes .safetensors files the way the reference implementation does (safetensors/src/tensor.rs, `prepare`
// and `serialize`): tensors sorted by descending dtype alignment, then by name; compact JSON header with
// "__metadata__" first and each tensor as {"dtype", "shape", "data_offsets"}; header padded with spaces to a
// multiple of 8 bytes, so every tensor's data starts aligned to its element size.
import { formatCount, invalidArgument } from '../core/errors';
import { encodeFloat32 } from './bytes';
import { encodeHalf } from './half';
import { MAX_HEADER_BYTES, SAFETENSORS_DTYPES, type SafetensorsDtype } from './safetensors';

/** One tensor for {@link writeSafetensors}: `data.length` must equal the product of `shape`. */
export interface SafetensorsInput {
  data: Float32Array;
  shape: readonly number[];
  /** How to store the values; F16 and BF16 round to nearest even. Default F32. */
  dtype?: SafetensorsDtype;
}

/** Serializes named float32 tensors (stored as F32, F16 or BF16) and an optional string metadata map. */
export function writeSafetensors(
  tensors: Record<string, SafetensorsInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = Object.entries(tensors).map(([name, tensor]) => checkedEntry(name, tensor));
  entries.sort(byAlignmentThenName);
  let offset = 0;
  const infos = entries.map((entry) => {
    const begin = offset;
    offset += entry.body.length;
    return [entry.name, { dtype: entry.dtype, shape: entry.shape, data_offsets: [begin, offset] }] as const;
  });
  const header = headerBytes(infos, checkedMetadata(metadata));
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let position = 8 + header.length;
  for (const entry of entries) {
    out.set(entry.body, position);
    position += entry.body.length;
  }
  return out;
}

// Implementation.

interface WriterEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  body: Uint8Array;
}

function checkedEntry(name: string, tensor: SafetensorsInput): WriterEntry {
  const where = `writeSafetensors: tensor '${name}'`;
  invalidArgument(name !== '__metadata__', () => `${where}: "__metadata__" is reserved for the metadata map; rename the tensor.`);
  const dtype = tensor.dtype ?? 'F32';
  invalidArgument(
    SAFETENSORS_DTYPES.includes(dtype),
    () => `${where}: dtype is F32, F16 or BF16; got ${String(dtype)}.`,
  );
  invalidArgument(
    tensor.data instanceof Float32Array,
    () => `${where}: data should be a Float32Array; got ${Object.prototype.toString.call(tensor.data)}.`,
  );
  const shape = [...tensor.shape];
  invalidArgument(
    shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0),
    () => `${where}: a shape is a list of non-negative integers; got [${shape.join(', ')}].`,
  );
  const count = shape.reduce((product, dim) => product * dim, 1);
  invalidArgument(
    tensor.data.length === count,
    () => `${where}: shape [${shape.join(', ')}] holds ${formatCount(count)} elements, but the data has ` +
      `${formatCount(tensor.data.length)}.`,
  );
  const body = dtype === 'F32' ? encodeFloat32(tensor.data) : encodeHalf(tensor.data, dtype === 'F16' ? 'float16' : 'bfloat16');
  return { name, dtype, shape, body };
}

function checkedMetadata(metadata: Record<string, string> | undefined): Array<[string, string]> | null {
  if (metadata === undefined) return null;
  const entries = Object.entries(metadata);
  const bad = entries.find(([, value]) => typeof value !== 'string');
  invalidArgument(
    bad === undefined,
    () => `writeSafetensors: metadata values must be strings; "${bad![0]}" is ${typeof bad![1]}.`,
  );
  return entries;
}

// The reference orders dtypes by alignment, F32 > BF16 > F16, and writes the larger-aligned ones first.
const ALIGNMENT_RANK: Record<SafetensorsDtype, number> = { F32: 2, BF16: 1, F16: 0 };
const utf8 = new TextEncoder();

function byAlignmentThenName(a: WriterEntry, b: WriterEntry): number {
  return ALIGNMENT_RANK[b.dtype] - ALIGNMENT_RANK[a.dtype] || compareUtf8(a.name, b.name);
}

// Rust compares strings by their UTF-8 bytes; JavaScript's `<` compares UTF-16 units, which differs for
// characters beyond U+FFFF.
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

// The JSON is assembled from (key, JSON text) pairs: a JavaScript object would move keys like "0" to the front.
function headerBytes(
  infos: ReadonlyArray<readonly [string, object]>,
  metadata: Array<[string, string]> | null,
): Uint8Array {
  const pairs: Array<readonly [string, string]> = infos.map(([name, info]) => [name, JSON.stringify(info)]);
  if (metadata) pairs.unshift(['__metadata__', jsonObject(metadata.map(([key, value]) => [key, JSON.stringify(value)]))]);
  const json = utf8.encode(jsonObject(pairs));
  const padded = Math.ceil(json.length / 8) * 8;
  invalidArgument(
    padded <= MAX_HEADER_BYTES,
    () => `writeSafetensors: the header would be ${formatCount(padded)} bytes, above the format's limit of ` +
      `${formatCount(MAX_HEADER_BYTES)}.`,
  );
  const out = new Uint8Array(padded).fill(0x20);
  out.set(json);
  return out;
}

function jsonObject(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `{${pairs.map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',')}}`;
}
