// Transformer-views demo: the shipped character-level transformer reads the text on tfjs (on the engine's
// device); its Q, K and P, stacked over layers on the GPU, are wrapped zero-copy and drawn by the head view, the model view, one head's
// heatmap, the neuron view, the text highlighter and the layered graph of rollout / flow. Dropping .npy or
// .safetensors files of P (or Q and K) replaces the model's attention. State for e2e: window.glassboxDemo.
import { createEngine, createFrameLoop, HEAD_PALETTE, type Engine, type HeadFusion, type HeatmapHover } from '../../src/index';
import { loadShippedTransformer, SHIPPED_INDUCTION_HEAD } from '../shared/transformer/shipped';
import type { Transformer } from '../shared/transformer/model';
import { createPanels, type Highlight, type Panels, type Selection } from './panels';
import { fileSource, textSource, type AttentionSource } from './sources';
import { reportDeviceLoss } from '../shared/device-lost';

// Richard III, I.i (public domain), cut to the model's 64-character context; the repeat shows induction.
const DEFAULT_TEXT = 'Now is the winter of our discontent; now is the winter of our d';

interface DemoState {
  ready: boolean;
  framesDrawn: number;
  layers: number;
  heads: number;
  tokens: number;
  selection: Selection | null;
  highlight: string;
  error: string | null;
  /** Selects layer/head/query/key as a click would (e2e). */
  select: (selection: Partial<Selection>) => Promise<void>;
  setHighlight: (mode: Highlight) => Promise<void>;
  /** P as shown, [layers, heads, n, n] row-major, read back (e2e only). */
  readWeights: () => Promise<number[]>;
}
const state: DemoState = {
  ready: false, framesDrawn: 0, layers: 0, heads: 0, tokens: 0, selection: null, highlight: '', error: null,
  select: async () => {}, setHighlight: async () => {}, readWeights: async () => [],
};
(window as unknown as { glassboxDemo: DemoState }).glassboxDemo = state;

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const form = $<HTMLFormElement>('#controls');
const field = <T extends HTMLElement>(name: string) => form.elements.namedItem(name) as T;
const status = $<HTMLElement>('#status');
const canvases = {
  head: $<HTMLCanvasElement>('#head-view'),
  model: $<HTMLCanvasElement>('#model-view'),
  detail: $<HTMLCanvasElement>('#detail-view'),
  neuron: $<HTMLCanvasElement>('#neuron-view'),
  flow: $<HTMLCanvasElement>('#flow-view'),
  text: $<HTMLElement>('#token-text'),
};

function showError(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  status.textContent = state.error;
  status.className = 'error';
}

function showStatus(text: string): void {
  state.error = null;
  status.textContent = text;
  status.className = '';
}

function describeHover(source: AttentionSource, hover: HeatmapHover | null, heads: number): string {
  if (!hover) return '';
  const layer = Math.floor(hover.head / heads);
  const token = (i: number) => `“${source.tokens[i]}” (${i})`;
  return `layer ${layer}, head ${hover.head % heads}: ${token(hover.query)} → ${token(hover.key)}  P = ${hover.value.toPrecision(4)}`;
}

async function main(): Promise<void> {
  const engine = await createEngine();
  reportDeviceLoss(engine, showError);
  const loop = createFrameLoop(engine, 'TransformerDemo');
  loop.onError = showError;
  loop.add({ render: () => (state.framesDrawn += 1) });
  const transformer = await loadShippedTransformer();
  field<HTMLTextAreaElement>('text').value = DEFAULT_TEXT;
  field<HTMLTextAreaElement>('text').maxLength = transformer.config.nCtx;

  let source: AttentionSource | null = null;
  let panels: Panels | null = null;
  let building = Promise.resolve();

  async function show(next: () => Promise<AttentionSource> | AttentionSource): Promise<void> {
    const fresh = await next();
    panels?.destroy();
    source?.dispose();
    source = fresh;
    panels = await createPanels(engine, loop, fresh, canvases, {
      onClickSelect: (next) => void state.select(next),
      onSelect: (selection) => (state.selection = selection),
      onModelHover: (hover) => ($('#model-readout').textContent = describeHover(fresh, hover, fresh.heads) || 'Hover a thumbnail to read a weight.'),
      onDetailHover: (hover) => ($('#detail-readout').textContent = describeHover(fresh, hover, fresh.heads)),
      onHighlight: (text) => ($('#text-title').textContent = state.highlight = text),
      onError: showError,
    }, SHIPPED_INDUCTION_HEAD); // a file with other shapes opens on its last layer instead
    Object.assign(state, { layers: fresh.layers, heads: fresh.heads, tokens: fresh.n });
    fillLayerAndHeads(fresh, panels.selection.layer);
    $<HTMLElement>('#neuron-panel').hidden = fresh.q === null;
    await panels.setRollout(field<HTMLSelectElement>('fusion').value as HeadFusion, Number(field<HTMLInputElement>('discard').value));
    await panels.setHighlight(field<HTMLSelectElement>('highlight').value as Highlight);
    await panels.select({});
    showStatus(`Showing ${fresh.title}. Click a thumbnail or a cell to choose a head, a query and a key.`);
  }

  /** Runs one change after another; an error is shown and the last good picture stays. */
  const queue = (change: () => Promise<void>) => (building = building.then(change).catch(showError));

  state.select = (selection) => queue(async () => panels?.select(selection));
  state.setHighlight = (mode) => queue(async () => panels?.setHighlight(mode));
  state.readWeights = async () => {
    await building;
    return source ? Array.from(await source.weights.read()) : [];
  };
  // The files dropped last, while they are what is shown: the causal box recomputes P from their Q and K.
  let dropped: File[] | null = null;
  const showText = () => queue(() => show(() => textFrom(engine, transformer)).then(() => void (dropped = null)));
  const showFiles = (files: File[]) =>
    queue(() => show(() => fileSource(engine, files, field<HTMLInputElement>('causal').checked)).then(() => void (dropped = files)));
  field<HTMLTextAreaElement>('text').addEventListener('input', showText);
  field<HTMLInputElement>('causal').addEventListener('change', () => {
    if (dropped && source?.q) showFiles(dropped);
  });
  field<HTMLSelectElement>('layer').addEventListener('change', () => state.select({ layer: Number(field<HTMLSelectElement>('layer').value) }));
  field<HTMLSelectElement>('highlight').addEventListener('change', () => state.setHighlight(field<HTMLSelectElement>('highlight').value as Highlight));
  for (const name of ['fusion', 'discard']) {
    field<HTMLElement>(name).addEventListener('change', () =>
      queue(async () => panels?.setRollout(field<HTMLSelectElement>('fusion').value as HeadFusion, Number(field<HTMLInputElement>('discard').value))),
    );
  }
  $('#head-toggles').addEventListener('change', () => {
    const boxes = [...document.querySelectorAll<HTMLInputElement>('#head-toggles input')];
    panels?.setHeads(boxes.map((box) => box.checked));
  });
  attachFileDrop(showFiles);

  await showText();
  loop.start();
  state.ready = state.error === null;
}

function textFrom(engine: Engine, transformer: Transformer): AttentionSource {
  const text = field<HTMLTextAreaElement>('text').value;
  if (text.length === 0) throw new Error('Type some text for the model to read.');
  return textSource(engine, transformer, text);
}

function fillLayerAndHeads(source: AttentionSource, layer: number): void {
  const layerSelect = field<HTMLSelectElement>('layer');
  layerSelect.replaceChildren(...Array.from({ length: source.layers }, (_, l) => new Option(`layer ${l}`, String(l))));
  layerSelect.value = String(layer);
  const toggles = Array.from({ length: source.heads }, (_, h) => {
    const label = document.createElement('label');
    const [r, g, b] = HEAD_PALETTE[h % HEAD_PALETTE.length]!.map((c) => Math.round(c * 255));
    label.style.setProperty('--head-colour', `rgb(${r} ${g} ${b})`);
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: true, name: `head-${h}` });
    label.append(box, ` head ${h}`);
    return label;
  });
  $('#head-toggles').replaceChildren(...toggles);
}

function attachFileDrop(dropped: (files: File[]) => void): void {
  const main = $<HTMLElement>('main');
  window.addEventListener('dragover', (event) => {
    event.preventDefault();
    main.classList.add('dragging');
  });
  window.addEventListener('dragleave', () => main.classList.remove('dragging'));
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    main.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length > 0) dropped(files);
  });
}

main().catch(showError);
