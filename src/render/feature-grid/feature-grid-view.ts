// The feature-map grid: every channel of every captured layer, drawn from the activation buffers
// themselves (no copy, no readback), normalized on the GPU against the statistics buffer. One instanced
// draw per visible layer (instance = a row of maps), only the rows on screen; layers off screen are skipped.
// Pan/zoom/HiDPI/hover as the heatmap view; layer names are DOM labels of the visible sections only.
import type { Engine } from '../../core/engine';
import { invalidArgument } from '../../core/errors';
import type { FrameParticipant } from '../../core/frame-loop';
import type { FeatureLayer } from '../../features/feature-layer';
import { UniformBuffer } from '../../memory/uniforms';
import type { FeatureNormalization } from '../../reference/channel-stats';
import { Camera, type WorldRect } from '../camera';
import { createCanvasSurface } from '../canvas-surface';
import { createColormapTexture } from '../colormap-texture';
import { colormapRgba, type ColormapName } from '../colormaps';
import {
  checkBindings,
  checkedBatchItem,
  checkedGrid,
  checkedOpacity,
  checkedSampling,
  maxBindingBytes,
  normalizationIndex,
  sameShapes,
  smallestBatch,
  type FeatureStatsBinding,
} from './feature-grid-inputs';
import { FEATURE_GRID_VIEW_UNIFORMS, featureGridPipelines } from './feature-grid-pipelines';
import type { FeatureHover } from './feature-hover';
import { mapAt, mapRect, visibleChannels, type FeatureGridLayout, type GridHit } from './grid-layout';
import { attachGridPointer } from './grid-pointer';
import { LayerDraw, type LayerDrawState } from './layer-draw';
import { MapFocus } from './map-focus';
import { createOverlayTexture, type OverlaySource } from './overlay-texture';
import { createSectionLabels } from './section-labels';
import { clearingPass } from '../clearing-pass';

export type { FeatureStatsBinding } from './feature-grid-inputs';
export type { FeatureHover } from './feature-hover';
export type { OverlaySource } from './overlay-texture';
/** How a map is magnified: `'nearest'` shows each activation as a block, `'bilinear'` smooths between them. */
export type FeatureSampling = 'nearest' | 'bilinear';
type Rgb = readonly [number, number, number];

/**
 * Options for `createFeatureGridView`. `layers` are drawn from their own buffers and normalized against
 * `stats` (what `createFeatureStats` makes); the view owns neither.
 */
export interface FeatureGridViewOptions {
  canvas: HTMLCanvasElement;
  layers: readonly FeatureLayer[];
  stats: FeatureStatsBinding;
  /** Default 'channel'. */
  normalization?: FeatureNormalization;
  /** k of 'robust' (mean ± k·std), default 3. */
  robustK?: number;
  /** Default 'viridis'; a diverging map ('coolwarm') suits 'symmetric'. */
  colormap?: ColormapName;
  /** How a map is magnified: 'nearest' (default) shows activations as blocks, 'bilinear' smooths them. */
  sampling?: FeatureSampling;
  /** Cells per row in every section (default 32). */
  columns?: number;
  /** Which image of the batch is shown (default 0). */
  batchItem?: number;
  /** Colour of NaN and ±Inf activations, RGB in 0..1 (default magenta). */
  nonFiniteColor?: Rgb;
  /** Colour between maps, RGB in 0..1 (default a dark grey). */
  background?: Rgb;
  /** Container of the DOM section labels; default a div placed over the canvas; null: no labels. */
  labels?: HTMLElement | null;
  /** The activation under the pointer (read back four bytes at a time), or null when none is. */
  onHover?: (hover: FeatureHover | null) => void;
  /** A click (not a drag) on a map. */
  onSelect?: (hit: { layer: number; channel: number }) => void;
  /** Bytes one storage binding may cover, at most the device's maxStorageBufferBindingSize (the default). */
  maxBindingBytes?: number;
  label?: string;
}

/**
 * Every channel of every layer as a grid of feature maps, drawn straight from the activation buffers, with
 * pan/zoom, hover and DOM section labels. Made by `createFeatureGridView`; add it to a frame loop.
 */
export interface FeatureGridView extends FrameParticipant {
  readonly camera: Camera;
  readonly layout: FeatureGridLayout;
  /** The section-label elements shown as of the last frame (export paints them into a PNG). */
  readonly labels: readonly HTMLElement[];
  /** Draws into the canvas's current texture and updates the labels: the view's part of a frame. */
  render(encoder: GPUCommandEncoder): void;
  /** Draws into any texture view of the given pixel size and format (tests, export). */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void;
  /** Same shapes: only bind groups change (the live path); other shapes lay the grid out anew. */
  setLayers(layers: readonly FeatureLayer[], stats: FeatureStatsBinding): void;
  /**
   * Changes how activations are scaled to the colormap; `robustK` (k of `'robust'`) keeps its value if left
   * out. Throws `InvalidArgumentError` for an unknown mode or k ≤ 0.
   */
  setNormalization(mode: FeatureNormalization, robustK?: number): void;
  /** Switches the colormap from the next frame on. */
  setColormap(name: ColormapName): void;
  /** Switches between blocky (`'nearest'`) and smoothed (`'bilinear'`) magnification. */
  setSampling(sampling: FeatureSampling): void;
  /**
   * Shows another image of the batch. Throws `InvalidArgumentError` outside 0..(smallest batch − 1), and
   * `DeviceLimitError` when that item of some layer cannot be bound; the view is then unchanged.
   */
  setBatchItem(item: number): void;
  /** The input image over every map at `opacity` (default 0.5); uploaded now, not per frame. null hides it. */
  setOverlay(image: OverlaySource | null, opacity?: number): void;
  /** Zooms the camera onto one map. */
  focusMap(layer: number, channel: number): void;
  /** The map and position under canvas pixel (x, y) for the camera as last drawn, or null. */
  mapAtPixel(x: number, y: number): GridHit | null;
  /** Removes the listeners and labels and frees the GPU objects the view made; layers and stats stay the caller's. */
  destroy(): void;
}

const DEFAULT_BACKGROUND: Rgb = [0.12, 0.12, 0.12];
const MAGENTA: Rgb = [1, 0, 1];
const DEFAULT_OVERLAY_OPACITY = 0.5;

/**
 * Creates a feature-map grid of `options.layers` on `options.canvas`. Everything is checked before the first
 * GPU object is made: throws `InvalidArgumentError` for layers of another engine, stats that do not cover
 * them or a bad setting, and `DeviceLimitError` when the stats or a layer's batch item exceed one storage
 * binding.
 */
export function createFeatureGridView(engine: Engine, options: FeatureGridViewOptions): FeatureGridView {
  const label = options.label ?? 'FeatureGridView';
  const { device } = engine;
  // Everything is checked before the first GPU object is made, so a refused view leaks nothing.
  const bindingLimit = maxBindingBytes(engine, options.maxBindingBytes);
  const columns = options.columns;
  let layers = options.layers;
  let stats = options.stats;
  let layout = checkedGrid(engine, layers, stats, columns, label);
  let batchItem = checkedBatchItem(options.batchItem ?? 0, layers, label);
  checkBindings(engine, layers, batchItem, bindingLimit);
  const settings = {
    mode: normalizationIndex(options.normalization ?? 'channel', options.robustK ?? 3, label),
    robustK: options.robustK ?? 3,
    bilinear: checkedSampling(options.sampling ?? 'nearest', label),
    overlayOpacity: 0,
  };
  const colormapBytes = colormapRgba(options.colormap ?? 'viridis');
  const background = options.background ?? DEFAULT_BACKGROUND;
  const nonFinite = options.nonFiniteColor ?? MAGENTA;

  const pipelines = featureGridPipelines(device);
  const camera = new Camera();
  camera.setBounds(layout.grid.bounds);
  const focus = new MapFocus(camera);
  const surface = createCanvasSurface(engine, options.canvas, (width, height) => focus.setViewport(width, height));
  const viewUniforms = new UniformBuffer(engine, FEATURE_GRID_VIEW_UNIFORMS, `${label}.view`);
  const params: Record<string, number> = {};
  let viewDirty = true;
  let viewCameraVersion = -1;
  const colormap = createColormapTexture(device, label, colormapBytes);
  const overlay = createOverlayTexture(device, `${label}.overlay`);
  const sharedFor = { stats: stats.buffer, statsBytes: layout.statsBytes, overlay: overlay.version };
  let sharedGroup = createSharedGroup();
  const draws: LayerDraw[] = [];
  const drawState: LayerDrawState = { layer: layers[0]!, layout: layout.grid, index: 0, statsOffset: 0, batchItem, bindingLimit };
  updateDraws();

  const beginPass = clearingPass(label, background);
  // Reused by every frame's cull.
  const viewRect: WorldRect = { x: 0, y: 0, width: 0, height: 0 };
  const channels = { first: 0, count: 0 };
  const labels = createSectionLabels(options.canvas, options.labels, label);
  const pointer = attachGridPointer(options.canvas, camera, {
    hitAt: (x, y) => view.mapAtPixel(x, y),
    layers: () => layers,
    batchItem: () => batchItem,
    onHover: options.onHover,
    onSelect: options.onSelect,
    label,
  });
  let destroyed = false;

  function createSharedGroup(): GPUBindGroup {
    sharedFor.stats = stats.buffer;
    sharedFor.statsBytes = layout.statsBytes;
    sharedFor.overlay = overlay.version;
    return device.createBindGroup({
      label: `${label}.sharedBindGroup`,
      layout: pipelines.sharedLayout,
      entries: [
        { binding: 0, resource: { buffer: stats.buffer, size: layout.statsBytes } },
        { binding: 1, resource: colormap.view },
        { binding: 2, resource: overlay.view },
        { binding: 3, resource: overlay.sampler },
        { binding: 4, resource: { buffer: viewUniforms.buffer } },
      ],
    });
  }

  function refreshSharedGroup(): void {
    const same = sharedFor.stats === stats.buffer && sharedFor.statsBytes === layout.statsBytes &&
      sharedFor.overlay === overlay.version;
    if (!same) sharedGroup = createSharedGroup();
  }

  // The live path: same-shaped layers make new bind groups only where a buffer changed.
  function updateDraws(): void {
    const state = drawState;
    state.layout = layout.grid;
    state.batchItem = batchItem;
    for (let i = 0; i < layers.length; i++) {
      draws[i] ??= new LayerDraw(engine, pipelines.layerLayout, `${label}.layer${i}`);
      state.layer = layers[i]!;
      state.index = i;
      state.statsOffset = stats.recordOffsets[i]!;
      draws[i]!.update(state);
    }
    if (draws.length > layers.length) for (const extra of draws.splice(layers.length)) extra.destroy();
  }

  function syncView(): void {
    if (!viewDirty && viewCameraVersion === camera.version) return;
    params['center_x'] = camera.centerX;
    params['center_y'] = camera.centerY;
    params['scale'] = camera.scale;
    params['viewport_w'] = camera.width;
    params['viewport_h'] = camera.height;
    params['robust_k'] = settings.robustK;
    [params['non_finite_r'], params['non_finite_g'], params['non_finite_b']] = nonFinite;
    params['overlay_opacity'] = settings.overlayOpacity;
    viewUniforms.write(params);
    viewDirty = false;
    viewCameraVersion = camera.version;
  }

  function recordDraws(pass: GPURenderPassEncoder): void {
    viewRect.x = camera.centerX - camera.width / 2 / camera.scale;
    viewRect.y = camera.centerY - camera.height / 2 / camera.scale;
    viewRect.width = camera.width / camera.scale;
    viewRect.height = camera.height / camera.scale;
    const { sections } = layout.grid;
    for (let i = 0; i < sections.length; i++) {
      visibleChannels(layout.grid, sections[i]!, viewRect, channels);
      if (channels.count === 0) continue; // the whole section is off screen: no draw at all
      layers[i]!.tensor.assertUsable();
      pass.setBindGroup(1, draws[i]!.bindGroup);
      // Instance = a row of maps (visibleChannels gives whole rows).
      const columns = layout.grid.columns;
      pass.draw(6, Math.ceil(channels.count / columns), 0, channels.first / columns);
    }
  }

  const view: FeatureGridView = {
    camera,
    get layout() {
      return layout.grid;
    },
    get labels() {
      return labels?.shown ?? [];
    },
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
      labels?.update(layout.grid, camera);
    },
    draw(encoder, target, width, height, format = 'rgba8unorm') {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      focus.setViewport(width, height);
      syncView();
      const pass = beginPass(encoder, target);
      pass.setPipeline(pipelines.pipelineFor(format, settings.bilinear, settings.overlayOpacity > 0, settings.mode));
      pass.setBindGroup(0, sharedGroup);
      recordDraws(pass);
      pass.end();
    },
    setLayers(next, nextStats) {
      const keep = sameShapes(layers, next);
      const nextLayout = checkedGrid(engine, next, nextStats, columns, label, keep ? layout : undefined);
      const nextBatchItem = batchItem < smallestBatch(next) ? batchItem : 0;
      checkBindings(engine, next, nextBatchItem, bindingLimit);
      layers = next;
      stats = nextStats;
      layout = nextLayout;
      batchItem = nextBatchItem;
      updateDraws();
      refreshSharedGroup();
      if (!keep) camera.setBounds(layout.grid.bounds); // same geometry: the camera stays where the user left it
      pointer.refresh();
    },
    setNormalization(mode, robustK = settings.robustK) {
      settings.mode = normalizationIndex(mode, robustK, label);
      settings.robustK = robustK;
      viewDirty = true;
    },
    setColormap(name) {
      colormap.write(colormapRgba(name));
    },
    setSampling(sampling) {
      settings.bilinear = checkedSampling(sampling, label);
      viewDirty = true;
    },
    setBatchItem(item) {
      checkedBatchItem(item, layers, label);
      checkBindings(engine, layers, item, bindingLimit);
      batchItem = item;
      updateDraws();
      pointer.refresh();
    },
    setOverlay(image, opacity = DEFAULT_OVERLAY_OPACITY) {
      checkedOpacity(opacity, label);
      // A video still loading has no pixels yet: the last image stays, or none is shown.
      const hasPicture = image !== null && (overlay.upload(image) || overlay.hasPicture);
      settings.overlayOpacity = hasPicture ? opacity : 0;
      refreshSharedGroup();
      viewDirty = true;
    },
    focusMap(layer, channel) {
      const section = layout.grid.sections[layer];
      invalidArgument(section !== undefined, () => `${label}.focusMap: layer must be in 0..${layers.length - 1}; got ${layer}.`);
      invalidArgument(
        Number.isInteger(channel) && channel >= 0 && channel < section.channels,
        () => `${label}.focusMap: layer '${section.name}' has channels 0..${section.channels - 1}; got ${channel}.`,
      );
      focus.focus(mapRect(layout.grid, section, channel));
    },
    mapAtPixel(x, y) {
      return mapAt(layout.grid, camera.pixelToWorld(x, y));
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      pointer.destroy();
      labels?.destroy();
      surface.destroy();
      for (const draw of draws.splice(0)) draw.destroy();
      viewUniforms.destroy();
      colormap.destroy();
      overlay.destroy();
    },
  };
  return view;
}
