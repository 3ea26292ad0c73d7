// Trains the demo transformer (demos/shared/transformer/) on the CPU and writes its weights and a record:
//
//   npx tsx scripts/train-transformer.ts              # the shipped run (see STEPS below)
//   npx tsx scripts/train-transformer.ts --steps 20   # a quick look at the speed; writes nothing
//
// Data: tiny Shakespeare (demos/long-attention/shakespeare.txt), characters; the last 10% is validation.
// Three quarters of the sequences have a span of their first half copied into their second half (data.ts), so that
// induction heads pay off. Model: 2 layers, 4 heads, d_model 64, attention only (no MLP), pre-LayerNorm, context 64
// (config below): with MLPs (256) and 1000 steps, layer 1 formed no induction head; attention only, a step costs a
// third as much, and with 3000 steps head 3 of layer 1 became one (scores printed every 250 steps, kept in training.json).
// Adam (β 0.9/0.98), linear warmup then cosine decay to 10% of the peak rate, gradients clipped by norm.
//
// Reproducible means: the initial weights and every batch come from one seed (mulberry32), so a rerun on
// the same tfjs-backend-wasm build does the same arithmetic and writes the same weights. Another backend
// or build can round differently in the last bits, so its weights differ slightly and its losses by a
// few thousandths.
// Gradients: tfjs-core/dist/register_all_gradients is ESM with directory imports that Node refuses; the
// CommonJS build of tfjs-layers, which Node loads, registers the same gradients on the same tfjs-core.
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { seededRandom } from '../src/reference/random';
import { parameterShapes, type TransformerConfig } from '../demos/shared/transformer/config';
import {
  SEQUENCE_RECIPE, VALIDATION_SET, VALIDATION_SUBSET, buildVocabulary, drawSequences, encodeWith, splitIds, validationBatch,
  type SequenceBatch,
} from '../demos/shared/transformer/data';
import { INDUCTION_MATCH, inductionScores } from '../demos/shared/transformer/induction';
import { crossEntropy, forwardBatch, meanCrossEntropy, type AttentionRecord } from '../demos/shared/transformer/model';
import { writeTransformerWeights } from '../demos/shared/transformer/weights';

const SEED = 1234;
const STEPS = 3000;
const D_MLP = 0;
const BATCH = 16;
const PEAK_LEARNING_RATE = 4e-3;
const WARMUP_STEPS = 100;
const CLIP_NORM = 1;
const TEXT = 'demos/long-attention/shakespeare.txt';
const OUT = 'demos/shared/transformer/';

const steps = Number(argument('--steps') ?? STEPS);
const shipped = argument('--steps') === undefined;

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  const started = performance.now();
  const text = readFileSync(TEXT, 'utf8');
  const vocabulary = buildVocabulary(text);
  const { train, validation } = splitIds(encodeWith(vocabulary, text));
  const config: TransformerConfig = {
    vocabSize: vocabulary.length, nCtx: SEQUENCE_RECIPE.nCtx, dModel: 64, nLayers: 2, nHeads: 4, dMlp: D_MLP, layerNormEpsilon: 1e-5,
  };
  const random = seededRandom(SEED);
  const params = initialParams(config, random);
  const adam = createAdam(params);
  console.log(`${vocabulary.length} characters; ${train.length} train, ${validation.length} validation; ` +
    `${Object.values(params).reduce((s, p) => s + p.size, 0)} parameters; ${steps} steps of ${BATCH} × ${config.nCtx}`);
  let recent = 0;
  for (let step = 1; step <= steps; step++) {
    const batch = drawSequences(train, BATCH, random);
    const loss = trainStep(params, config, adam, batch, learningRate(step));
    recent += loss;
    if (step % 50 === 0 || step === steps) {
      const seconds = (performance.now() - started) / 1000;
      console.log(`step ${step}/${steps}  loss ${(recent / (step % 50 || 50)).toFixed(3)}  ${seconds.toFixed(0)} s`);
      recent = 0;
    }
    if (step % 250 === 0 || step === steps) {
      console.log(`  induction scores, layer 1 heads: ${induction(params, config, validation).map((x) => x.toFixed(3)).join(' ')}`);
    }
  }
  const validationAll = validationBatch(validation);
  const trainEval = drawSequences(train, VALIDATION_SET.sequences, seededRandom(VALIDATION_SET.seed));
  const losses = {
    train: await meanCrossEntropy(params, config, trainEval),
    validation: await meanCrossEntropy(params, config, validationAll),
    validationSubset: await meanCrossEntropy(params, config, validationBatch(validation, VALIDATION_SUBSET.sequences)),
  };
  const scores = induction(params, config, validation);
  const wallSeconds = (performance.now() - started) / 1000;
  console.log(`train ${losses.train.toFixed(4)}, validation ${losses.validation.toFixed(4)} nats/char; ${wallSeconds.toFixed(0)} s`);
  if (shipped) save(config, vocabulary, params, losses, scores, wallSeconds);
}

/** Layer 1's per-head induction scores on the validation subset (induction.ts). */
function induction(params: Variables, config: TransformerConfig, validationIds: Int32Array): number[] {
  const batch = validationBatch(validationIds, VALIDATION_SUBSET.sequences);
  const record: AttentionRecord[] = [];
  const weights = tf.tidy(() => {
    forwardBatch(params, config, tf.tensor2d(batch.inputs, [batch.count, batch.nCtx], 'int32'), record);
    return tf.keep(record[1]!.weights);
  });
  const scores = inductionScores(batch.inputs, weights.dataSync(), batch.count, config.nHeads, batch.nCtx);
  weights.dispose();
  return scores;
}

// Training.

type Variables = Record<string, tf.Variable>;

function trainStep(params: Variables, config: TransformerConfig, adam: Adam, batch: SequenceBatch, rate: number): number {
  const { value, grads } = tf.variableGrads(() => {
    const ids = tf.tensor2d(batch.inputs, [batch.count, batch.nCtx], 'int32');
    const targets = tf.tensor2d(batch.targets, [batch.count, batch.nCtx], 'int32');
    return crossEntropy(forwardBatch(params, config, ids), targets);
  }, Object.values(params));
  adam.step(grads, rate);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}

function learningRate(step: number): number {
  if (step <= WARMUP_STEPS) return (PEAK_LEARNING_RATE * step) / WARMUP_STEPS;
  const progress = (step - WARMUP_STEPS) / Math.max(1, steps - WARMUP_STEPS);
  return PEAK_LEARNING_RATE * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}

interface Adam {
  step(grads: tf.NamedTensorMap, rate: number): void;
}

/** Adam with bias correction and clipping by global norm, written out so that the rate can follow a schedule. */
function createAdam(params: Variables, beta1 = 0.9, beta2 = 0.98, epsilon = 1e-8): Adam {
  const m = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, tf.variable(tf.zerosLike(p), false)]));
  const v = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, tf.variable(tf.zerosLike(p), false)]));
  let t = 0;
  return {
    step(grads, rate) {
      t += 1;
      tf.tidy(() => {
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
        const clip = norm > CLIP_NORM ? CLIP_NORM / norm : 1;
        const stepSize = (rate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        for (const [name, p] of Object.entries(params)) {
          const g = tf.mul(grads[name]!, clip);
          m[name]!.assign(tf.add(tf.mul(m[name]!, beta1), tf.mul(g, 1 - beta1)));
          v[name]!.assign(tf.add(tf.mul(v[name]!, beta2), tf.mul(tf.square(g), 1 - beta2)));
          p.assign(tf.sub(p, tf.mul(tf.div(m[name]!, tf.add(tf.sqrt(v[name]!), epsilon)), stepSize)));
        }
      });
    },
  };
}

/** Normal(0, 0.02) matrices and embeddings; output projections scaled by 1/√(2·layers) (GPT-2); LayerNorm 1, 0. */
function initialParams(config: TransformerConfig, random: () => number): Variables {
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const params: Variables = {};
  for (const [name, shape] of Object.entries(parameterShapes(config))) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (name.includes('ln') && name.endsWith('.weight')) values.fill(1);
    else if (!name.endsWith('bias') && !name.includes('.b_')) {
      const std = 0.02 / (/w_o|w_out/.test(name) ? Math.sqrt(2 * config.nLayers) : 1);
      for (let i = 0; i < size; i++) values[i] = normal() * std;
    }
    params[name] = tf.variable(tf.tensor(values, shape), true, name);
  }
  return params;
}

// Output.

function save(
  config: TransformerConfig, vocabulary: string[], params: Variables, losses: Record<string, number>, scores: number[], wallSeconds: number,
): void {
  const tensors = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, { data: p.dataSync() as Float32Array, shape: p.shape }]));
  const source = 'Trained by scripts/train-transformer.ts on tiny Shakespeare (public domain).';
  writeFileSync(`${OUT}weights.safetensors`, writeTransformerWeights(config, vocabulary, tensors, { source }));
  const record = {
    config, vocabulary: vocabulary.join(''), seed: SEED, steps, batch: BATCH, sequence: SEQUENCE_RECIPE,
    optimizer: { name: 'adam', beta1: 0.9, beta2: 0.98, peakLearningRate: PEAK_LEARNING_RATE, warmupSteps: WARMUP_STEPS, decay: 'cosine to 10%', clipNorm: CLIP_NORM },
    lossNatsPerChar: {
      train: round(losses.train!), validation: round(losses.validation!), validationSubset: round(losses.validationSubset!),
      unigramBaseline: round(unigramEntropy(vocabulary, readFileSync(TEXT, 'utf8'))),
    },
    inductionScore: {
      layer: 1, head: scores.indexOf(Math.max(...scores)), score: round(Math.max(...scores)), perHead: scores.map(round),
      meaning: `mean attention weight from a character ending a repeat of ${INDUCTION_MATCH} characters to the character after ` +
        'its previous occurrence, over the validation subset (induction.ts); a uniform causal row gives about 0.03',
    },
    evaluation: {
      validation: `${VALIDATION_SET.sequences} sequences of the last 10% of the text, seed ${VALIDATION_SET.seed} (data.ts validationBatch)`,
      validationSubset: `the first ${VALIDATION_SUBSET.sequences} of those sequences`,
      train: `${VALIDATION_SET.sequences} sequences of the first 90%, seed ${VALIDATION_SET.seed}`,
    },
    backend: `tfjs-backend-wasm ${tf.version_core}`, wallSeconds: Math.round(wallSeconds),
    date: new Date().toISOString(), command: 'npx tsx scripts/train-transformer.ts',
  };
  writeFileSync(`${OUT}training.json`, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`wrote ${OUT}weights.safetensors and ${OUT}training.json`);
}

function unigramEntropy(vocabulary: string[], text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  const total = [...text].length;
  return vocabulary.reduce((h, char) => { const p = (counts.get(char) ?? 0) / total; return p > 0 ? h - p * Math.log(p) : h; }, 0);
}

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

await main();
