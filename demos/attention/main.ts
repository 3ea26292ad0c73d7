// Attention-weights demo: Q and K from tfjs → attentionWeights (in place, on the GPU) → heatmap view
// drawn from the same buffer every frame. State for the e2e test is published on window.glassboxDemo.
import * as tf from '@tensorflow/tfjs-core';
import {
  attentionWeights,
  colormapNames,
  createEngine,
  createFrameLoop,
  createHeatmapView,
  tensorFromTf,
  type ColormapName,
  type GpuTensor,
  type HeatmapView,
} from '../../src/index';
import { patternQueriesAndKeys, textQueriesAndKeys, type QueriesAndKeys } from './sources';
import { reportDeviceLoss } from '../shared/device-lost';

// Opening of Lewis Carroll, "Alice's Adventures in Wonderland" (1865), in the public domain.
const DEFAULT_TEXT =
  'Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: ' +
  'once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations ' +
  "in it, 'and what is the use of a book,' thought Alice 'without pictures or conversations?' So she was " +
  'considering in her own mind (as well as she could, for the hot day made her feel very sleepy and stupid), ' +
  'whether the pleasure of making a daisy-chain would be worth the trouble of getting up and picking the ' +
  'daisies, when suddenly a White Rabbit with pink eyes ran close by her.';

interface DemoState {
  ready: boolean;
  framesDrawn: number;
  error: string | null;
}
const state: DemoState = { ready: false, framesDrawn: 0, error: null };
(window as unknown as { glassboxDemo: DemoState }).glassboxDemo = state;

const form = document.querySelector<HTMLFormElement>('#controls')!;
const canvas = document.querySelector<HTMLCanvasElement>('#heatmap')!;
const readout = document.querySelector<HTMLOutputElement>('#readout')!;
const status = document.querySelector<HTMLElement>('#status')!;
const field = <T extends HTMLElement>(name: string) => form.elements.namedItem(name) as T;

function showError(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  status.textContent = state.error;
  status.className = 'error';
}

async function main(): Promise<void> {
  const engine = await createEngine();
  reportDeviceLoss(engine, showError);
  const colormapSelect = field<HTMLSelectElement>('colormap');
  colormapSelect.append(...colormapNames.map((name) => new Option(name, name)));
  field<HTMLTextAreaElement>('text').value = DEFAULT_TEXT;

  let source: QueriesAndKeys | null = null;
  let weights: GpuTensor | null = null;
  let view: HeatmapView | null = null;
  const loop = createFrameLoop(engine, 'AttentionDemo');
  loop.onError = showError;
  loop.add({ render: () => (state.framesDrawn += 1) });

  function describeHover(h: { head: number; query: number; key: number; value: number } | null): void {
    if (!h || !source) return void (readout.textContent = 'Hover a cell to read its weight.');
    const name = source.headNames[h.head] ?? `head ${h.head}`;
    readout.textContent =
      `${name} · query ${h.query} “${source.tokens[h.query]}” → key ${h.key} “${source.tokens[h.key]}”: ` +
      `P = ${h.value.toPrecision(4)}`;
  }

  async function rebuild(): Promise<void> {
    const started = performance.now();
    const heads = Number(field<HTMLInputElement>('heads').value);
    const fromText = field<HTMLSelectElement>('source').value === 'text';
    form.dataset['source'] = fromText ? 'text' : 'patterns';
    const next = fromText
      ? textQueriesAndKeys(field<HTMLTextAreaElement>('text').value, heads, 32, 7)
      : patternQueriesAndKeys(Math.max(2, Number(field<HTMLInputElement>('tokens').value)));
    const [q, k] = [tensorFromTf(engine, next.q), tensorFromTf(engine, next.k)];
    try {
      const causal = field<HTMLInputElement>('causal').checked;
      const fresh = await attentionWeights(engine, q, k, { causal, label: 'AttentionDemo.P' });
      if (view) view.setWeights(fresh);
      else view = createView(fresh);
      weights?.destroy();
      weights = fresh;
    } finally {
      q.destroy();
      k.destroy();
      if (source) tf.dispose([source.q, source.k]);
      source = next;
    }
    fillHeadChoices(next.headNames);
    const [h, n] = [next.q.shape[0], next.q.shape[1]];
    status.className = '';
    status.textContent = `${h} heads × ${n} tokens: ready in ${(performance.now() - started).toFixed(1)} ms ` +
      `on ${engine.features.subgroups ? 'a subgroup-capable' : 'a'} WebGPU device; drag, wheel, arrows, +/−, 0.`;
  }

  function createView(fresh: GpuTensor): HeatmapView {
    const created = createHeatmapView(engine, {
      canvas,
      weights: fresh,
      colormap: colormapSelect.value as ColormapName,
      onHover: describeHover,
      label: 'AttentionDemo.heatmap',
    });
    loop.add(created);
    return created;
  }

  function fillHeadChoices(names: string[]): void {
    const select = field<HTMLSelectElement>('head');
    const chosen = select.value;
    select.replaceChildren(new Option('all heads', 'all'), ...names.map((name, h) => new Option(name, String(h))));
    select.value = [...select.options].some((option) => option.value === chosen) ? chosen : 'all';
    view?.setHead(select.value === 'all' ? 'all' : Number(select.value));
  }

  form.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement;
    if (!view) return;
    if (target.name === 'colormap') view.setColormap(target.value as ColormapName);
    else if (target.name === 'scale') view.setRange({ scale: target.value as 'linear' | 'log' });
    else if (target.name === 'head') view.setHead(target.value === 'all' ? 'all' : Number(target.value));
    else rebuild().catch(showError);
  });

  await rebuild();
  loop.start();
  state.ready = true;
}

main().catch(showError);
