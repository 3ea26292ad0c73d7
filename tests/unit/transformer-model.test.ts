// The shipped demo transformer on tfjs's CPU backend: its weights reproduce the validation loss recorded
// when it was trained, its attention weights are causal softmax rows equal to a float64 reference from its
// own Q and K, layer 0 has a previous-token head and layer 1 the induction head training.json records, and
// malformed weight files and texts get errors that say what was expected.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEQUENCE_RECIPE, VALIDATION_SET, VALIDATION_SUBSET, buildVocabulary, encodeWith, splitIds, validationBatch,
} from '../../demos/shared/transformer/data';
import { inductionScores, inductionTargets } from '../../demos/shared/transformer/induction';
import { headDim, loadTransformer, validationLoss, type Transformer } from '../../demos/shared/transformer/model';
import { checkedWeights, writeTransformerWeights } from '../../demos/shared/transformer/weights';
import { FileFormatError } from '../../src/io/bytes';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { maxAbsDifference } from '../../src/reference/random';

const DIR = 'demos/shared/transformer/';
const bytes = new Uint8Array(readFileSync(`${DIR}weights.safetensors`));
const record = JSON.parse(readFileSync(`${DIR}training.json`, 'utf8'));
const text = readFileSync('demos/long-attention/shakespeare.txt', 'utf8');
// 43 characters, a sentence said twice: not a multiple of anything, and the second half can be copied.
const SAMPLE = 'To be or not to be. To be or not to be.\nAy.';

let model: Transformer;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = loadTransformer(bytes);
});
afterAll(() => model.dispose());

describe('the shipped transformer', () => {
  it('is the model training.json describes, within 5 MB', () => {
    expect(bytes.length).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(model.config).toEqual(record.config);
    expect(model.vocabulary.join('')).toBe(record.vocabulary);
    expect(model.vocabulary).toEqual(buildVocabulary(text));
    expect(model.config.nCtx).toBe(SEQUENCE_RECIPE.nCtx);
  });

  it('reproduces the recorded validation loss on the full validation set of 256 sequences (±1e-5 nats/char)', async () => {
    // The headline figure of training.json and the README, as scripts/train-transformer.ts measured it on
    // validationBatch(validation). All 256 sequences, not the first 16: a fault in the other 240 (in drawing
    // them, say) would escape the subset, and the subset is part of this set.
    const { validation } = splitIds(encodeWith(model.vocabulary, text));
    const batch = validationBatch(validation);
    expect(batch.count).toBe(VALIDATION_SET.sequences);
    const loss = await validationLoss(model, batch);
    // ±1e-5: the record is rounded to 5 decimals (±5e-6), and was measured on the wasm backend, which sums in
    // another order than the CPU backend (here: 1.8802201 against 1.88022). Measured on the CPU backend, one
    // sequence fewer moves the loss by 4e-4, layer 1's w_o scaled by 1.01 by 4e-4, one token-embedding weight
    // + 0.01 by 2.2e-5, the LayerNorm epsilon 1e-5 → 1e-4 by 1.6e-5.
    expect(Math.abs(loss - record.lossNatsPerChar.validation)).toBeLessThan(1e-5);
    // And it learned something: far below predicting characters by their frequency alone.
    expect(loss).toBeLessThan(record.lossNatsPerChar.unigramBaseline - 0.8);
  }, 120_000);

  it('encodes and decodes its vocabulary, and names an unknown character', () => {
    expect(model.decode(model.encode(SAMPLE))).toBe(SAMPLE);
    expect(() => model.encode('café')).toThrow(/character "é" \(U\+00E9\) at position 3 is not in the model's vocabulary of 64/);
    expect(() => model.decode([0, 64])).toThrow(/id 64 at position 1 is outside the vocabulary \[0, 64\)/);
  });
});

describe('the attention weights it returns', () => {
  it('are [layers, heads, n, n] causal rows summing to 1, equal to a float64 softmax(QKᵀ/√dh) of its own Q, K', async () => {
    const ids = model.encode(SAMPLE);
    const n = ids.length;
    const { nLayers, nHeads } = model.config;
    const dh = headDim(model.config);
    const out = model.forward(ids);
    expect(out.logits.shape).toEqual([n, 64]);
    expect(out.q.shape).toEqual([nLayers, nHeads, n, dh]);
    expect(out.k.shape).toEqual([nLayers, nHeads, n, dh]);
    expect(out.weights.shape).toEqual([nLayers, nHeads, n, n]);
    const [q, k, p] = await Promise.all([out.q.data(), out.k.data(), out.weights.data()]);
    out.dispose();

    let worstRowSum = 0;
    let aboveDiagonal = 0;
    for (let row = 0; row < nLayers * nHeads * n; row++) {
      const i = row % n;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const value = p[row * n + j]!;
        sum += value;
        if (j > i && value !== 0) aboveDiagonal += 1;
      }
      worstRowSum = Math.max(worstRowSum, Math.abs(sum - 1));
    }
    expect(worstRowSum).toBeLessThan(1e-5);
    expect(aboveDiagonal, 'weights above the diagonal (the future)').toBe(0);

    const want = referenceAttentionWeights({
      q: q as Float32Array, k: k as Float32Array, batch: nLayers * nHeads, nq: n, nk: n, d: dh, causal: true,
    });
    expect(maxAbsDifference(p, want)).toBeLessThan(1e-5);
    // Not a trivial match: the weights are spread, not one-hot or uniform.
    expect(Math.max(...p)).toBeGreaterThan(0.3);
  });

  it('show what training taught layer 0: a head that attends to the previous character', () => {
    const ids = model.encode(SAMPLE);
    const out = model.forward(ids);
    const p = out.weights.arraySync();
    out.dispose();
    const n = ids.length;
    // Mean weight on key i−1 over queries i ≥ 1, per layer-0 head; a causal uniform row would give ~1/i.
    const previous = p[0]!.map((head) => head.slice(1).reduce((sum, row, i) => sum + row[i]!, 0) / (n - 1));
    expect(Math.max(...previous)).toBeGreaterThan(0.3);
  });

  it('show what training taught layer 1: the recorded induction head, scored from its own P on the validation repeats', async () => {
    const { validation } = splitIds(encodeWith(model.vocabulary, text));
    const batch = validationBatch(validation, VALIDATION_SUBSET.sequences);
    const { nHeads, nCtx: n } = model.config;
    const layer1 = new Float32Array(batch.count * nHeads * n * n);
    for (let s = 0; s < batch.count; s++) {
      const out = model.forward(batch.inputs.subarray(s * n, (s + 1) * n));
      const p = await out.weights.data();
      out.dispose();
      layer1.set(p.subarray(nHeads * n * n, 2 * nHeads * n * n), s * nHeads * n * n);
    }
    const pairs = Array.from({ length: batch.count }, (_, s) => inductionTargets(batch.inputs.subarray(s * n, (s + 1) * n)).length);
    expect(pairs.reduce((a, b) => a + b, 0), 'repeats in the validation subset').toBeGreaterThan(100);
    const scores = inductionScores(batch.inputs, layer1, batch.count, nHeads, n);
    const { head, score } = record.inductionScore;
    expect(record.inductionScore.layer).toBe(1);
    // A head spreading its weight uniformly over the causal prefix would score about 0.03.
    expect(scores[head]).toBeGreaterThan(0.3);
    expect(Math.abs(scores[head]! - score)).toBeLessThan(0.001);
  }, 60_000);

  it('induction pairs: a query ending a repeated run of 6 characters, the key after its previous occurrence', () => {
    // In "abcdefgXabcdefgY", position 13 ends "abcdef" (first ending at 5) and 14 ends "bcdefg" (at 6); 15 repeats nothing.
    const ids = [...'abcdefgXabcdefgY'].map((c) => c.charCodeAt(0));
    expect(inductionTargets(ids)).toEqual([[13, 6], [14, 7]]);
    expect(inductionTargets([...'abcdefgh'].map((c) => c.charCodeAt(0)))).toEqual([]);
  });

  it('refuses sequences longer than the context and ids outside the vocabulary', () => {
    expect(() => model.forward(new Int32Array(SEQUENCE_RECIPE.nCtx + 1))).toThrow(/expected 1 to 64 ids \(the context\); got 65/);
    expect(() => model.forward([1, 2, 99])).toThrow(/ids are integers in \[0, 64\); got 99 at position 2/);
  });
});

describe('malformed weight files', () => {
  const weights = checkedWeights(bytes);
  const rewrite = (edit: (tensors: typeof weights.tensors) => void, config = weights.config): Uint8Array => {
    const tensors = { ...weights.tensors };
    edit(tensors);
    return writeTransformerWeights(config, weights.vocabulary, tensors);
  };

  it('a truncated file', () => {
    expect(() => loadTransformer(bytes.slice(0, bytes.length - 1000))).toThrow(FileFormatError);
    expect(() => loadTransformer(bytes.slice(0, bytes.length - 1000))).toThrow(/run past the end of the data buffer/);
    expect(() => loadTransformer(bytes.slice(0, 5))).toThrow(/the file is 5 bytes; expected at least 8/);
  });

  it('a tensor of the wrong shape', () => {
    const file = rewrite((t) => { t['blocks.1.attn.w_k'] = { data: new Float32Array(64 * 32).fill(0.5), shape: [64, 32] }; });
    expect(() => loadTransformer(file)).toThrow(/tensor 'blocks\.1\.attn\.w_k' should have shape \[64, 64\] for this config; got \[64, 32\]/);
  });

  it('a missing tensor, and one the config does not have', () => {
    const missing = rewrite((t) => { delete t['ln_f.bias']; });
    expect(() => loadTransformer(missing)).toThrow(/missing tensor 'ln_f\.bias'; a model with 2 layers, attention only has \d+ tensors/);
    const extra = rewrite((t) => { t['blocks.2.attn.w_q'] = t['blocks.1.attn.w_q']!; });
    expect(() => loadTransformer(extra)).toThrow(/unexpected tensor 'blocks\.2\.attn\.w_q'/);
  });

  it('a config that disagrees with the tensors or with itself, and a file without one', () => {
    const threeLayers = rewrite(() => {}, { ...weights.config, nLayers: 3 });
    expect(() => loadTransformer(threeLayers)).toThrow(/missing tensors 'blocks\.2\.ln1\.weight'/);
    expect(() => rewrite(() => {}, { ...weights.config, nHeads: 5 })).toThrow(/dModel \(64\) should be a multiple of config\.nHeads \(5\)/);
    const plain = writeSafetensors(weights.tensors);
    expect(() => loadTransformer(plain)).toThrow(/"__metadata__" has no "config" entry; expected a file written by scripts\/train-transformer\.ts/);
  });

  it('a weight that is not finite', () => {
    const data = weights.tensors['blocks.0.attn.w_v']!.data.slice();
    data[17] = Number.NaN;
    const file = rewrite((t) => { t['blocks.0.attn.w_v'] = { data, shape: [64, 64] }; });
    expect(() => loadTransformer(file)).toThrow(/tensor 'blocks\.0\.attn\.w_v' has NaN at element 17/);
  });
});
