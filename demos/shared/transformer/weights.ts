// The demo transformer's weights file: a .safetensors file whose "__metadata__" holds the config and the
// vocabulary as JSON, so that one file is the whole model. Everything is checked before a tensor is made:
// a truncated file, a missing or unexpected tensor, a wrong shape or dtype, a bad config each get an error
// saying what was expected and what came.
import { FileFormatError, describe, type FileBytes } from '../../../src/io/bytes';
import { parseSafetensors } from '../../../src/io/safetensors';
import { writeSafetensors, type SafetensorsInput } from '../../../src/io/safetensors-writer';
import { headDim, parameterShapes, type TransformerConfig } from './config';

export interface CheckedWeights {
  config: TransformerConfig;
  vocabulary: string[];
  tensors: Record<string, { data: Float32Array; shape: number[] }>;
  /** The file's other metadata entries (e.g. where it came from). */
  metadata: Record<string, string>;
}

/** Serializes a model as F32 safetensors; `metadata` adds free-form entries (strings). */
export function writeTransformerWeights(
  config: TransformerConfig,
  vocabulary: readonly string[],
  tensors: Record<string, SafetensorsInput>,
  metadata: Record<string, string> = {},
): Uint8Array {
  checkConfig(config);
  return writeSafetensors(tensors, { ...metadata, config: JSON.stringify(config), vocabulary: JSON.stringify(vocabulary) });
}

/** Parses and checks a weights file against the config stored in it. */
export function checkedWeights(bytes: FileBytes): CheckedWeights {
  const file = parseSafetensors(bytes);
  const { config: configJson, vocabulary: vocabularyJson, ...metadata } = file.metadata;
  const config = checkConfig(jsonEntry(configJson, 'config'));
  const vocabulary = checkVocabulary(jsonEntry(vocabularyJson, 'vocabulary'), config.vocabSize);
  const expected = parameterShapes(config);
  const missing = Object.keys(expected).filter((name) => !file.tensors.has(name));
  if (missing.length > 0) {
    throw new FileFormatError(
      `transformer weights: missing tensor${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}; ` +
        `a model with ${config.nLayers} layers${config.dMlp > 0 ? ' and MLPs' : ', attention only'} has ` +
        `${Object.keys(expected).length} tensors.`,
    );
  }
  const extra = [...file.tensors.keys()].filter((name) => !(name in expected));
  if (extra.length > 0) {
    throw new FileFormatError(`transformer weights: unexpected tensor${extra.length > 1 ? 's' : ''} ${extra.map((m) => `'${m}'`).join(', ')} for this config.`);
  }
  const tensors: CheckedWeights['tensors'] = {};
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = file.tensors.get(name)!;
    if (tensor.shape.join() !== shape.join()) {
      throw new FileFormatError(
        `transformer weights: tensor '${name}' should have shape [${shape.join(', ')}] for this config; got [${tensor.shape.join(', ')}].`,
      );
    }
    const data = tensor.data;
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new FileFormatError(`transformer weights: tensor '${name}' has ${data[bad]} at element ${bad}; weights must be finite.`);
    tensors[name] = { data, shape };
  }
  return { config, vocabulary, tensors, metadata };
}

// Implementation.

const CONFIG_KEYS: ReadonlyArray<keyof TransformerConfig> = ['vocabSize', 'nCtx', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'layerNormEpsilon'];

function jsonEntry(text: string | undefined, key: string): unknown {
  if (text === undefined) {
    throw new FileFormatError(
      `transformer weights: the file's "__metadata__" has no "${key}" entry; expected a file written by ` +
        'scripts/train-transformer.ts (metadata "config" and "vocabulary" as JSON).',
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(`transformer weights: metadata "${key}" is not valid JSON (${(error as Error).message}).`);
  }
}

function checkConfig(value: unknown): TransformerConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FileFormatError(`transformer weights: the config should be an object {${CONFIG_KEYS.join(', ')}}; got ${describe(value)}.`);
  }
  const config = value as Record<string, unknown>;
  for (const key of CONFIG_KEYS) {
    const x = config[key];
    const ok = key === 'layerNormEpsilon' ? typeof x === 'number' && x > 0 : Number.isSafeInteger(x) && (x as number) >= (key === 'dMlp' ? 0 : 1);
    if (!ok) throw new FileFormatError(`transformer weights: config.${key} should be a ${key === 'layerNormEpsilon' ? 'positive number' : 'positive integer'}; got ${describe(x)}.`);
  }
  const checked = Object.fromEntries(CONFIG_KEYS.map((key) => [key, config[key]])) as unknown as TransformerConfig;
  if (!Number.isInteger(headDim(checked))) {
    throw new FileFormatError(`transformer weights: config.dModel (${checked.dModel}) should be a multiple of config.nHeads (${checked.nHeads}).`);
  }
  return checked;
}

function checkVocabulary(value: unknown, vocabSize: number): string[] {
  const ok = Array.isArray(value) && value.every((char) => typeof char === 'string' && [...char].length === 1);
  if (!ok) throw new FileFormatError(`transformer weights: the vocabulary should be a list of single characters; got ${describe(value)}.`);
  if (value.length !== vocabSize || new Set(value).size !== value.length) {
    throw new FileFormatError(
      `transformer weights: the vocabulary should hold config.vocabSize = ${vocabSize} distinct characters; ` +
        `got ${value.length} (${new Set(value).size} distinct).`,
    );
  }
  return value as string[];
}
