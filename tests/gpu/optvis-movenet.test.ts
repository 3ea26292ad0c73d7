// Optvis on MoveNet Lightning (a GraphModel whose int32 input blocks gradients). Spike result: feeding the
// float image to the Cast node itself fails in the backward (tfjs's Unpack gradient gets one tensor, not a
// list, for the graph's batch-1 unstack: "Argument tensors passed to stack must be a `Tensor[]`"), so the
// image goes to 'StatefulPartitionedCall/stack', the [1, H, W, 3] float node after Cast → unstack → no-op
// resize → stack, before the graph's own rescaling. GraphModel.execute accepts it as an input, any size
// works (96 and 192 tested), and tf.grad gives a finite, non-zero gradient there.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import modelUrl from '../../node_modules/@vladmandic/human/models/movenet-lightning.json?url';
import weightsUrl from '../../node_modules/@vladmandic/human/models/movenet-lightning.bin?url';
import { tensorToTf } from '../../src/interop/tfjs/tensors';
import type { GpuTensor } from '../../src/memory/gpu-tensor';
import { channel } from '../../src/optvis/objectives';
import { adam } from '../../src/optvis/optimizers';
import { createOptimization } from '../../src/optvis/optimize';
import { fft } from '../../src/optvis/parameterization';
import { MOVENET_INPUT } from '../../src/optvis/presets';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const CAST = MOVENET_INPUT.inputNode!;
const LAYER = 'StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/block_3_expand_relu/Relu6';
let movenet: GraphModel;
beforeAll(async () => { engine(); movenet = await loadGraphModel(modelUrl, { weightUrlConverter: async () => weightsUrl }); });
afterAll(() => movenet?.dispose());

describe('MoveNet gradient spike', () => {
  for (const size of [96, 192]) {
    it(`tf.grad through the graph to the post-Cast node at ${size}×${size}`, async () => {
      const image = tf.randomUniform([1, size, size, 3], 0, 255, 'float32', 3);
      const t0 = performance.now();
      const grad = tf.grad((x: tf.Tensor) => {
        const h = movenet.execute({ [CAST]: x }, LAYER) as tf.Tensor;
        return tf.mean(tf.slice(h, [0, 0, 0, 7], [-1, -1, -1, 1]));
      })(image);
      const values = await grad.data();
      const ms = performance.now() - t0;
      let finite = true;
      let nonZero = 0;
      for (const v of values) { if (!Number.isFinite(v)) finite = false; if (v !== 0) nonZero++; }
      console.log(`MoveNet ${size}: grad shape [${grad.shape}], non-zero ${nonZero}/${values.length}, ${ms.toFixed(0)} ms`);
      expect(grad.shape).toEqual([1, size, size, 3]);
      expect(finite).toBe(true);
      expect(nonZero).toBeGreaterThan(values.length / 100);
      tf.dispose([image, grad]);
    });
  }
});

describe('channel maximization on MoveNet', () => {
  it('a few Adam steps at 96×96 raise the channel mean; an int32 input without inputNode and a rank-3 node are refused', async () => {
    const mean = async (image: GpuTensor) => {
      const x = tensorToTf(image);
      const scaled = tf.mul(x, 255);
      const h = movenet.execute({ [CAST]: scaled }, LAYER) as tf.Tensor;
      const m = tf.mean(tf.slice(h, [0, 0, 0, 7], [-1, -1, -1, 1]));
      const value = (await m.data())[0]!;
      tf.dispose([x, scaled, h, m]);
      return value;
    };
    await expect(createOptimization(engine(), { model: movenet, objective: channel(LAYER, 7), parameterization: fft({ height: 96, width: 96 }) }))
      .rejects.toThrow(/input 'input' is int32, which gradients cannot flow through; pass inputNode/);
    await expect(createOptimization(engine(), { model: movenet, ...MOVENET_INPUT, objective: channel(LAYER, 999), parameterization: fft({ height: 96, width: 96 }) }))
      .rejects.toThrow(/has channels 0 … 143; got channel 999/);
    // A GraphModel's shapes are known only by running: a rank-3 node is refused at setup, before any step
    // (at 192×192, the size that node's reshape assumes).
    await expect(createOptimization(engine(), { model: movenet, ...MOVENET_INPUT, objective: channel('StatefulPartitionedCall/Reshape_2', 0), parameterization: fft({ height: 192, width: 192 }) }))
      .rejects.toThrow("Optimization: 'StatefulPartitionedCall/Reshape_2' outputs shape [1, 2304, 1] (rank 3); an objective reads a feature map [batch, H, W, C] (rank 4) or units [batch, units] (rank 2).");
    const o = await createOptimization(engine(), {
      model: movenet, ...MOVENET_INPUT, objective: channel(LAYER, 7), parameterization: fft({ height: 96, width: 96 }), optimizer: adam(0.05), seed: 1,
    });
    const before = await mean(o.image);
    o.step(); // first step: shader compilation
    await o.readLoss();
    const t0 = performance.now();
    o.step(4);
    const reading = await o.readLoss();
    const seconds = (performance.now() - t0) / 1000;
    const after = await mean(o.image);
    console.log(`MoveNet ${LAYER.split('/').slice(-2).join('/')}[7], 96×96 fft: mean ${before.toFixed(4)} → ${after.toFixed(4)} in 5 steps; ` +
      `${(4 / seconds).toFixed(2)} steps/s; loss ${reading.total.toFixed(4)}`);
    expect(o.state).toBe('running');
    expect(after).toBeGreaterThan(before);
    o.destroy();
  });
});
