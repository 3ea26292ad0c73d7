// Feature-inversion steps per second, ours against a pure-tfjs implementation of the same objective on the
// same model, in the same run, and the relative feature error ‖f(x) − h_t‖/‖h_t‖ each reaches after 200 steps.
//   objective (both): ‖f(x) − h_t‖²/‖h_t‖² + w_α Σ|x|^6 + w_TV Σ(Δx² + Δy²), the weights of the M&V inversion
//     preset (INVERSION_DEFAULTS: λ_α, λ_TV normalized by H·W·B^α and H·W·V^β); the image x = σ(p) from pixel
//     logits p (pixels parameterization, no decorrelation, sigmoid mapping: the peer writes the same math);
//     Adam(0.05, β1 0.9, β2 0.999, ε 1e-8) on both sides; no transforms; the same seeded initial logits
//     (Lucid's sd 0.01; checked: our initial image is compared with σ(p0) before the run).
//   ours: createOptimization + step(), one step() call per step (our kernels and tfjs's forward/backward
//     through the model, a few submits per step), then the image drawn into a canvas of its size by an
//     ImageView straight from its buffer (a render pass, no readback), as the peer draws every step.
//   peer (inversion-peer.ts): tf.variableGrads of the whole loss, tf.train.adam, tf.browser.toPixels into a
//     canvas of the image size each step, awaited.
// Timing: 200 steps per side, in windows of 10 steps, the sides alternating window by window so that drift
// hits all. A window is wall-clock from its first step to its end: ours waits for the GPU
// (queue.onSubmittedWorkDone) at the end of each window, not after every step; the peer's awaited toPixels
// waits every step by its nature. ours_ms and peer_ms are the medians over the windows after the first
// (warm-up: pipelines) of the per-step time; ratio = ours_ms / peer_ms (below 1: ours is faster), and
// steps_per_s_ratio = peer_ms / ours_ms, its inverse.
// The model alone: a third side times what both sides must run, the layer's taped forward and tfjs's backward
// from a fixed dL/dh G at the start image (seeded into tf.grad as ours seeds it), windowed and waited for as ours is.
// model_ms is its median; ratio_ceiling = peer_ms / model_ms is the most steps/s ratio any implementation
// that runs the model through tfjs could reach in this run, and model_share_of_ours = model_ms / ours_ms.
// model_kernels_ms: where the model's time goes, tfjs's own timing of each kernel of one forward and backward
// (tf.profile, GPU timestamps where the adapter has them), mean over PROFILE_STEPS, by op and input shapes.
// Recording: after the timing, the CPU time each side takes to record and submit one step (median of 15),
// and the dispatches, submits and readbacks one step records; on a GPU fast enough that this model's
// arithmetic costs microseconds, these are what bound the steps per second.
// Errors: after 200 steps each side's image is read back once and put through the same untaped tfjs forward;
// ours_rel_err and peer_rel_err are ‖f(x) − h_t‖/‖h_t‖ in float64; initial_rel_err is that of the shared start.
// max_abs_err is the largest |ours − peer| pixel difference of the two images after 200 steps.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import {
  adam, alphaNorm, createImageView, createOptimization, featureMatch, INVERSION_DEFAULTS, maxAbsDifference, MOVENET_INPUT, pixels,
  seededRandom, tensorFromTf, totalVariation, type Engine, type GpuTensor, type ImageView, type Objective, type Optimization,
} from '../../src/index';
// Internal: what pixels() draws its initial logits from, to hand the peer the same start, and the root
// that seeds tfjs's backward with our dL/dh.
import { normalFloats } from '../../src/optvis/random';
import { backwardFrom } from '../../src/interop/tfjs/optvis-gradient';
import { loadMoveNet } from '../../demos/shared/pretrained-cnn';
import { median, type BenchCase, type CaseResult } from '../harness';
import { createPeerInversion, type PeerInversion } from './inversion-peer';

type InversionParams = { model: string; input: number; layer: string };

const STEPS = 200;
const WINDOW = 10;
const RECORD_SAMPLES = 15;
const PROFILE_STEPS = 3;
const SEED = 7;
const SD = 0.01; // Lucid's initial sd, the pixels parameterization's default
const ADAM = { learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const MOVENET_BLOCK = 'StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/';

export const inversionStepsCase: BenchCase<InversionParams> = {
  name: 'inversion-steps',
  peer: 'tfjs grad+adam+toPixels',
  params: [
    // A seeded tfjs-layers CNN built below (S×S×3; conv 3×3 16 relu, conv 3×3/2 32 relu, conv 3×3/2 32 relu).
    // At 32, SwiftShader's time goes to tfjs's convolutions (~20 ms each here), which both sides run alike.
    // At 16 the same model's arithmetic is a quarter: a step costs mostly what each dispatch, submit and
    // readback costs, as it does on a GPU for a model this small.
    { model: 'seeded-cnn', input: 32, layer: 'conv3' },
    { model: 'seeded-cnn', input: 16, layer: 'conv3' },
    // MoveNet Lightning is supported below ({ model: 'movenet', input: 96, layer: 'block_3_expand_relu' }: a
    // MobileNetV2 block at 24×24×144) but left out: on SwiftShader its 2 × 200 steps ran past 775 s (> 1.9 s
    // a step), over this case's budget. Add the row where a real GPU runs the benchmarks.
  ],
  warmup: 1,
  samples: STEPS / WINDOW - 1,
  setup() {
    throw new Error('inversion-steps measures itself');
  },
  async measure(engine, params, counts) {
    const model = await loadModel(params);
    try {
      return await measureInversion(engine, params, model, Math.max(1, Math.min(counts.warmup, STEPS / WINDOW - 1)));
    } finally {
      model.model.dispose();
    }
  },
};

interface Forward {
  model: tfl.LayersModel | GraphModel;
  /** The layer's activations for a [1, H, W, 3] image in [0, 1], taped. */
  forward(image: tf.Tensor4D): tf.Tensor;
  /** Extra createOptimization options (how the image reaches the model). */
  input: { inputNode?: string; inputRange?: readonly [number, number] };
  layer: string;
}

async function loadModel(params: InversionParams): Promise<Forward> {
  if (params.model === 'movenet') {
    const model = await loadMoveNet();
    const layer = `${MOVENET_BLOCK}${params.layer}/Relu6`;
    const [lo, hi] = MOVENET_INPUT.inputRange!;
    const forward = (image: tf.Tensor4D) =>
      model.execute({ [MOVENET_INPUT.inputNode!]: tf.add(tf.mul(image, hi - lo), lo) }, layer) as tf.Tensor;
    return { model, forward, input: MOVENET_INPUT, layer };
  }
  const model = seededCnn(params.input);
  const output = (model.getLayer(params.layer).output as tfl.SymbolicTensor).name;
  return { model, forward: (image) => model.execute(image, output) as tf.Tensor, input: {}, layer: params.layer };
}

async function measureInversion(engine: Engine, params: InversionParams, f: Forward, warmupWindows: number) {
  const size = params.input;
  const original = smoothImage(size, SEED + 1);
  const targetTf = tf.tidy(() => f.forward(original));
  const target: GpuTensor = tensorFromTf(engine, targetTf, { layout: 'NHWC' });
  const weights = regularizerWeights(size);
  const objective: Objective = featureMatch(f.layer, target)
    .add(alphaNorm(INVERSION_DEFAULTS.alpha).mul(weights.alpha))
    .add(totalVariation(INVERSION_DEFAULTS.beta).mul(weights.tv));
  const initial = normalFloats(size * size * 3, SEED, SD); // what pixels() draws from `seed` (checked below)
  const canvas = Object.assign(document.createElement('canvas'), { width: size, height: size });
  canvas.dataset['bench'] = 'inversion-steps';
  document.body.append(canvas);
  const oursCanvas = Object.assign(document.createElement('canvas'), { width: size, height: size });
  oursCanvas.dataset['bench'] = 'inversion-steps';
  document.body.append(oursCanvas);
  let ours: Optimization | null = null;
  let view: ImageView | null = null;
  let peer: PeerInversion | null = null;
  let modelAlone: ModelAlone | null = null;
  try {
    ours = await createOptimization(engine, {
      model: f.model,
      ...f.input,
      objective,
      parameterization: pixels({ height: size, width: size, decorrelate: false, mapping: 'sigmoid', sd: SD }),
      optimizer: adam(ADAM.learningRate, { beta1: ADAM.beta1, beta2: ADAM.beta2, epsilon: ADAM.epsilon }),
      seed: SEED,
      label: 'bench.inversionSteps',
    });
    const startDifference = maxAbsDifference(await ours.image.read(), initial.map(sigmoid));
    if (!(startDifference < 1e-6)) throw new Error(`inversion-steps: ours starts ${startDifference} away from σ(p0); the peer would not start at the same image.`);
    peer = createPeerInversion({
      forward: f.forward, target: targetTf, initial, height: size, width: size,
      alpha: INVERSION_DEFAULTS.alpha, alphaWeight: weights.alpha, beta: INVERSION_DEFAULTS.beta, tvWeight: weights.tv,
      adam: ADAM, canvas,
    });
    view = createImageView(engine, { canvas: oursCanvas, images: [ours.image], label: 'bench.inversionSteps.view' });
    const o = ours;
    const v = view;
    const p = peer;
    const oursStep = () => {
      o.step();
      const encoder = engine.device.createCommandEncoder({ label: 'bench.inversionSteps.draw' });
      v.render(encoder);
      engine.submit([encoder.finish()]);
    };
    modelAlone = createModelAlone(f, initial.map(sigmoid), targetTf, size);
    const m = modelAlone;
    const times = { ours: [] as number[], peer: [] as number[], model: [] as number[] };
    for (let w = 0; w < STEPS / WINDOW; w++) {
      const oursMs = await timeWindow(async () => {
        for (let i = 0; i < WINDOW; i++) oursStep();
        await engine.device.queue.onSubmittedWorkDone();
      });
      const peerMs = await timeWindow(async () => {
        for (let i = 0; i < WINDOW; i++) await p.step();
      });
      const modelMs = await timeWindow(async () => {
        for (let i = 0; i < WINDOW; i++) m.step();
        engine.submit([]); // flushes tfjs's batched dispatches
        await engine.device.queue.onSubmittedWorkDone();
      });
      if (w >= warmupWindows) {
        times.ours.push(oursMs / WINDOW);
        times.peer.push(peerMs / WINDOW);
        times.model.push(modelMs / WINDOW);
      }
    }
    const reading = await o.readLoss();
    if (o.state !== 'running') throw new Error(`inversion-steps: ours stopped: ${o.stopReason}`);
    const oursImage = await o.image.read();
    const peerImage = await p.readImage();
    // More steps each, after the images were read: what a step records, and the CPU time recording takes.
    const work = { ours: await countGpuWork(async () => oursStep()), peer: await countGpuWork(() => p.step()) };
    const modelKernels = await profileKernels(() => m.step());
    const recording = {
      ours: await recordingMs(oursStep, () => engine.device.queue.onSubmittedWorkDone()),
      peer: await recordingMs(() => p.step(), (stepped) => stepped),
    };
    const [oursMs, peerMs, modelMs] = [median(times.ours), median(times.peer), median(times.model)];
    const result: CaseResult & Record<string, unknown> = {
      name: 'inversion-steps',
      params,
      ours_ms: oursMs,
      peer: 'tfjs grad+adam+toPixels',
      peer_ms: peerMs,
      ratio: oursMs / peerMs,
      ours_bytes: 0, // not measured: this case is about steps per second and error
      peer_bytes: 0,
      max_abs_err: maxAbsDifference(oursImage, peerImage),
      steps: STEPS,
      timed_steps: times.ours.length * WINDOW,
      ours_steps_per_s: 1000 / oursMs,
      peer_steps_per_s: 1000 / peerMs,
      steps_per_s_ratio: peerMs / oursMs,
      initial_rel_err: await relativeError(f, initial.map(sigmoid), targetTf, size),
      ours_rel_err: await relativeError(f, oursImage, targetTf, size),
      peer_rel_err: await relativeError(f, peerImage, targetTf, size),
      // The model's taped forward and backward alone, timed with the two sides (see the header).
      model_ms: modelMs,
      ratio_ceiling: peerMs / modelMs,
      model_share_of_ours: modelMs / oursMs,
      model_kernels_ms: modelKernels,
      ours_loss_at_200: reading.total, // our own reading of the loss of the image step 200 started from
      // What one more step records, counted on each side after the timing (hardware-independent).
      ours_dispatches_per_step: work.ours.dispatches,
      peer_dispatches_per_step: work.peer.dispatches,
      ours_submits_per_step: work.ours.submits,
      peer_submits_per_step: work.peer.submits,
      ours_readbacks_per_step: work.ours.readbacks,
      peer_readbacks_per_step: work.peer.readbacks,
      // CPU milliseconds to record and submit one step (the synchronous part: ours all of step() and the
      // draw; the peer's minimize() and the start of toPixels), median of RECORD_SAMPLES: on a GPU that runs
      // this model's arithmetic in microseconds, the bound on steps per second.
      ours_record_ms: recording.ours,
      peer_record_ms: recording.peer,
      record_ratio: recording.ours / recording.peer,
    };
    return { result, wall: { ours_wall_ms: oursMs, peer_wall_ms: peerMs } };
  } finally {
    view?.destroy();
    ours?.destroy();
    peer?.dispose();
    modelAlone?.dispose();
    target.destroy();
    tf.dispose([targetTf, original]);
    canvas.remove();
    oursCanvas.remove();
  }
}

interface ModelAlone {
  /** One taped forward of the layer and tfjs's backward from G: recorded, not waited for. */
  step(): void;
  dispose(): void;
}

/**
 * What every step of both sides runs: the layer's taped forward at `image` and tfjs's backward from
 * G = 2(f(image) − h_t)/‖h_t‖², the feature term's dL/dh there (the arithmetic does not depend on G's values).
 */
function createModelAlone(f: Forward, image: Float32Array, target: tf.Tensor, size: number): ModelAlone {
  const x = tf.tensor4d(image, [1, size, size, 3]);
  const seed = tf.tidy(() => tf.div(tf.mul(tf.sub(f.forward(x), target), 2), tf.sum(tf.square(target))));
  // The backward starts from G itself, by the root ours uses: no Σ f ⊙ G and its gradient.
  const vjp = tf.grad((v: tf.Tensor) => backwardFrom([f.forward(v as tf.Tensor4D)], [seed]));
  return {
    step: () => vjp(x).dispose(),
    dispose: () => tf.dispose([x, seed]),
  };
}

/**
 * Mean milliseconds of each tfjs kernel `step` runs, keyed by op and input shapes, over PROFILE_STEPS
 * profiled runs, slowest first; kernels of under 0.05 ms are left out. Kernel times are GPU timestamps when
 * the adapter has timestamp-query; without it tfjs gives none, and the result is empty.
 */
async function profileKernels(step: () => void): Promise<Record<string, number>> {
  const total = new Map<string, number>();
  for (let run = 0; run < PROFILE_STEPS; run++) {
    const info = await tf.profile(step);
    for (const kernel of info.kernels) {
      const ms = await kernel.kernelTimeMs;
      if (typeof ms !== 'number') continue;
      const key = `${kernel.name} ${kernel.inputShapes.map((shape) => `[${shape.join(',')}]`).join(' ')}`;
      total.set(key, (total.get(key) ?? 0) + ms / PROFILE_STEPS);
    }
  }
  const rows = [...total].filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows.map(([key, ms]) => [key, Math.round(ms * 100) / 100]));
}

async function timeWindow(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/**
 * Median CPU time of `start()`'s synchronous part over RECORD_SAMPLES runs, each followed by `settle` on
 * what it returned (not timed), so that no run records while the last one's work is still queued.
 */
async function recordingMs<T>(start: () => T, settle: (started: T) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RECORD_SAMPLES; i++) {
    const begun = performance.now();
    const started = start();
    times.push(performance.now() - begun);
    await settle(started);
  }
  return median(times);
}

/**
 * Compute dispatches, queue submits and buffer mappings (readbacks) recorded while `run` runs, by wrapping
 * the WebGPU prototypes every caller goes through, ours and tfjs's alike; restored afterwards.
 */
async function countGpuWork(run: () => Promise<void>): Promise<{ dispatches: number; submits: number; readbacks: number }> {
  const counts = { dispatches: 0, submits: 0, readbacks: 0 };
  const restore = [
    countCalls(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', () => counts.dispatches++),
    countCalls(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', () => counts.dispatches++),
    countCalls(GPUQueue.prototype, 'submit', () => counts.submits++),
    countCalls(GPUBuffer.prototype, 'mapAsync', () => counts.readbacks++),
  ];
  try {
    await run();
  } finally {
    for (const undo of restore) undo();
  }
  return counts;
}

function countCalls<T extends object, K extends keyof T>(target: T, method: K, count: () => void): () => void {
  const original = target[method] as (...args: unknown[]) => unknown;
  target[method] = function (this: unknown, ...args: unknown[]) {
    count();
    return original.apply(this, args);
  } as T[K];
  return () => { target[method] = original as T[K]; };
}

/** The inversion preset's regularizer weights for an S×S image (M&V's normalization). */
function regularizerWeights(size: number): { alpha: number; tv: number } {
  const d = INVERSION_DEFAULTS;
  const pixelsCount = size * size;
  const variation = d.range / d.variationRatio;
  return { alpha: d.alphaWeight / (pixelsCount * d.range ** d.alpha), tv: d.tvWeight / (pixelsCount * variation ** d.beta) };
}

/** ‖f(image) − h_t‖ / ‖h_t‖ in float64, from one untaped forward of the read-back image. */
async function relativeError(f: Forward, image: Float32Array, target: tf.Tensor, size: number): Promise<number> {
  const h = tf.tidy(() => f.forward(tf.tensor4d(image, [1, size, size, 3])));
  const [got, want] = await Promise.all([h.data(), target.data()]);
  h.dispose();
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    difference += (got[i]! - want[i]!) ** 2;
    norm += want[i]! ** 2;
  }
  return Math.sqrt(difference / norm);
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** A smooth seeded S×S image in [0, 1] (two plane waves per colour, seeded phases): what inversion recovers. */
function smoothImage(size: number, seed: number): tf.Tensor4D {
  const random = seededRandom(seed);
  const phase = Array.from({ length: 6 }, () => random() * 2 * Math.PI);
  const data = Float32Array.from({ length: size * size * 3 }, (_, i) => {
    const [c, x, y] = [i % 3, Math.floor(i / 3) % size, Math.floor(i / (3 * size))];
    return 0.5 + 0.3 * Math.sin(2 * Math.PI * (2 * y / size + (1.4 * x) / size) + phase[c]!) +
      0.15 * Math.cos(2 * Math.PI * ((3 * x) / size - (0.8 * y) / size) + phase[c + 3]!);
  });
  return tf.tensor4d(data, [1, size, size, 3]);
}

/** Three convolutions with seeded Glorot weights and small seeded biases; the model's output is conv3. */
function seededCnn(size: number): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, 3] });
  let h: tfl.SymbolicTensor = input;
  [{ filters: 16, strides: 1 }, { filters: 32, strides: 2 }, { filters: 32, strides: 2 }].forEach(({ filters, strides }, i) => {
    h = tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 300 + i }),
      biasInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 400 + i }),
      name: `conv${i + 1}`,
    }).apply(h) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: input, outputs: h });
}
