// Files → named float32 arrays, whatever the format: the one step every file input shares (demos, the
// elements' `src`, the CLI's viewer). A .safetensors file names its tensors; a .npy file is one array named
// after the file, so that 'attentions.3.npy' or 'q.npy' follows the readers' naming conventions.
import type { NamedTensors } from './attention-tensors';
import { FileFormatError } from './bytes';
import { parseNpy } from './npy';
import { parseSafetensors } from './safetensors';

/** The tensor file formats Glassbox reads. */
export type TensorFileFormat = 'npy' | 'safetensors';

/** The format a file name says, or null when it names neither. */
export function tensorFileFormat(fileName: string): TensorFileFormat | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.npy')) return 'npy';
  if (lower.endsWith('.safetensors')) return 'safetensors';
  return null;
}

/**
 * The format the bytes say when the name says nothing (blob: URLs, files without an extension): .npy opens
 * with "\x93NUMPY"; .safetensors with an 8-byte little-endian header length and then the header's '{'.
 */
export function sniffTensorFileFormat(bytes: Uint8Array): TensorFileFormat | null {
  const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (NPY_MAGIC.every((byte, i) => bytes[i] === byte)) return 'npy';
  return bytes.length > 8 && bytes[8] === 0x7b ? 'safetensors' : null;
}

/** Parses one file's bytes by its name's extension, or by its first bytes when the name has none. */
export function namedTensorsFromFile(fileName: string, bytes: Uint8Array): NamedTensors {
  const format = tensorFileFormat(fileName) ?? sniffTensorFileFormat(bytes);
  if (format === 'npy') return new Map([[fileName, parseNpy(bytes)]]);
  if (format === 'safetensors') return parseSafetensors(bytes).tensors;
  throw new FileFormatError(`Expected a .npy or .safetensors file; got '${fileName}'.`);
}

/**
 * Several files at once: one .safetensors file, or any number of .npy files (one array each, named after its
 * file). Nothing is dropped silently: a second .safetensors, a mix, a file of another kind or two files of
 * one name is a FileFormatError that lists what came.
 */
export function namedTensorsFromFiles(files: readonly { name: string; bytes: Uint8Array }[]): NamedTensors {
  const names = files.map((file) => `'${file.name}'`).join(', ') || 'nothing';
  const expected = `Expected one .safetensors file or any number of .npy files; got ${names}`;
  const [first] = files;
  if (files.length === 1 && tensorFileFormat(first!.name) === 'safetensors') return namedTensorsFromFile(first!.name, first!.bytes);
  const notNpy = files.filter((file) => tensorFileFormat(file.name) !== 'npy').map((file) => `'${file.name}'`);
  // Among .npy files, say which are not; when none is, the list already says it all.
  if (files.length === 0 || notNpy.length === files.length) throw new FileFormatError(`${expected}.`);
  if (notNpy.length > 0) throw new FileFormatError(`${expected} (${notNpy.join(', ')} not .npy).`);
  const repeated = files.find((file, i) => files.findIndex((other) => other.name === file.name) !== i);
  if (repeated) throw new FileFormatError(`${expected}: two files are named '${repeated.name}', and each .npy names its array.`);
  return new Map(files.map((file) => [file.name, parseNpy(file.bytes)]));
}

/** Fetches a URL and parses it by the extension of its path. */
export async function fetchNamedTensors(url: string, signal?: AbortSignal): Promise<NamedTensors> {
  const response = await fetch(url, signal ? { signal } : {});
  if (!response.ok) throw new FileFormatError(`Could not fetch '${url}': HTTP ${response.status} ${response.statusText}.`);
  const path = new URL(url, location.href).pathname;
  const bytes = new Uint8Array(await response.arrayBuffer());
  try {
    return namedTensorsFromFile(decodeURIComponent(path.split('/').pop() ?? path), bytes);
  } catch (error) {
    if (error instanceof FileFormatError) throw new FileFormatError(`'${url}': ${error.message}`);
    throw error;
  }
}
