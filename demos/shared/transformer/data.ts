// The demo transformer's data: characters of tiny Shakespeare (demos/long-attention/shakespeare.txt), a
// vocabulary of the characters the text uses, a fixed train/validation split, and the sequence recipe
// that makes copying pay, so that the model learns induction heads. Plain TypeScript, no tfjs: the
// training script, the tests and the demo all build their sequences here.
import { InvalidArgumentError } from '../../../src/core/errors';
import { seededRandom } from '../../../src/reference/random';

/** How training and validation sequences are built. */
export interface SequenceRecipe {
  /** Tokens per sequence (the model's context). */
  nCtx: number;
  /** Share of sequences in which a span of the first half is copied into the second half. */
  repeatFraction: number;
  /** Copied span length, uniform in [minSpan, maxSpan]. */
  minSpan: number;
  maxSpan: number;
}

export const SEQUENCE_RECIPE: Readonly<SequenceRecipe> = Object.freeze({
  nCtx: 64,
  repeatFraction: 0.75,
  minSpan: 8,
  maxSpan: 28,
});

/** The last 10% of the text's characters are validation, the rest training. */
export const VALIDATION_FRACTION = 0.1;

/** The shipped validation set: this many sequences drawn from the validation text with this seed. */
export const VALIDATION_SET = Object.freeze({ sequences: 256, seed: 7919 });

/** The first sequences of the validation set: small enough for a unit test on tfjs's CPU backend. */
export const VALIDATION_SUBSET = Object.freeze({ sequences: 16 });

/** A batch of `count` sequences, row-major [count, nCtx]; targets are the inputs shifted by one. */
export interface SequenceBatch {
  count: number;
  nCtx: number;
  inputs: Int32Array;
  targets: Int32Array;
}

/** The sorted unique characters (code points) of a text: the model's vocabulary, id = index. */
export function buildVocabulary(text: string): string[] {
  return [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

/** Character ids. An unknown character is an error naming it and where it is: the model has no id for it. */
export function encodeWith(vocabulary: readonly string[], text: string): Int32Array {
  const index = new Map(vocabulary.map((char, id) => [char, id]));
  const chars = [...text];
  const ids = new Int32Array(chars.length);
  chars.forEach((char, position) => {
    const id = index.get(char);
    if (id === undefined) {
      throw new InvalidArgumentError(
        `encode: character ${JSON.stringify(char)} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) ` +
          `at position ${position} is not in the model's vocabulary of ${vocabulary.length} characters ` +
          `(${JSON.stringify(vocabulary.join(''))}).`,
      );
    }
    ids[position] = id;
  });
  return ids;
}

export function decodeWith(vocabulary: readonly string[], ids: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < ids.length; i++) {
    const char = vocabulary[ids[i]!];
    if (char === undefined) {
      throw new InvalidArgumentError(`decode: id ${ids[i]} at position ${i} is outside the vocabulary [0, ${vocabulary.length}).`);
    }
    out += char;
  }
  return out;
}

/** The split by characters: training is the first 90%, validation the last 10%. */
export function splitIds(ids: Int32Array): { train: Int32Array; validation: Int32Array } {
  const cut = Math.floor(ids.length * (1 - VALIDATION_FRACTION));
  return { train: ids.subarray(0, cut), validation: ids.subarray(cut) };
}

/** Draws sequences from `ids` with `random`; see `drawSequence` for the recipe. */
export function drawSequences(
  ids: Int32Array,
  count: number,
  random: () => number,
  recipe: SequenceRecipe = SEQUENCE_RECIPE,
): SequenceBatch {
  const { nCtx } = recipe;
  const inputs = new Int32Array(count * nCtx);
  const targets = new Int32Array(count * nCtx);
  for (let s = 0; s < count; s++) {
    const window = drawSequence(ids, random, recipe);
    inputs.set(window.subarray(0, nCtx), s * nCtx);
    targets.set(window.subarray(1), s * nCtx);
  }
  return { count, nCtx, inputs, targets };
}

/** The shipped validation set (or its first `sequences`), the same on every machine. */
export function validationBatch(validationIds: Int32Array, sequences: number = VALIDATION_SET.sequences): SequenceBatch {
  const all = drawSequences(validationIds, VALIDATION_SET.sequences, seededRandom(VALIDATION_SET.seed));
  const n = all.nCtx * sequences;
  return { count: sequences, nCtx: all.nCtx, inputs: all.inputs.slice(0, n), targets: all.targets.slice(0, n) };
}

/**
 * One window of nCtx + 1 characters at a uniform random offset. With probability repeatFraction, a span of
 * L ∈ [minSpan, maxSpan] characters starting in the first half is copied over the window at a uniform
 * position in the second half: from there on, the span's next character is predictable by looking back to
 * the previous occurrence of the current one and copying what followed it, which is what induction heads do.
 */
function drawSequence(ids: Int32Array, random: () => number, recipe: SequenceRecipe): Int32Array {
  const { nCtx, repeatFraction, minSpan, maxSpan } = recipe;
  const start = Math.floor(random() * (ids.length - nCtx - 1));
  const window = ids.slice(start, start + nCtx + 1);
  if (random() < repeatFraction) {
    const half = nCtx >> 1;
    const span = minSpan + Math.floor(random() * (maxSpan - minSpan + 1));
    const from = Math.floor(random() * (half - span + 1));
    const to = half + Math.floor(random() * (nCtx + 1 - span - half + 1));
    window.copyWithin(to, from, from + span);
  }
  return window;
}
