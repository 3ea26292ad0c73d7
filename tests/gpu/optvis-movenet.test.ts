// Optvis on MoveNet Lightning (a GraphModel whose int32 input blocks gradients): the float image is fed to
// the node right after the input's Cast, and tf.grad reaches it through the graph.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import modelUrl from '../../node_modules/@vladmandic/human/models/movenet-lightning.json?url';
import weightsUrl from '../../node_modules/@vladmandic/human/models/movenet-lightning.bin?url';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const CAST = 'StatefulPartitionedCall/stack';
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
