// Activation maps out of files: .safetensors and .npy written by the project's writers, the layout guess and
// its override, and the messages for wrong ranks and missing names.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import type { NamedTensors } from '../../src/io/attention-tensors';
import { featureTensorsFrom, guessFeatureLayout } from '../../src/io/feature-tensors';
import { parseNpy, writeNpy } from '../../src/io/npy';
import { parseSafetensors } from '../../src/io/safetensors';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { randomFloats } from '../../src/reference/random';

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('featureTensorsFrom', () => {
  it('reads a PyTorch-style dump (NCHW guessed) from a safetensors file, data as stored, F16 decoded', () => {
    const stem = randomFloats(count([2, 16, 12, 12]), 1);
    const block = randomFloats(count([2, 24, 6, 6]), 2);
    const bytes = writeSafetensors({
      'features.0': { data: stem, shape: [2, 16, 12, 12] },
      'features.3': { data: block, shape: [2, 24, 6, 6], dtype: 'F16' },
    });
    const maps = featureTensorsFrom(parseSafetensors(bytes).tensors);
    expect(maps.map(({ name, shape, layout, layoutGuessed }) => [name, shape, layout, layoutGuessed])).toEqual([
      ['features.0', [2, 16, 12, 12], 'NCHW', true],
      ['features.3', [2, 24, 6, 6], 'NCHW', true],
    ]);
    expect(maps[0]!.data).toEqual(stem);
    maps[1]!.data.forEach((v, i) => expect(Math.abs(v - block[i]!)).toBeLessThanOrEqual(Math.abs(block[i]!) * 2 ** -11 + 2 ** -25));
  });

  it('guesses NHWC for tfjs-style dumps from .npy files by name, and adds the batch to rank-3 maps', () => {
    const a = randomFloats(count([1, 17, 13, 8]), 3);
    const b = randomFloats(count([7, 5, 13]), 4);
    const files: NamedTensors = new Map([
      ['conv1.npy', parseNpy(writeNpy(a, [1, 17, 13, 8]))],
      ['concat.npy', parseNpy(writeNpy(b, [7, 5, 13]))],
    ]);
    const maps = featureTensorsFrom(files);
    expect(maps.map((m) => [m.name, m.shape, m.layout])).toEqual([
      ['conv1.npy', [1, 17, 13, 8], 'NHWC'],
      ['concat.npy', [1, 7, 5, 13], 'NHWC'],
    ]);
    expect(maps[1]!.data).toEqual(b);
  });

  it('takes an explicit layout over the guess, and picks named tensors in the order given', () => {
    const tensors = new Map([
      ['logits', { shape: [1, 10], data: randomFloats(10, 5) }],
      ['b', { shape: [1, 56, 56, 64], data: randomFloats(count([1, 56, 56, 64]), 6) }],
      ['a', { shape: [1, 8, 9, 9], data: randomFloats(count([1, 8, 9, 9]), 7) }],
    ]);
    const guessed = featureTensorsFrom(tensors, { names: ['a', 'b'] });
    expect(guessed.map((m) => [m.name, m.layout, m.layoutGuessed])).toEqual([['a', 'NCHW', true], ['b', 'NCHW', true]]);
    const given = featureTensorsFrom(tensors, { names: ['b'], layout: 'NHWC' });
    expect(given.map((m) => [m.name, m.layout, m.layoutGuessed])).toEqual([['b', 'NHWC', false]]);
  });

  it('refuses tensors of other ranks, saying the shape and what to do', () => {
    const tensors = new Map([
      ['maps', { shape: [1, 4, 5, 5], data: new Float32Array(100).fill(0.5) }],
      ['logits', { shape: [1, 10], data: new Float32Array(10).fill(0.5) }],
    ]);
    expect(() => featureTensorsFrom(tensors)).toThrow(InvalidArgumentError);
    expect(() => featureTensorsFrom(tensors)).toThrow(
      /'logits' has shape \[1, 10\] \(rank 2\); expected an activation map of rank 4, \[N, C, H, W\] or \[N, H, W, C\], or rank 3.*Pass \{ names \}/,
    );
    const rank5 = new Map([['video', { shape: [1, 2, 3, 4, 5], data: new Float32Array(120).fill(1) }]]);
    expect(() => featureTensorsFrom(rank5)).toThrow(/'video' has shape \[1, 2, 3, 4, 5\] \(rank 5\)/);
    const empty = new Map([['none', { shape: [0, 3, 4, 4], data: new Float32Array(0) }]]);
    expect(() => featureTensorsFrom(empty)).toThrow(/'none' has shape \[0, 3, 4, 4\] \(rank 4\), with an empty axis/);
  });

  it('names what the file holds when a name is missing, and refuses an empty file or a bad layout', () => {
    const tensors = new Map([['maps', { shape: [1, 4, 5, 5], data: new Float32Array(100).fill(0.5) }]]);
    expect(() => featureTensorsFrom(tensors, { names: ['map'] })).toThrow(/no tensor named 'map'; the file holds 'maps'\./);
    expect(() => featureTensorsFrom(new Map())).toThrow(/the file holds no tensors/);
    expect(() => featureTensorsFrom(tensors, { layout: 'HWC' as never })).toThrow(/layout is 'NHWC' or 'NCHW'.*got HWC/);
  });
});

describe('guessFeatureLayout', () => {
  it('follows the documented rule', () => {
    expect(guessFeatureLayout([[1, 64, 56, 56]])).toBe('NCHW');
    expect(guessFeatureLayout([[1, 56, 56, 64]])).toBe('NHWC');
    expect(guessFeatureLayout([[1, 3, 224, 224]])).toBe('NCHW');
    expect(guessFeatureLayout([[1, 224, 224, 3]])).toBe('NHWC');
    expect(guessFeatureLayout([[1, 7, 7, 512]])).toBe('NHWC');
    expect(guessFeatureLayout([[1, 512, 7, 7]])).toBe('NCHW');
    expect(guessFeatureLayout([[17, 13, 8]])).toBe('NHWC');
    expect(guessFeatureLayout([[8, 17, 13]])).toBe('NCHW');
  });

  it('decides once per file by vote; ties and abstentions mean NCHW', () => {
    // Alone, [1, 8, 8, 8] abstains; the file's clear maps decide.
    expect(guessFeatureLayout([[1, 8, 8, 8], [1, 112, 112, 32], [1, 56, 56, 64]])).toBe('NHWC');
    expect(guessFeatureLayout([[1, 8, 8, 8]])).toBe('NCHW');
    expect(guessFeatureLayout([[1, 7, 7, 512], [1, 512, 7, 7]])).toBe('NCHW');
  });
});
