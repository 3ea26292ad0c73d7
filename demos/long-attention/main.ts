// Long-sequence explorer demo: a long public-domain text through a transformer layer (tfjs) → Q and K on
// the GPU → row statistics (chunked, with progress) → exact tiles on demand, drawn from the tile atlas.
// Drop a .npy / .safetensors file of Q and K to explore your own model. State for e2e: window.glassboxDemo.
import * as tf from '@tensorflow/tfjs-core';
import {
  attentionTensorsFrom,
  colormapNames,
  colormapRgba,
  createEngine,
  createExplorerView,
  createFrameLoop,
  createLongAttention,
  parseNpy,
  parseSafetensors,
  tensorFromArray,
  tensorFromTf,
  tileProducerFor,
  type ColormapName,
  type Engine,
  type ExplorerView,
  type GpuTensor,
  type LongAttention,
  type LongAttentionProfiles,
} from '../../src/index';
import { textQueriesAndKeys } from '../shared/text-transformer';
import shakespeare from './shakespeare.txt?raw';
import { reportDeviceLoss } from '../shared/device-lost';

interface DemoState {
  ready: boolean;
  framesDrawn: number;
  rowStatsDone: boolean;
  overview: number;
  profilesDone: boolean;
  error: string | null;
}
const state: DemoState = { ready: false, framesDrawn: 0, rowStatsDone: false, overview: 0, profilesDone: false, error: null };
(window as unknown as { glassboxDemo: DemoState }).glassboxDemo = state;

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const form = $<HTMLFormElement>('#controls');
const field = <T extends HTMLElement>(name: string) => form.elements.namedItem(name) as T;
const canvas = $<HTMLCanvasElement>('#explorer');
const status = $<HTMLElement>('#status');
const readout = $<HTMLOutputElement>('#readout');
const bar = $<HTMLDivElement>('#progress');

interface Source {
  q: GpuTensor;
  k: GpuTensor;
  tokens: string[] | null;
  name: string;
}

function showError(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  status.textContent = state.error;
  status.className = 'error';
}

function showProgress(what: string, fraction: number, etaMs = NaN): void {
  const percent = Math.round(fraction * 1000) / 10;
  (bar.firstElementChild as HTMLElement).style.width = `${percent}%`;
  bar.setAttribute('aria-valuenow', String(percent));
  const eta = Number.isFinite(etaMs) && fraction < 1 ? `, about ${Math.ceil(etaMs / 1000)} s left` : '';
  bar.querySelector('span')!.textContent = `${what}: ${percent}%${eta}`;
}

function paintColorbar(name: ColormapName, scale: string): void {
  const rgba = colormapRgba(name);
  const stops = [0, 64, 128, 192, 255].map((i) => `rgb(${rgba[i * 4]},${rgba[i * 4 + 1]},${rgba[i * 4 + 2]})`);
  $<HTMLElement>('#colorbar').style.background = `linear-gradient(to right, ${stops.join(',')})`;
  $<HTMLElement>('#colorbar .lo').textContent = scale === 'log' ? 'P ≤ 1e-6' : 'P = 0';
  $<HTMLElement>('#colorbar .hi').textContent = 'P = 1';
}

/** Q and K of a text through one transformer layer (two heads, d = 64), as GpuTensors over tfjs's buffers. */
function textSource(engine: Engine, n: number): Source {
  const qk = textQueriesAndKeys(shakespeare, 2, 64, 11, n);
  const source = { q: tensorFromTf(engine, qk.q), k: tensorFromTf(engine, qk.k), tokens: qk.tokens, name: 'Shakespeare' };
  tf.dispose([qk.q, qk.k]); // the GpuTensors keep tfjs's buffers alive
  return source;
}

async function fileSource(engine: Engine, file: File): Promise<Source> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const named = file.name.endsWith('.npy')
    ? new Map([[file.name, parseNpy(bytes)]])
    : new Map([...parseSafetensors(bytes).tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
  const [layer] = attentionTensorsFrom(named);
  if (!layer) throw new Error(`${file.name} holds no Q and K.`);
  return {
    q: tensorFromArray(engine, layer.q.data, layer.q.shape, { label: `${file.name}:${layer.q.name}` }),
    k: tensorFromArray(engine, layer.k.data, layer.k.shape, { label: `${file.name}:${layer.k.name}` }),
    tokens: null,
    name: `${file.name}, layer ${layer.layer}`,
  };
}

async function main(): Promise<void> {
  const engine = await createEngine();
  reportDeviceLoss(engine, showError);
  const loop = createFrameLoop(engine, 'LongAttentionDemo');
  loop.onError = showError;
  loop.add({ render: () => (state.framesDrawn += 1) });
  loop.start();
  field<HTMLSelectElement>('colormap').append(...colormapNames.map((name) => new Option(name, name)));
  const requested = new URLSearchParams(location.search).get('n');
  if (requested) field<HTMLSelectElement>('n').append(new Option(requested, requested, true, true));

  let source: Source | null = null;
  let attention: LongAttention | null = null;
  let view: ExplorerView | null = null;
  let removeView: (() => void) | null = null;
  let profiles: LongAttentionProfiles | null = null;
  let abort = new AbortController();

  function teardown(): void {
    abort.abort(new Error('replaced'));
    removeView?.();
    view?.destroy();
    profiles?.columnSums.destroy();
    profiles?.entropy.destroy();
    attention?.destroy();
    source?.q.destroy();
    source?.k.destroy();
    [view, attention, source, removeView, profiles] = [null, null, null, null, null];
  }

  async function explore(next: Source): Promise<void> {
    teardown();
    source = next;
    abort = new AbortController();
    state.rowStatsDone = false;
    state.profilesDone = false;
    let profilesStarted = false;
    const causal = field<HTMLInputElement>('causal').checked;
    attention = createLongAttention(engine, next.q, next.k, { causal, label: 'LongAttentionDemo' });
    const { heads, nq, nk } = attention.params;
    field<HTMLSelectElement>('head').replaceChildren(...Array.from({ length: heads }, (_, h) => new Option(`head ${h}`, String(h))));
    status.className = '';
    status.textContent = `${next.name}: ${heads} heads × ${nq.toLocaleString()} queries × ${nk.toLocaleString()} keys.`;
    const started = performance.now();
    await attention.computeRowStats({
      signal: abort.signal,
      onProgress: (p) => showProgress('row statistics', p.fraction, ((performance.now() - started) * (1 - p.fraction)) / Math.max(p.fraction, 1e-9)),
    });
    state.rowStatsDone = true;
    view = createExplorerView(engine, {
      canvas,
      producer: tileProducerFor(engine, attention),
      colormap: field<HTMLSelectElement>('colormap').value as ColormapName,
      scale: field<HTMLSelectElement>('scale').value as 'log' | 'linear',
      pooling: field<HTMLSelectElement>('pooling').value as 'max' | 'mean',
      onProgress: (p) => {
        state.overview = p.fraction;
        showProgress(p.cancelled ? 'overview stopped' : 'overview', p.fraction, p.etaMs);
        if (p.fraction >= 1 && !profilesStarted) {
          profilesStarted = true;
          showAxisProfiles().catch((error) => abort.signal.aborted || showError(error));
        }
      },
      onHover: (h) => {
        if (!h) return void (readout.textContent = 'Hover the matrix to read an exact weight.');
        const token = (i: number) => (next.tokens ? ` “${next.tokens[i]}”` : '');
        readout.textContent = `head ${h.head} · query ${h.query}${token(h.query)} → key ${h.key}${token(h.key)}: ` +
          `P = ${h.weight.toPrecision(5)}, s = ${Number.isFinite(h.score) ? h.score.toPrecision(5) : 'masked'}`;
      },
      label: 'LongAttentionDemo.explorer',
    });
    removeView = loop.add(view);
  }

  // Once the overview is on screen: attention received per key (top) and entropy per query (left).
  async function showAxisProfiles(): Promise<void> {
    const owner = attention;
    const computed = await owner!.profiles({ signal: abort.signal, onProgress: (p) => showProgress('profiles', p.fraction) });
    if (owner !== attention || !view) {
      computed.columnSums.destroy();
      computed.entropy.destroy();
      return;
    }
    profiles = computed;
    view.setProfiles(computed);
    state.profilesDone = true;
    showProgress('overview and profiles', 1);
  }

  function rebuild(): void {
    const n = Number(field<HTMLSelectElement>('n').value);
    explore(textSource(engine, n)).catch((error) => abort.signal.aborted || showError(error));
  }

  form.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement;
    if (target.name === 'n' || target.name === 'causal') return rebuild();
    if (!view) return;
    if (target.name === 'head') view.setHead(Number(target.value));
    if (target.name === 'pooling') view.setPooling(target.value as 'max' | 'mean');
    if (target.name === 'scale') view.setScale(target.value as 'log' | 'linear');
    if (target.name === 'colormap') view.setColormap(target.value as ColormapName);
    if (target.name === 'jump') view.jumpTo(Number(target.value));
    paintColorbar(field<HTMLSelectElement>('colormap').value as ColormapName, field<HTMLSelectElement>('scale').value);
  });
  field<HTMLButtonElement>('cancel').addEventListener('click', () => view?.cancelOverview());
  const main = $<HTMLElement>('main');
  main.addEventListener('dragover', (event) => (event.preventDefault(), main.classList.add('dragging')));
  main.addEventListener('dragleave', () => main.classList.remove('dragging'));
  main.addEventListener('drop', (event) => {
    event.preventDefault();
    main.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file) fileSource(engine, file).then(explore).catch(showError); // a bad file leaves the current view as it was
  });

  paintColorbar(field<HTMLSelectElement>('colormap').value as ColormapName, field<HTMLSelectElement>('scale').value);
  rebuild();
  state.ready = true;
}

main().catch(showError);
