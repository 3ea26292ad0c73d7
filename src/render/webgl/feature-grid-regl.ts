// The feature-map grid where WebGPU is missing: the same maps, layout, colours and camera as the WebGPU
// grid (src/render/feature-grid/feature-grid-view.ts), drawn through regl on a WebGL2 context and fed
// from CPU arrays (a readback of the activations). Per update the statistics are computed on the CPU and
// each layer's batch item is uploaded as one texture; per frame one draw per layer.
//
// Choices forced by regl 2 on WebGL2 (see float-atlas.ts and grid-quads.ts): float32 values travel bit
// for bit in RGBA8 textures (no R32F in regl's vocabulary, no OES_texture_float on WebGL2), and each
// map is two triangles in one plain draw per layer (regl instances only through ANGLE_instanced_arrays,
// which WebGL2 does not list). The shaders are GLSL ES 3.00, so a WebGL2 context is required.
import createREGL from 'regl';
import type { Regl } from 'regl';
import { GlassboxError } from '../../core/errors';
import type { FeatureNormalization } from '../../reference/channel-stats';
import { attachInteraction } from '../interaction';
import { Camera, type WorldRect } from '../camera';
import { COLORMAP_SIZE, colormapRgba, type ColormapName } from '../colormaps';
import {
  featureGridLayout,
  mapRect,
  visibleChannels,
  type ChannelRange,
  type FeatureGridLayout,
} from '../feature-grid/grid-layout';
import { observeBackingSize } from '../backing-size';
import type { CpuFeatureLayer } from './cpu-feature-stats';
import {
  checkCpuLayers,
  resolveGridOptions,
  sameShapes,
  type CpuGridOptions,
  type FeatureSampling,
} from './cpu-grid-state';
import { spreadRanges, VERTICES_PER_MAP } from './grid-quads';
import { destroyLayerGpu, makeDrawCommand, makeLayerGpu, type LayerGpu } from './layer-gpu';
import { finishGl, readGlPixels } from './read-pixels';

/**
 * Options for `createFeatureGridFallback`: the layers' values on the CPU, plus the grid settings shared with
 * `createCanvas2dGrid`.
 */
export interface FeatureGridFallbackOptions extends CpuGridOptions {
  layers: readonly CpuFeatureLayer[];
  /** Pan and zoom with pointer, wheel and keys (default true). */
  interactive?: boolean;
  /** Keep the backing store at CSS size × devicePixelRatio (default true). */
  autoSize?: boolean;
}

/**
 * The feature-map grid through regl on WebGL2, for browsers without WebGPU: the same layout, camera and
 * colours as the WebGPU grid, fed from CPU arrays (such as a readback of the activations). Not a frame
 * participant: call `update` with new values and `render()` to draw.
 */
export interface FeatureGridFallback {
  readonly camera: Camera;
  readonly layout: FeatureGridLayout;
  /** New values (same or new shapes): statistics on the CPU, one texture upload per layer. */
  update(layers: readonly CpuFeatureLayer[]): void;
  /** Draws the current values with the current camera into the canvas. */
  render(): void;
  /**
   * Changes how values map to the colormap from the next `render()` on; `robustK` keeps its value if left
   * out. Throws `InvalidArgumentError` for an unknown mode or k ≤ 0.
   */
  setNormalization(mode: FeatureNormalization, robustK?: number): void;
  /** Switches the colormap. Throws `InvalidArgumentError` for an unknown name. */
  setColormap(name: ColormapName): void;
  /** Switches between blocky (`'nearest'`) and interpolated (`'bilinear'`) values from the next `render()` on. */
  setSampling(sampling: FeatureSampling): void;
  /** The statistics records last computed for layer i (src/reference/channel-stats.ts layout). */
  stats(layer: number): Float64Array;
  /** Waits until the GL work issued so far is done (a one-pixel readPixels: a sync that cannot be skipped). */
  finish(): void;
  /** The drawing buffer as RGBA rows, top row first; call in the same task as render(). */
  readPixels(): Uint8Array;
  /** Releases every GL object, removes the listeners; the canvas and its context stay. */
  destroy(): void;
}

const WHO = 'createFeatureGridFallback';

/**
 * Creates the WebGL2 grid on `canvas` and uploads `options.layers`. Throws `InvalidArgumentError` for bad
 * layers or settings, and `GlassboxError` when the canvas gives no WebGL2 context (unsupported, or it
 * already holds another kind).
 */
export function createFeatureGridFallback(canvas: HTMLCanvasElement, options: FeatureGridFallbackOptions): FeatureGridFallback {
  const settings = resolveGridOptions(options, WHO);
  checkCpuLayers(options.layers, settings.batchItem, WHO);
  const gl = canvas.getContext('webgl2', { antialias: false, alpha: false, depth: false, stencil: false });
  if (!gl) {
    throw new GlassboxError(`${WHO}: canvas.getContext('webgl2') returned null: WebGL2 is unavailable, or the canvas already has another context.`);
  }
  const regl: Regl = createREGL({ gl: gl as unknown as WebGLRenderingContext });
  const camera = new Camera();
  const colormapTexture = regl.texture({ width: COLORMAP_SIZE, height: 1, format: 'rgba', type: 'uint8', data: colormapRgba(settings.colormap) });
  const drawLayer = makeDrawCommand(regl, colormapTexture, settings);
  const clearColour = { color: [...settings.background, 1] as [number, number, number, number] };
  let layers: readonly CpuFeatureLayer[] = options.layers;
  let layout = featureGridLayout(layers, { columns: settings.columns });
  let gpu: LayerGpu[] = layers.map((layer) => makeLayerGpu(regl, layer));
  camera.setBounds(layout.bounds);
  let rangesDirty = true;
  const visible: ChannelRange = { first: 0, count: 0 };
  const view: WorldRect = { x: 0, y: 0, width: 0, height: 0 };
  const stopSizing = options.autoSize === false ? () => {} : observeBackingSize(canvas);
  const detach = options.interactive === false ? () => {} : attachInteraction(canvas, camera, { hover() {}, leave() {} });
  upload(layers);

  function upload(next: readonly CpuFeatureLayer[]): void {
    for (let i = 0; i < next.length; i++) {
      const g = gpu[i]!;
      g.stats.refresh(next[i]!);
      g.atlas.upload(g.stats.batchItem(settings.batchItem));
    }
    rangesDirty = true;
  }

  function writeRanges(): void {
    for (const g of gpu) {
      g.stats.updateRanges(settings.normalization, settings.robustK);
      g.ranges.subdata(spreadRanges(g.stats.ranges, g.stats.layer.channels, g.vertexRanges));
    }
    rangesDirty = false;
  }

  return {
    camera,
    get layout() {
      return layout;
    },
    update(next) {
      checkCpuLayers(next, settings.batchItem, WHO);
      if (!sameShapes(layers, next)) {
        for (const g of gpu) destroyLayerGpu(g);
        gpu = next.map((layer) => makeLayerGpu(regl, layer));
        layout = featureGridLayout(next, { columns: settings.columns });
        camera.setBounds(layout.bounds);
      }
      layers = next;
      upload(next);
    },
    render() {
      regl.poll(); // picks up a resized drawing buffer
      camera.setViewport(canvas.width, canvas.height);
      if (rangesDirty) writeRanges();
      regl.clear(clearColour);
      worldView(camera, view);
      layout.sections.forEach((section, i) => {
        visibleChannels(layout, section, view, visible);
        if (visible.count === 0) return;
        const props = gpu[i]!.props;
        const rect = mapRect(layout, section, 0);
        props.firstXY[0] = rect.x;
        props.firstXY[1] = rect.y;
        props.mapSize[0] = rect.width;
        props.mapSize[1] = rect.height;
        props.columns = layout.columns;
        props.center[0] = camera.centerX;
        props.center[1] = camera.centerY;
        props.scale = camera.scale;
        props.viewport[0] = camera.width;
        props.viewport[1] = camera.height;
        props.offset = visible.first * VERTICES_PER_MAP;
        props.count = visible.count * VERTICES_PER_MAP;
        drawLayer(props);
      });
    },
    setNormalization(mode, robustK = settings.robustK) {
      Object.assign(settings, resolveGridOptions({ ...settings, normalization: mode, robustK }, WHO));
      rangesDirty = true;
    },
    setColormap(name) {
      settings.colormap = resolveGridOptions({ ...settings, colormap: name }, WHO).colormap;
      colormapTexture.subimage(colormapRgba(name));
    },
    setSampling(sampling) {
      settings.sampling = resolveGridOptions({ ...settings, sampling }, WHO).sampling;
    },
    stats: (i) => {
      const g = gpu[i];
      if (!g) throw new GlassboxError(`${WHO}: no layer ${i} (there are ${gpu.length}).`);
      return g.stats.stats;
    },
    finish: () => finishGl(gl),
    readPixels: () => readGlPixels(gl),
    destroy() {
      detach();
      stopSizing();
      regl.destroy(); // every buffer, texture and program regl made
    },
  };
}

/** The world rectangle the camera shows: what culling tests rows against. */
function worldView(camera: Camera, out: WorldRect): WorldRect {
  out.width = camera.width / camera.scale;
  out.height = camera.height / camera.scale;
  out.x = camera.centerX - out.width / 2;
  out.y = camera.centerY - out.height / 2;
  return out;
}
