// Float64 CPU reference of attention weights, with the same semantics as the GPU kernel:
// masked keys get weight 0, a row with every key masked is all zeros, and a non-finite score is either
// reported (throws) or treated as masked.
import { NonFiniteError } from '../core/errors';

/**
 * Inputs of `referenceAttentionWeights`. `scale` defaults to 1/√d, `keyLength` to nk; `nonFinite` chooses
 * whether a NaN/±Inf score throws `NonFiniteError` (the default) or is masked like the GPU kernel does.
 */
export interface ReferenceAttentionInput {
  /** [batch, nq, d] row-major */
  q: ArrayLike<number>;
  /** [batch, nk, d] row-major */
  k: ArrayLike<number>;
  batch: number;
  nq: number;
  nk: number;
  d: number;
  scale?: number;
  causal?: boolean;
  keyLength?: number;
  nonFinite?: 'throw' | 'mask';
}

/** P [batch, nq, nk] in float64. */
export function referenceAttentionWeights(input: ReferenceAttentionInput): Float64Array {
  const { q, k, batch, nq, nk, d } = input;
  const scale = input.scale ?? 1 / Math.sqrt(d);
  const keyLength = input.keyLength ?? nk;
  const out = new Float64Array(batch * nq * nk);
  const scores = new Float64Array(nk);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < nq; i++) {
      const limit = Math.min(keyLength, input.causal ? i + 1 : nk);
      let max = -Infinity;
      for (let j = 0; j < limit; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[(b * nq + i) * d + c]! * k[(b * nk + j) * d + c]!;
        let s = dot * scale;
        if (!Number.isFinite(s)) {
          if (input.nonFinite !== 'mask') {
            throw new NonFiniteError(`reference: score at batch item ${b}, query ${i}, key ${j} is ${s}.`);
          }
          s = -Infinity;
        }
        scores[j] = s;
        max = Math.max(max, s);
      }
      if (max === -Infinity) continue; // every key masked: the row stays zero
      let sum = 0;
      for (let j = 0; j < limit; j++) sum += Math.exp(scores[j]! - max);
      const row = (b * nq + i) * nk;
      for (let j = 0; j < limit; j++) out[row + j] = Math.exp(scores[j]! - max) / sum;
    }
  }
  return out;
}
