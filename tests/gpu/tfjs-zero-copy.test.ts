// tfjs and Glassbox share one device and one set of buffers. These tests fail loudly when a tfjs upgrade
// changes the internals that zero-copy relies on (src/interop/tfjs/internals.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { describe, expect, it } from 'vitest';
import { attentionWeights, referenceAttentionWeights, tensorFromTf, tensorToTf } from '../../src/index';
import { missingTfjsInternals, ownBuffer } from '../../src/interop/tfjs/internals';
import { useEngine } from '../helpers/engine';
import { maxAbsDifference, randomFloats } from '../../src/reference/random';

const engine = useEngine();
const backend = () => tf.backend() as WebGPUBackend;

describe('tfjs interop', () => {
  it("tfjs runs on the engine's device", () => {
    expect(tf.getBackend()).toBe('webgpu');
    expect(backend().device).toBe(engine().device);
  });

  it(`tfjs ${tf.version_core} still has every internal that zero-copy uses`, () => {
    const missing = missingTfjsInternals(backend());
    expect(missing, `tfjs ${tf.version_core} changed: update src/interop/tfjs/internals.ts`).toEqual([]);
  });

  it('a tf.Tensor feeds the kernel through its own buffer, and P becomes a tf.Tensor over ours', async () => {
    const [heads, n, d] = [2, 45, 24];
    const q = randomFloats(heads * n * d, 31);
    const k = randomFloats(heads * n * d, 32);
    const tensorsBefore = tf.memory().numTensors;
    const qTf = tf.tensor(q, [heads, n, d]);
    // K comes out of a tfjs op, still recorded in tfjs's open encoder: the engine must flush it first.
    const kTf = tf.tidy(() => tf.mul(tf.tensor(k, [heads, n, d]), 2));

    const qGpu = tensorFromTf(engine(), qTf);
    const kGpu = tensorFromTf(engine(), kTf);
    expect(qGpu.buffer).toBe(ownBuffer(backend(), qTf));
    expect(kGpu.buffer).toBe(ownBuffer(backend(), kTf));

    const p = await attentionWeights(engine(), qGpu, kGpu, { causal: true });
    const pTf = tensorToTf(p);
    expect(ownBuffer(backend(), pTf)).toBe(p.buffer);

    const want = referenceAttentionWeights({ q, k: k.map((x) => x * 2), batch: heads, nq: n, nk: n, d, causal: true });
    expect(maxAbsDifference(await pTf.data(), want)).toBeLessThanOrEqual(1e-5);
    // tfjs ops read P in place: every row sums to 1.
    const rowSumsTf = tf.sum(pTf, -1);
    const rowSums = await rowSumsTf.data();
    expect(Math.max(...Array.from(rowSums, (s) => Math.abs(s - 1)))).toBeLessThan(1e-5);

    tf.dispose([pTf, rowSumsTf]);
    for (const t of [p, qGpu, kGpu]) t.destroy();
    tf.dispose([qTf, kTf]);
    expect(tf.memory().numTensors - tensorsBefore, 'tf tensors left behind').toBe(0);
  });

  it('a GpuTensor keeps the tf.Tensor data alive after the tensor is disposed', async () => {
    const values = randomFloats(3 * 7 * 5, 41);
    const t = tf.tensor(values, [3, 7, 5]);
    const gpu = tensorFromTf(engine(), t);
    t.dispose();
    // tfjs would recycle a released buffer for the next tensor of that size; ours must not change.
    const other = tf.fill([3, 7, 5], 123);
    await other.data();
    expect(maxAbsDifference(await gpu.read(), values)).toBe(0);
    other.dispose();
    gpu.destroy();
  });

  it('rejects non-float32 tensors with what to do', () => {
    const ints = tf.tensor([1, 2, 3], [3], 'int32');
    expect(() => tensorFromTf(engine(), ints)).toThrow(/float32 tensors; got int32\. Cast with tf\.cast/);
    ints.dispose();
  });
});
