// The feature-map grid as existing web tools draw it (CNN Explainer and its kind): every map colormapped
// on the CPU into ImageData and put with putImageData, then drawn to the screen with the 2-D context.
// It is the Canvas2D peer of the WebGPU grid in the benchmarks, and shows the same maps: same layout,
// camera, statistics, normalization and colormap entries, so its colours at map centres are ours.
//
// update() does the per-data work (statistics, colormapping, one putImageData per map into the layer's
// atlas canvas); render() does the per-frame work (one drawImage per visible map, scaled by the camera).
// 'bilinear' here is the browser's image smoothing of colours, not our interpolation of values.
import { GlassboxError, invalidArgument } from '../../core/errors';
import type { FeatureNormalization } from '../../reference/channel-stats';
import { Camera, type WorldRect } from '../camera';
import { colormapIndex, colormapRgba, type ColormapName } from '../colormaps';
import { attachInteraction } from '../interaction';
import { observeBackingSize } from '../backing-size';
import type { CpuFeatureLayer } from '../webgl/cpu-feature-stats';
import {
  CpuLayerStats,
  checkCpuLayers,
  resolveGridOptions,
  sameShapes,
  type CpuGridOptions,
  type FeatureSampling,
  type Rgb,
} from '../webgl/cpu-grid-state';
import { featureGridLayout, mapRect, visibleChannels, type ChannelRange, type FeatureGridLayout } from './grid-layout';

/**
 * Options for `createCanvas2dGrid`: the layers' values on the CPU, plus the grid settings shared with
 * `createFeatureGridFallback`.
 */
export interface Canvas2dGridOptions extends CpuGridOptions {
  layers: readonly CpuFeatureLayer[];
  /** Pan and zoom with pointer, wheel and keys (default true). */
  interactive?: boolean;
  /** Keep the backing store at CSS size × devicePixelRatio (default true). */
  autoSize?: boolean;
}

/**
 * The feature-map grid drawn the way existing web tools draw it (colormapped on the CPU, put with
 * putImageData, drawn with the 2-D context): the Canvas2D peer of the WebGPU grid in the benchmarks, with the
 * same layout and colours. Not a frame participant: call `render()` to draw.
 */
export interface Canvas2dGrid {
  readonly camera: Camera;
  readonly layout: FeatureGridLayout;
  /** New values: statistics, colormapping and one putImageData per map. */
  update(layers: readonly CpuFeatureLayer[]): void;
  /** Draws every visible map with the current camera. */
  render(): void;
  /**
   * Changes how values map to the colormap and recolours every map now; `robustK` keeps its value if left
   * out. Throws `InvalidArgumentError` for an unknown mode or k ≤ 0.
   */
  setNormalization(mode: FeatureNormalization, robustK?: number): void;
  /** Switches the colormap and recolours every map now. */
  setColormap(name: ColormapName): void;
  /** `'bilinear'` turns on the browser's image smoothing (of colours, not values) from the next `render()` on. */
  setSampling(sampling: FeatureSampling): void;
  /** Removes the listeners and the size observer and frees the atlas canvases; do not use the grid after. */
  destroy(): void;
}

const WHO = 'createCanvas2dGrid';

interface LayerImages {
  stats: CpuLayerStats;
  /** All maps of the layer, tile by tile, `tilesPerRow` to a row. */
  atlas: OffscreenCanvas;
  context: OffscreenCanvasRenderingContext2D;
  tilesPerRow: number;
  /** One map's pixels, reused for every putImageData. */
  image: ImageData;
  pixels: Uint32Array;
}

/**
 * Creates the Canvas2D grid on `canvas` and colormaps `options.layers` into its atlases. Throws
 * `InvalidArgumentError` for bad layers or settings, and `GlassboxError` when the canvas gives no 2-D
 * context (it may already hold another kind).
 */
export function createCanvas2dGrid(canvas: HTMLCanvasElement, options: Canvas2dGridOptions): Canvas2dGrid {
  const settings = resolveGridOptions(options, WHO);
  checkCpuLayers(options.layers, settings.batchItem, WHO);
  const context = canvas.getContext('2d', { alpha: false });
  if (!context) throw new GlassboxError(`${WHO}: canvas.getContext('2d') returned null: the canvas may already have another context.`);
  const camera = new Camera();
  // Colours as the 32-bit words ImageData holds on little-endian machines (ABGR), so a pixel is one store.
  let palette = packedColormap(settings.colormap);
  const nonFinite = packRgb(settings.nonFiniteColor);
  let layers = options.layers;
  let layout = featureGridLayout(layers, { columns: settings.columns });
  let images = layers.map(makeLayerImages);
  let destroyed = false;
  camera.setBounds(layout.bounds);
  const visible: ChannelRange = { first: 0, count: 0 };
  const view: WorldRect = { x: 0, y: 0, width: 0, height: 0 };
  const stopSizing = options.autoSize === false ? () => {} : observeBackingSize(canvas);
  const detach = options.interactive === false ? () => {} : attachInteraction(canvas, camera, { hover() {}, leave() {} });
  update(layers);

  function update(next: readonly CpuFeatureLayer[]): void {
    invalidArgument(!destroyed, () => `${WHO}: the grid was used after destroy().`);
    checkCpuLayers(next, settings.batchItem, WHO);
    if (!sameShapes(layers, next)) {
      freeAtlases();
      images = next.map(makeLayerImages);
      layout = featureGridLayout(next, { columns: settings.columns });
      camera.setBounds(layout.bounds);
    }
    layers = next;
    images.forEach((layer, i) => layer.stats.refresh(next[i]!));
    repaint();
  }

  function freeAtlases(): void {
    for (const layer of images) layer.atlas.width = layer.atlas.height = 0; // frees the atlas store now, not at GC
  }

  // Colormaps every map and puts it into its tile.
  function repaint(): void {
    for (const layer of images) {
      layer.stats.updateRanges(settings.normalization, settings.robustK);
      const { channels, height, width } = layer.stats.layer;
      const values = layer.stats.batchItem(settings.batchItem);
      for (let c = 0; c < channels; c++) {
        colormapMap(values, layer, c, palette, nonFinite);
        layer.context.putImageData(layer.image, (c % layer.tilesPerRow) * width, Math.floor(c / layer.tilesPerRow) * height);
      }
    }
  }

  return {
    camera,
    get layout() {
      return layout;
    },
    update,
    render() {
      invalidArgument(!destroyed, () => `${WHO}: the grid was used after destroy().`);
      camera.setViewport(canvas.width, canvas.height);
      const [r, g, b] = settings.background.map((v) => Math.round(v * 255));
      context.fillStyle = `rgb(${r} ${g} ${b})`;
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingEnabled = settings.sampling === 'bilinear';
      view.width = camera.width / camera.scale;
      view.height = camera.height / camera.scale;
      view.x = camera.centerX - view.width / 2;
      view.y = camera.centerY - view.height / 2;
      layout.sections.forEach((section, i) => {
        const layer = images[i]!;
        const { width, height } = layer.stats.layer;
        visibleChannels(layout, section, view, visible);
        for (let c = visible.first; c < visible.first + visible.count; c++) {
          const rect = mapRect(layout, section, c);
          const x = (rect.x - camera.centerX) * camera.scale + camera.width / 2;
          const y = (rect.y - camera.centerY) * camera.scale + camera.height / 2;
          const sx = (c % layer.tilesPerRow) * width;
          const sy = Math.floor(c / layer.tilesPerRow) * height;
          context.drawImage(layer.atlas, sx, sy, width, height, x, y, rect.width * camera.scale, rect.height * camera.scale);
        }
      });
    },
    setNormalization(mode, robustK = settings.robustK) {
      Object.assign(settings, resolveGridOptions({ ...settings, normalization: mode, robustK }, WHO));
      repaint();
    },
    setColormap(name) {
      settings.colormap = resolveGridOptions({ ...settings, colormap: name }, WHO).colormap;
      palette = packedColormap(name);
      repaint();
    },
    setSampling(sampling) {
      settings.sampling = resolveGridOptions({ ...settings, sampling }, WHO).sampling;
    },
    destroy() {
      destroyed = true;
      detach();
      stopSizing();
      freeAtlases();
      images = [];
    },
  };
}

function makeLayerImages(layer: CpuFeatureLayer): LayerImages {
  const tilesPerRow = Math.ceil(Math.sqrt(layer.channels));
  const rows = Math.ceil(layer.channels / tilesPerRow);
  const atlas = new OffscreenCanvas(tilesPerRow * layer.width, rows * layer.height);
  const context = atlas.getContext('2d');
  if (!context) throw new GlassboxError(`${WHO}: OffscreenCanvas.getContext('2d') returned null for layer '${layer.name}'.`);
  const image = new ImageData(layer.width, layer.height);
  return { stats: new CpuLayerStats(layer), atlas, context, tilesPerRow, image, pixels: new Uint32Array(image.data.buffer) };
}

/** Channel c of one batch item into layer.pixels: colormap[floor(t·256)], non-finite values marked. */
function colormapMap(values: Float32Array, layer: LayerImages, c: number, palette: Uint32Array, nonFinite: number): void {
  const { height, width, channels, layout } = layer.stats.layer;
  const [sy, sx, sc] = layout === 'NHWC' ? [width * channels, channels, 1] : [width, 1, height * width];
  const lo = layer.stats.ranges[2 * c]!;
  const hi = layer.stats.ranges[2 * c + 1]!;
  const span = hi - lo;
  const pixels = layer.pixels;
  for (let y = 0; y < height; y++) {
    const row = c * sc + y * sy;
    for (let x = 0; x < width; x++) {
      const v = values[row + x * sx]!;
      if (v - v !== 0) {
        pixels[y * width + x] = nonFinite;
        continue;
      }
      // As the shaders: t = clamp((v − lo)/(hi − lo)), 0.5 for an empty range.
      const t = span > 0 ? Math.min(1, Math.max(0, (v - lo) / span)) : 0.5;
      pixels[y * width + x] = palette[colormapIndex(t)]!;
    }
  }
}

function packedColormap(name: ColormapName): Uint32Array {
  return new Uint32Array(colormapRgba(name).buffer);
}

function packRgb([r, g, b]: Rgb): number {
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  return new Uint32Array(new Uint8Array([byte(r), byte(g), byte(b), 255]).buffer)[0]!;
}
