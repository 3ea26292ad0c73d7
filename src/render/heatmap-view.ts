// The attention heatmap view: draws P [heads, N, M] from the attention-weights buffer itself, one head or
// a grid of all heads, with pan/zoom (camera + interaction), HiDPI, and a hover readout of one value.
// Everything GPU-side (bind group, uniform buffer, colormap texture, pass descriptor) is made once; a
// frame records one pass and rewrites the uniforms only when the camera or a setting changed.
import type { Engine } from '../core/engine';
import { DeviceLimitError, formatBytes, invalidArgument } from '../core/errors';
import type { FrameParticipant } from '../core/frame-loop';
import type { GpuTensor } from '../memory/gpu-tensor';
import { UniformBuffer } from '../memory/uniforms';
import { Camera } from './camera';
import { createCanvasSurface } from './canvas-surface';
import { createColormapTexture } from './colormap-texture';
import type { ColormapName } from './colormaps';
import { cellAt, heatmapLayout, type HeatmapCell, type HeatmapLayout } from './heatmap-layout';
import { HEATMAP_VIEW_UNIFORMS, heatmapPipelines } from './heatmap-pipelines';
import { createHoverReadout, type HeatmapHover } from './hover-readout';
import { attachInteraction } from './interaction';
import { clearingPass } from './clearing-pass';

/** How values map to colours: `'linear'`, or `'log'` (by log(value) from vmin to vmax; needs vmin > 0). */
export type HeatmapScale = 'linear' | 'log';

/**
 * The values mapped onto the colormap's ends; values outside are clamped to the ends. In `setRange`, fields
 * left out keep their current value.
 */
export interface HeatmapRange {
  /** Value drawn with the colormap's first entry (default 0; 1e-3 on the log scale, which needs > 0). */
  vmin?: number;
  /** Value drawn with the last entry (default 1). */
  vmax?: number;
  scale?: HeatmapScale;
}

/** Options for `createHeatmapView`; the `HeatmapRange` fields set the initial colour range. */
export interface HeatmapViewOptions extends HeatmapRange {
  canvas: HTMLCanvasElement;
  /** Attention weights [heads, N, M] (any leading axes are flattened into heads), float32, row-major. */
  weights: GpuTensor;
  /** One head, or 'all' in a grid of ceil(sqrt(heads)) columns (default 'all'). */
  head?: number | 'all';
  /** Tiles per row for 'all' (default ceil(sqrt(heads))): the number of heads puts one layer per row. */
  columns?: number;
  colormap?: ColormapName;
  /** Colour of the gaps, the background and non-finite values, RGB in 0..1 (default a dark grey). */
  background?: readonly [number, number, number];
  /** The hovered cell and its value (read back four bytes at a time), or null when none is hovered. */
  onHover?: (hover: HeatmapHover | null) => void;
  label?: string;
}

/**
 * An attention heatmap drawn straight from a weights buffer, with pan/zoom and a hover readout. Made by
 * `createHeatmapView`; add it to a frame loop to draw, and call `destroy()` when done.
 */
export interface HeatmapView extends FrameParticipant {
  readonly camera: Camera;
  readonly layout: HeatmapLayout;
  /** Draws into the canvas's current texture: the view's part of a frame (`frameLoop.add(view)`). */
  render(encoder: GPUCommandEncoder): void;
  /** Draws into any texture view of the given pixel size and format (tests, export). */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void;
  /**
   * Shows one head, or every head in a grid, and refits the camera. Throws `InvalidArgumentError` for a
   * head outside 0..heads − 1.
   */
  setHead(head: number | 'all'): void;
  /** Switches the colormap from the next frame on. */
  setColormap(name: ColormapName): void;
  /**
   * Draws another weights tensor of the same engine (the caller still owns both). The camera stays where it
   * is if the shape is unchanged and refits otherwise; a chosen head that no longer exists becomes head 0.
   * Throws as `createHeatmapView` does for weights it cannot draw; the view is then unchanged.
   */
  setWeights(weights: GpuTensor): void;
  /** Changes the colour range; throws `InvalidArgumentError` unless vmax > vmin (and vmin > 0 on the log scale). */
  setRange(range: HeatmapRange): void;
  /** The cell under canvas pixel (x, y) for the camera as last drawn, or null. */
  cellAtPixel(x: number, y: number): HeatmapCell | null;
  /** Removes the listeners and destroys every buffer and texture the view made. */
  destroy(): void;
}

const DEFAULT_BACKGROUND = [0.12, 0.12, 0.12] as const;
const DEFAULT_LOG_VMIN = 1e-3;

/**
 * Creates a heatmap view drawing `options.weights` on `options.canvas`. The view reads the weights but does
 * not own them: keep them alive while it draws and destroy them yourself. Throws `InvalidArgumentError` for
 * weights of another engine or a bad shape, head or range, and `DeviceLimitError` when the weights exceed the
 * device's `maxStorageBufferBindingSize`.
 */
export function createHeatmapView(engine: Engine, options: HeatmapViewOptions): HeatmapView {
  const label = options.label ?? 'HeatmapView';
  const { device } = engine;
  const pipelines = heatmapPipelines(device);
  const camera = new Camera();
  const background = options.background ?? DEFAULT_BACKGROUND;
  const range = checkedRange({ vmin: undefined, vmax: 1, scale: 'linear' }, options);
  let weights = checkedWeights(engine, options.weights);
  let head = options.head ?? 'all';
  const columns = options.columns;
  let layout = heatmapLayout(weights.shape, head, columns);
  camera.setBounds(layout.bounds);

  const uniforms = new UniformBuffer(engine, HEATMAP_VIEW_UNIFORMS, `${label}.uniforms`);
  const params: Record<string, number> = {};
  let uniformsDirty = true;
  let uniformsCameraVersion = -1;
  const colormap = createColormapTexture(device, label, options.colormap ?? 'viridis');
  let bindGroup = createBindGroup();

  const beginPass = clearingPass(label, background);

  const surface = createCanvasSurface(engine, options.canvas, (width, height) => camera.setViewport(width, height));
  const readout = options.onHover ? createHoverReadout(options.onHover) : null;
  let pointer: { x: number; y: number } | null = null;
  const detach = attachInteraction(options.canvas, camera, {
    hover(x, y) {
      pointer = { x, y };
      refreshHover();
    },
    leave() {
      pointer = null;
      refreshHover();
    },
  });
  let destroyed = false;

  function createBindGroup(): GPUBindGroup {
    return device.createBindGroup({
      label: `${label}.bindGroup`,
      layout: pipelines.bindGroupLayout,
      entries: [
        { binding: 0, resource: { buffer: weights.buffer, size: weights.byteLength } },
        { binding: 1, resource: colormap.view },
        { binding: 2, resource: { buffer: uniforms.buffer } },
      ],
    });
  }

  function syncUniforms(): void {
    if (!uniformsDirty && uniformsCameraVersion === camera.version) return;
    const log = range.scale === 'log';
    const lo = log ? Math.log(range.vmin) : range.vmin;
    const hi = log ? Math.log(range.vmax) : range.vmax;
    Object.assign(params, {
      center_x: camera.centerX, center_y: camera.centerY, scale: camera.scale,
      viewport_w: camera.width, viewport_h: camera.height,
      queries: layout.queries, keys: layout.keys, first_head: layout.firstHead,
      shown_heads: layout.shownHeads, cols: layout.cols, gap: layout.gap,
      lo, inv_range: 1 / (hi - lo), log_scale: log ? 1 : 0,
      background_r: background[0], background_g: background[1], background_b: background[2],
    });
    uniforms.write(params);
    uniformsDirty = false;
    uniformsCameraVersion = camera.version;
  }

  function refreshHover(): void {
    if (!readout) return;
    const cell = pointer ? view.cellAtPixel(pointer.x, pointer.y) : null;
    readout.want(cell, weights, layout);
  }

  function relayout(): void {
    layout = heatmapLayout(weights.shape, head, columns);
    camera.setBounds(layout.bounds);
    uniformsDirty = true;
    refreshHover();
  }

  const view: HeatmapView = {
    camera,
    get layout() {
      return layout;
    },
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
    },
    draw(encoder, target, width, height, format = 'rgba8unorm') {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      weights.assertUsable();
      camera.setViewport(width, height);
      syncUniforms();
      const pass = beginPass(encoder, target);
      pass.setPipeline(pipelines.pipelineFor(format));
      pass.setBindGroup(0, bindGroup);
      pass.draw(3);
      pass.end();
    },
    setHead(next) {
      heatmapLayout(weights.shape, next); // validates before anything changes
      head = next;
      relayout();
    },
    setColormap(name) {
      colormap.write(name);
    },
    setWeights(next) {
      checkedWeights(engine, next);
      const { heads, queries, keys } = heatmapLayout(next.shape, 'all');
      const sameShape = heads === layout.heads && queries === layout.queries && keys === layout.keys;
      weights = next;
      if (head !== 'all' && head >= heads) head = 0; // the chosen head no longer exists
      bindGroup = createBindGroup();
      if (sameShape) refreshHover(); // same geometry: keep the camera where the user left it
      else relayout();
    },
    setRange(next) {
      Object.assign(range, checkedRange(range, next));
      uniformsDirty = true;
    },
    cellAtPixel(x, y) {
      const world = camera.pixelToWorld(x, y);
      return cellAt(layout, world.x, world.y);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      readout?.close();
      detach();
      surface.destroy();
      uniforms.destroy();
      colormap.destroy();
    },
  };
  return view;
}

function checkedWeights(engine: Engine, weights: GpuTensor): GpuTensor {
  weights.assertUsable();
  invalidArgument(weights.engine === engine, () => `HeatmapView: the weights belong to another engine.`);
  const limit = engine.limits.maxStorageBufferBindingSize;
  if (weights.byteLength > limit) {
    throw new DeviceLimitError(
      `HeatmapView: weights of shape [${weights.shape.join(', ')}] take ${formatBytes(weights.byteLength)}, more ` +
        `than this device's maxStorageBufferBindingSize of ${formatBytes(limit)}. Show fewer heads or a tiled view.`,
    );
  }
  return weights;
}

/** Merges `next` into `current` and checks the result: vmax > vmin, and vmin > 0 on the log scale. */
function checkedRange(
  current: { vmin: number | undefined; vmax: number; scale: HeatmapScale },
  next: HeatmapRange,
): { vmin: number; vmax: number; scale: HeatmapScale } {
  const scale = next.scale ?? current.scale;
  const defaultVmin = scale === 'log' ? DEFAULT_LOG_VMIN : 0;
  // Switching to log from a range that starts at 0 falls back to the log default instead of failing.
  const keptVmin = current.vmin !== undefined && !(scale === 'log' && current.vmin <= 0) ? current.vmin : defaultVmin;
  const vmin = next.vmin ?? keptVmin;
  const vmax = next.vmax ?? current.vmax;
  invalidArgument(
    Number.isFinite(vmin) && Number.isFinite(vmax) && vmax > vmin,
    () => `HeatmapView: vmin and vmax must be finite with vmax > vmin; got vmin ${vmin}, vmax ${vmax}.`,
  );
  invalidArgument(
    scale !== 'log' || vmin > 0,
    () => `HeatmapView: the log scale needs vmin > 0; got ${vmin}.`,
  );
  return { vmin, vmax, scale };
}
