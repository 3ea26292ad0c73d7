// .safetensors: our writer against the published format byte by byte, the README's example built by hand,
// and every malformed case refused (before anything is allocated) with a message naming what came.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import { FileFormatError } from '../../src/io/bytes';
import { float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../../src/io/half';
import { parseSafetensors } from '../../src/io/safetensors';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { randomFloats } from '../../src/reference/random';

const utf8 = new TextEncoder();

/** A file from header text (padded with spaces to 8 bytes, as the reference writes) and data bytes. */
function file(header: string | object, data: ArrayLike<number> = [], declaredLength?: number): Uint8Array {
  let json = utf8.encode(typeof header === 'string' ? header : JSON.stringify(header));
  json = Uint8Array.from({ length: Math.ceil(json.length / 8) * 8 }, (_, i) => json[i] ?? 0x20);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const info = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

function expectFormatError(bytes: Uint8Array, message: RegExp): void {
  const run = () => parseSafetensors(bytes);
  expect(run).toThrow(FileFormatError);
  expect(run).toThrow(InvalidArgumentError);
  expect(run).toThrow(message);
}

describe('writeSafetensors follows the published format', () => {
  const q = randomFloats(6, 1, 10);
  const k = randomFloats(3, 2, 10);
  const b = randomFloats(2, 3, 10);
  const bytes = writeSafetensors(
    { k: { data: k, shape: [3], dtype: 'F16' }, q: { data: q, shape: [2, 3] }, b: { data: b, shape: [2], dtype: 'BF16' } },
    { format: 'pt', note: 'Q/K "dump"' },
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));

  it('8-byte little-endian header length, JSON padded with spaces to a multiple of 8, then the buffer', () => {
    expect(view.getUint32(4, true)).toBe(0); // the high half of the u64
    expect(headerLength % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt","note":"Q/K \\"dump\\""},' +
        '"q":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},' + // F32 first: larger alignment, as the reference sorts
        '"b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},' +
        '"k":{"dtype":"F16","shape":[3],"data_offsets":[28,34]}}',
    );
    expect(header.length - header.trimEnd().length).toBeLessThan(8);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect(bytes.length).toBe(8 + headerLength + 34);
  });

  it('stores the data little-endian at the offsets, relative to the start of the buffer', () => {
    const buffer = new DataView(bytes.buffer, bytes.byteOffset + 8 + headerLength);
    expect(buffer.getFloat32(4, true)).toBe(q[1]);
    expect(buffer.getUint16(24 + 2, true)).toBe(float32ToBfloat16(b[1]!));
    expect(float16ToFloat32(buffer.getUint16(28 + 4, true))).toBe(float16ToFloat32(float32ToFloat16(k[2]!)));
  });

  it('parses back: values, shapes, dtypes, metadata, tensors in buffer order', () => {
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'Q/K "dump"' });
    expect([...parsed.tensors.keys()]).toEqual(['q', 'b', 'k']);
    expect(parsed.tensors.get('q')).toMatchObject({ dtype: 'F32', shape: [2, 3], data: q });
    expect([...parsed.tensors.get('k')!.data]).toEqual([...k].map((x) => float16ToFloat32(float32ToFloat16(x))));
    const bf16 = parsed.tensors.get('b')!;
    expect(bf16.dtype).toBe('BF16');
    bf16.data.forEach((value, i) => expect(Math.abs(value - b[i]!)).toBeLessThanOrEqual(Math.abs(b[i]!) * 2 ** -8));
  });

  it('decodes lazily, once, from a view into the file', () => {
    const parsed = parseSafetensors(bytes);
    const tensor = parsed.tensors.get('q')!;
    expect(tensor.bytes.buffer).toBe(bytes.buffer);
    expect(tensor.data).toBe(tensor.data);
  });

  it('sorts names by their UTF-8 bytes and keeps numeric names in that order', () => {
    const one = new Float32Array([1]);
    const names = ['b', '10', '2', 'a', '\u{1F600}', '\uFFFD'];
    const written = writeSafetensors(Object.fromEntries(names.map((name) => [name, { data: one, shape: [1] }])));
    expect([...parseSafetensors(written).tensors.keys()]).toEqual(['10', '2', 'a', 'b', '\uFFFD', '\u{1F600}']);
  });

  it('writes empty and scalar tensors, and no metadata when none is given', () => {
    const written = writeSafetensors({ empty: { data: new Float32Array(0), shape: [2, 0] }, s: { data: new Float32Array([5]), shape: [] } });
    const parsed = parseSafetensors(written);
    expect(parsed.metadata).toEqual({});
    expect(parsed.tensors.get('empty')).toMatchObject({ shape: [2, 0], data: new Float32Array(0) });
    expect(parsed.tensors.get('s')).toMatchObject({ shape: [], data: new Float32Array([5]) });
    expect(new TextDecoder().decode(written.subarray(8, 16))).toBe('{"empty"');
  });

  it('refuses bad input, saying what came', () => {
    const data = new Float32Array(4);
    expect(() => writeSafetensors({ q: { data, shape: [3] } })).toThrow(/tensor 'q': shape \[3\] holds 3 elements, but the data has 4/);
    expect(() => writeSafetensors({ q: { data, shape: [4], dtype: 'F64' as 'F32' } })).toThrow(/F32, F16 or BF16; got F64/);
    expect(() => writeSafetensors({ __metadata__: { data, shape: [4] } })).toThrow(/reserved/);
    expect(() => writeSafetensors({ q: { data, shape: [4] } }, { n: 1 as unknown as string })).toThrow(/metadata values must be strings; "n" is number/);
  });
});

describe('parseSafetensors reads files built by hand from the spec', () => {
  it("the README's example layout, with F32 data", () => {
    // 60 = '<': the same header length as the reference implementation's own test file.
    const header = '{"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}';
    expect(header.length).toBe(60);
    const bytes = new Uint8Array([0x3c, 0, 0, 0, 0, 0, 0, 0, ...utf8.encode(header), ...f32Bytes([1, -2, 0.5, 3e-39])]);
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(['test']);
    expect(parsed.tensors.get('test')).toMatchObject({ dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2, 0.5, 3e-39]) });
  });

  it('whitespace before and after the JSON, any key order, zero-size tensors at any offset', () => {
    const header = '\t\n {"b":{"data_offsets":[4,4],"shape":[0,3],"dtype":"F16"},"a":{"shape":[1],"dtype":"F32","data_offsets":[0,4]}} \r\n';
    const parsed = parseSafetensors(file(header, f32Bytes([42])));
    expect([...parsed.tensors.keys()]).toEqual(['a', 'b']);
    expect(parsed.tensors.get('a')!.data).toEqual(new Float32Array([42]));
  });
});

describe('parseSafetensors refuses malformed files', () => {
  const good = writeSafetensors({ q: { data: randomFloats(12, 4), shape: [3, 4] }, k: { data: randomFloats(8, 5), shape: [2, 4], dtype: 'F16' } });
  const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));

  it('truncated at any point', () => {
    expectFormatError(good.subarray(0, 0), /the file is 0 bytes; expected at least 8/);
    expectFormatError(good.subarray(0, 5), /the file is 5 bytes; expected at least 8/);
    for (const end of [8, 20, 8 + headerLength - 1]) {
      expectFormatError(good.subarray(0, end), new RegExp(`header length field says ${headerLength} bytes, but the file has only ${end - 8} bytes after it`));
    }
    for (const end of [8 + headerLength, 8 + headerLength + 17, good.length - 1]) {
      expectFormatError(good.subarray(0, end), /data_offsets \[\d+, \d+\] run past the end of the data buffer|cover .* but it holds/);
    }
    expectFormatError(good.subarray(0, good.length - 1), /data_offsets \[48, 64\] run past the end of the data buffer, which holds 63 bytes/);
  });

  it('header lengths that are absurd or larger than the file', () => {
    const absurd = good.slice();
    absurd.set([0, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
    expectFormatError(absurd, /header length field says 18,446,742,974,197,923,840 bytes, more than the 95\.37 MiB \(100,000,000 bytes\) a header may have/);
    expectFormatError(file({}, [], 100_000_001), /more than the 95\.37 MiB/);
    expectFormatError(file('{}', [], 64), /says 64 bytes, but the file has only 8 bytes after it/);
  });

  it('headers that are not UTF-8, not JSON, or not an object', () => {
    expectFormatError(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0xff]), /not valid UTF-8/);
    expectFormatError(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0x7b]), /not valid JSON \(.+\)/);
    expectFormatError(file('[1,2]'), /should be a JSON object; got an array of 2/);
    expectFormatError(file('null'), /should be a JSON object; got null/);
    expectFormatError(file({ __metadata__: { n: 1 } }), /"__metadata__" should map strings to strings; "n" is number 1/);
    expectFormatError(file({ __metadata__: 'x' }), /"__metadata__" should map strings to strings; got "x"/);
  });

  it('tensor entries that are not {dtype, shape, data_offsets}', () => {
    const data = f32Bytes([1, 2]);
    const cases: Array<[object, RegExp]> = [
      [{ q: 5 }, /tensor 'q' should be \{"dtype", "shape", "data_offsets"\}; got number 5/],
      [{ q: info('F32', 'abc', [0, 8]) }, /tensor 'q': "shape" should be a list of integers; got "abc"/],
      [{ q: { dtype: 'F32', data_offsets: [0, 8] } }, /tensor 'q': "shape" should be a list of integers; got nothing/],
      [{ q: info('F32', [2], [0]) }, /"data_offsets" should be \[BEGIN, END\] with 0 ≤ BEGIN ≤ END; got \[0\]/],
      [{ q: info('F32', [2], [8, 0]) }, /got \[8,0\]/],
      [{ q: info('F32', [2], [-8, 8]) }, /got \[-8,8\]/],
      [{ q: info('F32', [2], [0, 2 ** 60]) }, /got \[0,1152921504606847000\]/],
      [{ q: info('F32', [2.5], [0, 8]) }, /a shape is a list of non-negative integers; got \[2\.5\]/],
      [{ q: info('F32', [-2], [0, 8]) }, /non-negative integers; got \[-2\]/],
      [{ q: info('F32', [2], [0, 2 ** 50]) }, /data_offsets \[0, 1125899906842624\] run past the end of the data buffer, which holds 8 bytes/],
    ];
    for (const [header, message] of cases) expectFormatError(file(header, data), message);
  });

  it('unsupported dtypes, named with the ones that are read', () => {
    for (const dtype of ['I8', 'F64', 'I32', 'BOOL']) {
      expectFormatError(file({ q: info(dtype, [2], [0, 8]) }, new Uint8Array(8)), new RegExp(`tensor 'q': dtype "${dtype}" is not supported; expected F32, F16 or BF16`));
    }
    expectFormatError(file({ q: info('float32', [2], [0, 8]) }, new Uint8Array(8)), /dtype "float32" is not a safetensors dtype; expected F32, F16 or BF16/);
    expectFormatError(file({ q: { shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'q': "dtype" is missing; expected F32, F16 or BF16/);
  });

  it('offsets that overlap, leave holes, or do not cover the buffer', () => {
    const data = new Uint8Array(24);
    expectFormatError(file({ a: info('F32', [4], [0, 16]), b: info('F32', [4], [8, 24]) }, data), /tensor 'b' starts at byte 8 of the data buffer, but 'a' ends at byte 16: it overlaps the tensor before it/);
    expectFormatError(file({ a: info('F32', [1], [0, 4]), b: info('F32', [4], [8, 24]) }, data), /'b' starts at byte 8 .* 'a' ends at byte 4: it leaves a hole before it/);
    expectFormatError(file({ a: info('F32', [4], [8, 24]) }, data), /'a' starts at byte 8 .* the first tensor must start at byte 0/);
    expectFormatError(file({ a: info('F32', [4], [0, 16]) }, data), /the tensors cover 16 bytes of the data buffer, but it holds 24 bytes/);
    expectFormatError(file({ a: info('F32', [4], [0, 16]), b: info('F32', [4], [0, 16]) }, data), /overlaps/);
  });

  it('shapes whose size disagrees with their offsets', () => {
    expectFormatError(file({ q: info('F32', [2, 2], [0, 20]) }, new Uint8Array(20)), /tensor 'q': shape \[2, 2\] of F32 needs 16 bytes, but its data_offsets \[0, 20\] span 20 bytes/);
    expectFormatError(file({ q: info('F16', [2, 2], [0, 4]) }, new Uint8Array(4)), /shape \[2, 2\] declares 8 bytes of data, but its data_offsets \[0, 4\] span 4 bytes/);
  });

  it('huge declared shapes, from the header alone and without allocating', () => {
    const huge = file({ q: info('F32', [2 ** 40, 2 ** 40], [0, 16]) }, new Uint8Array(16));
    const start = performance.now();
    expectFormatError(huge, /tensor 'q': shape \[1099511627776, 1099511627776\] declares 4,835,703,278,458,516,698,824,704 bytes of data, but its data_offsets \[0, 16\] span 16 bytes \(the data buffer is 16 bytes\)/);
    expect(performance.now() - start).toBeLessThan(50);
    const lying = file({ q: info('BF16', [65536, 65536, 64], [0, 2 ** 39]) }, new Uint8Array(16));
    expectFormatError(lying, /data_offsets \[0, 549755813888\] run past the end of the data buffer, which holds 16 bytes/);
  });
});
