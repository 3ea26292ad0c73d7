// The shipped transformer on the engine's device: loaded through vite's `?url`, its Q, K and P captured as
// GpuTensors over tfjs's own buffers (no copies), equal to the tf tensors, and Glassbox's attention kernel
// recomputes the model's P from the captured Q and K.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureAttention } from '../../demos/shared/transformer/capture';
import { headDim, type Transformer } from '../../demos/shared/transformer/model';
import { loadShippedTransformer } from '../../demos/shared/transformer/shipped';
import { attentionWeights } from '../../src/attention/attention-weights';
import { InvalidArgumentError } from '../../src/core/errors';
import { ownBuffer } from '../../src/interop/tfjs/internals';
import { tensorFromTf } from '../../src/interop/tfjs/tensors';
import { maxAbsDifference } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const backend = () => tf.backend() as WebGPUBackend;
// 43 characters (not a multiple of a workgroup), a sentence said twice.
const SAMPLE = 'To be or not to be. To be or not to be.\nAy.';

let model: Transformer;
beforeAll(async () => {
  model = await loadShippedTransformer();
});
afterAll(() => model?.dispose());

describe('captureAttention on the shipped transformer', () => {
  it("wraps tfjs's own buffers for Q, K and P, with the tf tensors' values", async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const ids = model.encode(SAMPLE);
    const n = ids.length;
    const { nLayers, nHeads } = model.config;
    const dh = headDim(model.config);
    const liveBefore = engine().liveBufferCount();
    const capture = captureAttention(engine(), model, ids);
    expect(engine().liveBufferCount(), 'the capture allocated buffers of its own').toBe(liveBefore);
    expect(capture.tokens.join('')).toBe(SAMPLE);
    expect(capture.q.shape).toEqual([nLayers, nHeads, n, dh]);
    expect(capture.k.shape).toEqual([nLayers, nHeads, n, dh]);
    expect(capture.weights.shape).toEqual([nLayers, nHeads, n, n]);
    const pairs = [[capture.q, capture.forward.q], [capture.k, capture.forward.k], [capture.weights, capture.forward.weights]] as const;
    for (const [view, tensor] of pairs) {
      expect(view.buffer).toBe(ownBuffer(backend(), tensor));
      const want = await tensor.data();
      expect(want.some((x) => x !== 0)).toBe(true);
      expect(maxAbsDifference(await view.read(), want)).toBe(0);
    }
    capture.dispose();
    expect(capture.forward.q.isDisposed && capture.forward.weights.isDisposed).toBe(true);
  });

  it("Glassbox's attentionWeights(q_l, k_l, causal) equals the model's P of each layer within 1e-5", async () => {
    const ids = model.encode(SAMPLE);
    const n = ids.length;
    const { nHeads } = model.config;
    const dh = headDim(model.config);
    const capture = captureAttention(engine(), model, ids);
    for (let layer = 0; layer < model.config.nLayers; layer++) {
      const [qLayer, kLayer] = [capture.forward.q, capture.forward.k].map((t) => tf.tidy(() => tf.squeeze(tf.slice(t, [layer, 0, 0, 0], [1, nHeads, n, dh]), [0])));
      const [qGpu, kGpu] = [tensorFromTf(engine(), qLayer!), tensorFromTf(engine(), kLayer!)];
      const p = await attentionWeights(engine(), qGpu, kGpu, { causal: true });
      const modelP = await capture.weights.readRange(layer * nHeads * n * n, nHeads * n * n);
      expect(maxAbsDifference(await p.read(), modelP), `layer ${layer}`).toBeLessThanOrEqual(1e-5);
      for (const t of [p, qGpu, kGpu]) t.destroy();
      tf.dispose([qLayer!, kLayer!]);
    }
    capture.dispose();
  });

  it('rejects ids outside the vocabulary and leaves nothing behind', () => {
    const tensorsBefore = tf.memory().numTensors;
    expect(() => captureAttention(engine(), model, [3, 64])).toThrow(InvalidArgumentError);
    expect(() => captureAttention(engine(), model, [3, 64])).toThrow(/ids are integers in \[0, 64\); got 64/);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
