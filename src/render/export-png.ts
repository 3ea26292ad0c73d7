// PNG export of a float image: the one place an image is read back to the CPU on purpose (a user asked
// for the file). Values are converted exactly as the image view draws them, so the file matches the screen:
// clamp to [0, 1], × 255, round half up; NaN/±Inf in the view's marker colour, magenta.
import { invalidArgument } from '../core/errors';
import type { GpuTensor } from '../memory/gpu-tensor';
import { encodePng } from '../export/png';
import { imageShape } from './image/image-shape';

/** Options for `exportPng`. */
export interface ExportPngOptions {
  /** Integer magnification, each texel becoming a scale × scale block (nearest; default 1). */
  scale?: number;
}

/** Reads `image` ([1, H, W, C] or [H, W, C], C ∈ {1, 3, 4}, float32 NHWC) back and encodes it as a PNG. */
export async function exportPng(image: GpuTensor, options: ExportPngOptions = {}): Promise<Blob> {
  const scale = options.scale ?? 1;
  invalidArgument(
    Number.isInteger(scale) && scale >= 1 && scale <= 64,
    () => `exportPng: expected an integer scale from 1 to 64; got ${scale}.`,
  );
  const { height, width } = imageShape(image.shape, 'exportPng', image.layout);
  const rgba = scaleNearest(imageToRgba(await image.read(), image.shape), width, height, scale);
  return encodePng(rgba, width * scale, height * scale);
}

/** The marker for non-finite texels, as in the image view's shader. */
export const NON_FINITE_RGBA: readonly [number, number, number, number] = [255, 0, 255, 255];

/**
 * Float NHWC values → RGBA8, row-major, H × W × 4. C = 1 is grey (R = G = B), C = 3 gets alpha 255,
 * C = 4 keeps its alpha (converted like the colours). A texel with any non-finite channel is magenta.
 */
export function imageToRgba(values: ArrayLike<number>, shape: readonly number[]): Uint8ClampedArray<ArrayBuffer> {
  const { height, width, channels } = imageShape(shape, 'imageToRgba');
  const texels = height * width;
  invalidArgument(
    values.length === texels * channels,
    () => `imageToRgba: shape [${shape.join(', ')}] holds ${texels * channels} values; got ${values.length}.`,
  );
  const rgba = new Uint8ClampedArray(texels * 4);
  for (let t = 0; t < texels; t++) {
    const base = t * channels;
    let finite = true;
    for (let k = 0; k < 4; k++) {
      // Grey repeats its one channel; a missing alpha is opaque.
      const v = k < 3 ? values[base + Math.min(k, channels === 1 ? 0 : k)]! : channels === 4 ? values[base + 3]! : 1;
      if (!Number.isFinite(v)) finite = false;
      rgba[t * 4 + k] = toByte(v);
    }
    if (!finite) rgba.set(NON_FINITE_RGBA, t * 4);
  }
  return rgba;
}

/**
 * [0, 1] → 0..255, clamped, rounded half up: floor(v × 255 + 0.5) with each step rounded to float32, as
 * the shader computes it (float64 would round 0.7f, which is 0.69999999, to 178; float32 makes it 179).
 */
export function toByte(value: number): number {
  const clamped = Math.fround(Math.min(1, Math.max(0, value)));
  return Math.floor(Math.fround(Math.fround(clamped * 255) + 0.5));
}

/** Each texel of a w × h RGBA8 image repeated into a scale × scale block. */
function scaleNearest(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number, scale: number): Uint8ClampedArray<ArrayBuffer> {
  if (scale === 1) return rgba;
  const out = new Uint8ClampedArray(width * height * 4 * scale * scale);
  const rowBytes = width * scale * 4;
  for (let y = 0; y < height; y++) {
    const row = y * scale * rowBytes;
    for (let x = 0; x < width; x++) {
      const texel = rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 4);
      for (let dx = 0; dx < scale; dx++) out.set(texel, row + (x * scale + dx) * 4);
    }
    // The other scale − 1 rows of the block are copies of the first.
    for (let dy = 1; dy < scale; dy++) out.copyWithin(row + dy * rowBytes, row, row + rowBytes);
  }
  return out;
}
