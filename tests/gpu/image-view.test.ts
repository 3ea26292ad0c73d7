// The image view draws float images straight from their buffers. Pixel tests on an rgba8unorm target:
// at the pixel holding each texel's centre the byte is exactly floor(clamp(v, 0, 1) · 255 + 0.5) (the
// shader quantizes to k / 255 itself), a non-finite texel is magenta; images sit side by side, each inside
// its own column with its aspect kept; writing into the buffer or setting new buffers is drawn at once.
// PNG export is decoded again and compared with imageToRgba, the same byte rule on the CPU.
import { describe, expect, it } from 'vitest';
import { createImageView, randomFloats, tensorFromArray, type GpuTensor } from '../../src/index';
import { exportPng, imageToRgba, toByte } from '../../src/render/export-png';
import { createLossCurve, LOSS_PALETTE } from '../../src/render/loss-curve';
import { drawPixels } from '../helpers/draw-pixels';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const BACKGROUND = [0.2, 0.4, 0.6] as const; // bytes 51, 102, 153
const BG_BYTES = BACKGROUND.map(toByte);
const MAGENTA = [255, 0, 255];

function canvas(parent?: HTMLElement): HTMLCanvasElement {
  const c = document.createElement('canvas');
  parent?.append(c);
  return c;
}

/** The expected RGB bytes of texel (y, x): grey repeated, alpha ignored, any non-finite channel magenta. */
function expectedRgb(values: Float32Array, w: number, c: number, y: number, x: number): number[] {
  const rgb = [0, 1, 2].map((k) => values[(y * w + x) * c + Math.min(k, c - 1)]!);
  return rgb.some((v) => !Number.isFinite(v)) ? MAGENTA : rgb.map(toByte);
}

/** Checks, at the pixel holding each texel's centre (the rect from the view), exact bytes. */
function expectTexels(pixels: Uint8Array, width: number, rect: { left: number; top: number; width: number; height: number }, values: Float32Array, [h, w, c]: [number, number, number], what: string): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const py = Math.floor(rect.top + ((y + 0.5) * rect.height) / h);
      const px = Math.floor(rect.left + ((x + 0.5) * rect.width) / w);
      const at = (py * width + px) * 4;
      expect(Array.from(pixels.subarray(at, at + 3)), `${what} texel (${y}, ${x}) at pixel (${py}, ${px})`).toEqual(expectedRgb(values, w, c, y, x));
    }
  }
}

/** Bounding box of the non-background pixels with x in [x0, x1). */
function drawnBox(pixels: Uint8Array, width: number, height: number, x0: number, x1: number) {
  let [left, right, top, bottom] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let y = 0; y < height; y++) {
    for (let x = x0; x < x1; x++) {
      const at = (y * width + x) * 4;
      if (pixels[at] === BG_BYTES[0] && pixels[at + 1] === BG_BYTES[1] && pixels[at + 2] === BG_BYTES[2]) continue;
      [left, right, top, bottom] = [Math.min(left, x), Math.max(right, x + 1), Math.min(top, y), Math.max(bottom, y + 1)];
    }
  }
  return { left, top, width: right - left, height: bottom - top };
}

/** A 5 × 7 RGB gradient with values below 0 and above 1 and one NaN texel. */
function gradient(): Float32Array {
  const [h, w] = [5, 7];
  const values = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = (y * w + x) * 3;
      values[at] = -0.15 + (1.3 * x) / (w - 1); // −0.15 … 1.15
      values[at + 1] = 0.05 + (0.9 * y) / (h - 1);
      values[at + 2] = 0.37 + 0.011 * (x * h + y); // bytes that need the rounding right
    }
  }
  values[(2 * w + 3) * 3 + 1] = NaN;
  return values;
}

describe('image view', () => {
  it('draws a 5 × 7 RGB gradient exactly: clamped, rounded half up, NaN magenta, aspect kept', async () => {
    const values = gradient();
    const image = tensorFromArray(engine(), values, [1, 5, 7, 3], { layout: 'NHWC' });
    const view = createImageView(engine(), { canvas: canvas(), images: [image], background: BACKGROUND, gap: 4 });
    const [W, H] = [100, 60];
    const pixels = await drawPixels(engine(), view, W, H);
    const rect = view.rects[0]!;
    // 7:5 fitted into 92 × 52: 52 tall, 72.8 wide, centred.
    expect(rect.height).toBeCloseTo(52, 5);
    expect(rect.width).toBeCloseTo(72.8, 5);
    expect(rect.left).toBeCloseTo((W - 72.8) / 2, 5);
    expectTexels(pixels, W, rect, values, [5, 7, 3], 'gradient');
    const box = drawnBox(pixels, W, H, 0, W);
    // Covered: the pixels whose centres lie in [left, left + width): x = 14 … 85 for 13.6 … 86.4.
    expect([box.left, box.top, box.width, box.height]).toEqual([14, 4, 72, 52]);
    view.destroy();
    image.destroy();
  });

  it('draws two images side by side, each in its own half with its aspect kept; buffer writes show next frame', async () => {
    const rgb = randomFloats(5 * 7 * 3, 3, 0.7).map((v) => v + 0.5); // some below 0 and above 1
    rgb[4] = NaN;
    const grey = randomFloats(6 * 4, 4, 0.5).map((v) => v + 0.5);
    const tensors = [tensorFromArray(engine(), rgb, [1, 5, 7, 3]), tensorFromArray(engine(), grey, [6, 4, 1])];
    const view = createImageView(engine(), { canvas: canvas(), images: tensors, background: BACKGROUND });
    const [W, H] = [128, 48];
    let pixels = await drawPixels(engine(), view, W, H);
    const [left, right] = [drawnBox(pixels, W, H, 0, W / 2), drawnBox(pixels, W, H, W / 2, W)];
    expect(left.left + left.width).toBeLessThanOrEqual(W / 2);
    expect(right.left).toBeGreaterThanOrEqual(W / 2);
    expect(left.height).toBe(32); // fits the height less the 8 px gaps
    expect(Math.abs(left.width - (32 * 7) / 5)).toBeLessThanOrEqual(1);
    expect(right.height).toBe(32);
    expect(Math.abs(right.width - (32 * 4) / 6)).toBeLessThanOrEqual(1);
    expectTexels(pixels, W, view.rects[0]!, rgb, [5, 7, 3], 'left (RGB)');
    expectTexels(pixels, W, view.rects[1]!, grey, [6, 4, 1], 'right (grey)');

    // The optimizer writes into the same buffer every step: the next draw shows it, no setImages.
    const stepped = grey.map((v) => 1 - v);
    engine().device.queue.writeBuffer(tensors[1]!.buffer, 0, stepped);
    pixels = await drawPixels(engine(), view, W, H);
    expectTexels(pixels, W, view.rects[1]!, stepped, [6, 4, 1], 'right after a write');
    view.destroy();
    for (const t of tensors) t.destroy();
  });

  it('setImages with new buffers (RGBA: alpha not drawn) redraws the new values', async () => {
    const first = tensorFromArray(engine(), randomFloats(4 * 4 * 3, 8), [4, 4, 3]);
    const view = createImageView(engine(), { canvas: canvas(), images: [first], background: BACKGROUND });
    const [W, H] = [64, 40];
    await drawPixels(engine(), view, W, H);
    const rgba = randomFloats(3 * 5 * 4, 5, 0.6).map((v) => v + 0.5);
    const grey = randomFloats(2 * 2, 9, 0.5).map((v) => v + 0.5);
    const next = [tensorFromArray(engine(), rgba, [1, 3, 5, 4]), tensorFromArray(engine(), grey, [1, 2, 2, 1])];
    view.setImages(next);
    const pixels = await drawPixels(engine(), view, W, H);
    expectTexels(pixels, W, view.rects[0]!, rgba, [3, 5, 4], 'RGBA');
    expectTexels(pixels, W, view.rects[1]!, grey, [2, 2, 1], 'grey');
    view.destroy();
    for (const t of [first, ...next]) t.destroy();
  });

  it('bilinear sampling interpolates between texel centres (within one byte of a float64 prediction)', async () => {
    const [h, w] = [3, 4];
    const values = randomFloats(h * w * 3, 11, 0.45).map((v) => v + 0.5);
    const image = tensorFromArray(engine(), values, [h, w, 3]);
    const view = createImageView(engine(), { canvas: canvas(), images: [image], sampling: 'bilinear', gap: 0 });
    const [W, H] = [40, 30]; // scale exactly 10
    const pixels = await drawPixels(engine(), view, W, H);
    const at = (y: number, x: number, k: number) => values[(Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(x, 0), w - 1)) * 3 + k]!;
    let worst = 0;
    let interpolated = 0;
    for (let py = 0; py < H; py++) {
      for (let px = 0; px < W; px++) {
        const [sx, sy] = [(px + 0.5) / 10 - 0.5, (py + 0.5) / 10 - 0.5];
        const [x0, y0] = [Math.floor(sx), Math.floor(sy)];
        const [fx, fy] = [sx - x0, sy - y0];
        for (let k = 0; k < 3; k++) {
          const top = at(y0, x0, k) * (1 - fx) + at(y0, x0 + 1, k) * fx;
          const bottom = at(y0 + 1, x0, k) * (1 - fx) + at(y0 + 1, x0 + 1, k) * fx;
          const want = toByte(top * (1 - fy) + bottom * fy);
          worst = Math.max(worst, Math.abs(pixels[(py * W + px) * 4 + k]! - want));
          if (want !== toByte(at(Math.round(sy), Math.round(sx), k))) interpolated += 1;
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(interpolated).toBeGreaterThan(1000); // the prediction really differs from nearest
    view.destroy();
    image.destroy();
  });

  it('puts captions under each image as DOM text', async () => {
    const host = document.createElement('div');
    host.style.cssText = 'position:relative;width:200px;height:100px';
    document.body.append(host);
    const c = canvas(host);
    c.style.cssText = 'width:200px;height:100px';
    const images = [tensorFromArray(engine(), randomFloats(8 * 8 * 3, 12), [8, 8, 3]), tensorFromArray(engine(), randomFloats(8 * 8 * 3, 13), [8, 8, 3])];
    const view = createImageView(engine(), { canvas: c, images, captions: ['original', 'result'] });
    await engine().run('test.frame', (encoder) => view.render(encoder));
    const captions = [...host.querySelectorAll<HTMLElement>('.glassbox-image-caption')];
    expect(captions.map((el) => el.textContent)).toEqual(['original', 'result']);
    const [a, b] = captions.map((el) => el.getBoundingClientRect());
    expect(a!.left).toBeLessThan(b!.left);
    expect(a!.right).toBeLessThanOrEqual(host.getBoundingClientRect().left + 101);
    view.destroy();
    expect(host.querySelectorAll('.glassbox-image-caption').length).toBe(0);
    host.remove();
    for (const t of images) t.destroy();
  });

  it('refuses bad images, saying what was expected and what came', () => {
    const cases: [GpuTensor, RegExp][] = [
      [tensorFromArray(engine(), randomFloats(2 * 3 * 3 * 3, 6), [2, 3, 3, 3]), /expected an image of shape \[1, H, W, C\] or \[H, W, C\].*got shape \[2, 3, 3, 3\]/],
      [tensorFromArray(engine(), randomFloats(3 * 3 * 2, 7), [3, 3, 2]), /expected 1, 3 or 4 channels.*got 2 in shape \[3, 3, 2\]/],
      [tensorFromArray(engine(), randomFloats(12, 8), [3, 4]), /got shape \[3, 4\]/],
      [tensorFromArray(engine(), randomFloats(27, 9), [1, 3, 3, 3], { layout: 'NCHW' }), /expected an NHWC.*got layout 'NCHW'/],
    ];
    for (const [tensor, message] of cases) {
      expect(() => createImageView(engine(), { canvas: canvas(), images: [tensor] })).toThrow(message);
      tensor.destroy();
    }
    const good = tensorFromArray(engine(), randomFloats(27, 10), [3, 3, 3]);
    expect(() => createImageView(engine(), { canvas: canvas(), images: [good], sampling: 'cubic' as 'nearest' })).toThrow(/'nearest' or 'bilinear'; got 'cubic'/);
    good.destroy();
    expect(() => createImageView(engine(), { canvas: canvas(), images: [good] })).toThrow(/expected a live tensor/);
  });

  it('destroy leaves no buffers, even after setImages changed the count', async () => {
    const before = engine().liveBufferCount();
    const images = [1, 2, 3].map((s) => tensorFromArray(engine(), randomFloats(12, s), [2, 2, 3]));
    const view = createImageView(engine(), { canvas: canvas(), images: images.slice(0, 1) });
    view.setImages(images);
    await drawPixels(engine(), view, 32, 16);
    view.setImages(images.slice(1));
    await drawPixels(engine(), view, 32, 16);
    view.destroy();
    for (const t of images) t.destroy();
    expect(engine().liveBufferLabels()).toHaveLength(before);
    await expect(drawPixels(engine(), view, 32, 16)).rejects.toThrow('ImageView was used after destroy().');
  });
});

describe('exportPng', () => {
  async function decode(blob: Blob): Promise<ImageData> {
    expect(blob.type).toBe('image/png');
    const bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = c.getContext('2d')!;
    g.drawImage(bitmap, 0, 0);
    bitmap.close();
    return g.getImageData(0, 0, c.width, c.height);
  }

  it('writes the bytes of each texel (grey, RGB with NaN, RGBA opaque), and scale 3 gives 3 × 3 blocks', async () => {
    const rgb = gradient();
    const grey = randomFloats(4 * 3, 21, 0.7).map((v) => v + 0.5);
    const rgba = randomFloats(2 * 5 * 4, 22, 0.7).map((v, i) => (i % 4 === 3 ? 1 : v + 0.5));
    for (const [values, shape] of [[rgb, [1, 5, 7, 3]], [grey, [4, 3, 1]], [rgba, [2, 5, 4]]] as const) {
      const tensor = tensorFromArray(engine(), values, shape);
      const [h, w] = shape.length === 4 ? [shape[1], shape[2]] : [shape[0], shape[1]];
      // Per texel, from the rule the views draw by (expectedRgb), not from imageToRgba, which exportPng uses.
      const c = shape[shape.length - 1]!;
      const want = Uint8Array.from({ length: h * w * 4 }, (_, i) => {
        const [texel, k] = [Math.floor(i / 4), i % 4];
        if (k < 3) return expectedRgb(values, w, c, Math.floor(texel / w), texel % w)[k]!;
        return c === 4 ? toByte(values[texel * 4 + 3]!) : 255;
      });
      const one = await decode(await exportPng(tensor));
      expect([one.width, one.height]).toEqual([w, h]);
      expect(Array.from(one.data), `shape [${shape}]`).toEqual(Array.from(want));
      const three = await decode(await exportPng(tensor, { scale: 3 }));
      expect([three.width, three.height]).toEqual([3 * w, 3 * h]);
      for (let y = 0; y < 3 * h; y++) {
        for (let x = 0; x < 3 * w; x++) {
          const [got, texel] = [(y * 3 * w + x) * 4, (Math.floor(y / 3) * w + Math.floor(x / 3)) * 4];
          expect(Array.from(three.data.subarray(got, got + 4)), `[${shape}] scaled pixel (${y}, ${x})`).toEqual(Array.from(want.subarray(texel, texel + 4)));
        }
      }
      tensor.destroy();
    }
    // The byte rule itself, on known values: grey repeated, clamping, half up, NaN magenta, alpha kept.
    expect(Array.from(imageToRgba(Float32Array.from([0.5, -1, 2, NaN]), [2, 2, 1]))).toEqual([128, 128, 128, 255, 0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 255, 255]);
    expect(Array.from(imageToRgba(Float32Array.from([0.1, 0.2, 0.3, 0.4]), [1, 1, 1, 4]))).toEqual([26, 51, 77, 102]);
  });

  it('refuses bad shapes and scales', async () => {
    const t = tensorFromArray(engine(), randomFloats(18, 30), [3, 3, 2]);
    await expect(exportPng(t)).rejects.toThrow(/expected 1, 3 or 4 channels.*got 2/);
    await expect(exportPng(t, { scale: 1.5 })).rejects.toThrow(/integer scale.*got 1.5/);
    t.destroy();
  });
});

describe('loss curve (Canvas2D)', () => {
  it('draws the total and each term in its palette colour, on a log axis over 10 decades', () => {
    const c = Object.assign(document.createElement('canvas'), { width: 320, height: 160 });
    const curve = createLossCurve(c, { maxPoints: 64 });
    for (let step = 0; step < 500; step++) curve.push(step, { total: 10 * Math.exp(-step / 20), tv: 0.5, alpha: NaN });
    expect([...curve.series.keys()]).toEqual(['total', 'tv']); // NaN skipped, no series made for it
    expect(curve.series.get('total')!.length).toBeLessThanOrEqual(64);
    curve.draw();
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const hex = (i: number) => '#' + [0, 1, 2].map((k) => data[i + k]!.toString(16).padStart(2, '0')).join('').toUpperCase();
    const colours = new Set<string>();
    for (let i = 0; i < data.length; i += 4) colours.add(hex(i));
    expect(colours.has(LOSS_PALETTE[0])).toBe(true); // the 'tv' line and legend swatch
    expect(colours.has('#333333')).toBe(true); // the total
    curve.clear();
    expect(curve.series.size).toBe(0);
    curve.destroy();
  });
});
