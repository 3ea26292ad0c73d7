// Feature-maps demo: MoveNet Lightning's every channel of every backbone layer, live. Each update runs the
// forward pass (tfjs, on the engine's device), wraps the activations zero-copy, computes per-channel
// statistics on the GPU and draws the grid from the same buffers, in one submit. The WebGL renderer takes
// the readback route instead (the fallback, and the benchmark's peer). State for e2e: window.glassboxDemo.
import * as tf from '@tensorflow/tfjs-core';
import {
  colormapNames,
  createActivationCapture,
  createEngine,
  createFeatureGridView,
  createFeatureStats,
  createFrameLoop,
  featureLayer,
  type ColormapName,
  type Engine,
  type FeatureGridView,
  type FeatureLayer,
  type FeatureNormalization,
  type FeatureStats,
  WebGpuUnavailableError,
} from '../../src/index';
import { loadMoveNet, moveNetLayerNames, MOVENET_INFO } from '../shared/pretrained-cnn';
import { columnsToFill } from '../../src/render/feature-grid/columns-to-fill';
import { createDetailPanel } from './detail';
import { cameraSource, imageSource, SHIPPED_IMAGES, videoSource, type InputSource } from './inputs';
import { createFrameMeter } from './frame-meter';
import { createFallbackRenderer, type FallbackRenderer } from './fallback';
import { cpuFeatureMaps, useCpuBackend } from './without-webgpu';
import { fileLayers } from './file-layers';
import { reportDeviceLoss } from '../shared/device-lost';

interface DemoState {
  ready: boolean;
  framesDrawn: number;
  forwardPasses: number;
  maps: number;
  layers: number;
  renderer: 'webgpu' | 'webgl';
  nonFinite: number;
  error: string | null;
  /** Zooms the grid onto one map (e2e tests; the same as a click's enlargement, without the panel). */
  focus: (layer: number, channel: number) => void;
}
const state: DemoState = {
  ready: false, framesDrawn: 0, forwardPasses: 0, maps: 0, layers: 0, renderer: 'webgpu', nonFinite: 0, error: null, focus: () => {},
};
(window as unknown as { glassboxDemo: DemoState }).glassboxDemo = state;

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const form = $<HTMLFormElement>('#controls');
const field = <T extends HTMLElement>(name: string) => form.elements.namedItem(name) as T;
const grid = $<HTMLCanvasElement>('#grid');
const inputCanvas = $<HTMLCanvasElement>('#input');
const status = $<HTMLElement>('#status');
const readout = $<HTMLOutputElement>('#readout');

function showError(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  status.textContent = state.error;
  status.className = 'error';
}

function showStatus(text: string): void {
  status.className = '';
  status.textContent = text;
}

const settings = () => ({
  normalization: field<HTMLSelectElement>('normalization').value as FeatureNormalization,
  colormap: field<HTMLSelectElement>('colormap').value as ColormapName,
  sampling: field<HTMLSelectElement>('sampling').value as 'nearest' | 'bilinear',
  overlay: Number(field<HTMLInputElement>('overlay').value),
});

async function main(): Promise<void> {
  field<HTMLSelectElement>('colormap').append(...colormapNames.map((name) => new Option(name, name, name === 'viridis', name === 'viridis')));
  showStatus('Loading MoveNet Lightning from the package files…');
  let engine: Engine;
  try {
    engine = await createEngine();
    reportDeviceLoss(engine, showError);
  } catch (error) {
    if (!(error instanceof WebGpuUnavailableError)) throw error;
    return mainWithoutWebGpu(error.message);
  }
  const model = await loadMoveNet();
  const names = moveNetLayerNames(model);
  const capture = createActivationCapture(engine, model, names, { label: 'FeatureMapsDemo.capture' });
  const shortNames = names.map(shortName);
  const loop = createFrameLoop(engine, 'FeatureMapsDemo');
  loop.onError = showError;
  const meter = createFrameMeter($('#meter'));
  const detail = createDetailPanel(engine, loop);

  let source: InputSource = await imageSource('meadow', SHIPPED_IMAGES.meadow!);
  let inputDirty = true;
  let layers: readonly FeatureLayer[] = [];
  let stats: FeatureStats | null = null;
  let view: FeatureGridView | null = null;
  let fallback: FallbackRenderer | null = null;
  let fileOwned: FeatureLayer[] | null = null; // layers from a dropped file, owned by the demo

  function forward(): readonly FeatureLayer[] {
    source.draw(inputCanvas);
    const input = tf.tidy(() => tf.expandDims(tf.browser.fromPixels(inputCanvas), 0));
    try {
      state.forwardPasses += 1;
      // Short names for the labels and the readout; the buffers are the capture's own.
      return capture.run(input).map((layer, i) => featureLayer(shortNames[i]!, layer.tensor, layer.layout));
    } finally {
      input.dispose();
    }
  }

  /** Gives the grid new activations: same shapes reuse everything; new shapes rebuild stats and view. */
  function present(next: readonly FeatureLayer[]): void {
    const sameShapes = layers.length === next.length && layers.every((l, i) => sameShape(l, next[i]!));
    layers = next;
    if (!sameShapes || !stats) {
      detail.close();
      stats?.destroy();
      stats = createFeatureStats(engine, layers, { label: 'FeatureMapsDemo.stats' });
      view?.destroy();
      view = null;
      state.maps = layers.reduce((sum, l) => sum + l.channels, 0);
      state.layers = layers.length;
    }
    if (state.renderer === 'webgl') {
      fallback ??= createFallbackRenderer(grid, { ...settings(), columns: columnsToFill(layers, grid.clientWidth / Math.max(grid.clientHeight, 1)) });
      fallback.update(layers).catch(showError);
      return;
    }
    if (!view) view = createView(engine, stats);
    else view.setLayers(layers, stats);
    detail.update(layers, stats);
  }

  function createView(engine: Engine, stats: FeatureStats): FeatureGridView {
    const s = settings();
    const created = createFeatureGridView(engine, {
      canvas: grid,
      layers,
      stats,
      normalization: s.normalization,
      colormap: s.colormap,
      sampling: s.sampling,
      columns: columnsToFill(layers, grid.clientWidth / Math.max(grid.clientHeight, 1)),
      onHover: (h) => {
        readout.textContent = h
          ? `${h.name} · channel ${h.channel} · y ${h.y}, x ${h.x}: ${Number.isFinite(h.value) ? h.value.toPrecision(4) : String(h.value)}`
          : 'Hover a map to read a value; click one to enlarge it.';
      },
      onSelect: (hit) => detail.show(layers, hit.layer, hit.channel, stats, settings()).catch(showError),
      label: 'FeatureMapsDemo.grid',
    });
    created.setOverlay(s.overlay > 0 ? inputCanvas : null, s.overlay);
    return created;
  }

  loop.add({
    compute(encoder) {
      if (fileOwned) return;
      const live = field<HTMLInputElement>('live').checked || source.moving;
      if (!inputDirty && !live) return;
      inputDirty = false;
      present(forward());
      if (state.renderer === 'webgpu') stats!.compute(encoder, layers);
      if (view && settings().overlay > 0) view.setOverlay(inputCanvas, settings().overlay);
    },
    render(encoder) {
      if (state.renderer === 'webgpu') view?.render(encoder);
      else fallback?.render();
      state.framesDrawn += 1;
      meter.frame();
      if (!state.ready && state.framesDrawn > 2) {
        state.ready = true;
        showStatus(`${MOVENET_INFO.name}: ${state.layers} layers, ${state.maps.toLocaleString()} feature maps. ${MOVENET_INFO.credit}`);
      }
    },
  });
  loop.start();
  state.focus = (layer, channel) => view?.focusMap(layer, channel);
  watchNonFinite(() => stats);

  async function switchSource(next: Promise<InputSource>): Promise<void> {
    const created = await next;
    source.stop();
    source = created;
    releaseFileLayers();
    inputDirty = true;
    $('#input-figure figcaption').textContent = created.name;
  }

  function releaseFileLayers(): void {
    if (!fileOwned) return;
    for (const layer of fileOwned) layer.tensor.destroy();
    fileOwned = null;
    layers = [];
  }

  function watchNonFinite(current: () => FeatureStats | null): void {
    setInterval(() => {
      const s = current();
      if (!s || state.renderer !== 'webgpu') return;
      s.nonFiniteTotal().then((count) => {
        state.nonFinite = count;
        if (count > 0) showStatus(`${count.toLocaleString()} activations are NaN or ±Inf: drawn in magenta, left out of the statistics.`);
      }).catch(() => {});
    }, 1000);
  }

  form.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement;
    const s = settings();
    if (target.name === 'image') return void switchSource(imageSource(target.value, SHIPPED_IMAGES[target.value]!)).catch(showError);
    if (target.name === 'video' && target.files?.[0]) {
      const file = target.files[0];
      return void switchSource(videoSource(file.name, URL.createObjectURL(file))).catch(showError);
    }
    if (target.name === 'renderer') {
      state.renderer = target.value as 'webgpu' | 'webgl';
      detail.close();
      fallback?.destroy();
      fallback = null;
      view?.destroy();
      view = null;
      inputDirty = true;
      return;
    }
    view?.setNormalization(s.normalization);
    view?.setColormap(s.colormap);
    view?.setSampling(s.sampling);
    view?.setOverlay(s.overlay > 0 ? inputCanvas : null, s.overlay);
    fallback?.configure(s);
    detail.configure(s);
  });
  form.addEventListener('input', (event) => {
    if ((event.target as HTMLInputElement).name === 'overlay') form.dispatchEvent(new Event('change'));
  });
  field<HTMLButtonElement>('camera').addEventListener('click', () => switchSource(cameraSource()).catch(showError));

  const main = $<HTMLElement>('main');
  main.addEventListener('dragover', (event) => event.preventDefault());
  main.addEventListener('drop', (event: DragEvent) => {
    event.preventDefault();
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    if (file.type.startsWith('image/')) return void switchSource(imageSource(file.name, URL.createObjectURL(file))).catch(showError);
    if (file.type.startsWith('video/')) return void switchSource(videoSource(file.name, URL.createObjectURL(file))).catch(showError);
    fileLayers(engine, file)
      .then((fromFile) => {
        releaseFileLayers();
        fileOwned = fromFile;
        present(fromFile);
        const encoder = engine.device.createCommandEncoder({ label: 'FeatureMapsDemo.fileStats' });
        stats!.compute(encoder, fromFile);
        engine.submit([encoder.finish()]);
        showStatus(`${file.name}: ${plural(fromFile.length, 'layer')}, ${plural(state.maps, 'map')}.`);
      })
      .catch(showError); // the grid keeps drawing what it had
  });
}

/** No WebGPU: tfjs on the CPU, activations read back, the regl grid; the shipped images and dropped ones. */
async function mainWithoutWebGpu(reason: string): Promise<void> {
  state.renderer = 'webgl';
  field<HTMLSelectElement>('renderer').disabled = true;
  await useCpuBackend();
  const model = await loadMoveNet();
  const names = moveNetLayerNames(model);
  const maps = cpuFeatureMaps(grid, model, names, names.map(shortName), {
    ...settings(),
    columnsFor: (layers) => columnsToFill(layers, grid.clientWidth / Math.max(grid.clientHeight, 1)),
  });
  let source = await imageSource('meadow', SHIPPED_IMAGES.meadow!);
  const show = async () => {
    source.draw(inputCanvas);
    const layers = await maps.update(inputCanvas);
    state.layers = layers.length;
    state.maps = layers.reduce((sum, l) => sum + l.channels, 0);
    state.forwardPasses += 1;
    showStatus(`WebGPU is unavailable (${reason}); drawing with WebGL from tfjs's CPU backend: ` +
      `${state.layers} layers, ${state.maps.toLocaleString()} feature maps.`);
    state.ready = true;
  };
  const frame = () => {
    maps.render();
    state.framesDrawn += 1;
    requestAnimationFrame(frame);
  };
  await show();
  requestAnimationFrame(frame);
  form.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement;
    if (target.name === 'image') {
      imageSource(target.value, SHIPPED_IMAGES[target.value]!).then((next) => ((source = next), show())).catch(showError);
    } else maps.configure(settings());
  });
}

function sameShape(a: FeatureLayer, b: FeatureLayer): boolean {
  return a.name === b.name && a.layout === b.layout && a.batch === b.batch && a.height === b.height && a.width === b.width && a.channels === b.channels;
}

function plural(count: number, noun: string): string {
  return `${count.toLocaleString()} ${noun}${count === 1 ? '' : 's'}`;
}

function shortName(name: string): string {
  return name.replace(/^StatefulPartitionedCall\/center_net_mobile_net_v2fpn_feature_extractor\/model_1\/(model\/)?/, '');
}

main().catch(showError);
