// Queries and keys from text: a tokenizer small enough to read, hashed embeddings with sinusoidal
// positions, and one attention layer's Q and K projections. tfjs computes them on the GPU; Glassbox then
// reads them from tfjs's own buffers.
import * as tf from '@tensorflow/tfjs-core';

export interface QueriesAndKeys {
  /** [heads, N, d] */
  q: tf.Tensor3D;
  /** [heads, N, d] */
  k: tf.Tensor3D;
  tokens: string[];
  /** What each head shows, for the legend. */
  headNames: string[];
}

const D_MODEL = 64;
const VOCAB_BUCKETS = 2048;

/** Words and punctuation, lower-cased: a tokenizer small enough to read. */
export function tokenize(text: string, maxTokens: number): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}']+|[^\s\p{L}\p{N}]/gu) ?? []).slice(0, maxTokens);
}

function hashToken(token: string): number {
  let hash = 2166136261;
  for (const char of token) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619);
  return (hash >>> 0) % VOCAB_BUCKETS;
}

/** Sinusoidal position encodings [n, width] (Vaswani et al. 2017). */
export function positions(n: number, width: number): tf.Tensor2D {
  return tf.tidy(() => {
    const position = tf.reshape(tf.range(0, n), [n, 1]);
    const rates = tf.reshape(tf.exp(tf.mul(tf.range(0, width, 2), -Math.log(10000) / width)), [1, width / 2]);
    const angles = tf.mul(position, rates);
    return tf.concat([tf.sin(angles), tf.cos(angles)], 1) as tf.Tensor2D;
  });
}

/** [N, heads·d] → [heads, N, d] */
function splitHeads(x: tf.Tensor2D, heads: number): tf.Tensor3D {
  const [n, width] = x.shape;
  return tf.transpose(tf.reshape(x, [n, heads, width / heads]), [1, 0, 2]);
}

/**
 * One attention layer's Q and K projections over embedded text (at most `maxTokens` tokens), weights
 * drawn from `seed`: a small transformer layer with random weights, computed by tfjs on the GPU.
 */
export function textQueriesAndKeys(
  text: string,
  heads: number,
  headDim: number,
  seed: number,
  maxTokens = 1024,
): QueriesAndKeys {
  const tokens = tokenize(text, maxTokens);
  if (tokens.length === 0) throw new Error('The text has no tokens: type a few words.');
  const [q, k] = tf.tidy(() => {
    const table = tf.randomNormal([VOCAB_BUCKETS, D_MODEL], 0, 1, 'float32', seed);
    const ids = tf.tensor1d(tokens.map(hashToken), 'int32');
    const embedded = tf.add(tf.gather(table, ids), tf.mul(positions(tokens.length, D_MODEL), 2));
    const { mean, variance } = tf.moments(embedded, 1, true);
    const normed = tf.div(tf.sub(embedded, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D;
    const project = (offset: number): tf.Tensor2D =>
      tf.matMul(normed, tf.randomNormal([D_MODEL, heads * headDim], 0, 2 / Math.sqrt(D_MODEL), 'float32', seed + offset));
    return [splitHeads(project(1), heads), splitHeads(project(2), heads)];
  });
  const headNames = Array.from({ length: heads }, (_, h) => `head ${h} (random weights, seed ${seed})`);
  return { q, k, tokens, headNames };
}

