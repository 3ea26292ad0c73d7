// The neuron view (BertViz's): for layer l, query i and key j, per head, q_i, k_j, q_i ⊙ k_j, the scores of
// q_i against every key and the softmax row P[l,h,i,:], as coloured cells. The panel is computed on the GPU
// (kernels/neuron-panel.ts) when the selection changes and drawn from its buffer; the only readback is the
// per-head s_ij and P_ij for the DOM titles, H·20 bytes once per selection.
import neuronViewWgsl from '../../../shaders/render/neuron-view.wgsl?raw';
import type { Engine } from '../../core/engine';
import { invalidArgument } from '../../core/errors';
import type { FrameParticipant } from '../../core/frame-loop';
import { cachedPerDevice } from '../../core/pipeline-cache';
import { shaderModule } from '../../core/wgsl';
import {
  checkNeuronSelection,
  createNeuronPanelKernel,
  NEURON_PANEL_STATS,
  neuronPanelLayout,
  neuronShape,
  type NeuronPanelLayout,
  type NeuronSelection,
  type NeuronShape,
} from '../../kernels/neuron-panel';
import { createTensorBuffer, GpuTensor } from '../../memory/gpu-tensor';
import { readBufferRange } from '../../memory/readback';
import { UniformBuffer, uniformLayout } from '../../memory/uniforms';
import { createCanvasSurface } from '../canvas-surface';
import { createColormapTexture } from '../colormap-texture';
import type { ColormapName } from '../colormaps';
import { renderPipelinePerFormat } from '../pipeline-per-format';
import { createNeuronLabels, type NeuronHeadSummary } from './labels';
import { neuronViewGeometry, type NeuronViewGeometry } from './layout';
import { clearingPass } from '../clearing-pass';

export type { NeuronHeadSummary } from './labels';
export type { NeuronSelection } from '../../kernels/neuron-panel';

type Rgb = readonly [number, number, number];

/**
 * Options for `createNeuronView`. `layer`, `query` and `key` (default 0) are the first selection; the view
 * reads q, k and weights but owns none of them.
 */
export interface NeuronViewOptions {
  canvas: HTMLCanvasElement;
  /** Queries and keys [layers, heads, n, dh] (or [heads, n, dh]), float32. */
  q: GpuTensor;
  k: GpuTensor;
  /** The attention weights they produced, [layers, heads, n, n] (or [heads, n, n]). */
  weights: GpuTensor;
  layer?: number;
  query?: number;
  key?: number;
  /** Score scale (default 1/√dh). */
  scale?: number;
  /** Colormap of q, k, q⊙k and the scores, values in [−1, 1] (default coolwarm, diverging). */
  colormap?: ColormapName;
  /** Colormap of the P row, values in [0, 1] (default viridis). */
  weightsColormap?: ColormapName;
  background?: Rgb;
  /** Colour of masked scores (P = 0). */
  masked?: Rgb;
  /** Border colour of key j's cells. */
  highlight?: Rgb;
  /** Per-head s_ij and P_ij after each selection change (read back H·20 bytes once). */
  onSummary?: (summary: readonly NeuronHeadSummary[]) => void;
  label?: string;
}

/**
 * BertViz's neuron view drawn by the GPU: for one (layer, query i, key j), per head, q_i, k_j, q_i ⊙ k_j,
 * the scores of q_i against every key and the row P[l, h, i, :] as coloured cells, with DOM titles. Made by
 * `createNeuronView`; add it to a frame loop.
 */
export interface NeuronView extends FrameParticipant {
  /** The panel buffer (neuronPanelLayout): raw values for readouts, display values, statistics. */
  readonly panel: GpuTensor;
  readonly panelLayout: NeuronPanelLayout;
  readonly selection: Readonly<NeuronSelection>;
  /** The geometry as last drawn, in target pixels. */
  readonly geometry: Readonly<NeuronViewGeometry>;
  /** Draws into the canvas's current texture: the view's part of a frame (`frameLoop.add(view)`). */
  render(encoder: GPUCommandEncoder): void;
  /** Recomputes the panel if the selection changed, then draws into any target (tests, export). */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void;
  /** Checked at once; the panel is recomputed at the next draw. */
  setSelection(selection: Partial<NeuronSelection>): void;
  /** Removes the labels and destroys every GPU object the view made, `panel` included (not q, k or weights). */
  destroy(): void;
}

const VIEW_UNIFORMS = uniformLayout(neuronViewWgsl, 'View');
const DEFAULTS = { background: [0.12, 0.12, 0.12], masked: [0.35, 0.35, 0.35], highlight: [1, 0.85, 0.1] } as const;

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'NeuronView.module', [neuronViewWgsl]);
  const texture = (binding: number): GPUBindGroupLayoutEntry => ({
    binding, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'unfilterable-float' },
  });
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'NeuronView.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // panel
      texture(1), // diverging colormap
      texture(2), // sequential colormap (P)
      { binding: 3, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } }, // view
    ],
  });
  const layout = device.createPipelineLayout({ label: 'NeuronView.layout', bindGroupLayouts: [bindGroupLayout] });
  return { bindGroupLayout, pipelineFor: renderPipelinePerFormat(device, 'NeuronView', layout, module) };
}

/**
 * Creates a neuron view on `options.canvas`. Throws `InvalidArgumentError` for tensors of another engine,
 * shapes that do not agree, a selection out of range or a non-finite scale.
 */
export function createNeuronView(engine: Engine, options: NeuronViewOptions): NeuronView {
  const label = options.label ?? 'NeuronView';
  const { q, k, weights, canvas } = options;
  for (const t of [q, k, weights]) invalidArgument(t.engine === engine, () => `${label}: q, k and weights must belong to this engine.`);
  const shape: NeuronShape = neuronShape(label, q, k, weights);
  const selection: NeuronSelection = { layer: options.layer ?? 0, query: options.query ?? 0, key: options.key ?? 0 };
  checkNeuronSelection(label, shape, selection);
  const scale = options.scale ?? 1 / Math.sqrt(shape.dh);
  invalidArgument(Number.isFinite(scale), () => `${label}: scale must be a finite number; got ${scale}.`);

  const { device } = engine;
  const pipelines = cachedPerDevice(device, buildPipelines);
  const panelLayout = neuronPanelLayout(shape.heads, shape.n, shape.dh);
  const panel = new GpuTensor({ engine, buffer: createTensorBuffer(engine, [panelLayout.size], `${label}.panel`), shape: [panelLayout.size] });
  const kernel = createNeuronPanelKernel(engine, `${label}.panelKernel`);
  const uniforms = new UniformBuffer(engine, VIEW_UNIFORMS, `${label}.uniforms`);
  const diverging = createColormapTexture(device, `${label}.diverging`, options.colormap ?? 'coolwarm');
  const sequential = createColormapTexture(device, `${label}.sequential`, options.weightsColormap ?? 'viridis');
  const bindGroup = device.createBindGroup({
    label: `${label}.bindGroup`,
    layout: pipelines.bindGroupLayout,
    entries: [
      { binding: 0, resource: { buffer: panel.buffer } },
      { binding: 1, resource: diverging.view },
      { binding: 2, resource: sequential.view },
      { binding: 3, resource: { buffer: uniforms.buffer } },
    ],
  });
  const [background, masked, highlight] = [options.background ?? DEFAULTS.background, options.masked ?? DEFAULTS.masked, options.highlight ?? DEFAULTS.highlight];
  const beginPass = clearingPass(label, background);
  const geometry: NeuronViewGeometry = { gutter: -1, title: -1, cell: -1, border: -1 };
  const params: Record<string, number> = {
    heads: shape.heads, n: shape.n, dh: shape.dh, row_length: panelLayout.rowLength, display_base: panelLayout.display(0),
    key: 0, gutter: 0, title: 0, cell: 0, border: 0,
    background_r: background[0], background_g: background[1], background_b: background[2],
    masked_r: masked[0], masked_g: masked[1], masked_b: masked[2],
    highlight_r: highlight[0], highlight_g: highlight[1], highlight_b: highlight[2],
  };
  const labels = createNeuronLabels(canvas, shape.heads, label);
  const surface = createCanvasSurface(engine, canvas, () => {});
  let panelDirty = true;
  let uniformsDirty = true;
  let summaryVersion = 0;
  let destroyed = false;

  // One read of every head's statistics, started after the encoder that computed them was submitted (the
  // frame loop and engine.run submit synchronously after recording); a stale result is dropped.
  function readSummary(): void {
    const version = ++summaryVersion;
    const stride = NEURON_PANEL_STATS.length;
    queueMicrotask(() => {
      if (destroyed || version !== summaryVersion) return;
      readBufferRange(engine, panel.buffer, panelLayout.stats(0) * 4, shape.heads * stride * 4)
        .then((bytes) => {
          if (destroyed || version !== summaryVersion) return;
          const stats = new Float32Array(bytes);
          const summary = Array.from({ length: shape.heads }, (_, head) => ({ head, score: stats[head * stride]!, weight: stats[head * stride + 1]! }));
          labels?.setSummary(summary);
          options.onSummary?.(summary);
        })
        .catch((error: unknown) => {
          if (!destroyed) console.warn(`${label}: reading the per-head scores failed:`, error);
        });
    });
  }

  const view: NeuronView = {
    panel,
    panelLayout,
    selection,
    geometry,
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
    },
    draw(encoder, target, width, height, format = 'rgba8unorm') {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      if (panelDirty) {
        kernel.record(encoder, { out: panel.buffer, q, k, weights }, selection, scale);
        panelDirty = false;
        readSummary();
      }
      const pixelsPerCss = canvas.clientWidth > 0 ? width / canvas.clientWidth : 1;
      if (neuronViewGeometry(geometry, width, height, pixelsPerCss, shape)) {
        labels?.place(geometry, 1 / pixelsPerCss);
        uniformsDirty = true;
      }
      if (uniformsDirty) {
        Object.assign(params, geometry);
        params['key'] = selection.key;
        uniforms.write(params);
        uniformsDirty = false;
      }
      const pass = beginPass(encoder, target);
      pass.setPipeline(pipelines.pipelineFor(format));
      pass.setBindGroup(0, bindGroup);
      pass.draw(3);
      pass.end();
    },
    setSelection(next) {
      const merged = { ...selection, ...next };
      checkNeuronSelection(label, shape, merged);
      Object.assign(selection, merged);
      panelDirty = uniformsDirty = true;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      labels?.destroy();
      surface.destroy();
      kernel.destroy();
      uniforms.destroy();
      diverging.destroy();
      sequential.destroy();
      panel.destroy();
    },
  };
  return view;
}
