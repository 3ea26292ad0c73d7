// Feature inversion and activation maximization on MoveNet, live. Each step runs in one submit: the
// parameterization, the model's forward and backward (tfjs, one tf.grad), our dL/dh, regularizer and
// optimizer kernels in place; the right-hand image is drawn from the optimizer's buffer every frame, and
// one scalar (the loss) is read back per frame for the curve. State for e2e: window.glassboxDemo.
import * as tf from '@tensorflow/tfjs-core';
import {
  activationMaximization,
  createLiveStepper,
  createLossCurve,
  exportPng,
  createEngine,
  createFrameLoop,
  createImageView,
  createOptimization,
  inversion,
  MOVENET_INPUT,
  tensorFromTf,
  tensorToTf,
  type Engine,
  type GpuTensor,
  type LossCurve,
  type LiveStepper,
  type Optimization,
} from '../../src/index';
import { SHIPPED_IMAGES } from '../feature-maps/inputs';
import { loadMoveNet, moveNetLayerNames } from '../shared/pretrained-cnn';
import { reportDeviceLoss } from '../shared/device-lost';

type Mode = 'invert' | 'maximize';
interface DemoState {
  ready: boolean;
  /** What the running optimization does (set when it starts, with the counters reset). */
  mode: Mode | null;
  steps: number;
  loss: number | null;
  firstLoss: number | null;
  framesDrawn: number;
  error: string | null;
  /** Form changes queued or being built; 0 once the optimization on screen is the one the form asks for. */
  pending: number;
  /** For leak checks: the engine's live buffers, and tfjs's tensors (the original and the target live there). */
  liveBuffers(): number;
  tfjsTensors(): number;
}
const state: DemoState = {
  ready: false, mode: null, steps: 0, loss: null, firstLoss: null, framesDrawn: 0, error: null, pending: 0,
  liveBuffers: () => 0, tfjsTensors: () => tf.memory().numTensors,
};
(window as unknown as { glassboxDemo: DemoState }).glassboxDemo = state;

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const form = $<HTMLFormElement>('#controls');
const field = <T extends HTMLElement>(name: string) => form.elements.namedItem(name) as T;
const status = $<HTMLElement>('#status');
const PREFIX = /^StatefulPartitionedCall\/center_net_mobile_net_v2fpn_feature_extractor\/model_1\/(model\/)?/;
const PREFIX_ANYWHERE = new RegExp(PREFIX.source.slice(1), 'g');
/** Budget of GPU work per frame; steps per frame adapt to it (at least one: src/optvis/live-stepper.ts). */
const FRAME_BUDGET_MS = 12;

function showError(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  status.textContent = state.error;
  status.className = 'error';
}

async function imagePixels(engine: Engine, name: string, size: number): Promise<GpuTensor> {
  const image = new Image();
  image.src = SHIPPED_IMAGES[name]!;
  await image.decode();
  const canvas = Object.assign(document.createElement('canvas'), { width: size, height: size });
  canvas.getContext('2d')!.drawImage(image, 0, 0, size, size);
  const pixels = tf.tidy(() => tf.div(tf.expandDims(tf.browser.fromPixels(canvas), 0), 255));
  const tensor = tensorFromTf(engine, pixels);
  pixels.dispose();
  return tensor;
}

async function main(): Promise<void> {
  const engine = await createEngine();
  reportDeviceLoss(engine, showError);
  const model = await loadMoveNet();
  const names = moveNetLayerNames(model);
  field<HTMLSelectElement>('layer').append(...names.map((name) => new Option(name.replace(PREFIX, ''), name)));
  field<HTMLSelectElement>('layer').value = names.find((n) => n.endsWith('block_3_expand_relu/Relu6')) ?? names[0]!;
  let plot: LossCurve | null = null;
  const loop = createFrameLoop(engine, 'InversionDemo');
  loop.onError = showError;

  let original = await imagePixels(engine, 'meadow', 96);
  const view = createImageView(engine, { canvas: $<HTMLCanvasElement>('#images'), images: [original], label: 'InversionDemo.images' });
  let optimization: Optimization | null = null;
  let target: GpuTensor | null = null;
  // A reader who asked for reduced motion gets a still page until pressing Start.
  let running = !matchMedia('(prefers-reduced-motion: reduce)').matches;
  if (!running) field<HTMLButtonElement>('run').textContent = 'Start';
  let stepper: LiveStepper | null = null;
  state.liveBuffers = () => engine.liveBufferCount();

  /** The optimization the form asks for, built beside the one on screen; whatever it made is freed if it fails. */
  async function build(mode: Mode, layer: string, size: number): Promise<{ pixels: GpuTensor; goal: GpuTensor | null; created: Optimization }> {
    const made: { destroy(): void }[] = [];
    try {
      const pixels = await imagePixels(engine, field<HTMLSelectElement>('image').value, size);
      made.push(pixels);
      const goal = mode === 'invert' ? layerActivations(engine, model, pixels, layer) : null;
      if (goal) made.push(goal);
      const preset = goal
        ? inversion({ layer, target: goal, height: size, width: size })
        : activationMaximization({ layer, channel: Number(field<HTMLInputElement>('channel').value), height: size, width: size });
      const created = await createOptimization(engine, { model, ...MOVENET_INPUT, ...preset, seed: 1, label: 'InversionDemo' });
      return { pixels, goal, created };
    } catch (error) {
      made.forEach((thing) => thing.destroy());
      throw error;
    }
  }

  /** Replaces the optimization; the old one stays on screen, no longer stepped, until the new one is bound. */
  async function rebuild(): Promise<void> {
    stepper = null;
    const size = Number(field<HTMLSelectElement>('size').value);
    const layer = field<HTMLSelectElement>('layer').value;
    const mode = field<HTMLSelectElement>('mode').value as Mode;
    form.dataset['mode'] = mode;
    const { pixels, goal, created } = await build(mode, layer, size);
    // Frames draw whatever the view has bound: bind the new images before the old ones are destroyed.
    view.setImages([pixels, created.image]);
    optimization?.destroy();
    target?.destroy();
    original.destroy();
    [original, target, optimization] = [pixels, goal, created];
    plot?.destroy();
    // Maximization's loss is a negative mean: a linear axis; inversion's falls by decades: a log axis.
    plot = createLossCurve($<HTMLCanvasElement>('#loss'), { log: mode === 'invert', background: '#1b1b1b', foreground: '#dddddd' });
    stepper = createLiveStepper(created, {
      budgetMs: FRAME_BUDGET_MS,
      onLoss: (loss, stepsPerSecond) => {
        if (created !== optimization) return;
        state.steps = created.steps;
        state.loss = loss.total;
        state.firstLoss ??= loss.total;
        plot?.push(loss.step, { total: loss.total });
        plot?.draw();
        if (created.state === 'stopped') showError(`Stopped: ${created.stopReason}`);
        else status.textContent = `step ${created.steps}: loss ${loss.total.toPrecision(4)} · ${stepsPerSecond.toFixed(1)} steps/s · ` +
          loss.terms.map((t) => `${t.name.replace(PREFIX_ANYWHERE, '')} ${t.value.toPrecision(3)}`).join(' · ');
      },
      // A replaced optimization's read may fail late, its buffers destroyed: only the current one's failures count.
      onError: (error) => created === optimization && showError(error),
    });
    [state.steps, state.loss, state.firstLoss] = [0, null, null];
    state.mode = mode;
    status.className = '';
    status.textContent = `${mode === 'invert' ? 'Inverting' : 'Maximizing a channel of'} ${layer.replace(PREFIX, '')} at ${size}×${size}…`;
  }

  // Rebuilds run one at a time, so two quick changes never build over each other; a change that is
  // still waiting when a newer one arrives is skipped (each rebuild reads the form as it is then).
  let building = Promise.resolve();
  let generation = 0;
  const change = () => {
    const ticket = ++generation;
    state.pending += 1;
    building = building
      .then(() => (ticket === generation ? rebuild() : undefined))
      .catch(showError)
      .finally(() => void (state.pending -= 1));
    return building;
  };

  loop.add({
    compute() {
      if (running) stepper?.frame();
    },
    render(encoder) {
      view.render(encoder);
      state.framesDrawn += 1;
      state.ready ||= optimization !== null;
    },
  });
  loop.start();
  await change();

  form.addEventListener('change', () => void change());
  field<HTMLButtonElement>('run').addEventListener('click', (event) => {
    running = !running;
    (event.target as HTMLButtonElement).textContent = running ? 'Pause' : 'Resume';
  });
  field<HTMLButtonElement>('reset').addEventListener('click', () => {
    optimization?.reset();
    stepper?.restart();
    plot?.clear();
    [state.steps, state.loss, state.firstLoss] = [0, null, null];
  });
  field<HTMLButtonElement>('export').addEventListener('click', () => {
    if (!optimization) return;
    exportPng(optimization.image, { scale: 4 })
      .then((blob) => {
        const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: `glassbox-${field<HTMLSelectElement>('mode').value}.png` });
        link.click();
        URL.revokeObjectURL(link.href);
      })
      .catch(showError);
  });
}

/** The layer's activations for the original image, through the same float input the optimization feeds. */
function layerActivations(engine: Engine, model: Awaited<ReturnType<typeof loadMoveNet>>, image: GpuTensor, layer: string): GpuTensor {
  const [lo, hi] = MOVENET_INPUT.inputRange!;
  const h = tf.tidy(() => {
    const x = tf.add(tf.mul(tensorToTf(image), hi - lo), lo);
    return model.execute({ [MOVENET_INPUT.inputNode!]: x }, layer) as tf.Tensor;
  });
  const target = tensorFromTf(engine, h);
  h.dispose();
  return target;
}

main().catch(showError);
