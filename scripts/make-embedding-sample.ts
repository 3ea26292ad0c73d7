// Writes the embedding demo's sample (demos/embedding/sample-attention.safetensors): what the shipped
// transformer (demos/shared/transformer/) does with one line of text, as a PyTorch user would dump it:
// P per layer ('attentions.L', [heads, n, n]) and Q and K per layer ('layers.L.q' / 'layers.L.k',
// [heads, n, head_dim]), with the text in the metadata. The elements on the embedding page read this file.
//
//   npx tsx scripts/make-embedding-sample.ts
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadTransformer } from '../demos/shared/transformer/model';
import { writeSafetensors, type SafetensorsInput } from '../src/io/safetensors-writer';

const WEIGHTS = 'demos/shared/transformer/weights.safetensors';
const OUT = 'demos/embedding/sample-attention.safetensors';
// The transformer demo's line: its second half repeats the first, which the induction head (layer 1, head 3) follows.
const SAMPLE_TEXT = 'Now is the winter of our discontent; now is the winter of our d';

await tf.setBackend('cpu');
const transformer = loadTransformer(readFileSync(WEIGHTS));
const forward = transformer.forward(transformer.encode(SAMPLE_TEXT));
const tensors: Record<string, SafetensorsInput> = {};
const [q, k, p] = await Promise.all([forward.q.array(), forward.k.array(), forward.weights.array()]);
for (let layer = 0; layer < transformer.config.nLayers; layer++) {
  const [heads, n, dh] = [transformer.config.nHeads, SAMPLE_TEXT.length, q[layer]![0]![0]!.length];
  tensors[`attentions.${layer}`] = { data: Float32Array.from(p[layer]!.flat(2)), shape: [heads, n, n] };
  tensors[`layers.${layer}.q`] = { data: Float32Array.from(q[layer]!.flat(2)), shape: [heads, n, dh] };
  tensors[`layers.${layer}.k`] = { data: Float32Array.from(k[layer]!.flat(2)), shape: [heads, n, dh] };
}
forward.dispose();
transformer.dispose();
writeFileSync(OUT, writeSafetensors(tensors, { text: SAMPLE_TEXT, model: WEIGHTS }));
console.log(`wrote ${OUT}`);
