// Token highlighting: the text laid out as DOM spans (it wraps, selects and reads like text) over a canvas
// where each token's box is filled by the GPU with the colour of its value: attention from a chosen token
// (row i of P: offset i·n) or a rollout row. The values are read from their GPU buffer in the vertex shader,
// so choosing another row is a uniform write, never a readback; an automatic vmax (the row's largest value)
// is found by a one-workgroup kernel recorded before the draw, also without a readback. Span boxes are
// measured on layout and resize only, into one small buffer of rectangles.
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import tokenHighlightWgsl from '../../shaders/render/token-highlight.wgsl?raw';
import type { Engine } from '../core/engine';
import { DeviceLimitError, formatBytes, formatCount, invalidArgument } from '../core/errors';
import type { FrameParticipant } from '../core/frame-loop';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import type { GpuTensor } from '../memory/gpu-tensor';
import { UniformBuffer, uniformLayout } from '../memory/uniforms';
import { createCanvasSurface } from './canvas-surface';
import { renderPipelinePerFormat } from './pipeline-per-format';
import { createColormapTexture } from './colormap-texture';
import type { ColormapName } from './colormaps';
import { clearingPass } from './clearing-pass';

type Rgb = readonly [number, number, number];

/**
 * The values mapped onto the colormap's ends; values outside take the end colours. In `setRange`, fields
 * left out keep their current value.
 */
export interface TokenHighlightRange {
  /** Value drawn with the colormap's first entry (default 0). */
  vmin?: number;
  /**
   * Value drawn with its last entry (default 1), or `'max'`: the largest finite value among the n values
   * shown (values[offset .. offset + n)), found on the GPU every frame, so it follows `setOffset` and
   * `setValues` and changes in the values themselves without a readback. When no finite value is above
   * vmin (all ≤ vmin, NaN or ±Infinity), `'max'` stands for vmin + 1.
   */
  vmax?: number | 'max';
}

/**
 * Options for `createTokenHighlight`. The view reads `values` straight from their buffer but does not own
 * them.
 */
export interface TokenHighlightOptions {
  /** Holds the text; the canvas is placed behind it (a static container is made position: relative). */
  container: HTMLElement;
  tokens: readonly string[];
  /** Any float32 tensor; token t is coloured by element offset + t. */
  values: GpuTensor;
  /** First of the n values, e.g. i·n for row i of a [n, n] tensor (default 0). */
  offset?: number;
  range?: TokenHighlightRange;
  colormap?: ColormapName;
  /** Alpha of the highlight over the background: below 1 keeps dark text readable on dark entries (default 0.5). */
  opacity?: number;
  /** Canvas colour under the text, RGB in 0..1 (default white). */
  background?: Rgb;
  label?: string;
}

/**
 * Text as DOM spans over a canvas on which the GPU fills each token's box with the colour of its value
 * (attention from one token, a rollout row). Made by `createTokenHighlight`; add it to a frame loop.
 */
export interface TokenHighlight extends FrameParticipant {
  readonly canvas: HTMLCanvasElement;
  /** One span per token, in order. */
  readonly spans: readonly HTMLSpanElement[];
  readonly offset: number;
  /** Draws into the canvas's current texture: the view's part of a frame (`frameLoop.add(view)`). */
  render(encoder: GPUCommandEncoder): void;
  /** Draws into any texture view that covers the canvas box (tests, export). */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void;
  /** Colours by values[offset .. offset + n): a uniform write. */
  setOffset(offset: number): void;
  /**
   * Colours by another tensor, from element `offset` (default 0) on; the caller still owns both tensors.
   * Throws like `createTokenHighlight` when the tensor cannot hold n values from `offset` or be bound.
   */
  setValues(values: GpuTensor, offset?: number): void;
  /**
   * Changes the colour range. Throws `InvalidArgumentError` unless vmin is finite and vmax is `'max'` or a
   * finite number above vmin.
   */
  setRange(range: TokenHighlightRange): void;
  /** Switches the colormap from the next frame on. */
  setColormap(name: ColormapName): void;
  /** Measures the spans again (the view does this itself on resize; call it after a font or style change). */
  measure(): void;
  /** Removes the spans and the canvas and destroys every GPU object the view made. */
  destroy(): void;
}

type CheckedRange = { vmin: number; vmax: number | 'max' };

const VIEW_UNIFORMS = uniformLayout(tokenHighlightWgsl, 'View');
const DEFAULT_OPACITY = 0.5;
const TEXT_STYLE = 'position:relative;z-index:1;line-height:1.7;color:#111';
const SPAN_STYLE = 'display:inline-block;white-space:pre;padding:0 1px';
const CANVAS_STYLE = 'position:absolute;left:0;top:0;width:100%;height:100%;z-index:0;pointer-events:none;display:block';

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'TokenHighlight.module', [numericsWgsl, tokenHighlightWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'TokenHighlight.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.VERTEX, buffer: { type: 'read-only-storage' } }, // values
      { binding: 1, visibility: GPUShaderStage.VERTEX, buffer: { type: 'read-only-storage' } }, // rects
      { binding: 2, visibility: GPUShaderStage.VERTEX, texture: { sampleType: 'unfilterable-float' } }, // colormap
      { binding: 3, visibility: GPUShaderStage.VERTEX, buffer: { type: 'uniform' } }, // view
      { binding: 5, visibility: GPUShaderStage.VERTEX, buffer: { type: 'read-only-storage' } }, // found vmax
    ],
  });
  const layout = device.createPipelineLayout({ label: 'TokenHighlight.layout', bindGroupLayouts: [bindGroupLayout] });
  // The automatic vmax: values and view in, the one-float buffer out (bound writable here, read-only above).
  const findVmaxBindGroupLayout = device.createBindGroupLayout({
    label: 'TokenHighlight.findVmax.bindGroupLayout',
    entries: [
      { binding: 4, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }, // found vmax
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } }, // values
      { binding: 3, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }, // view
    ],
  });
  const findVmax = device.createComputePipeline({
    label: 'TokenHighlight.findVmax.pipeline',
    layout: device.createPipelineLayout({ label: 'TokenHighlight.findVmax.layout', bindGroupLayouts: [findVmaxBindGroupLayout] }),
    compute: { module, entryPoint: 'find_vmax_main' },
  });
  const blend: GPUBlendState = {
    color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha' },
    alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' },
  };
  const pipelineFor = renderPipelinePerFormat(device, 'TokenHighlight', layout, module, { blend });
  return { bindGroupLayout, pipelineFor, findVmaxBindGroupLayout, findVmax };
}

/**
 * Creates the spans and the canvas behind them in `options.container`, one span per token. Throws
 * `InvalidArgumentError` for no tokens, values of another engine or too few from `offset`, a bad range or
 * an opacity outside (0, 1], and `DeviceLimitError` when the values exceed one storage binding.
 */
export function createTokenHighlight(engine: Engine, options: TokenHighlightOptions): TokenHighlight {
  const label = options.label ?? 'TokenHighlight';
  const { container, tokens } = options;
  invalidArgument(tokens.length > 0, () => `${label}: tokens must not be empty.`);
  const n = tokens.length;
  let values = checkedValues(engine, label, options.values, options.offset ?? 0, n);
  let offset = options.offset ?? 0;
  const range: CheckedRange = checkedRange(label, { vmin: 0, vmax: 1 }, options.range ?? {});
  const opacity = options.opacity ?? DEFAULT_OPACITY;
  invalidArgument(opacity > 0 && opacity <= 1, () => `${label}: opacity must be in (0, 1]; got ${opacity}.`);
  const background = options.background ?? [1, 1, 1];

  const { device } = engine;
  const pipelines = cachedPerDevice(device, buildPipelines);
  const dom = createDom(container, tokens, label);
  const rectData = new Float32Array(4 * n);
  const rects = engine.createBuffer({ label: `${label}.rects`, size: rectData.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const uniforms = new UniformBuffer(engine, VIEW_UNIFORMS, `${label}.uniforms`);
  const foundVmax = engine.createBuffer({ label: `${label}.foundVmax`, size: 4, usage: GPUBufferUsage.STORAGE });
  const params = { offset, count: n, css_width: 1, css_height: 1, lo: 0, inv_range: 1, automatic_vmax: 0, opacity };
  let uniformsDirty = true;
  const colormap = createColormapTexture(device, label, options.colormap ?? 'viridis');
  let bindGroups = createBindGroups();
  const beginPass = clearingPass(label, background);
  const findVmaxPass: GPUComputePassDescriptor = { label: `${label}.findVmax.pass` };
  const surface = createCanvasSurface(engine, dom.canvas, () => {});
  const observer = new ResizeObserver(() => highlight.measure());
  observer.observe(dom.text);
  observer.observe(dom.canvas);
  let destroyed = false;

  function createBindGroups(): { draw: GPUBindGroup; findVmax: GPUBindGroup } {
    const valuesEntry = { binding: 0, resource: { buffer: values.buffer, size: values.byteLength } };
    const viewEntry = { binding: 3, resource: { buffer: uniforms.buffer } };
    return {
      draw: device.createBindGroup({
        label: `${label}.bindGroup`,
        layout: pipelines.bindGroupLayout,
        entries: [
          valuesEntry,
          { binding: 1, resource: { buffer: rects } },
          { binding: 2, resource: colormap.view },
          viewEntry,
          { binding: 5, resource: { buffer: foundVmax } },
        ],
      }),
      findVmax: device.createBindGroup({
        label: `${label}.findVmax.bindGroup`,
        layout: pipelines.findVmaxBindGroupLayout,
        entries: [{ binding: 4, resource: { buffer: foundVmax } }, valuesEntry, viewEntry],
      }),
    };
  }

  const highlight: TokenHighlight = {
    canvas: dom.canvas,
    spans: dom.spans,
    get offset() {
      return offset;
    },
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      highlight.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
    },
    draw(encoder, target, _width, _height, format = 'rgba8unorm') {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      values.assertUsable();
      const automatic = range.vmax === 'max';
      if (uniformsDirty) {
        const invRange = range.vmax === 'max' ? 0 : 1 / (range.vmax - range.vmin);
        Object.assign(params, { offset, lo: range.vmin, inv_range: invRange, automatic_vmax: automatic ? 1 : 0 });
        uniforms.write(params);
        uniformsDirty = false;
      }
      if (automatic) {
        // Every frame, not only on changes: the values may be rewritten on the GPU (a recomputed row).
        const compute = encoder.beginComputePass(findVmaxPass);
        compute.setPipeline(pipelines.findVmax);
        compute.setBindGroup(0, bindGroups.findVmax);
        compute.dispatchWorkgroups(1);
        compute.end();
      }
      const pass = beginPass(encoder, target);
      pass.setPipeline(pipelines.pipelineFor(format));
      pass.setBindGroup(0, bindGroups.draw);
      pass.draw(6, n);
      pass.end();
    },
    setOffset(next) {
      checkedValues(engine, label, values, next, n);
      offset = next;
      uniformsDirty = true;
    },
    setValues(next, nextOffset = 0) {
      values = checkedValues(engine, label, next, nextOffset, n);
      offset = nextOffset;
      bindGroups = createBindGroups();
      uniformsDirty = true;
    },
    setRange(next) {
      Object.assign(range, checkedRange(label, range, next));
      uniformsDirty = true;
    },
    setColormap(name) {
      colormap.write(name);
    },
    measure() {
      if (destroyed) return;
      // Relative to the canvas box, in CSS pixels: the shader maps that box onto whatever target it draws.
      const box = dom.canvas.getBoundingClientRect();
      dom.spans.forEach((span, t) => {
        const r = span.getBoundingClientRect();
        rectData.set([r.left - box.left, r.top - box.top, r.width, r.height], 4 * t);
      });
      device.queue.writeBuffer(rects, 0, rectData);
      params.css_width = Math.max(box.width, 1);
      params.css_height = Math.max(box.height, 1);
      uniformsDirty = true;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      observer.disconnect();
      surface.destroy();
      dom.remove();
      rects.destroy();
      foundVmax.destroy();
      uniforms.destroy();
      colormap.destroy();
    },
  };
  highlight.measure();
  return highlight;
}

interface TokenDom {
  canvas: HTMLCanvasElement;
  text: HTMLElement;
  spans: HTMLSpanElement[];
  remove(): void;
}

/** The canvas behind, the text in front; a newline inside a token shows as ⏎ and breaks the line after it. */
function createDom(container: HTMLElement, tokens: readonly string[], label: string): TokenDom {
  const restorePosition = getComputedStyle(container).position === 'static' ? container.style.position : null;
  if (restorePosition !== null) container.style.position = 'relative';
  const canvas = document.createElement('canvas');
  canvas.dataset['glassbox'] = `${label}.canvas`;
  canvas.style.cssText = CANVAS_STYLE;
  const text = document.createElement('div');
  text.dataset['glassbox'] = `${label}.text`;
  text.style.cssText = TEXT_STYLE;
  const spans = tokens.map((token) => {
    const span = document.createElement('span');
    span.style.cssText = SPAN_STYLE;
    span.textContent = token.replace(/\n/g, '⏎');
    text.append(span);
    if (token.includes('\n')) text.append(document.createElement('br'));
    return span;
  });
  container.prepend(canvas);
  canvas.after(text);
  return {
    canvas,
    text,
    spans,
    remove() {
      canvas.remove();
      text.remove();
      if (restorePosition !== null) container.style.position = restorePosition;
    },
  };
}

function checkedValues(engine: Engine, label: string, values: GpuTensor, offset: number, n: number): GpuTensor {
  values.assertUsable();
  invalidArgument(values.engine === engine, () => `${label}: the values belong to another engine.`);
  invalidArgument(
    Number.isInteger(offset) && offset >= 0 && offset + n <= values.size,
    () => `${label}: ${n} tokens from offset ${offset} need values[${offset}..${offset + n - 1}], but the values ` +
      `tensor [${values.shape.join(', ')}] holds ${formatCount(values.size)} elements.`,
  );
  const limit = engine.limits.maxStorageBufferBindingSize;
  if (values.byteLength > limit) {
    throw new DeviceLimitError(`${label}: values of ${formatBytes(values.byteLength)} exceed this device's ` +
      `maxStorageBufferBindingSize of ${formatBytes(limit)}; pass a tensor that holds only the rows to show.`);
  }
  return values;
}

function checkedRange(label: string, current: CheckedRange, next: TokenHighlightRange): CheckedRange {
  const vmin = next.vmin ?? current.vmin;
  const vmax: unknown = next.vmax ?? current.vmax;
  if (typeof vmax !== 'number') {
    invalidArgument(vmax === 'max', () => `${label}: vmax must be a number or 'max' (the largest value shown); got ${typeof vmax === 'string' ? `'${vmax}'` : String(vmax)}.`);
    invalidArgument(Number.isFinite(vmin), () => `${label}: vmin must be finite with vmax 'max'; got vmin ${vmin}.`);
    return { vmin, vmax };
  }
  invalidArgument(
    Number.isFinite(vmin) && Number.isFinite(vmax) && vmax > vmin,
    () => `${label}: vmin and vmax must be finite with vmax > vmin; got vmin ${vmin}, vmax ${vmax}.`,
  );
  return { vmin, vmax };
}
