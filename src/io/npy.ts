// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//   magic "\x93NUMPY", major and minor version bytes, header length (u16 in 1.0, u32 in 2.0 and 3.0, little-
//   endian), a Python dict literal {'descr', 'fortran_order', 'shape'} padded with spaces and '\n' so the data
//   starts at a multiple of 64 bytes, then the data.
// What Glassbox reads: versions 1.0–3.0, little-endian float32 or float16 in C order. The header is parsed as a
// literal, never evaluated; every size is checked against the file before anything is allocated.
import { formatBytes, formatCount, invalidArgument } from '../core/errors';
import { FileFormatError, asBytes, checkedElementCount, decodeFloat32, encodeFloat32, type FileBytes } from './bytes';
import { decodeFloat16, encodeHalf } from './half';
import { PyLiteralSyntaxError, PyTuple, formatPython, parsePythonLiteral, type PyValue } from './python-literal';

/** Element types Glassbox reads and writes in .npy files: '<f4' and '<f2'. */
export type NpyDtype = 'float32' | 'float16';

/** A parsed .npy array. */
export interface NpyArray {
  /** Row-major dimensions; `[]` for a 0-d array (one element). Zero-size dimensions are kept as they came. */
  shape: number[];
  /** The dtype stored in the file; `data` is float32 either way (float16 converted exactly). */
  dtype: NpyDtype;
  data: Float32Array;
}

/**
 * Reads a .npy file. Throws FileFormatError, saying what was expected and what came, for anything other
 * than versions 1.0–3.0 holding little-endian float32 or float16 ('<f4', '<f2') in C order, and for any
 * header whose sizes disagree with the bytes present (truncated files and trailing bytes alike).
 * `'=f4'` / `'=f2'` (native order) are read as little-endian: that is what numpy reads them as on every
 * machine that runs WebGPU, and numpy itself never writes them.
 */
export function parseNpy(input: FileBytes): NpyArray {
  const bytes = asBytes(input, 'npy');
  const { version, header, dataStart } = readPreamble(bytes);
  const dict = parseHeader(header, version);
  const dtype = dtypeOf(dict.get('descr')!);
  checkOrder(dict.get('fortran_order')!);
  const shape = shapeOf(dict.get('shape')!);
  const bytesPerElement = BYTES_PER_ELEMENT[dtype];
  const available = bytes.length - dataStart;
  const room = `the file holds ${formatBytes(available)} after the header, ${formatBytes(bytes.length)} in all`;
  const count = checkedElementCount(shape, bytesPerElement, available, 'npy', room);
  checkNoTrailingBytes(count * bytesPerElement, available, shape, dtype);
  const dataBytes = bytes.subarray(dataStart);
  const data = dtype === 'float32' ? decodeFloat32(dataBytes, count) : decodeFloat16(dataBytes, count);
  return { shape, dtype, data };
}

/**
 * Writes a .npy file byte for byte as `numpy.save` does: version 1.0 (2.0 only if the header outgrows
 * 64 KiB), descr '<f4' or '<f2' (float16 rounded to nearest even), C order, data at a multiple of 64 bytes.
 */
export function writeNpy(data: Float32Array, shape: readonly number[], options: { dtype?: NpyDtype } = {}): Uint8Array {
  const dtype = options.dtype ?? 'float32';
  invalidArgument(dtype === 'float32' || dtype === 'float16', () => `writeNpy: dtype is 'float32' or 'float16'; got ${String(dtype)}.`);
  invalidArgument(
    shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0),
    () => `writeNpy: a shape is a list of non-negative integers; got [${shape.join(', ')}].`,
  );
  const count = shape.reduce((product, dim) => product * dim, 1);
  invalidArgument(
    data.length === count,
    () => `writeNpy: shape [${shape.join(', ')}] holds ${formatCount(count)} elements, but the data has ${formatCount(data.length)}.`,
  );
  const header = headerBytes(dtype, shape);
  const body = dtype === 'float32' ? encodeFloat32(data) : encodeHalf(data, 'float16');
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

// Implementation.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy leaves room to rewrite the first dimension in place
const BYTES_PER_ELEMENT: Record<NpyDtype, number> = { float32: 4, float16: 2 };
const DESCR: Record<NpyDtype, string> = { float32: '<f4', float16: '<f2' };
const EXPECTED_DTYPE = "float32 or float16, little-endian ('<f4' or '<f2')";
const EXPECTED_KEYS = ['descr', 'fortran_order', 'shape'];

interface Preamble {
  version: 1 | 2 | 3;
  header: Uint8Array;
  dataStart: number;
}

function readPreamble(bytes: Uint8Array): Preamble {
  if (bytes.length < 8 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    const found = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new FileFormatError(
      `npy: expected the magic string \\x93NUMPY (93 4e 55 4d 50 59) at the start; found ${found || 'an empty file'}.`,
    );
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (minor !== 0 || (major !== 1 && major !== 2 && major !== 3)) {
    throw new FileFormatError(`npy: format version ${major}.${minor} is not supported; expected 1.0, 2.0 or 3.0.`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  if (bytes.length < headerStart) {
    throw new FileFormatError(`npy: the file ends after ${bytes.length} bytes, inside the ${headerStart}-byte preamble.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerStart);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > bytes.length) {
    throw new FileFormatError(
      `npy: the header length field says ${formatBytes(headerLength)}, but only ` +
        `${formatBytes(bytes.length - headerStart)} follow the preamble (truncated, or not an .npy file).`,
    );
  }
  const header = bytes.subarray(headerStart, headerStart + headerLength);
  return { version: major, header, dataStart: headerStart + headerLength };
}

function parseHeader(header: Uint8Array, version: number): Map<string, PyValue> {
  const text = version === 3 ? decodeUtf8(header) : decodeLatin1(header);
  let dict: PyValue;
  try {
    dict = parsePythonLiteral(text);
  } catch (error) {
    if (!(error instanceof PyLiteralSyntaxError)) throw error;
    throw new FileFormatError(`npy: the header is not a Python dict literal: ${error.message}. Header: ${clip(text)}`);
  }
  if (!(dict instanceof Map)) {
    throw new FileFormatError(`npy: the header should be a dict; got ${clip(formatPython(dict))}.`);
  }
  const keys = [...dict.keys()].sort();
  if (keys.join() !== EXPECTED_KEYS.join()) {
    throw new FileFormatError(
      `npy: the header dict should have exactly the keys ${EXPECTED_KEYS.map((k) => `'${k}'`).join(', ')}; ` +
        `got ${keys.map((k) => `'${k}'`).join(', ') || 'none'}.`,
    );
  }
  return dict;
}

function dtypeOf(descr: PyValue): NpyDtype {
  if (typeof descr !== 'string') {
    throw new FileFormatError(`npy: the array has a structured dtype ${clip(formatPython(descr))}; expected ${EXPECTED_DTYPE}.`);
  }
  if (descr === '<f4' || descr === '=f4') return 'float32';
  if (descr === '<f2' || descr === '=f2') return 'float16';
  const hint = descr === '>f4' || descr === '>f2'
    ? ` It is big-endian: save a.astype('${descr.replace('>', '<')}') instead.`
    : " Convert it first, e.g. np.save(path, a.astype('<f4')).";
  throw new FileFormatError(`npy: dtype '${descr}' is not supported; expected ${EXPECTED_DTYPE}.${hint}`);
}

function checkOrder(fortranOrder: PyValue): void {
  if (fortranOrder === false) return;
  if (fortranOrder === true) {
    throw new FileFormatError(
      'npy: the array is stored in Fortran order (fortran_order: True); expected C order (row-major). ' +
        'Save np.ascontiguousarray(a) instead.',
    );
  }
  throw new FileFormatError(`npy: fortran_order should be True or False; got ${clip(formatPython(fortranOrder))}.`);
}

function shapeOf(shape: PyValue): number[] {
  const dims = shape instanceof PyTuple ? shape.items : null;
  if (dims === null || !dims.every((dim): dim is number => typeof dim === 'number')) {
    throw new FileFormatError(`npy: the shape should be a tuple of integers; got ${clip(formatPython(shape))}.`);
  }
  return dims;
}

function checkNoTrailingBytes(expected: number, available: number, shape: number[], dtype: NpyDtype): void {
  if (available === expected) return;
  throw new FileFormatError(
    `npy: shape [${shape.join(', ')}] of ${dtype} needs ${formatBytes(expected)} of data, but ` +
      `${formatBytes(available)} follow the header: ${formatCount(available - expected)} bytes too many ` +
      '(a header that lies about the shape, or another file appended).',
  );
}

function headerBytes(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const textLength = dict.length + 1; // the final '\n'
  // Like numpy: the smallest version whose length field holds the header, padded up to the next multiple of 64
  // (a full 64 when already aligned).
  const paddedLength = (preamble: number) => textLength + ALIGN - ((preamble + textLength) % ALIGN);
  const version = paddedLength(10) <= 0xffff ? 1 : 2;
  const preamble = version === 1 ? 10 : 12;
  const padded = paddedLength(preamble);
  const out = new Uint8Array(preamble + padded).fill(0x20);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  for (let i = 0; i < dict.length; i++) out[preamble + i] = dict.charCodeAt(i);
  out[out.length - 1] = 0x0a;
  return out;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FileFormatError('npy: a version 3.0 header must be UTF-8, and this one is not.');
  }
}

// Versions 1.0 and 2.0 headers are latin-1. TextDecoder('latin1') is really windows-1252, so map bytes directly.
function decodeLatin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}
