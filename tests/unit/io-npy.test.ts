// .npy: files saved by real numpy (tests/fixtures/npy, made by scripts/make-npy-fixtures.py), our writer
// byte for byte against numpy's, and every malformed case refused with a message naming what came.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import { FileFormatError } from '../../src/io/bytes';
import { parseNpy, writeNpy } from '../../src/io/npy';

type Expected = Record<string, { shape: number[]; dtype: string; values: Array<number | string> }>;

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/npy/${name}`, import.meta.url)));
const expected: Expected = JSON.parse(readFileSync(new URL('../fixtures/npy/expected.json', import.meta.url), 'utf8'));
const toNumber = (value: number | string) => (typeof value === 'number' ? value : Number(value));

/** A version 1.0 file with this header text (padded like numpy's) and these data bytes. */
function npy(header: string, data: ArrayLike<number> = [], version = 1): Uint8Array {
  const preamble = version === 1 ? 10 : 12;
  const text = new TextEncoder().encode(header);
  const headerLength = Math.ceil((preamble + text.length + 1) / 64) * 64 - preamble;
  const out = new Uint8Array(preamble + headerLength + data.length).fill(0x20);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) new DataView(out.buffer).setUint16(8, headerLength, true);
  else new DataView(out.buffer).setUint32(8, headerLength, true);
  out.set(text, preamble);
  out[preamble + headerLength - 1] = 0x0a;
  out.set(data, preamble + headerLength);
  return out;
}

const dict = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

function expectFormatError(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(FileFormatError);
  expect(run).toThrow(InvalidArgumentError);
  expect(run).toThrow(message);
}

describe('parseNpy reads what numpy wrote', () => {
  it.each(Object.keys(expected))('%s', (name) => {
    const want = expected[name]!;
    const array = parseNpy(fixture(name));
    expect(array.shape).toEqual(want.shape);
    expect(array.dtype).toBe(want.dtype);
    expect([...array.data]).toEqual(want.values.map(toNumber));
  });

  it('checks the fixtures hold real data: seeded values, not zeros', () => {
    const values = parseNpy(fixture('f32-v1-3x5x7.npy')).data;
    expect(values.length).toBe(105);
    expect(new Set(values).size).toBe(105);
    expect(Object.is(parseNpy(fixture('f16-special.npy')).data[1], -0)).toBe(true);
  });

  it('accepts an ArrayBuffer, and a view at an odd offset into a larger buffer', () => {
    const bytes = fixture('f32-v1-3x5x7.npy');
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const fromView = parseNpy(shifted.subarray(3));
    const fromBuffer = parseNpy(bytes.slice().buffer);
    expect(fromView.data).toEqual(fromBuffer.data);
    expect(fromView.data[0]).toBe(expected['f32-v1-3x5x7.npy']!.values[0]);
  });

  it("reads '=f4' as little-endian and Python 2's long integers", () => {
    const array = parseNpy(npy(dict('=f4', '(2L, 1L)'), new Uint8Array(new Float32Array([1.5, -2]).buffer)));
    expect(array).toEqual({ shape: [2, 1], dtype: 'float32', data: new Float32Array([1.5, -2]) });
  });
});

describe('writeNpy writes what numpy writes', () => {
  it.each(['f32-v1-3x5x7.npy', 'f16-v1-3x5x7.npy', 'f32-v1-1.npy', 'f32-v1-0.npy', 'f32-v1-2x0x3.npy', 'f32-v1-scalar.npy'])(
    '%s, byte for byte',
    (name) => {
      const { shape, dtype, values } = expected[name]!;
      const data = new Float32Array(values.map(toNumber));
      expect(writeNpy(data, shape, { dtype: dtype as 'float32' | 'float16' })).toEqual(fixture(name));
    },
  );

  it('rounds float32 to float16 exactly as numpy does (ties, subnormals, overflow, NaN)', () => {
    const source = parseNpy(fixture('f32-rounding-source.npy'));
    expect(source.data.length).toBeGreaterThan(1500);
    expect(writeNpy(source.data, source.shape, { dtype: 'float16' })).toEqual(fixture('f16-rounding.npy'));
  });

  it('starts the data at a multiple of 64 and reads back what it wrote', () => {
    for (const shape of [[1], [3, 5, 7], [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3], [12345678, 0]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 100);
      const file = writeNpy(data, shape);
      expect((file.length - count * 4) % 64).toBe(0);
      expect(parseNpy(file)).toEqual({ shape, dtype: 'float32', data });
    }
  });

  it('switches to version 2.0 only when the header outgrows 64 KiB', () => {
    const shape = Array.from({ length: 22000 }, () => 1);
    const file = writeNpy(new Float32Array([7]), shape);
    expect(file[6]).toBe(2);
    expect((file.length - 4) % 64).toBe(0);
    expect(parseNpy(file).data).toEqual(new Float32Array([7]));
    expect(writeNpy(new Float32Array([7]), [1])[6]).toBe(1);
  });

  it('refuses data that does not fill the shape, and unknown dtypes', () => {
    expect(() => writeNpy(new Float32Array(5), [2, 3])).toThrow(/shape \[2, 3\] holds 6 elements, but the data has 5/);
    expect(() => writeNpy(new Float32Array(1), [1.5])).toThrow(/non-negative integers; got \[1\.5\]/);
    expect(() => writeNpy(new Float32Array(1), [1], { dtype: 'float64' as 'float32' })).toThrow(/'float32' or 'float16'; got float64/);
  });
});

describe('parseNpy refuses, saying what was expected and what came', () => {
  const good = () => writeNpy(Float32Array.from({ length: 105 }, (_, i) => i - 50), [3, 5, 7]);

  it.each([
    ['reject-big-endian.npy', /dtype '>f4' is not supported; expected float32 or float16, little-endian \('<f4' or '<f2'\)\. It is big-endian/],
    ['reject-int32.npy', /dtype '<i4' is not supported; expected float32 or float16, little-endian/],
    ['reject-float64.npy', /dtype '<f8' is not supported; expected float32 or float16/],
    ['reject-object.npy', /dtype '\|O' is not supported/],
    ['reject-structured.npy', /structured dtype \[\('a', '<f4'\), \('b', '<i4'\)\]; expected float32 or float16/],
    ['reject-fortran-3x4.npy', /Fortran order \(fortran_order: True\); expected C order/],
  ])('%s', (name, message) => expectFormatError(() => parseNpy(fixture(name)), message));

  it('bad magic, empty files, unsupported versions', () => {
    expectFormatError(() => parseNpy(new TextEncoder().encode('PK\x03\x04 a zip file')), /expected the magic string .*NUMPY.*found 50 4b 03 04/);
    expectFormatError(() => parseNpy(new Uint8Array(0)), /found an empty file/);
    for (const [major, minor] of [[4, 0], [1, 1], [0, 0]]) {
      const file = good();
      file[6] = major!;
      file[7] = minor!;
      expectFormatError(() => parseNpy(file), new RegExp(`version ${major}\\.${minor} is not supported; expected 1\\.0, 2\\.0 or 3\\.0`));
    }
  });

  it('files truncated anywhere', () => {
    const file = good();
    expectFormatError(() => parseNpy(file.subarray(0, 9)), /ends after 9 bytes, inside the 10-byte preamble/);
    expectFormatError(() => parseNpy(file.subarray(0, 50)), /header length field says 118 bytes, but only 40 bytes follow/);
    expectFormatError(() => parseNpy(file.subarray(0, 128)), /shape \[3, 5, 7\] declares 420 bytes of data, but the file holds 0 bytes after the header/);
    expectFormatError(() => parseNpy(file.subarray(0, file.length - 1)), /declares 420 bytes .* holds 419 bytes after the header/);
  });

  it('trailing bytes after the data', () => {
    const file = new Uint8Array([...good(), 1, 2, 3, 4]);
    expectFormatError(() => parseNpy(file), /shape \[3, 5, 7\] of float32 needs 420 bytes of data, but 424 bytes follow the header: 4 bytes too many/);
  });

  it('headers that are not the expected Python dict', () => {
    const cases: Array<[string, RegExp]> = [
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ", /not a Python dict literal: expected .* at character \d+, found the end/],
      ["{'descr': __import__('os').system('echo hi'), 'fortran_order': False, 'shape': (1,), }", /not a Python dict literal: expected a dict, tuple, list, string, number, True, False or None at character 10/],
      ['[1, 2]', /header should be a dict; got \[1, 2\]/],
      ["{'descr': '<f4', 'shape': (1,), }", /exactly the keys 'descr', 'fortran_order', 'shape'; got 'descr', 'shape'/],
      [`${dict('<f4', '(1,)').slice(0, -1)}'extra': 1, }`, /got 'descr', 'extra', 'fortran_order', 'shape'/],
      ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", /already in the dict/],
      [dict('<f4', '[3, 4]'), /shape should be a tuple of integers; got \[3, 4\]/],
      [dict('<f4', '(3.0, 4)'), /shape should be a tuple of integers; got \(3\.0, 4\)/],
      [dict('<f4', '(-1, 4)'), /a shape is a list of non-negative integers; got \[-1, 4\]/],
      [dict('<f4', '(1,)', '0'), /fortran_order should be True or False; got 0/],
      [dict('|f4', '(1,)'), /dtype '\|f4' is not supported/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(40)}1${',)'.repeat(40)}, }`, /nesting no deeper than 32/],
    ];
    for (const [header, message] of cases) expectFormatError(() => parseNpy(npy(header, [0, 0, 0, 0])), message);
  });

  it('a version 3.0 header that is not UTF-8', () => {
    const file = npy(dict('<f4', '(1,)'), [0, 0, 0, 0], 3);
    file[14] = 0xff; // inside 'descr'
    expectFormatError(() => parseNpy(file), /version 3\.0 header must be UTF-8/);
  });

  it('huge declared shapes, from the header alone and without allocating', () => {
    const huge = npy(dict('<f4', '(1099511627776, 1099511627776)'), [1, 2, 3, 4]);
    const { result: error, largest, milliseconds } = measure(() => parseNpy(huge));
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(
      /shape \[1099511627776, 1099511627776\] declares 4,835,703,278,458,516,698,824,704 bytes of data, but the file holds 4 bytes after the header, 132 bytes in all/,
    );
    expect(largest).toBeLessThan(huge.length);
    expect(measure(() => parseNpy(fixture('f32-v1-3x5x7.npy'))).largest).toBe(105); // the probe sees allocations
    expect(milliseconds).toBeLessThan(50);
    expectFormatError(() => parseNpy(npy(dict('<f2', '(1180591620717411303424,)'))), /non-negative integers; got \[1\.1805916207174113e\+21\]/);
  });
});

/** Runs `run`, recording the largest typed array or ArrayBuffer it asks for. Returns what it threw. */
function measure(run: () => unknown): { result: unknown; largest: number; milliseconds: number } {
  const names = ['ArrayBuffer', 'Uint8Array', 'Uint16Array', 'Uint32Array', 'Float32Array', 'Float64Array'] as const;
  const originals = names.map((name) => globalThis[name]);
  let largest = 0;
  names.forEach((name, i) => {
    const original = originals[i] as unknown as new (...args: unknown[]) => object;
    (globalThis as Record<string, unknown>)[name] = new Proxy(original, {
      construct(target, args) {
        if (typeof args[0] === 'number') largest = Math.max(largest, args[0]);
        return Reflect.construct(target, args);
      },
    });
  });
  const start = performance.now();
  let result: unknown;
  try {
    run();
  } catch (error) {
    result = error;
  } finally {
    names.forEach((name, i) => ((globalThis as Record<string, unknown>)[name] = originals[i]));
  }
  return { result, largest, milliseconds: performance.now() - start };
}
