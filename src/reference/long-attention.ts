// Float64 CPU references for the long-sequence attention kernels, with the same semantics: masked keys
// (causal j > i, padding j ≥ keyLength) and non-finite scores are true zeros of P; a row with nothing
// visible has L = -Infinity, entropy 0 and P = 0.
import type { TileRequest } from '../kernels/attention-tiles';

/** Inputs of the long-attention references; `scale` defaults to 1/√d, `keyLength` to nk. */
export interface ReferenceLongInput {
  /** [heads, nq, d] row-major */
  q: ArrayLike<number>;
  /** [heads, nk, d] row-major */
  k: ArrayLike<number>;
  heads: number;
  nq: number;
  nk: number;
  d: number;
  scale?: number;
  causal?: boolean;
  keyLength?: number;
}

/** Per-row statistics of the scores, [heads, nq] each, as the GPU row-stats kernel computes them. */
export interface ReferenceRowStats {
  /** [heads, nq] row maximum of the scores; -Infinity for a row with nothing visible. */
  m: Float64Array;
  /** [heads, nq] L_i = log Σ_j exp(s_ij); -Infinity for a row with nothing visible. */
  lse: Float64Array;
  /** [heads, nq] H_i = -Σ_j P_ij log P_ij; 0 for a row with nothing visible. */
  entropy: Float64Array;
}

/** Scores s_ij of one row for keys [c0, c1) into `out` (length c1 - c0); -Infinity where masked. */
export function referenceScoreRow(input: ReferenceLongInput, head: number, i: number, c0: number, c1: number, out: Float64Array): void {
  const { q, k, nq, nk, d } = input;
  const scale = input.scale ?? 1 / Math.sqrt(d);
  const visible = Math.min(input.keyLength ?? nk, input.causal ? i + 1 : nk);
  const qRow = (head * nq + i) * d;
  for (let j = c0; j < c1; j++) {
    let s = -Infinity;
    if (j < visible) {
      let dot = 0;
      const kRow = (head * nk + j) * d;
      for (let c = 0; c < d; c++) dot += q[qRow + c]! * k[kRow + c]!;
      s = dot * scale;
      if (!Number.isFinite(s)) s = -Infinity;
    }
    out[j - c0] = s;
  }
}

/** Row maximum, log-sum-exp and entropy of every row of P, in float64. */
export function referenceRowStats(input: ReferenceLongInput): ReferenceRowStats {
  const { heads, nq, nk } = input;
  const m = new Float64Array(heads * nq).fill(-Infinity);
  const lse = new Float64Array(heads * nq).fill(-Infinity);
  const entropy = new Float64Array(heads * nq);
  const scores = new Float64Array(nk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nq; i++) {
      referenceScoreRow(input, h, i, 0, nk, scores);
      const max = scores.reduce((a, b) => Math.max(a, b), -Infinity);
      if (max === -Infinity) continue;
      let l = 0;
      let t = 0; // Σ exp(s - max)(s - max)
      for (const s of scores) {
        if (s === -Infinity) continue;
        const e = Math.exp(s - max);
        l += e;
        t += e * (s - max);
      }
      const row = h * nq + i;
      m[row] = max;
      lse[row] = max + Math.log(l);
      entropy[row] = Math.log(l) - t / l;
    }
  }
  return { m, lse, entropy };
}

/** Σ_i P_ij for every key: [heads, nk]. */
export function referenceColumnSums(input: ReferenceLongInput, stats: ReferenceRowStats): Float64Array {
  const { heads, nq, nk } = input;
  const sums = new Float64Array(heads * nk);
  const scores = new Float64Array(nk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nq; i++) {
      const L = stats.lse[h * nq + i]!;
      if (L === -Infinity) continue;
      referenceScoreRow(input, h, i, 0, nk, scores);
      for (let j = 0; j < nk; j++) sums[h * nk + j]! += Math.exp(scores[j]! - L);
    }
  }
  return sums;
}

/** Entries [start, end) that cell `c` of a `grid`-cell axis over `range` covers (the kernel's rule). */
export function referenceCellSpan(range: readonly [number, number], grid: number, c: number): [number, number] {
  const [first, end] = range;
  const count = end - first;
  if (count < grid) {
    const entry = first + Math.floor(((2 * c + 1) * count) / (2 * grid));
    return [entry, entry + 1];
  }
  return [first + Math.floor((c * count) / grid), first + Math.floor(((c + 1) * count) / grid)];
}

/** A tile request pooled from exact P: [height, width], NaN for cells outside request.cells. */
export function referenceTile(input: ReferenceLongInput, stats: ReferenceRowStats, request: TileRequest): Float64Array {
  const { width, height, head } = request;
  const cells = request.cells ?? { x0: 0, y0: 0, x1: width, y1: height };
  const out = new Float64Array(width * height).fill(NaN);
  const [rowStart] = referenceCellSpan(request.rows, height, cells.y0);
  const [, rowEnd] = referenceCellSpan(request.rows, height, cells.y1 - 1);
  const [colStart] = referenceCellSpan(request.cols, width, cells.x0);
  const [, colEnd] = referenceCellSpan(request.cols, width, cells.x1 - 1);
  const span = colEnd - colStart;
  // P over the covered rectangle, row by row.
  const p = new Float64Array((rowEnd - rowStart) * span);
  const scores = new Float64Array(span);
  for (let i = rowStart; i < rowEnd; i++) {
    const L = stats.lse[head * input.nq + i]!;
    referenceScoreRow(input, head, i, colStart, colEnd, scores);
    for (let j = 0; j < span; j++) p[(i - rowStart) * span + j] = L === -Infinity ? 0 : Math.exp(scores[j]! - L);
  }
  for (let y = cells.y0; y < cells.y1; y++) {
    const [r0, r1] = referenceCellSpan(request.rows, height, y);
    for (let x = cells.x0; x < cells.x1; x++) {
      const [c0, c1] = referenceCellSpan(request.cols, width, x);
      let max = 0;
      let sum = 0;
      for (let i = r0; i < r1; i++) {
        for (let j = c0; j < c1; j++) {
          const value = p[(i - rowStart) * span + (j - colStart)]!;
          max = Math.max(max, value);
          sum += value;
        }
      }
      out[y * width + x] = request.reduce === 'max' ? max : sum / ((r1 - r0) * (c1 - c0));
    }
  }
  return out;
}
