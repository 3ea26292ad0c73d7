// Files → named tensors whatever the format (src/io/named-tensors.ts): by extension, by the first bytes when
// there is none, and several files at once without dropping any silently.
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../src/io/bytes';
import {
  namedTensorsFromFile,
  namedTensorsFromFiles,
  sniffTensorFileFormat,
  tensorFileFormat,
} from '../../src/io/named-tensors';
import { writeNpy } from '../../src/io/npy';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { seededRandom } from '../../src/reference/random';

function randomArray(length: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

const a = randomArray(3 * 5, 1);
const b = randomArray(2 * 7, 2);
const npyA = writeNpy(a, [3, 5]);
const npyB = writeNpy(b, [2, 7]);
const safetensors = writeSafetensors({ 'layers.0.q': { data: a, shape: [1, 3, 5] }, 'layers.0.k': { data: b, shape: [1, 2, 7] } });

describe('tensor file formats', () => {
  it('goes by the extension, in any case, and sniffs the bytes when there is none', () => {
    expect(tensorFileFormat('Q.NPY')).toBe('npy');
    expect(tensorFileFormat('dump.safetensors')).toBe('safetensors');
    expect(tensorFileFormat('notes.txt')).toBeNull();
    expect(sniffTensorFileFormat(npyA)).toBe('npy');
    expect(sniffTensorFileFormat(safetensors)).toBe('safetensors');
    expect(sniffTensorFileFormat(new TextEncoder().encode('hello, world'))).toBeNull();
  });

  it('reads one file: an .npy as one array named after the file, a .safetensors by its own names', () => {
    const one = namedTensorsFromFile('q.npy', npyA);
    expect([...one.keys()]).toEqual(['q.npy']);
    expect(one.get('q.npy')!.shape).toEqual([3, 5]);
    expect(one.get('q.npy')!.data).toEqual(a);
    const named = namedTensorsFromFile('blob', safetensors); // no extension: sniffed
    expect([...named.keys()].sort()).toEqual(['layers.0.k', 'layers.0.q']);
    expect(named.get('layers.0.k')!.data).toEqual(b);
    expect(() => namedTensorsFromFile('notes.txt', new TextEncoder().encode('hello, world'))).toThrow(
      /Expected a \.npy or \.safetensors file; got 'notes\.txt'/,
    );
  });
});

describe('namedTensorsFromFiles', () => {
  it('reads one .safetensors, or every .npy of a drop', () => {
    expect([...namedTensorsFromFiles([{ name: 'dump.safetensors', bytes: safetensors }]).keys()].sort()).toEqual(['layers.0.k', 'layers.0.q']);
    const both = namedTensorsFromFiles([{ name: 'q.npy', bytes: npyA }, { name: 'k.npy', bytes: npyB }]);
    expect([...both.keys()]).toEqual(['q.npy', 'k.npy']);
    expect(both.get('k.npy')!.data).toEqual(b);
  });

  it('drops nothing silently: a second .safetensors, a mix, another kind of file, a repeated name', () => {
    const cases: [{ name: string; bytes: Uint8Array }[], RegExp][] = [
      [[], /got nothing\./],
      [[{ name: 'a.safetensors', bytes: safetensors }, { name: 'b.safetensors', bytes: safetensors }], /got 'a\.safetensors', 'b\.safetensors'\./],
      [[{ name: 'dump.safetensors', bytes: safetensors }, { name: 'q.npy', bytes: npyA }], /\('dump\.safetensors' not \.npy\)/],
      [[{ name: 'q.npy', bytes: npyA }, { name: 'notes.txt', bytes: npyB }], /\('notes\.txt' not \.npy\)/],
      [[{ name: 'q.npy', bytes: npyA }, { name: 'q.npy', bytes: npyB }], /two files are named 'q\.npy'/],
    ];
    for (const [files, message] of cases) {
      expect(() => namedTensorsFromFiles(files)).toThrow(FileFormatError);
      expect(() => namedTensorsFromFiles(files)).toThrow(message);
    }
  });
});
