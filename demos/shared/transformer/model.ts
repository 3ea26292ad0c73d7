// A small character-level transformer on tfjs-core ops: learned token and position embeddings, pre-LayerNorm
// blocks of causal multi-head attention and (unless dMlp is 0) a ReLU MLP, a final LayerNorm and an untied unembedding. The
// forward pass keeps what a visualization needs: per layer and head the queries, keys and the softmax
// weights P the model actually multiplied its values with. Trained by scripts/train-transformer.ts.
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../../../src/core/errors';
import { headDim, type TransformerConfig } from './config';
import { decodeWith, encodeWith, type SequenceBatch } from './data';
import { checkedWeights } from './weights';

export { headDim, parameterShapes, type TransformerConfig } from './config';

/** One sequence through the model. Every tensor is the caller's until `dispose()`. */
export interface TransformerForward {
  /** [n, vocabSize]: the next-character logits at each position. */
  logits: tf.Tensor2D;
  /** [layers, heads, n, headDim], after the projection, before the 1/√headDim scale. */
  q: tf.Tensor4D;
  k: tf.Tensor4D;
  /** [layers, heads, n, n], rows = queries: the causal softmax the model used (zeros above the diagonal). */
  weights: tf.Tensor4D;
  dispose(): void;
}

export interface Transformer {
  readonly config: Readonly<TransformerConfig>;
  /** Character of each id. */
  readonly vocabulary: readonly string[];
  /** The weights by name (see `parameterShapes`), on the tfjs backend active when loaded. */
  readonly params: Readonly<Record<string, tf.Tensor>>;
  /** Character ids; a character outside the vocabulary is an InvalidArgumentError naming it. */
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** Runs 1 ≤ n ≤ nCtx ids. */
  forward(ids: ArrayLike<number>): TransformerForward;
  dispose(): void;
}

export type Params = Readonly<Record<string, tf.Tensor>>;

/** What each layer's attention saw and did, [batch, heads, n, ·]; only kept when asked for. */
export interface AttentionRecord {
  q: tf.Tensor4D;
  k: tf.Tensor4D;
  weights: tf.Tensor4D;
}

/** Logits [batch, n, vocab] for int32 ids [batch, n]. Pushes each layer's Q, K, P onto `record` if given. */
export function forwardBatch(params: Params, config: TransformerConfig, ids: tf.Tensor2D, record?: AttentionRecord[]): tf.Tensor3D {
  const [batch, n] = ids.shape;
  const { dModel: d } = config;
  const p = (name: string): tf.Tensor => params[name]!;
  // One-hot times the table rather than gather: gather's gradient needs UnsortedSegmentSum, which the
  // wasm backend that trains this model lacks. Same values, and a 64-wide one-hot costs nothing.
  const tokens = tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [batch * n]), config.vocabSize), p('tok_emb.weight') as tf.Tensor2D), [batch, n, d]);
  let x = tf.add(tokens, tf.slice(p('pos_emb.weight'), [0, 0], [n, d])) as tf.Tensor3D;
  const mask = causalMask(n);
  for (let l = 0; l < config.nLayers; l++) {
    const b = `blocks.${l}.`;
    const h = layerNorm(x, p(`${b}ln1.weight`), p(`${b}ln1.bias`), config.layerNormEpsilon);
    x = tf.add(x, attention(h, params, b, config, mask, record));
    if (config.dMlp > 0) {
      const h2 = layerNorm(x, p(`${b}ln2.weight`), p(`${b}ln2.bias`), config.layerNormEpsilon);
      const hidden = tf.relu(tf.add(linear(h2, p(`${b}mlp.w_in`)), p(`${b}mlp.b_in`))) as tf.Tensor3D;
      x = tf.add(x, tf.add(linear(hidden, p(`${b}mlp.w_out`)), p(`${b}mlp.b_out`)));
    }
  }
  const out = layerNorm(x, p('ln_f.weight'), p('ln_f.bias'), config.layerNormEpsilon);
  return tf.reshape(tf.add(linear(out, p('unembed.weight')), p('unembed.bias')), [batch, n, config.vocabSize]);
}

/** Mean next-character cross-entropy in nats, as a scalar: the training loss. */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  const logProbabilities = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(targets, logits.shape[2])), -1);
  return tf.neg(tf.mean(picked)) as tf.Scalar;
}

/**
 * Mean cross-entropy (nats/char) over a batch of sequences such as `validationBatch(...)`, evaluated
 * `chunk` sequences at a time.
 */
export async function meanCrossEntropy(params: Params, config: TransformerConfig, batch: SequenceBatch, chunk = 32): Promise<number> {
  let total = 0;
  for (let s = 0; s < batch.count; s += chunk) {
    const count = Math.min(chunk, batch.count - s);
    const range = [s * batch.nCtx, (s + count) * batch.nCtx];
    const loss = tf.tidy(() => {
      const ids = tf.tensor2d(batch.inputs.subarray(range[0], range[1]), [count, batch.nCtx], 'int32');
      const targets = tf.tensor2d(batch.targets.subarray(range[0], range[1]), [count, batch.nCtx], 'int32');
      return crossEntropy(forwardBatch(params, config, ids), targets);
    });
    total += (await loss.data())[0]! * count;
    loss.dispose();
  }
  return total / batch.count;
}

/** The mean validation cross-entropy (nats/char) of a loaded transformer on a batch of sequences. */
export function validationLoss(transformer: Transformer, batch: SequenceBatch): Promise<number> {
  return meanCrossEntropy(transformer.params, transformer.config, batch);
}

/**
 * A transformer from a weights file written by scripts/train-transformer.ts, on the active tfjs backend.
 * Throws FileFormatError (an InvalidArgumentError) for a malformed file, a missing or unexpected tensor, a
 * wrong shape or a bad config, saying what was expected and what came.
 */
export function loadTransformer(bytes: Uint8Array | ArrayBuffer): Transformer {
  const { config, vocabulary, tensors } = checkedWeights(bytes);
  const params: Record<string, tf.Tensor> = {};
  for (const [name, { data, shape }] of Object.entries(tensors)) params[name] = tf.tensor(data, shape, 'float32');
  return createTransformer(config, vocabulary, params);
}

/** A Transformer over checked parameters (see weights.ts for loading them from a file). */
export function createTransformer(config: TransformerConfig, vocabulary: readonly string[], params: Params): Transformer {
  return {
    config: Object.freeze({ ...config }),
    vocabulary: Object.freeze([...vocabulary]),
    params,
    encode: (text) => encodeWith(vocabulary, text),
    decode: (ids) => decodeWith(vocabulary, ids),
    forward: (ids) => forwardOne(params, config, ids),
    dispose: () => tf.dispose(Object.values(params)),
  };
}

// Implementation.

function forwardOne(params: Params, config: TransformerConfig, ids: ArrayLike<number>): TransformerForward {
  const n = ids.length;
  invalidArgument(n >= 1 && n <= config.nCtx, () => `forward: expected 1 to ${config.nCtx} ids (the context); got ${n}.`);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    invalidArgument(
      Number.isInteger(id) && id >= 0 && id < config.vocabSize,
      () => `forward: ids are integers in [0, ${config.vocabSize}); got ${id} at position ${i}.`,
    );
  }
  const [logits, q, k, weights] = tf.tidy(() => {
    const record: AttentionRecord[] = [];
    const out = forwardBatch(params, config, tf.tensor2d(Array.from(ids), [1, n], 'int32'), record);
    const stack = (pick: (r: AttentionRecord) => tf.Tensor4D): tf.Tensor4D => tf.concat(record.map(pick), 0);
    return [tf.squeeze(out, [0]) as tf.Tensor2D, stack((r) => r.q), stack((r) => r.k), stack((r) => r.weights)];
  });
  return { logits, q, k, weights, dispose: () => tf.dispose([logits, q, k, weights]) };
}

/** [n, n]: 0 on and below the diagonal, −1e9 above; exp underflows to exactly 0 there. */
function causalMask(n: number): tf.Tensor2D {
  const values = new Float32Array(n * n);
  for (let i = 0; i < n; i++) values.fill(-1e9, i * n + i + 1, (i + 1) * n);
  return tf.tensor2d(values, [n, n]);
}

function layerNorm(x: tf.Tensor3D, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor3D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gain), bias);
}

/** [batch, n, in] · [in, out] → [batch, n, out] */
function linear(x: tf.Tensor3D, weight: tf.Tensor): tf.Tensor3D {
  const [batch, n, width] = x.shape;
  const out = tf.matMul(tf.reshape(x, [batch * n, width]), weight as tf.Tensor2D);
  return tf.reshape(out, [batch, n, weight.shape[1]!]);
}

function attention(
  x: tf.Tensor3D, params: Params, prefix: string, config: TransformerConfig, mask: tf.Tensor2D, record?: AttentionRecord[],
): tf.Tensor3D {
  const [batch, n] = x.shape;
  const { nHeads, dModel } = config;
  const dh = headDim(config);
  const heads = (name: string): tf.Tensor4D =>
    tf.transpose(tf.reshape(linear(x, params[`${prefix}attn.${name}`]!), [batch, n, nHeads, dh]), [0, 2, 1, 3]);
  const [q, k, v] = [heads('w_q'), heads('w_k'), heads('w_v')];
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask);
  const weights = tf.softmax(scores) as tf.Tensor4D;
  record?.push({ q, k, weights });
  const mixed = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [batch, n, dModel]) as tf.Tensor3D;
  return linear(mixed, params[`${prefix}attn.w_o`]!);
}
