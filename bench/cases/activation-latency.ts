// Latency from a forward pass to pixels: a small seeded tfjs CNN (64×64×3 input, three 3×3 convolutions
// with 16, 32 and 64 channels, the last two with stride 2) runs on tfjs-webgpu, and its three activations
// are drawn as a feature grid on a 512×512 canvas.
//   ours:  capture zero-copy (tensorFromTf) → statistics kernel → grid view, one submit, then
//          queue.onSubmittedWorkDone(); nothing is read back.
//   peer:  the readback route: data() of each activation → the regl fallback (CPU statistics, texture
//          upload, draw) → a 1-pixel readPixels to wait for the GL.
// Both include the forward pass; each sample is wall-clock from predict() to the pixels being done.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  createFeatureGridFallback,
  createFeatureGridView,
  createFeatureStats,
  featureLayer,
  randomFloats,
  STATS_FIELD,
  STATS_RECORD_FLOATS,
  tensorFromTf,
  type CpuFeatureLayer,
  type Engine,
  type FeatureGridFallback,
  type FeatureGridView,
  type FeatureStats,
  type GpuTensor,
} from '../../src/index';
import { median, type BenchCase, type CaseResult } from '../harness';
import { benchCanvas } from './feature-grid';

type LatencyParams = { input: string; layers: number };

const INPUT = [64, 64, 3] as const;
const CONVS = [
  { filters: 16, strides: 1 },
  { filters: 32, strides: 2 },
  { filters: 64, strides: 2 },
] as const;
const COLUMNS = 16;

export const activationLatencyCase: BenchCase<LatencyParams> = {
  name: 'activation-latency',
  peer: 'readback+regl',
  params: [{ input: INPUT.join('x'), layers: CONVS.length }],
  warmup: 2,
  samples: 10,
  setup() {
    throw new Error('activation-latency measures itself');
  },
  async measure(engine, params, counts) {
    const model = seededCnn();
    const x = tf.tensor(randomFloats(INPUT[0] * INPUT[1] * INPUT[2], 77, 1), [1, ...INPUT]);
    const ours = createOurs(engine);
    let peer: FeatureGridFallback | null = null;
    const readbackFrame = async () => {
      const started = performance.now();
      const outputs = model.predict(x) as tf.Tensor[];
      const data = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      const layers = outputs.map((t, i): CpuFeatureLayer => {
        const [batch, height, width, channels] = t.shape as [number, number, number, number];
        return { name: `conv${i + 1}`, layout: 'NHWC', batch, height, width, channels, data: data[i]! };
      });
      tf.dispose(outputs);
      peer ??= createFeatureGridFallback(benchCanvas(), { layers, columns: COLUMNS, interactive: false, autoSize: false });
      peer.update(layers);
      peer.render();
      peer.finish();
      return performance.now() - started;
    };
    try {
      const samples = { ours: [] as number[], peer: [] as number[] };
      for (let i = 0; i < counts.warmup + 1; i++) {
        await ours.frame(model, x);
        await readbackFrame();
      }
      for (let i = 0; i < counts.samples; i++) {
        samples.ours.push(await ours.frame(model, x));
        samples.peer.push(await readbackFrame());
      }
      const [oursMs, peerMs] = [median(samples.ours), median(samples.peer)];
      const maxAbsErr = await statsDifference(ours.stats(), peer!);
      const result: CaseResult = {
        name: 'activation-latency',
        params,
        ours_ms: oursMs,
        peer: 'readback+regl',
        peer_ms: peerMs,
        ratio: oursMs / peerMs,
        ours_bytes: 0, // the activations are tfjs's own buffers; ours adds only statistics and uniforms
        peer_bytes: 0,
        max_abs_err: maxAbsErr, // GPU statistics vs the peer's CPU statistics of the same activations
      };
      return { result, wall: { ours_wall_ms: oursMs, peer_wall_ms: peerMs } };
    } finally {
      ours.destroy();
      (peer as FeatureGridFallback | null)?.destroy();
      model.dispose();
      x.dispose();
      for (const canvas of document.querySelectorAll('canvas[data-bench="feature-grid"]')) canvas.remove();
    }
  },
};

/** Largest difference of min, max, mean and std between our GPU records and the peer's CPU ones. */
async function statsDifference(ours: FeatureStats, peer: FeatureGridFallback): Promise<number | null> {
  const records = await ours.read();
  let worst = 0;
  CONVS.forEach(({ filters }, layer) => {
    const theirs = peer.stats(layer);
    for (let c = 0; c < filters; c++) {
      for (const field of [STATS_FIELD.min, STATS_FIELD.max, STATS_FIELD.mean, STATS_FIELD.std]) {
        const a = records[(ours.recordOffsets[layer]! + c) * STATS_RECORD_FLOATS + field]!;
        worst = Math.max(worst, Math.abs(a - theirs[c * STATS_RECORD_FLOATS + field]!));
      }
    }
  });
  return Number.isFinite(worst) ? worst : null;
}

/** Three convolutions with seeded Glorot weights; the model outputs every activation. */
function seededCnn(): tfl.LayersModel {
  const input = tfl.input({ shape: [...INPUT] });
  const outputs: tfl.SymbolicTensor[] = [];
  let h: tfl.SymbolicTensor = input;
  CONVS.forEach(({ filters, strides }, i) => {
    h = tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 100 + i }),
      biasInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 200 + i }),
      name: `conv${i + 1}`,
    }).apply(h) as tfl.SymbolicTensor;
    outputs.push(h);
  });
  return tfl.model({ inputs: input, outputs });
}

interface OursLatency {
  frame(model: tfl.LayersModel, x: tf.Tensor): Promise<number>;
  /** The statistics records of the last frame, and where each layer's start. */
  stats(): FeatureStats;
  destroy(): void;
}

function createOurs(engine: Engine): OursLatency {
  let stats: FeatureStats | null = null;
  let view: FeatureGridView | null = null;
  let held: GpuTensor[] = [];
  let outputs: tf.Tensor[] = [];
  const release = () => {
    for (const t of held) t.destroy();
    tf.dispose(outputs);
    held = [];
    outputs = [];
  };
  return {
    async frame(model, x) {
      const started = performance.now();
      outputs = model.predict(x) as tf.Tensor[];
      held = outputs.map((t) => tensorFromTf(engine, t, { layout: 'NHWC' }));
      const layers = held.map((t, i) => featureLayer(`conv${i + 1}`, t, 'NHWC'));
      if (!stats || !view) {
        stats = createFeatureStats(engine, layers, { label: 'bench.activationLatency.stats' });
        view = createFeatureGridView(engine, {
          canvas: benchCanvas(), layers, stats, columns: COLUMNS, labels: null, label: 'bench.activationLatency.view',
        });
      } else {
        view.setLayers(layers, stats); // same shapes: new bind groups only
      }
      const encoder = engine.device.createCommandEncoder({ label: 'bench.activationLatency.frame' });
      stats.compute(encoder, layers);
      view.render(encoder);
      engine.submit([encoder.finish()]); // flushes tfjs's forward pass first
      await engine.device.queue.onSubmittedWorkDone();
      const ms = performance.now() - started;
      // The view keeps bind groups on these buffers until the next frame's setLayers replaces them;
      // tfjs may reuse the memory, which only matters for a frame that is not redrawn.
      release();
      return ms;
    },
    stats() {
      if (!stats) throw new Error('activation-latency: no frame was measured');
      return stats;
    },
    destroy() {
      release();
      view?.destroy();
      stats?.destroy();
    },
  };
}
