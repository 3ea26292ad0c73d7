// 16-bit floats ↔ float32, bit-exact. Files from PyTorch often hold float16 or bfloat16; the GPU path is
// float32. Every float16 and bfloat16 value is exactly representable in float32, so decoding loses nothing
// (subnormals, ±0, ±Inf and NaN payloads included). Encoding rounds to nearest, ties to even, as numpy and
// PyTorch do.

/** float16 bits (0..0xffff) → its exact value. */
export function float16ToFloat32(bits: number): number {
  scratchU32[0] = float16BitsToFloat32Bits(bits);
  return scratchF32[0]!;
}

/** bfloat16 bits (0..0xffff) → its exact value: bfloat16 is the top half of a float32. */
export function bfloat16ToFloat32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/**
 * A value → float16 bits, rounded to nearest even. The value is first rounded to float32 (Math.fround), so
 * a float32 input is converted exactly once; overflow gives ±Inf, NaN stays NaN (quiet).
 */
export function float32ToFloat16(value: number): number {
  scratchF32[0] = value;
  return float32BitsToFloat16Bits(scratchU32[0]!);
}

/** A value → bfloat16 bits, rounded to nearest even (after rounding to float32); NaN stays NaN (quiet). */
export function float32ToBfloat16(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0]!;
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x0040;
  const lsb = (bits >>> 16) & 1;
  // 0x7fff + lsb rounds ties to even; the sum stays below 2^32 for every non-NaN input.
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** Decodes `count` little-endian float16 values starting at `bytes[0]` into a new Float32Array. */
export function decodeFloat16(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  for (let i = 0; i < count; i++) outBits[i] = float16BitsToFloat32Bits(view.getUint16(i * 2, true));
  return out;
}

/** Decodes `count` little-endian bfloat16 values starting at `bytes[0]` into a new Float32Array. */
export function decodeBfloat16(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  for (let i = 0; i < count; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
  return out;
}

/** Encodes float32 values as little-endian 16-bit floats (`'float16'` or `'bfloat16'`). */
export function encodeHalf(values: Float32Array, kind: 'float16' | 'bfloat16'): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  const encode = kind === 'float16' ? float32ToFloat16 : float32ToBfloat16;
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, encode(values[i]!), true);
  return out;
}

// Implementation.

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // ±Inf, NaN with its payload
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0; // 112 = 127 − 15
  if (mantissa === 0) return sign >>> 0; // ±0
  // Subnormal: mantissa · 2^-24. Normalize so the leading 1 becomes float32's implicit bit.
  let biased = 113; // float32 exponent field of 2^-14, less one per shift
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    biased -= 1;
  }
  return (sign | (biased << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const halfExponent = exponent - 112;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // ≥ 2^16: beyond float16's range even before rounding
  if (halfExponent <= 0) return sign | roundSubnormal(mantissa | 0x800000, 14 - halfExponent);
  // Rounding may carry into the exponent (and up to Inf): the bit layout makes that come out right.
  return sign | roundShift((halfExponent << 23) | mantissa, 13);
}

/** float16 subnormal (or zero) from a 24-bit significand: significand · 2^-shift in units of 2^-24. */
function roundSubnormal(significand: number, shift: number): number {
  return shift > 25 ? 0 : roundShift(significand, shift); // below half the smallest subnormal: ±0
}

/** value >> shift, rounded to nearest with ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}
