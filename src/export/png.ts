// RGBA8 pixels → a PNG file, through the browser's own encoder (OffscreenCanvas), and the view export that
// uses it: any view, at a chosen scale.
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { viewPixels, type DrawableView } from './view-pixels';

/** Encodes tight RGBA8 rows (top to bottom) as a PNG. */
export async function encodePng(rgba: Uint8Array<ArrayBuffer> | Uint8ClampedArray<ArrayBuffer>, width: number, height: number): Promise<Blob> {
  invalidArgument(rgba.length === width * height * 4, () => `encodePng: ${width} × ${height} RGBA needs ${width * height * 4} bytes; got ${rgba.length}.`);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  invalidArgument(context, () => 'encodePng: expected an OffscreenCanvas 2d context; got null.');
  const clamped = rgba instanceof Uint8ClampedArray ? rgba : new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  context.putImageData(new ImageData(clamped, width, height), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

export interface ExportViewPngOptions {
  /** The picture's size in pixels at scale 1: usually the canvas's (canvas.width × canvas.height). */
  width: number;
  height: number;
  /** Integer multiple of the resolution, the same framing (default 1). */
  scale?: number;
}

/**
 * A PNG of what `view` shows, at `scale`× its resolution: drawn again offscreen by the view's own pipeline
 * (not a screenshot), so it needs no preserved drawing buffer and can be larger than the screen. DOM text
 * over the canvas (token and layer labels) is not in it; the SVG export of the link views has the text.
 */
export async function exportViewPng(engine: Engine, view: DrawableView, options: ExportViewPngOptions): Promise<Blob> {
  const pixels = await viewPixels(engine, view, options.width, options.height, options.scale ?? 1);
  return encodePng(pixels.rgba, pixels.width, pixels.height);
}
