// A tiny CNN built in code, with every weight drawn from a seed: small enough for SwiftShader, awkward enough
// (17×13 input, odd channel counts, a valid-padded depthwise conv, a pool that drops a row and a column)
// to catch an axis mix-up. Layer shapes for batch n:
//   input  [n, 17, 13, 3]
//   conv1  [n, 17, 13, 8]   conv2d 3×3 same, relu
//   dw     [n, 15, 11, 8]   depthwiseConv2d 3×3 valid
//   bn     [n, 15, 11, 8]   batchNormalization (moving statistics drawn from the seed too)
//   pool   [n, 7, 5, 8]     maxPooling2d 2×2
//   conv2  [n, 7, 5, 8]     conv2d 3×3 same, tanh
//   add    [n, 7, 5, 8]     pool + conv2
//   conv3  [n, 7, 5, 5]     conv2d 1×1
//   concat [n, 7, 5, 13]    [add, conv3]
//   gap    [n, 13]          globalAveragePooling2d (not a map)
//   dense  [n, 4]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { randomFloats } from '../../src/reference/random';

export const TINY_CNN_INPUT = [17, 13, 3] as const;

/** The layers with rank-4 outputs, in model order, and the channels of each. */
export const TINY_CNN_MAPS: readonly { name: string; shape: readonly [number, number, number] }[] = [
  { name: 'conv1', shape: [17, 13, 8] },
  { name: 'dw', shape: [15, 11, 8] },
  { name: 'bn', shape: [15, 11, 8] },
  { name: 'pool', shape: [7, 5, 8] },
  { name: 'conv2', shape: [7, 5, 8] },
  { name: 'add', shape: [7, 5, 8] },
  { name: 'conv3', shape: [7, 5, 5] },
  { name: 'concat', shape: [7, 5, 13] },
];

export function createTinyCnn(seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [...TINY_CNN_INPUT], name: 'image' });
  const conv1 = tfl.layers.conv2d({ name: 'conv1', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input);
  const dw = tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'valid' }).apply(conv1);
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(dw);
  const pool = tfl.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(bn) as tfl.SymbolicTensor;
  const conv2 = tfl.layers.conv2d({ name: 'conv2', filters: 8, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(pool);
  const add = tfl.layers.add({ name: 'add' }).apply([pool, conv2 as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  const conv3 = tfl.layers.conv2d({ name: 'conv3', filters: 5, kernelSize: 1 }).apply(add) as tfl.SymbolicTensor;
  const concat = tfl.layers.concatenate({ name: 'concat' }).apply([add, conv3]);
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(concat);
  const dense = tfl.layers.dense({ name: 'dense', units: 4 }).apply(gap) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: dense, name: 'tinyCnn' });
  seedWeights(model, seed);
  return model;
}

/** Replaces every weight with seeded values; variances are kept positive so batch norm stays finite. */
function seedWeights(model: tfl.LayersModel, seed: number): void {
  const values = model.weights.map((weight, i) => {
    const shape = weight.shape as number[]; // weights have no unknown dimensions
    const data = randomFloats(shape.reduce((a, b) => a * b, 1), seed * 1000 + i, 0.6);
    const positive = /moving_variance/.test(weight.originalName) ? data.map((v) => Math.abs(v) + 0.3) : data;
    return tf.tensor(positive, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** A seeded [batch, 17, 13, 3] input in [-1, 1). */
export function tinyCnnInput(batch: number, seed: number): tf.Tensor4D {
  const [h, w, c] = TINY_CNN_INPUT;
  return tf.tensor4d(randomFloats(batch * h * w * c, seed), [batch, h, w, c]);
}
