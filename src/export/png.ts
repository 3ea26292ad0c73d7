// RGBA8 pixels → a PNG file, through the browser's own encoder (OffscreenCanvas), and the view export that
// uses it: any view, at a chosen scale, with the DOM text over its canvas painted in.
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { paintDomLabels, type LabelElements } from './dom-labels';
import { viewPixels, type DrawableView } from './view-pixels';

/**
 * Encodes tight RGBA8 rows (top to bottom) as a PNG; `paint` may draw over the pixels first (Canvas2D)
 * and returns how many things it drew.
 */
export async function encodePng(
  rgba: Uint8Array<ArrayBuffer> | Uint8ClampedArray<ArrayBuffer>,
  width: number,
  height: number,
  paint?: (context: OffscreenCanvasRenderingContext2D) => void,
): Promise<Blob> {
  invalidArgument(rgba.length === width * height * 4, () => `encodePng: ${width} × ${height} RGBA needs ${width * height * 4} bytes; got ${rgba.length}.`);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  invalidArgument(context, () => 'encodePng: expected an OffscreenCanvas 2d context; got null.');
  const clamped = rgba instanceof Uint8ClampedArray ? rgba : new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  context.putImageData(new ImageData(clamped, width, height), 0, 0);
  paint?.(context);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** Options for {@link exportViewPng}: give `canvas`, or `width` and `height`. */
export interface ExportViewPngOptions {
  /**
   * The canvas the view draws on: its backing size (canvas.width × canvas.height) is the picture's size at
   * scale 1, and the DOM labels are placed relative to its box. Needed unless width and height are given.
   */
  canvas?: HTMLCanvasElement;
  /** The picture's size at scale 1 (default the canvas's backing size). */
  width?: number;
  height?: number;
  /** Integer multiple of the resolution, the same framing (default 1). */
  scale?: number;
  /**
   * DOM text to paint over the picture (needs `canvas`): default, when `canvas` is given, the view's own
   * `labels` (head view, layered graph, feature grid); a token highlight passes its `spans`; false for none.
   */
  labels?: LabelElements | false;
}

/** A view that shows DOM text over its canvas and says which elements. */
interface LabelledView {
  readonly labels?: LabelElements;
}

/**
 * A PNG of what `view` shows, at `scale`× its resolution: drawn again offscreen by the view's own pipeline
 * (not a screenshot), so it needs no preserved drawing buffer and can be larger than the screen; the view's
 * DOM text is painted in where the browser placed it.
 */
export async function exportViewPng(engine: Engine, view: DrawableView & LabelledView, options: ExportViewPngOptions): Promise<Blob> {
  const { canvas } = options;
  const width = options.width ?? canvas?.width;
  const height = options.height ?? canvas?.height;
  invalidArgument(width !== undefined && height !== undefined, () => 'exportViewPng: expected a canvas, or a width and a height; got neither.');
  // Without the canvas there is nowhere to place the view's own labels: the picture is the GPU's alone.
  const labels = options.labels === false ? [] : (options.labels ?? (canvas ? view.labels : undefined) ?? []);
  invalidArgument(labels.length === 0 || canvas, () => `exportViewPng: ${labels.length} labels need the canvas to place them; got no canvas.`);
  const pixels = await viewPixels(engine, view, width, height, options.scale ?? 1);
  const paint = labels.length > 0 && canvas ? (context: OffscreenCanvasRenderingContext2D) => void paintDomLabels(context, canvas, labels, pixels.width, pixels.height) : undefined;
  return encodePng(pixels.rgba, pixels.width, pixels.height, paint);
}
