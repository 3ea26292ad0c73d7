// Float64 CPU reference of attention rollout (Abnar & Zuidema 2020), with the GPU kernel's semantics:
// head fusion, per-row discard (ties at the threshold kept, diagonal never discarded), Â = rownorm(Ā + I)
// with each ROW divided by its own sum, and R_l = Â_l · R_{l-1}, R_0 = Â_0.
import { InvalidArgumentError, NonFiniteError } from '../core/errors';
import type { HeadFusion } from '../kernels/attention-rollout';
import { randomFloats } from './random';

/** Options of `referenceAttentionRollout`: `fusion` defaults to 'mean', `discardRatio` to 0. */
export interface ReferenceRolloutOptions {
  fusion?: HeadFusion;
  /** In [0, 1): per row, entries below the row's (floor(ratio·n) + 1)-th smallest become 0. */
  discardRatio?: number;
}

/** graph Â and rollout R, each [layers, n, n], for P of shape [layers, heads, n, n] or [heads, n, n]. */
export function referenceAttentionRollout(
  weights: ArrayLike<number>,
  shape: readonly number[],
  options: ReferenceRolloutOptions = {},
): { graph: Float64Array; rollout: Float64Array } {
  const [layers, heads, rows, n] = shape.length === 4 ? shape : [1, ...shape];
  if ((shape.length !== 3 && shape.length !== 4) || rows !== n || layers! * heads! * n! * n! !== weights.length) {
    throw new InvalidArgumentError(`reference rollout: shape [${shape}] is not [layers, heads, n, n] of ${weights.length} values.`);
  }
  const ratio = options.discardRatio ?? 0;
  if (!(ratio >= 0 && ratio < 1)) throw new InvalidArgumentError(`reference rollout: discardRatio ${ratio} is not in [0, 1).`);
  const size = n! * n!;
  const graph = new Float64Array(layers! * size);
  const rollout = new Float64Array(layers! * size);
  for (let l = 0; l < layers!; l++) {
    const a = graph.subarray(l * size, (l + 1) * size);
    fuseHeads(weights, l, heads!, n!, options.fusion ?? 'mean', a);
    for (let i = 0; i < n!; i++) {
      const row = a.subarray(i * n!, (i + 1) * n!);
      discardSmallest(row, i, Math.floor(ratio * n!));
      row[i]! += 1;
      normalizeRow(row);
    }
    const r = rollout.subarray(l * size, (l + 1) * size);
    if (l === 0) r.set(a);
    else multiply(a, rollout.subarray((l - 1) * size, l * size), n!, r);
  }
  return { graph, rollout };
}

/** out[i, j] = fusion over h of P[l, h, i, j]. */
function fuseHeads(p: ArrayLike<number>, l: number, heads: number, n: number, fusion: HeadFusion, out: Float64Array): void {
  const size = n * n;
  for (let e = 0; e < size; e++) {
    let acc = fusion === 'max' ? -Infinity : fusion === 'min' ? Infinity : 0;
    for (let h = 0; h < heads; h++) {
      const index = (l * heads + h) * size + e;
      const x = p[index]!;
      if (!Number.isFinite(x)) {
        throw new NonFiniteError(`reference rollout: P at layer ${l}, head ${h}, row ${Math.floor(e / n)}, col ${e % n} is ${x}.`);
      }
      acc = fusion === 'max' ? Math.max(acc, x) : fusion === 'min' ? Math.min(acc, x) : acc + x;
    }
    out[e] = fusion === 'mean' ? acc / heads : acc;
  }
}

/** Zeroes entries strictly below the row's (k+1)-th smallest, except the diagonal `i`. */
function discardSmallest(row: Float64Array, i: number, k: number): void {
  if (k <= 0) return;
  const threshold = Float64Array.from(row).sort()[k]!;
  for (let j = 0; j < row.length; j++) {
    if (j !== i && row[j]! < threshold) row[j] = 0;
  }
}

/** Divides the row by its own sum. */
function normalizeRow(row: Float64Array): void {
  let sum = 0;
  for (const x of row) sum += x;
  for (let j = 0; j < row.length; j++) row[j]! /= sum;
}

/** out = a · b for n×n row-major matrices. */
function multiply(a: Float64Array, b: Float64Array, n: number, out: Float64Array): void {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < n; m++) {
      const aim = a[i * n + m]!;
      if (aim === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aim * b[m * n + j]!;
    }
  }
}

/**
 * Seeded attention weights for tests and benchmarks: `count` rows of n, each a softmax of uniform logits
 * in [-spread, spread); with `causal`, row i (of each n) has weight only on keys ≤ i. Float32.
 */
export function randomSoftmaxRows(count: number, n: number, seed: number, options: { causal?: boolean; spread?: number } = {}): Float32Array {
  const logits = randomFloats(count * n, seed, options.spread ?? 3);
  const out = new Float32Array(count * n);
  for (let row = 0; row < count; row++) {
    const visible = options.causal ? (row % n) + 1 : n;
    let sum = 0;
    for (let j = 0; j < visible; j++) sum += Math.exp(logits[row * n + j]!);
    for (let j = 0; j < visible; j++) out[row * n + j] = Math.exp(logits[row * n + j]!) / sum;
  }
  return out;
}
