// float16 / bfloat16 ↔ float32 against exact known values; every float16 round-trips.
import { describe, expect, it } from 'vitest';
import {
  bfloat16ToFloat32,
  decodeBfloat16,
  decodeFloat16,
  encodeHalf,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from '../../src/io/half';

const f32Bits = (value: number) => new Uint32Array(new Float32Array([value]).buffer)[0]!;

describe('float16 → float32', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14], // smallest normal, 6.103515625e-5
    [0x03ff, 2 ** -14 - 2 ** -24], // largest subnormal
    [0x0001, 2 ** -24], // smallest subnormal, 5.96e-8
    [0x8001, -(2 ** -24)],
    [0x0155, 341 * 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('bits %i are exactly %s', (bits, value) => {
    expect(float16ToFloat32(bits)).toBe(value);
  });

  it('keeps the sign of zero and the NaN payload', () => {
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
    expect(float16ToFloat32(0x7c01)).toBeNaN();
    const decoded = decodeFloat16(new Uint8Array([0x01, 0x7d]), 1); // 0x7d01: a signalling NaN
    expect(new Uint32Array(decoded.buffer)[0]).toBe(0x7fa02000);
  });

  it('round-trips every one of the 65,536 float16 values', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16ToFloat32(bits);
      const back = float32ToFloat16(value);
      if (Number.isNaN(value) ? (back & 0x7c00) !== 0x7c00 || (back & 0x3ff) === 0 : back !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('float32 → float16, round to nearest even', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65519.99, 0x7bff], // just below the midpoint to 2^16
    [65520, 0x7c00], // the midpoint: ties to even, which is Inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10: the even one
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: the even one
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above a tie
    [2 ** -14 - 2 ** -25, 0x0400], // tie between the largest subnormal and the smallest normal
    [2 ** -25, 0x0000], // half the smallest subnormal: ties to zero
    [2 ** -25 * 1.0001, 0x0001],
    [3 * 2 ** -26, 0x0001],
    [1.5 * 2 ** -24, 0x0002], // subnormal ties
    [2.5 * 2 ** -24, 0x0002],
    [2 ** -30, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])('%s → bits %i', (value, bits) => {
    expect(float32ToFloat16(value).toString(16)).toBe(bits.toString(16));
  });

  it('keeps NaN a NaN', () => {
    expect(float32ToFloat16(NaN)).toBe(0x7e00);
    expect(float16ToFloat32(float32ToFloat16(-NaN))).toBeNaN();
  });
});

describe('bfloat16', () => {
  it.each([
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625],
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x0080, 2 ** -126], // smallest normal
    [0x0001, 2 ** -133], // smallest subnormal
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ])('bits %i are exactly %s', (bits, value) => {
    expect(bfloat16ToFloat32(bits)).toBe(value);
  });

  it.each([
    [1, 0x3f80],
    [1 + 2 ** -8, 0x3f80], // tie: the even one
    [1 + 3 * 2 ** -8, 0x3f82],
    [1 + 2 ** -8 + 2 ** -20, 0x3f81],
    [3.4028234663852886e38, 0x7f80], // float32's largest rounds past bfloat16's largest, to Inf
    [-0, 0x8000],
    [-Infinity, 0xff80],
  ])('%s → bits %i', (value, bits) => {
    expect(float32ToBfloat16(value).toString(16)).toBe(bits.toString(16));
  });

  it('keeps NaN a NaN, signalling ones included', () => {
    expect(float32ToBfloat16(NaN)).toBe(0x7fc0);
    const signalling = new Float32Array(new Uint32Array([0x7f800001]).buffer)[0]!;
    expect(bfloat16ToFloat32(float32ToBfloat16(signalling))).toBeNaN();
  });

  it('round-trips every bfloat16 value', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = bfloat16ToFloat32(bits);
      if (!Number.isNaN(value) && float32ToBfloat16(value) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('array codecs', () => {
  it('decode little-endian values from an unaligned offset', () => {
    const file = new Uint8Array([0xff, 0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b]);
    expect([...decodeFloat16(file.subarray(1), 3)]).toEqual([1, -2, 65504]);
    expect([...decodeBfloat16(new Uint8Array([0x99, 0x80, 0x3f, 0x49, 0x40]).subarray(1), 2)]).toEqual([1, 3.140625]);
  });

  it('encode and decode each other', () => {
    const values = new Float32Array([1, -2, 0.1, 65504, 2 ** -24, -Infinity]);
    const f16 = decodeFloat16(encodeHalf(values, 'float16'), values.length);
    expect([...f16]).toEqual([1, -2, float16ToFloat32(0x2e66), 65504, 2 ** -24, -Infinity]);
    const bf16 = decodeBfloat16(encodeHalf(values, 'bfloat16'), values.length);
    expect(f32Bits(bf16[2]!)).toBe(0x3dcd0000); // 0.1 = 0x3dcccccd rounds up
  });
});
