// The demo's six panels over one attention source: head view, model view (layers × heads), one head's
// heatmap, neuron view, the text coloured by attention / rollout / flow, and the layered graph across
// layers. Every panel draws from GPU buffers; the only readbacks are the graph for the flow (a CPU
// algorithm, in a worker) and one row's maximum, which sets the colour scale of the text.
import {
  attentionRollout,
  createAttentionFlowWorker,
  createHeadView,
  createHeatmapView,
  createLayeredGraphView,
  createNeuronView,
  createTokenHighlight,
  maxAttentionFlowTokens,
  tensorFromArray,
  type AttentionFlowWorker,
  type Engine,
  type FrameLoop,
  type FrameParticipant,
  type GpuTensor,
  type HeadFusion,
  type HeatmapHover,
} from '../../src/index';
import type { AttentionSource } from './sources';

export type Highlight = 'attention' | 'rollout' | 'flow';

export interface Selection {
  layer: number;
  head: number;
  query: number;
  key: number;
}

export interface PanelCanvases {
  head: HTMLCanvasElement;
  model: HTMLCanvasElement;
  detail: HTMLCanvasElement;
  neuron: HTMLCanvasElement;
  flow: HTMLCanvasElement;
  text: HTMLElement;
}

export interface PanelEvents {
  /**
   * A thumbnail or a cell was clicked. The demo queues `select(next)` behind the changes in flight (a click
   * run beside a rebuild or a rollout change would draw from tensors that are being replaced).
   */
  onClickSelect(next: Partial<Selection>): void;
  /** The selection changed. */
  onSelect(selection: Selection): void;
  onModelHover(hover: HeatmapHover | null): void;
  onDetailHover(hover: HeatmapHover | null): void;
  /** What the text colouring shows now, for its heading. */
  onHighlight(text: string): void;
  onError(error: unknown): void;
}

export interface Panels {
  readonly source: AttentionSource;
  readonly selection: Readonly<Selection>;
  select(next: Partial<Selection>): Promise<void>;
  setHeads(enabled: readonly boolean[]): void;
  setRollout(fusion: HeadFusion, discardRatio: number): Promise<void>;
  setHighlight(mode: Highlight): Promise<void>;
  destroy(): void;
}

export async function createPanels(
  engine: Engine,
  loop: FrameLoop,
  source: AttentionSource,
  canvases: PanelCanvases,
  events: PanelEvents,
  initial: { layer: number; head: number } = { layer: source.layers - 1, head: 0 },
): Promise<Panels> {
  const { layers, heads, n, tokens } = source;
  const fits = initial.layer < layers && initial.head < heads;
  const selection: Selection = fits
    ? { layer: initial.layer, head: initial.head, query: n - 1, key: 0 }
    : { layer: layers - 1, head: 0, query: n - 1, key: 0 };
  let highlight: Highlight = 'attention';
  let rolloutOptions: { fusion: HeadFusion; discardRatio: number } = { fusion: 'mean', discardRatio: 0 };
  const rollout = await attentionRollout(engine, source.weights, { ...rolloutOptions, label: 'TransformerDemo.rollout' });
  // The flow of the current rollout, once asked for; a promise, so that two colourings in flight share one.
  let flow: Promise<GpuTensor> | null = null;
  const flowWorker: AttentionFlowWorker | null = n <= maxAttentionFlowTokens ? createAttentionFlowWorker() : null;

  const shown: { view: { destroy(): void }; remove: () => void }[] = [];
  const show = <T extends FrameParticipant & { destroy(): void }>(view: T): T => {
    shown.push({ view, remove: loop.add(view) });
    return view;
  };

  const headView = show(createHeadView(engine, { canvas: canvases.head, weights: source.weights, layer: selection.layer, tokens, label: 'TransformerDemo.headView' }));
  const modelView = show(createHeatmapView(engine, {
    canvas: canvases.model, weights: source.weights, columns: heads, onHover: events.onModelHover, label: 'TransformerDemo.modelView',
  }));
  const detailView = show(createHeatmapView(engine, {
    canvas: canvases.detail, weights: source.weights, head: headIndex(), onHover: events.onDetailHover, label: 'TransformerDemo.detailView',
  }));
  const neuronView = source.q && source.k
    ? show(createNeuronView(engine, { canvas: canvases.neuron, q: source.q, k: source.k, weights: source.weights, ...selection, label: 'TransformerDemo.neuronView' }))
    : null;
  // vmax 'max': the GPU scales each row to its own largest value, so a new row is drawn without a readback.
  const textView = show(createTokenHighlight(engine, {
    container: canvases.text, tokens, values: source.weights, offset: 0, range: { vmin: 0, vmax: 'max' }, label: 'TransformerDemo.text',
  }));
  const graphView = show(createLayeredGraphView(engine, { canvas: canvases.flow, graph: rollout.graph, tokens, label: 'TransformerDemo.graph' }));

  const detachClicks = [
    onClick(canvases.model, (x, y) => {
      const cell = modelView.cellAtPixel(x, y);
      if (cell) events.onClickSelect({ layer: Math.floor(cell.head / heads), head: cell.head % heads, query: cell.query, key: cell.key });
    }),
    onClick(canvases.detail, (x, y) => {
      const cell = detailView.cellAtPixel(x, y);
      if (cell) events.onClickSelect({ query: cell.query, key: cell.key });
    }),
  ];

  function headIndex(): number {
    return selection.layer * heads + selection.head;
  }

  /** The text's values: a row of P, of the full rollout, or of the flow, all row-major [.., n, n]. */
  async function colourText(): Promise<void> {
    const { query } = selection;
    let values: GpuTensor = source.weights;
    let offset = (headIndex() * n + query) * n;
    let what = `attention of layer ${selection.layer}, head ${selection.head} from “${tokens[query]}” (${query})`;
    if (highlight === 'rollout') {
      values = rollout.rollout;
      offset = ((layers - 1) * n + query) * n;
      what = `rollout (${rolloutOptions.fusion} of heads) from “${tokens[query]}” (${query}) down to the input`;
    } else if (highlight === 'flow') {
      if (!flowWorker) throw new Error(`Attention flow is exact for at most ${maxAttentionFlowTokens} tokens; this source has ${n}.`);
      flow ??= computeFlow(flowWorker);
      values = await flow;
      offset = query * n;
      what = `attention flow from “${tokens[query]}” (${query}) down to the input`;
    }
    textView.setValues(values, offset);
    graphView.setNodeValues(highlight === 'attention' ? null : { tensor: values, offset });
    events.onHighlight(`Text coloured by ${what}.`);
    // The heading's number only: read back after the views have their new row, and no frame waits for it.
    const peak = await rowMaximum(values, offset);
    events.onHighlight(`Text coloured by ${what}; brightest ${peak.toPrecision(3)}.`);
  }

  async function computeFlow(worker: AttentionFlowWorker): Promise<GpuTensor> {
    const graph = await rollout.graph.read();
    const values = await worker.compute(graph, layers, n);
    return tensorFromArray(engine, Float32Array.from(values), [n, n], { label: 'TransformerDemo.flow' });
  }

  /** Forgets the flow (the rollout it came from changed); its tensor is destroyed once it exists. */
  async function dropFlow(): Promise<void> {
    const pending = flow;
    flow = null;
    (await pending?.catch(() => null))?.destroy();
  }

  /** The largest finite value of the row (at least 0), as the text view's vmax 'max' finds it on the GPU. */
  async function rowMaximum(values: GpuTensor, offset: number): Promise<number> {
    const row = await values.readRange(offset, n);
    return row.reduce((max, value) => (Number.isFinite(value) ? Math.max(max, value) : max), 0);
  }

  const panels: Panels = {
    source,
    selection,
    async select(next) {
      Object.assign(selection, next);
      headView.setLayer(selection.layer);
      detailView.setHead(headIndex());
      neuronView?.setSelection({ layer: selection.layer, query: selection.query, key: selection.key });
      headView.focusToken('query', null);
      events.onSelect({ ...selection });
      await colourText();
    },
    setHeads(enabled) {
      headView.setHeads(enabled);
    },
    async setRollout(fusion, discardRatio) {
      rolloutOptions = { fusion, discardRatio };
      await attentionRollout(engine, source.weights, { ...rolloutOptions, out: rollout, label: 'TransformerDemo.rollout' });
      await dropFlow();
      await colourText();
    },
    async setHighlight(mode) {
      highlight = mode;
      await colourText();
    },
    destroy() {
      detachClicks.forEach((detach) => detach());
      for (const { view, remove } of shown.splice(0)) {
        remove();
        view.destroy();
      }
      flowWorker?.destroy();
      void dropFlow();
      rollout.graph.destroy();
      rollout.rollout.destroy();
    },
  };
  await colourText().catch(events.onError);
  return panels;
}

/** A click that was not a drag (the views pan on drag). */
function onClick(canvas: HTMLCanvasElement, clicked: (x: number, y: number) => void): () => void {
  let down: { x: number; y: number } | null = null;
  const press = (event: PointerEvent) => (down = { x: event.clientX, y: event.clientY });
  const release = (event: PointerEvent) => {
    if (down && Math.hypot(event.clientX - down.x, event.clientY - down.y) < 4) {
      const rect = canvas.getBoundingClientRect();
      const scale = rect.width > 0 ? canvas.width / rect.width : 1;
      clicked((event.clientX - rect.left) * scale, (event.clientY - rect.top) * scale);
    }
    down = null;
  };
  canvas.addEventListener('pointerdown', press);
  canvas.addEventListener('pointerup', release);
  return () => {
    canvas.removeEventListener('pointerdown', press);
    canvas.removeEventListener('pointerup', release);
  };
}
