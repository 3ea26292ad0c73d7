// Hand-built Q and K whose attention shows patterns real heads are known to learn. (Text through a
// transformer layer comes from demos/shared/text-transformer.ts.) tfjs computes them on the GPU.
import * as tf from '@tensorflow/tfjs-core';
import { positions, type QueriesAndKeys } from '../shared/text-transformer';

export { textQueriesAndKeys, type QueriesAndKeys } from '../shared/text-transformer';

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
