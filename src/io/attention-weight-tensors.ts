// Picks the attention weights P of each layer out of a file of named tensors and stacks them into one
// [layers, heads, N, N] array: the transformer views' input when a model's own softmax was dumped (e.g.
// Hugging Face's `output_attentions=True`).
//
// The naming convention (case-insensitive; L is the layer number; the separator is one of . _ / -; a
// trailing ".npy" is ignored):
//   layers.L.p   layers.L.attn   layers.L.attention   layers.L.weights    the layer-first forms
//   attentions.L   attention_L   attn.L   p_L   p3                         role first (HF's tuple name)
//   p   attn   attentions                                                  a single layer, numbered 0
import { InvalidArgumentError } from '../core/errors';
import type { NamedTensors } from './attention-tensors';

/** Every layer's attention weights in one new array, as returned by {@link attentionWeightsFrom}. */
export interface StackedAttentionWeights {
  /** [layers, heads, N, N], row-major: row i of head h of layer l is query i's weights over every key. */
  shape: [number, number, number, number];
  data: Float32Array;
  /** The name each layer had in the file, by layer. */
  names: string[];
}

/** How far a row's sum may be from 1 (or 0 for a fully masked row): float16 dumps round each weight. */
export const ROW_SUM_TOLERANCE = 1e-2;

/**
 * The attention weights of every layer, stacked. From PyTorch (Hugging Face):
 * ```python
 * out = model(**inputs, output_attentions=True)
 * save_file({f"attentions.{l}": a[0].float().contiguous() for l, a in enumerate(out.attentions)}, "p.safetensors")
 * ```
 * Layers must be numbered 0..L−1 without gaps and agree on heads and N; each layer is [N, N], [heads, N, N] or
 * [1, heads, N, N]. Values must be finite and ≥ 0 with every row summing to 1 (or 0 where every key is masked):
 * scores before the softmax are rejected with a message saying so. Throws InvalidArgumentError otherwise.
 */
export function attentionWeightsFrom(tensors: NamedTensors): StackedAttentionWeights {
  const names = layerNames(tensors);
  const first = headShape(names[0]!, tensors);
  const layers = names.length;
  const [heads, n] = first;
  const data = new Float32Array(layers * heads * n * n);
  names.forEach((name, layer) => {
    const shape = headShape(name, tensors);
    if (shape[0] !== heads || shape[1] !== n) {
      throw new InvalidArgumentError(
        `attentionWeightsFrom: layer ${layer} ('${name}') has ${shape[0]} heads of ${shape[1]}×${shape[1]} but layer 0 ` +
          `('${names[0]}') has ${heads} heads of ${n}×${n}; every layer must have the same heads and N.`,
      );
    }
    const values = tensors.get(name)!.data;
    checkRows(name, values, n);
    data.set(values, layer * heads * n * n);
  });
  return { shape: [layers, heads, n, n], data, names };
}

/** True when some tensor is named like attention weights (so a file holds P rather than Q and K). */
export function hasAttentionWeights(tensors: NamedTensors): boolean {
  return [...tensors.keys()].some((name) => matchName(name) !== null);
}

// Implementation.

const ROLE = '(p|attn|attention|attentions|weights)';
const SEP = '[._/-]';
const LAYER_FIRST = new RegExp(`^(?:(?:layers?|l)${SEP}?)?(\\d+)${SEP}${ROLE}$`, 'i');
const ROLE_FIRST = new RegExp(`^${ROLE}${SEP}?(\\d+)$`, 'i');
const ROLE_ONLY = new RegExp(`^${ROLE}$`, 'i');
const CONVENTION = "'attentions.L' or 'layers.L.p' (also 'layers.L.attn', 'p_L', 'attn.L', or 'p' for one layer)";

function matchName(fullName: string): number | null {
  const name = fullName.replace(/\.npy$/i, '');
  const layerFirst = LAYER_FIRST.exec(name);
  if (layerFirst) return Number(layerFirst[1]);
  const roleFirst = ROLE_FIRST.exec(name);
  if (roleFirst) return Number(roleFirst[2]);
  return ROLE_ONLY.test(name) ? 0 : null;
}

/** The names of layers 0..L−1, in order. */
function layerNames(tensors: NamedTensors): string[] {
  const byLayer = new Map<number, string>();
  for (const name of tensors.keys()) {
    const layer = matchName(name);
    if (layer === null) continue;
    const taken = byLayer.get(layer);
    if (taken !== undefined) {
      throw new InvalidArgumentError(`attentionWeightsFrom: both '${taken}' and '${name}' name the weights of layer ${layer}; keep one.`);
    }
    byLayer.set(layer, name);
  }
  if (byLayer.size === 0) {
    const found = [...tensors.keys()].slice(0, 20).map((name) => `'${name}'`).join(', ') || 'no tensors';
    throw new InvalidArgumentError(`attentionWeightsFrom: no tensor is named like ${CONVENTION}. Found ${found}.`);
  }
  const missing = Array.from({ length: Math.max(...byLayer.keys()) + 1 }, (_, layer) => layer).filter((layer) => !byLayer.has(layer));
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `attentionWeightsFrom: layers must be numbered 0..L−1 without gaps; found layers ${[...byLayer.keys()].sort((a, b) => a - b).join(', ')}, ` +
        `missing ${missing.slice(0, 10).join(', ')}.`,
    );
  }
  return [...byLayer.keys()].sort((a, b) => a - b).map((layer) => byLayer.get(layer)!);
}

/** [heads, N] of a layer's tensor, which must be [N, N], [heads, N, N] or [1, heads, N, N]. */
function headShape(name: string, tensors: NamedTensors): [number, number] {
  const shape = tensors.get(name)!.shape;
  const fail = (why: string) => new InvalidArgumentError(`attentionWeightsFrom: '${name}' has shape [${shape.join(', ')}]; ${why}.`);
  let dims: readonly number[];
  if (shape.length === 2) dims = [1, ...shape];
  else if (shape.length === 3) dims = shape;
  else if (shape.length === 4 && shape[0] === 1) dims = shape.slice(1);
  else if (shape.length === 4) throw fail(`a batch of ${shape[0]}; expected batch 1 (save one sequence, e.g. a[0])`);
  else throw fail('expected [N, N], [heads, N, N] or [1, heads, N, N]');
  const [heads, rows, cols] = dims as [number, number, number];
  if (rows !== cols) throw fail(`expected square [N, N] matrices (self-attention), got ${rows} queries × ${cols} keys`);
  if (heads === 0 || rows === 0) throw fail('expected at least one head and one token');
  return [heads, rows];
}

/** Every value finite and ≥ 0, every row summing to 1 (or 0): what a softmax writes. */
function checkRows(name: string, values: Float32Array, n: number): void {
  for (let row = 0; row * n < values.length; row++) {
    let sum = 0;
    for (let j = row * n; j < (row + 1) * n; j++) {
      const value = values[j]!;
      if (!Number.isFinite(value) || value < 0) {
        throw new InvalidArgumentError(
          `attentionWeightsFrom: '${name}' holds ${value} at flat index ${j} (row ${row}, key ${j - row * n}); ` +
            'attention weights are finite and ≥ 0. Scores before the softmax are not weights: apply softmax first, or dump Q and K.',
        );
      }
      sum += value;
    }
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE && sum > ROW_SUM_TOLERANCE) {
      throw new InvalidArgumentError(
        `attentionWeightsFrom: row ${row} of '${name}' sums to ${sum.toPrecision(6)}; expected 1 (±${ROW_SUM_TOLERANCE}), ` +
          'or 0 for a fully masked row. Attention weights are softmax rows over the keys (the last axis).',
      );
    }
  }
}
