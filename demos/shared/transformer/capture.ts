// The demo transformer's attention as GpuTensors over tfjs's own buffers: one forward pass on the engine's
// tfjs 'webgpu' backend, then zero-copy views of its Q, K and P for Glassbox's kernels and views. One copy
// happens before, on the GPU: the forward stacks each layer's Q, K and P with tf.concat (model.ts), because
// the views take every layer in one [layers, heads, n, ·] buffer and tfjs cannot compute a layer's P into
// a slice of another tensor. Nothing reaches the CPU.
import type { Engine } from '../../../src/core/engine';
import { invalidArgument } from '../../../src/core/errors';
import { tensorFromTf } from '../../../src/interop/tfjs/tensors';
import type { GpuTensor } from '../../../src/memory/gpu-tensor';
import type { Transformer, TransformerForward } from './model';

export interface AttentionCapture {
  /** [layers, heads, n, headDim], row-major: the queries, before the 1/√headDim scale. */
  q: GpuTensor;
  /** [layers, heads, n, headDim] */
  k: GpuTensor;
  /** [layers, heads, n, n], rows = queries: the causal softmax the model used. */
  weights: GpuTensor;
  /** The characters of the ids, one per position. */
  tokens: string[];
  /** The forward pass the views were taken from (its logits included); disposed by dispose(). */
  forward: TransformerForward;
  /** Destroys the views and disposes the tf tensors. */
  dispose(): void;
}

/**
 * Runs `ids` (1 ≤ n ≤ nCtx) through the transformer and wraps its stacked Q, K and P without copying them. The
 * transformer's weights must live on the engine's tfjs backend (load it after connecting tfjs to the engine).
 */
export function captureAttention(engine: Engine, transformer: Transformer, ids: ArrayLike<number>): AttentionCapture {
  const tokens = Array.from(ids, (id) => transformer.vocabulary[id]);
  invalidArgument(
    tokens.every((token) => token !== undefined),
    () => `captureAttention: ids are integers in [0, ${transformer.vocabulary.length}); got ${Array.from(ids).find((_id, i) => tokens[i] === undefined)}.`,
  );
  const forward = transformer.forward(ids);
  const views: GpuTensor[] = [];
  try {
    for (const tensor of [forward.q, forward.k, forward.weights]) views.push(tensorFromTf(engine, tensor));
  } catch (error) {
    for (const view of views) view.destroy();
    forward.dispose();
    throw error;
  }
  const [q, k, weights] = views as [GpuTensor, GpuTensor, GpuTensor];
  return {
    q, k, weights, tokens: tokens as string[], forward,
    dispose: () => {
      for (const view of views) view.destroy();
      forward.dispose();
    },
  };
}
