// How much a head behaves like an induction head: on a repeat, it attends from the current character to
// the character that followed the previous occurrence of the current one (so that the next layer can copy
// it). Plain TypeScript over attention weights P, so the training script and the tests share it.

/** Characters that must match, ending at the query and at its previous occurrence, to count as a repeat. */
export const INDUCTION_MATCH = 6;

/**
 * The (query, key) pairs where induction applies in a sequence of ids: query t ends a run of INDUCTION_MATCH
 * characters that also ended at an earlier j (the most recent such j), and key j + 1 follows that earlier
 * occurrence. Requiring a run, not a single character, keeps chance matches of common letters out.
 */
export function inductionTargets(ids: ArrayLike<number>, match = INDUCTION_MATCH): Array<[query: number, key: number]> {
  const pairs: Array<[number, number]> = [];
  for (let t = match - 1; t < ids.length; t++) {
    for (let j = t - 2; j >= match - 1; j--) {
      let same = true;
      for (let k = 0; k < match && same; k++) same = ids[t - k] === ids[j - k];
      if (same) {
        pairs.push([t, j + 1]);
        break;
      }
    }
  }
  return pairs;
}

/**
 * Mean attention weight on the induction key, per head, over every induction pair of every sequence.
 * `weights` is one layer's P, [sequences, heads, n, n] row-major; `ids` is [sequences, n]. A head that
 * spreads uniformly over the causal prefix scores about 2/n; NaN when no sequence has a repeat.
 */
export function inductionScores(ids: ArrayLike<number>, weights: ArrayLike<number>, sequences: number, heads: number, n: number): number[] {
  const sums = new Array<number>(heads).fill(0);
  let count = 0;
  for (let s = 0; s < sequences; s++) {
    const pairs = inductionTargets(Array.prototype.slice.call(ids, s * n, (s + 1) * n) as number[]);
    for (const [t, key] of pairs) {
      for (let h = 0; h < heads; h++) sums[h] = sums[h]! + weights[((s * heads + h) * n + t) * n + key]!;
    }
    count += pairs.length;
  }
  return sums.map((sum) => sum / count);
}
