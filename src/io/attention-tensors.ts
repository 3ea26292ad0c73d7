// Picks the query and key tensors of each layer out of a file of named tensors.
//
// The naming convention (case-insensitive; L is the layer number; the role is q, k, query or key;
// the separator is one of . _ / -; a trailing ".npy" is ignored, so .npy files keyed by file name work too):
//   layers.L.q   layers.L.k      the canonical form
//   layer_L/q    layer3.k  l3.q  other prefixes: layer, layers, l, or none ("3.q")
//   q_L  k_L  query.L  q3       role first
//   q  k                         a single layer, numbered 0
// Names like `model.layers.3.self_attn.q_proj.weight` are projection weights, not activations, and do not match.
import { InvalidArgumentError } from '../core/errors';

/** Whatever has a shape and float32 data by name: a parsed safetensors file's tensors, or .npy files by name. */
export type NamedTensors = ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

/** A layer's Q or K, normalized to three axes; `data` is the input's array, not a copy. */
export interface QkTensor {
  /** The name it had in the file. */
  name: string;
  /** [heads, N, d], row-major: [N, d] is read as one head, [1, heads, N, d] drops the batch. */
  shape: [number, number, number];
  data: Float32Array;
}

/** The Q and K of one layer, as found by {@link attentionTensorsFrom}. */
export interface AttentionLayerTensors {
  layer: number;
  q: QkTensor;
  k: QkTensor;
}

/**
 * Whether a name looks like a Q or K: looser than the convention attentionTensorsFrom reads, so that a near
 * miss ('model.q') reaches that reader and gets its error, which lists the names it takes.
 */
export function looksLikeQueryOrKey(name: string): boolean {
  return /(^|[._/\d])(q|k|query|key)(\.npy)?$/i.test(name);
}

/** Whether any tensor's name looks like a Q or K (see looksLikeQueryOrKey). */
export function hasQueriesAndKeys(tensors: NamedTensors): boolean {
  return [...tensors.keys()].some(looksLikeQueryOrKey);
}

/**
 * The Q and K of every layer found, sorted by layer. From PyTorch, with `qs[l]`, `ks[l]` of shape
 * [batch, heads, N, d] captured by forward hooks:
 * ```python
 * from safetensors.torch import save_file
 * save_file({f"layers.{l}.{r}": t[0].float().contiguous() for l in range(len(qs))
 *            for r, t in (("q", qs[l]), ("k", ks[l]))}, "qk.safetensors")
 * ```
 * Q and K of a layer must agree on heads and d (their N may differ, as in cross-attention). Throws
 * InvalidArgumentError when no name follows the convention (the message lists the names found), when a layer
 * has Q without K or the reverse, when two names claim the same role, or when a shape is not [N, d],
 * [heads, N, d] or [1, heads, N, d].
 */
export function attentionTensorsFrom(tensors: NamedTensors): AttentionLayerTensors[] {
  const byLayer = new Map<number, { q?: string; k?: string }>();
  for (const name of tensors.keys()) {
    const match = matchName(name);
    if (match === null) continue;
    const slot = byLayer.get(match.layer) ?? {};
    const taken = slot[match.role];
    if (taken !== undefined) {
      throw new InvalidArgumentError(
        `attentionTensorsFrom: both '${taken}' and '${name}' name the ${match.role.toUpperCase()} of layer ${match.layer}; keep one.`,
      );
    }
    slot[match.role] = name;
    byLayer.set(match.layer, slot);
  }
  if (byLayer.size === 0) throw new InvalidArgumentError(nothingMatched([...tensors.keys()]));
  return [...byLayer.entries()]
    .sort(([a], [b]) => a - b)
    .map(([layer, slot]) => layerTensors(layer, slot, tensors));
}

// Implementation.

type Role = 'q' | 'k';

const ROLE = '(q|k|query|key)';
const SEP = '[._/-]';
const LAYER_FIRST = new RegExp(`^(?:(?:layers?|l)${SEP}?)?(\\d+)${SEP}${ROLE}$`, 'i');
const ROLE_FIRST = new RegExp(`^${ROLE}${SEP}?(\\d+)$`, 'i');
const ROLE_ONLY = new RegExp(`^${ROLE}$`, 'i');
const CONVENTION = "'layers.L.q' / 'layers.L.k' (also 'layer_L/q', 'L.q', 'q_L', 'query.L', or 'q' / 'k' for one layer)";

function matchName(fullName: string): { layer: number; role: Role } | null {
  const name = fullName.replace(/\.npy$/i, '');
  const roleOf = (text: string): Role => (text.toLowerCase().startsWith('q') ? 'q' : 'k');
  let found = LAYER_FIRST.exec(name);
  if (found) return { layer: Number(found[1]), role: roleOf(found[2]!) };
  found = ROLE_FIRST.exec(name);
  if (found) return { layer: Number(found[2]), role: roleOf(found[1]!) };
  found = ROLE_ONLY.exec(name);
  return found ? { layer: 0, role: roleOf(found[1]!) } : null;
}

function nothingMatched(names: string[]): string {
  const listed = names.slice(0, 20).map((name) => `'${name}'`).join(', ');
  const more = names.length > 20 ? ` and ${names.length - 20} more` : '';
  const weights = names.some((name) => /(q|k)_proj\.weight$/i.test(name))
    ? ' Names ending in q_proj.weight are projection weights; dump the activations Q and K instead.'
    : '';
  return `attentionTensorsFrom: no tensor is named like ${CONVENTION}. ` +
    `Found ${names.length === 0 ? 'no tensors' : `${listed}${more}`}.${weights}`;
}

function layerTensors(layer: number, slot: { q?: string; k?: string }, tensors: NamedTensors): AttentionLayerTensors {
  if (slot.q === undefined || slot.k === undefined) {
    const [has, lacks] = slot.q === undefined ? [slot.k, 'Q'] : [slot.q, 'K'];
    throw new InvalidArgumentError(
      `attentionTensorsFrom: layer ${layer} has '${has}' but no ${lacks}; expected both, named like ${CONVENTION}.`,
    );
  }
  const q = qkTensor(slot.q, tensors);
  const k = qkTensor(slot.k, tensors);
  if (q.shape[0] !== k.shape[0] || q.shape[2] !== k.shape[2]) {
    throw new InvalidArgumentError(
      `attentionTensorsFrom: layer ${layer}: Q '${q.name}' is [${q.shape.join(', ')}] and K '${k.name}' is ` +
        `[${k.shape.join(', ')}] as [heads, N, d]; they must agree on heads and d.`,
    );
  }
  return { layer, q, k };
}

function qkTensor(name: string, tensors: NamedTensors): QkTensor {
  const tensor = tensors.get(name)!;
  const shape = tensor.shape;
  const fail = (why: string) =>
    new InvalidArgumentError(`attentionTensorsFrom: '${name}' has shape [${shape.join(', ')}]; ${why}.`);
  let heads: number[];
  if (shape.length === 2) heads = [1, ...shape];
  else if (shape.length === 3) heads = [...shape];
  else if (shape.length === 4 && shape[0] === 1) heads = shape.slice(1);
  else if (shape.length === 4) throw fail(`a batch of ${shape[0]}; expected batch 1 (save one sequence, e.g. q[0:1])`);
  else throw fail('expected [N, d], [heads, N, d] or [1, heads, N, d]');
  if (heads.includes(0)) throw fail('attention needs at least one head, one token and one feature');
  return { name, shape: heads as [number, number, number], data: tensor.data };
}
