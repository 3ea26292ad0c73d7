// Optvis objectives, in the shape of Lucid's objectives.py: small named terms that compose by add, mul and
// sum. Every Objective is a loss to MINIMIZE (the kernels' convention): channel, neuron and deepDream are
// Lucid's objectives negated, so `channel(l, c).add(totalVariation().mul(0.1))` maximizes the channel while
// penalizing variation. An Objective is plain data; createOptimization compiles it into kernel launches.
import { invalidArgument } from '../core/errors';
import type { GpuTensor } from '../memory/gpu-tensor';

/** A term on one layer's activations h: its gradient dL/dh comes from the optvis-objectives kernel. */
export type FeatureTerm =
  /** ‖h − target‖² / ‖target‖²: target is the layer's activations for the original image. */
  | { readonly kind: 'featureMatch'; readonly layer: string; readonly target: GpuTensor }
  /** −mean over (n, y, x) of h[n, y, x, c]. */
  | { readonly kind: 'channel'; readonly layer: string; readonly channel: number }
  /** −h[n, y, x, c] averaged over the batch; (y, x) defaults to the layer's centre. */
  | { readonly kind: 'neuron'; readonly layer: string; readonly channel: number; readonly y?: number; readonly x?: number }
  /** −mean(h²). */
  | { readonly kind: 'deepDream'; readonly layer: string };

/** A term on the image itself: its gradient comes from the optvis-regularizers kernel. */
export type ImageTerm =
  | { readonly kind: 'totalVariation'; readonly beta: number }
  | { readonly kind: 'alphaNorm'; readonly alpha: number }
  | { readonly kind: 'l2' };

export interface WeightedTerm {
  /** The term's own name, without its weight: "channel(conv2, 3)". */
  readonly name: string;
  readonly weight: number;
  readonly term: FeatureTerm | ImageTerm;
}

/**
 * A loss to minimize: named, weighted terms on layers' activations and on the image. Compose with `add`,
 * `mul` and `Objective.sum`; the name is built as you go. Plain data: `createOptimization` compiles it.
 */
export class Objective {
  /** "0.5·tv(β=2) + channel(conv2, 3)": built as the objective is composed. */
  readonly name: string;
  /** The flattened terms with their weights multiplied out, in the order they were combined. */
  readonly terms: readonly WeightedTerm[];

  constructor(name: string, terms: readonly WeightedTerm[]) {
    invalidArgument(terms.length > 0, () => 'Objective: needs at least one term.');
    this.name = name;
    this.terms = Object.freeze([...terms]);
  }

  /** this + other: both objectives' terms, in order. Throws `InvalidArgumentError` if `other` is not an Objective. */
  add(other: Objective): Objective {
    invalidArgument(other instanceof Objective, () => `Objective.add: expected an Objective; got ${describe(other)}.`);
    return new Objective(`${this.name} + ${other.name}`, [...this.terms, ...other.terms]);
  }

  /** k · this; k = −1 turns a loss into a reward and back. */
  mul(k: number): Objective {
    invalidArgument(Number.isFinite(k), () => `Objective.mul: the factor must be a finite number; got ${k}.`);
    const inner = this.terms.length > 1 ? `(${this.name})` : this.name;
    return new Objective(`${formatNumber(k)}·${inner}`, this.terms.map((t) => ({ ...t, weight: t.weight * k })));
  }

  /** The sum of a non-empty list, added left to right; throws `InvalidArgumentError` on an empty one. */
  static sum(list: readonly Objective[]): Objective {
    invalidArgument(Array.isArray(list) && list.length > 0, () => 'Objective.sum: expected a non-empty list of objectives.');
    return list.slice(1).reduce((sum, next) => sum.add(next), list[0]!);
  }

  /** The layers the feature terms read, each once, in first-use order. */
  get layers(): string[] {
    const names = this.terms.flatMap((t) => ('layer' in t.term ? [t.term.layer] : []));
    return [...new Set(names)];
  }
}

/**
 * Feature inversion at `layer` (a feature map or units): L = ‖h − target‖² / ‖target‖², with `target` the
 * layer's activations for the image to recover (same shape, not all zeros). The caller keeps `target` alive while optimizing, then destroys it.
 */
export function featureMatch(layer: string, target: GpuTensor): Objective {
  checkLayer('featureMatch', layer);
  invalidArgument(
    target !== null && typeof target === 'object' && 'buffer' in target && 'shape' in target,
    () => `featureMatch('${layer}'): the target must be a GpuTensor of the layer's activations; got ${describe(target)}.`,
  );
  return single(`featureMatch(${layer})`, { kind: 'featureMatch', layer, target });
}

/**
 * Maximizes channel `c` of `layer`: L = −mean of h[n, y, x, c] over the batch and every position. On a layer
 * of units [batch, u] (a Dense layer's logits: Lucid's class objectives) it maximizes unit `c`.
 */
export function channel(layer: string, c: number): Objective {
  checkLayer('channel', layer);
  checkIndex('channel', 'channel', c);
  return single(`channel(${layer}, ${c})`, { kind: 'channel', layer, channel: c });
}

/**
 * Maximizes one unit of `layer`: L = −h[y, x, c] (averaged over the batch). Give both y and x, or neither for
 * the centre (⌊H/2⌋, ⌊W/2⌋); neither on a layer of units [batch, u], where it is unit `c`.
 */
export function neuron(layer: string, c: number, y?: number, x?: number): Objective {
  checkLayer('neuron', layer);
  checkIndex('neuron', 'channel', c);
  invalidArgument((y === undefined) === (x === undefined), () => `neuron('${layer}', ${c}): give both y and x, or neither (the centre).`);
  if (y !== undefined) checkIndex('neuron', 'y', y);
  if (x !== undefined) checkIndex('neuron', 'x', x);
  const at = y === undefined ? '' : `, ${y}, ${x}`;
  return single(`neuron(${layer}, ${c}${at})`, { kind: 'neuron', layer, channel: c, ...(y === undefined ? {} : { y, x }) });
}

/** Amplifies whatever `layer` responds to: L = −mean(h²) over the layer (DeepDream). */
export function deepDream(layer: string): Objective {
  checkLayer('deepDream', layer);
  return single(`deepDream(${layer})`, { kind: 'deepDream', layer });
}

/** Σ (Δx² + Δy²)^{β/2} over the image (M&V's R_{V^β}); β = 2 by default. */
export function totalVariation(beta = 2): Objective {
  invalidArgument(Number.isFinite(beta) && beta > 0, () => `totalVariation: β must be a finite number > 0; got ${beta}.`);
  return single(`tv(β=${formatNumber(beta)})`, { kind: 'totalVariation', beta });
}

/** Σ |x|^α over the image (M&V's N_α); α = 6 by default. */
export function alphaNorm(alpha = 6): Objective {
  invalidArgument(Number.isFinite(alpha) && alpha >= 1, () => `alphaNorm: α must be a finite number ≥ 1; got ${alpha}.`);
  return single(`alphaNorm(α=${formatNumber(alpha)})`, { kind: 'alphaNorm', alpha });
}

/** Σ x² over the image's pixels: a plain penalty on their size. */
export function l2(): Objective {
  return single('l2', { kind: 'l2' });
}

export function isFeatureTerm(term: FeatureTerm | ImageTerm): term is FeatureTerm {
  return 'layer' in term;
}

/** The compiled form: feature terms grouped by layer (one gradient buffer each), image terms apart. */
export interface CompiledObjective {
  /** Per layer, in first-use order; `index` is the term's position in objective.terms (its value slot). */
  readonly layers: readonly { layer: string; terms: readonly { index: number; weight: number; term: FeatureTerm }[] }[];
  readonly image: readonly { index: number; weight: number; term: ImageTerm }[];
}

export function compileObjective(objective: Objective): CompiledObjective {
  invalidArgument(objective instanceof Objective, () => `Expected an Objective (from channel(), featureMatch(), …); got ${describe(objective)}.`);
  const byLayer = new Map<string, { index: number; weight: number; term: FeatureTerm }[]>();
  const image: { index: number; weight: number; term: ImageTerm }[] = [];
  objective.terms.forEach(({ weight, term }, index) => {
    if (isFeatureTerm(term)) {
      if (!byLayer.has(term.layer)) byLayer.set(term.layer, []);
      byLayer.get(term.layer)!.push({ index, weight, term });
    } else image.push({ index, weight, term });
  });
  return { layers: [...byLayer].map(([layer, terms]) => ({ layer, terms })), image };
}

/** Shortest decimal that reads back as the same float64, trimmed of noise such as 0.30000000000000004. */
export function formatNumber(k: number): string {
  return String(Number.parseFloat(k.toPrecision(6)));
}

function single(name: string, term: FeatureTerm | ImageTerm): Objective {
  return new Objective(name, [{ name, weight: 1, term }]);
}

function checkLayer(what: string, layer: unknown): asserts layer is string {
  invalidArgument(typeof layer === 'string' && layer.length > 0, () => `${what}: the layer must be a non-empty name; got ${describe(layer)}.`);
}

function checkIndex(what: string, name: string, value: unknown): void {
  invalidArgument(
    typeof value === 'number' && Number.isInteger(value) && value >= 0,
    () => `${what}: ${name} must be an integer ≥ 0; got ${describe(value)}.`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return String(value);
}
