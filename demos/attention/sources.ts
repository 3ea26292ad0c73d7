// Where the demo's Q and K come from: text through a small transformer layer (seeded random weights),
// or hand-built patterns that real heads are known to learn. Either way tfjs computes Q and K on the GPU,
// and Glassbox reads them from tfjs's own buffers.
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
function positions(n: number, width: number): tf.Tensor2D {
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

/** One attention layer's Q and K projections over embedded text, weights drawn from `seed`. */
export function textQueriesAndKeys(text: string, heads: number, headDim: number, seed: number): QueriesAndKeys {
  const tokens = tokenize(text, 1024);
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

/**
 * Four heads whose Q and K are built so that softmax(QKᵀ/√d) shows a pattern trained models learn:
 * a local window, an attention sink on the first token, stripes with a period, and previous-token.
 */
export function patternQueriesAndKeys(n: number): QueriesAndKeys {
  const d = 32;
  const [q, k] = tf.tidy(() => {
    const pe = positions(n, d); // nearby positions have similar encodings
    const local = [tf.mul(pe, 1.5), pe];
    const sinkDirection = tf.reshape(tf.oneHot(tf.tensor1d([0], 'int32'), d), [1, d]);
    const isFirst = tf.reshape(tf.oneHot(tf.tensor1d([0], 'int32'), n), [n, 1]);
    const sink = [
      tf.add(tf.mul(sinkDirection, 12), tf.mul(pe, 0.5)),
      tf.add(tf.mul(isFirst, tf.mul(sinkDirection, 12)), tf.mul(pe, 0.5)),
    ];
    const period = 12;
    const phase = tf.mul(tf.reshape(tf.range(0, n), [n, 1]), (2 * Math.PI) / period);
    const harmonics = tf.reshape(tf.range(1, d / 2 + 1), [1, d / 2]);
    const periodic = tf.concat([tf.cos(tf.mul(phase, harmonics)), tf.sin(tf.mul(phase, harmonics))], 1);
    const stripes = [tf.mul(periodic, 1.2), periodic];
    // Previous token: each query looks like the key one position back.
    const shifted = tf.concat([tf.slice(pe, [0, 0], [1, d]), tf.slice(pe, [0, 0], [n - 1, d])], 0);
    const previous = [tf.mul(shifted, 6), pe];
    const heads = [local, sink, stripes, previous];
    return [tf.stack(heads.map(([hq]) => hq!)) as tf.Tensor3D, tf.stack(heads.map(([, hk]) => hk!)) as tf.Tensor3D];
  });
  const tokens = Array.from({ length: n }, (_, i) => `#${i}`);
  return { q, k, tokens, headNames: ['local window', 'attention sink', 'stripes (period 12)', 'previous token'] };
}
