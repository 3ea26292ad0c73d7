// Attention rollout across 12 layers of 12 heads: our kernels (head mean, + I, row normalization and the
// product chain, in one compute pass) against the same computation as tfjs-webgpu ops: mean over heads
// (a sum of the head slices), add the identity, divide each row by its sum, then a chain of L − 1 matMuls. Both read the same P;
// max_abs_err compares the full rollout R_{L-1}.
import * as tf from '@tensorflow/tfjs-core';
import { createAttentionRolloutKernel, randomSoftmaxRows, tensorFromArray, tensorFromTf } from '../../src/index';
// Not re-exported from src/index.ts yet.
import type { BenchCase } from '../harness';

type RolloutCaseParams = { L: number; H: number; n: number };

export const rolloutCase: BenchCase<RolloutCaseParams> = {
  name: 'rollout',
  peer: 'tfjs-webgpu',
  params: [128, 512].map((n) => ({ L: 12, H: 12, n })),
  warmup: 1,
  samples: 10,
  setup(engine, { L, H, n }) {
    // Softmax rows of logits in [-3, 3): neither flat nor one-hot, as in a trained model.
    const p = tf.tensor(randomSoftmaxRows(L * H * n, n, 1), [L, H, n, n], 'float32');
    const identity = tf.eye(n);
    const pGpu = tensorFromTf(engine, p); // our view of tfjs's own buffer (zero-copy); uploads P now
    const params = { layers: L, heads: H, n, fusion: 'mean' as const, discardRatio: 0 };
    return {
      ours() {
        const kernel = createAttentionRolloutKernel(engine, 'bench.rollout');
        const zeros = new Float32Array(L * n * n);
        const graph = tensorFromArray(engine, zeros, [L, n, n], { label: 'bench.rollout.graph' });
        const rollout = tensorFromArray(engine, zeros, [L, n, n], { label: 'bench.rollout.rollout' });
        const io = { graph: graph.buffer, rollout: rollout.buffer, weights: pGpu.buffer };
        return {
          record: (encoder, timestampWrites) => kernel.record(encoder, io, params, timestampWrites),
          read: () => rollout.readRange((L - 1) * n * n, n * n),
          dispose() {
            kernel.destroy();
            graph.destroy();
            rollout.destroy();
          },
        };
      },
      peer() {
        // Mean over heads as a chain of adds of the head slices. tf.mean(p, 1) transposes P first and took
        // ~9 s of the ~10 s at n = 128 on SwiftShader, which would flatter us; tf.addN of 12 tensors
        // binds 13 storage buffers, over the limit of 10 here, and fails validation.
        const sum = tf.unstack(p, 1).reduce((a, b) => tf.add(a, b));
        const fused = tf.add(tf.div(sum, H), identity); // [L, n, n]
        const graph = tf.div(fused, tf.sum(fused, -1, true)); // keepDims: each row by its own sum
        const layers = tf.unstack(graph);
        let rollout = layers[0]!;
        for (let l = 1; l < L; l++) rollout = tf.matMul(layers[l]!, rollout);
        return rollout;
      },
      dispose() {
        pGpu.destroy();
        tf.dispose([p, identity]);
      },
    };
  },
};
