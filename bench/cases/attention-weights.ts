// Attention weights P = softmax(Q Kᵀ / √d) for every head: our in-place kernel (scores and row
// normalization in one [heads, N, N] buffer) against the same three ops in tfjs-webgpu. Both variants
// of ours run: exact (compensated dot products, the library's default) and fast (plain float32
// accumulation, the same arithmetic as tfjs's matMul).
import * as tf from '@tensorflow/tfjs-core';
import { createAttentionWeightsKernel, randomFloats, tensorFromArray, tensorFromTf } from '../../src/index';
import type { BenchCase } from '../harness';

type AttentionCaseParams = { heads: number; N: number; d: number; exact: boolean };

export const attentionWeightsCase: BenchCase<AttentionCaseParams> = {
  name: 'attention-weights',
  peer: 'tfjs-webgpu',
  params: [true, false].flatMap((exact) => [128, 256, 512].map((N) => ({ heads: 4, N, d: 64, exact }))),
  warmup: 1,
  samples: 10,
  setup(engine, { heads, N, d, exact }) {
    const shape = [heads, N, d];
    const scale = 1 / Math.sqrt(d);
    // Logits of a few units, as in a trained model: softmax rows that are neither flat nor one-hot.
    const q = tf.tensor(randomFloats(heads * N * d, 1, 2), shape, 'float32');
    const k = tf.tensor(randomFloats(heads * N * d, 2, 2), shape, 'float32');
    const scaleTensor = tf.scalar(scale);
    // Our views of tfjs's own buffers (zero-copy); this also uploads Q and K before anything is counted.
    const qGpu = tensorFromTf(engine, q);
    const kGpu = tensorFromTf(engine, k);
    const params = { batch: heads, nq: N, nk: N, d, scale, causal: false, keyLength: N, exact };
    return {
      ours() {
        const kernel = createAttentionWeightsKernel(engine, 'bench.attentionWeights');
        const p = tensorFromArray(engine, new Float32Array(heads * N * N), [heads, N, N], {
          label: 'bench.attentionWeights.P',
        });
        const io = { out: p.buffer, q: qGpu.buffer, k: kGpu.buffer };
        return {
          record: (encoder, timestampWrites) => kernel.record(encoder, io, params, timestampWrites),
          read: () => p.read(),
          dispose() {
            kernel.destroy();
            p.destroy();
          },
        };
      },
      peer: () => tf.softmax(tf.mul(tf.matMul(q, k, false, true), scaleTensor)),
      dispose() {
        qGpu.destroy();
        kGpu.destroy();
        tf.dispose([q, k, scaleTensor]);
      },
    };
  },
};
