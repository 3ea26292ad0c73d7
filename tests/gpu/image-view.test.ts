// The image view draws float images straight from their buffers: every texel centre shows the value
// clamped to [0, 1] and rounded to a byte, NaN in magenta; images sit side by side with their aspect kept;
// a new buffer is drawn as soon as it is set.
import { describe, expect, it } from 'vitest';
import { createImageView, randomFloats, tensorFromArray, type GpuTensor } from '../../src/index';
import { drawPixels } from '../helpers/draw-pixels';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const [W, H, GAP] = [128, 48, 8];

function canvas(): HTMLCanvasElement {
  return Object.assign(document.createElement('canvas'), { width: W, height: H });
}

/** Where texel (y, x) of image i of n, h×w, lands on the W×H target (the view's placement rule). */
function texelCentre(i: number, n: number, h: number, w: number, y: number, x: number): [number, number] {
  const share = (W - GAP) / n;
  const scale = Math.min((share - GAP) / w, (H - 2 * GAP) / h);
  const left = GAP + i * share + (share - GAP - w * scale) / 2;
  const top = (H - h * scale) / 2;
  return [Math.floor(top + (y + 0.5) * scale), Math.floor(left + (x + 0.5) * scale)];
}

function expectImage(pixels: Uint8Array, values: Float32Array, i: number, n: number, [h, w, c]: number[]): void {
  for (let y = 0; y < h!; y++) {
    for (let x = 0; x < w!; x++) {
      const [py, px] = texelCentre(i, n, h!, w!, y, x);
      const at = (py * W + px) * 4;
      const rgb = [0, 1, 2].map((k) => values[(y * w! + x) * c! + Math.min(k, c! - 1)]!);
      const want = rgb.some((v) => !Number.isFinite(v)) ? [255, 0, 255] : rgb.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(pixels[at + k]! - want[k]!), `image ${i} texel (${y}, ${x}) channel ${k}`).toBeLessThanOrEqual(1);
      }
    }
  }
}

describe('image view', () => {
  it('draws RGB and grey images side by side, clamped, NaN marked, aspect kept', async () => {
    const rgb = randomFloats(5 * 7 * 3, 3, 0.7).map((v) => v + 0.5); // some below 0 and above 1
    rgb[4] = NaN;
    const grey = randomFloats(6 * 4, 4, 0.5).map((v) => v + 0.5);
    const tensors: GpuTensor[] = [tensorFromArray(engine(), rgb, [1, 5, 7, 3]), tensorFromArray(engine(), grey, [6, 4, 1])];
    const view = createImageView(engine(), { canvas: canvas(), images: tensors, gap: GAP });
    const pixels = await drawPixels(engine(), view, W, H);
    expectImage(pixels, rgb, 0, 2, [5, 7, 3]);
    expectImage(pixels, grey, 1, 2, [6, 4, 1]);

    // A new buffer of another shape (RGBA: alpha is ignored) is drawn once set.
    const rgba = randomFloats(3 * 3 * 4, 5, 0.5).map((v) => v + 0.5);
    const next = tensorFromArray(engine(), rgba, [1, 3, 3, 4]);
    view.setImages([next]);
    expectImage(await drawPixels(engine(), view, W, H), rgba, 0, 1, [3, 3, 4]);
    view.destroy();
    for (const t of [...tensors, next]) t.destroy();
  });

  it('refuses images that are not [1, H, W, C] with C of 1, 3 or 4', () => {
    const bad = tensorFromArray(engine(), randomFloats(2 * 3 * 3 * 3, 6), [2, 3, 3, 3]);
    const twoChannels = tensorFromArray(engine(), randomFloats(3 * 3 * 2, 7), [3, 3, 2]);
    expect(() => createImageView(engine(), { canvas: canvas(), images: [bad] })).toThrow(/expected a float32 image \[1, H, W, C\].*got shape \[2, 3, 3, 3\]/);
    expect(() => createImageView(engine(), { canvas: canvas(), images: [twoChannels] })).toThrow(/1, 3 or 4 channels.*got 2/);
    bad.destroy();
    twoChannels.destroy();
  });
});
