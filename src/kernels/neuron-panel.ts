// Kernel wrapper for shaders/compute/neuron-panel.wgsl: the neuron view's panel for one (layer, query, key),
// recomputed on the GPU whenever the selection changes; the shapes and the selection are checked here.
import neuronPanelWgsl from '../../shaders/compute/neuron-panel.wgsl?raw';
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import type { GpuTensor } from '../memory/gpu-tensor';
import { UniformBuffer, uniformLayout } from '../memory/uniforms';
import { assertBindingFits, bindingWindow, storageEntry, type BindingWindow } from './kernel-bindings';

/** Per head: layers, heads, tokens and head size shared by Q, K [L, H, n, dh] and P [L, H, n, n]. */
export interface NeuronShape {
  layers: number;
  heads: number;
  n: number;
  dh: number;
}

/** The entry the neuron view explains: query row `query` and key column `key` of layer `layer` (0-based integers). */
export interface NeuronSelection {
  layer: number;
  query: number;
  key: number;
}

/** Statistics per head, in this order, at `stats(h)`. */
export const NEURON_PANEL_STATS = ['score', 'weight', 'vectorMaxAbs', 'productMaxAbs', 'scoreMaxAbs'] as const;

/** Where everything lies in the panel buffer (element offsets); the WGSL header describes the same layout. */
export interface NeuronPanelLayout {
  readonly heads: number;
  readonly n: number;
  readonly dh: number;
  /** Values per head row: q, k, q⊙k (dh each), then the scores and the weights (n each). */
  readonly rowLength: number;
  /** Offsets inside a head row. */
  readonly rows: { readonly q: number; readonly k: number; readonly product: number; readonly scores: number; readonly weights: number };
  /** Start of head h's raw row, display row and statistics. */
  raw(head: number): number;
  display(head: number): number;
  stats(head: number): number;
  /** Elements in the whole panel. */
  readonly size: number;
}

export function neuronPanelLayout(heads: number, n: number, dh: number): NeuronPanelLayout {
  const rowLength = 3 * dh + 2 * n;
  const statsStart = 2 * heads * rowLength;
  return {
    heads,
    n,
    dh,
    rowLength,
    rows: { q: 0, k: dh, product: 2 * dh, scores: 3 * dh, weights: 3 * dh + n },
    raw: (head) => head * rowLength,
    display: (head) => (heads + head) * rowLength,
    stats: (head) => statsStart + head * NEURON_PANEL_STATS.length,
    size: statsStart + heads * NEURON_PANEL_STATS.length,
  };
}

/** Checks Q, K [L, H, n, dh] (or [H, n, dh]: one layer) against P [L, H, n, n] and returns the sizes. */
export function neuronShape(label: string, q: GpuTensor, k: GpuTensor, weights: GpuTensor): NeuronShape {
  for (const [name, tensor] of [['q', q], ['k', k], ['weights', weights]] as const) {
    tensor.assertUsable();
    invalidArgument(
      tensor.shape.length === 3 || tensor.shape.length === 4,
      () => `${label}: ${name} must be [layers, heads, n, ${name === 'weights' ? 'n' : 'dh'}] or [heads, n, ` +
        `${name === 'weights' ? 'n' : 'dh'}]; got [${tensor.shape.join(', ')}].`,
    );
  }
  const four = (shape: readonly number[]) => (shape.length === 3 ? [1, ...shape] : shape) as [number, number, number, number];
  const [layers, heads, n, dh] = four(q.shape);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  invalidArgument(
    same(four(k.shape), [layers, heads, n, dh]),
    () => `${label}: q and k must have the same shape; got q [${q.shape.join(', ')}] and k [${k.shape.join(', ')}].`,
  );
  invalidArgument(
    same(four(weights.shape), [layers, heads, n, n]),
    () => `${label}: weights must be [${layers}, ${heads}, ${n}, ${n}] to match q [${q.shape.join(', ')}]; ` +
      `got [${weights.shape.join(', ')}].`,
  );
  return { layers, heads, n, dh };
}

export function checkNeuronSelection(label: string, shape: NeuronShape, selection: NeuronSelection): void {
  const check = (name: string, value: number, count: number) =>
    invalidArgument(
      Number.isInteger(value) && value >= 0 && value < count,
      () => `${label}: ${name} must be an integer in 0..${count - 1}; got ${String(value)}.`,
    );
  check('layer', selection.layer, shape.layers);
  check('query', selection.query, shape.n);
  check('key', selection.key, shape.n);
}

export interface NeuronPanelIo {
  /** At least neuronPanelLayout(...).size float32 elements, written completely. */
  out: GPUBuffer;
  q: GpuTensor;
  k: GpuTensor;
  weights: GpuTensor;
}

export interface NeuronPanelKernel {
  /** Records the panel for `selection` (checked). One record per submit: parameters are queued at record time. */
  record(encoder: GPUCommandEncoder, io: NeuronPanelIo, selection: NeuronSelection, scale: number): void;
  destroy(): void;
}

const PARAMS = uniformLayout(neuronPanelWgsl, 'Params');

function buildPipeline(device: GPUDevice) {
  const module = shaderModule(device, 'NeuronPanel.module', [neuronPanelWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'NeuronPanel.bindGroupLayout',
    entries: [
      storageEntry(0, 'storage'), // panel
      storageEntry(1, 'read-only-storage'), // q
      storageEntry(2, 'read-only-storage'), // k
      storageEntry(3, 'read-only-storage'), // p
      storageEntry(4, 'uniform'), // params
    ],
  });
  const layout = device.createPipelineLayout({ label: 'NeuronPanel.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = device.createComputePipeline({
    label: 'NeuronPanel.pipeline',
    layout,
    compute: { module, entryPoint: 'neuron_panel', constants: {} },
  });
  return { bindGroupLayout, pipeline };
}

export function createNeuronPanelKernel(engine: Engine, label = 'NeuronPanel'): NeuronPanelKernel {
  const { pipeline, bindGroupLayout } = cachedPerDevice(engine.device, buildPipeline);
  const params = new UniformBuffer(engine, PARAMS, `${label}.params`);
  const alignment = engine.limits.minStorageBufferOffsetAlignment;
  // The bind group covers one layer's window of each input: rebuilt when the layer or a buffer changes.
  let bound: { out: GPUBuffer; q: GPUBuffer; k: GPUBuffer; p: GPUBuffer; layer: number } | null = null;
  let bindGroup: GPUBindGroup | null = null;
  let windows: { q: BindingWindow; k: BindingWindow; p: BindingWindow } | null = null;

  function bindGroupFor(io: NeuronPanelIo, shape: NeuronShape, layer: number): GPUBindGroup {
    const b = bound;
    if (bindGroup && b && b.out === io.out && b.q === io.q.buffer && b.k === io.k.buffer && b.p === io.weights.buffer && b.layer === layer) {
      return bindGroup;
    }
    const perHeadQk = shape.heads * shape.n * shape.dh;
    const perHeadP = shape.heads * shape.n * shape.n;
    windows = {
      q: bindingWindow(layer * perHeadQk, perHeadQk, 4, alignment),
      k: bindingWindow(layer * perHeadQk, perHeadQk, 4, alignment),
      p: bindingWindow(layer * perHeadP, perHeadP, 4, alignment),
    };
    assertBindingFits(label, `one layer of q (${perHeadQk} values)`, windows.q.size, engine.limits);
    assertBindingFits(label, `one layer of the weights (${perHeadP} values)`, windows.p.size, engine.limits);
    const window = (buffer: GPUBuffer, w: BindingWindow) => ({ buffer, offset: w.offset, size: w.size });
    bindGroup = engine.device.createBindGroup({
      label: `${label}.bindGroup`,
      layout: bindGroupLayout,
      entries: [
        { binding: 0, resource: { buffer: io.out } },
        { binding: 1, resource: window(io.q.buffer, windows.q) },
        { binding: 2, resource: window(io.k.buffer, windows.k) },
        { binding: 3, resource: window(io.weights.buffer, windows.p) },
        { binding: 4, resource: { buffer: params.buffer } },
      ],
    });
    bound = { out: io.out, q: io.q.buffer, k: io.k.buffer, p: io.weights.buffer, layer };
    return bindGroup;
  }

  return {
    record(encoder, io, selection, scale) {
      const shape = neuronShape(label, io.q, io.k, io.weights);
      checkNeuronSelection(label, shape, selection);
      invalidArgument(Number.isFinite(scale), () => `${label}: scale must be a finite number; got ${scale}.`);
      const bytes = neuronPanelLayout(shape.heads, shape.n, shape.dh).size * 4;
      invalidArgument(
        io.out.size >= bytes,
        () => `${label}: the panel needs ${bytes} bytes; buffer '${io.out.label}' holds ${io.out.size}.`,
      );
      const group = bindGroupFor(io, shape, selection.layer);
      params.write({
        heads: shape.heads,
        n: shape.n,
        dh: shape.dh,
        query: selection.query,
        key: selection.key,
        scale,
        q_base: windows!.q.base,
        k_base: windows!.k.base,
        p_base: windows!.p.base,
      });
      const pass = encoder.beginComputePass({ label: `${label}.pass` });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(shape.heads);
      pass.end();
    },
    destroy() {
      params.destroy();
      bindGroup = null;
      bound = null;
    },
  };
}
