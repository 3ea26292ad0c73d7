// Long-sequence attention on the CPU: the float64 references, the cell arithmetic the tile shader uses
// (ported here with its u32 bounds checked), and the binding and dispatch plans.
import { describe, expect, it } from 'vitest';
import { bindingWindow, grid2d } from '../../src/kernels/kernel-bindings';
import { MAX_TILE_GRID, planTileAxis, tileEntries } from '../../src/kernels/attention-tiles';
import {
  referenceCellSpan,
  referenceColumnSums,
  referenceRowStats,
  referenceTile,
} from '../../src/reference/long-attention';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { randomFloats } from '../../src/reference/random';

const input = (n: number, d: number, options: { causal?: boolean; keyLength?: number } = {}) => ({
  q: randomFloats(2 * n * d, 1),
  k: randomFloats(2 * n * d, 2),
  heads: 2,
  nq: n,
  nk: n,
  d,
  ...options,
});

describe('float64 references', () => {
  it('row statistics agree with the materialized softmax: L, and H = -Σ P log P', () => {
    const data = input(23, 5, { causal: true, keyLength: 17 });
    const stats = referenceRowStats(data);
    const p = referenceAttentionWeights({ ...data, batch: 2 });
    for (let row = 0; row < 2 * 23; row++) {
      const values = p.subarray(row * 23, (row + 1) * 23);
      const entropy = -values.reduce((sum, x) => sum + (x > 0 ? x * Math.log(x) : 0), 0);
      expect(stats.entropy[row]).toBeCloseTo(entropy, 12);
      // exp(s - L) is the softmax: check one entry that is visible (key 0).
      const s0 = (() => {
        let dot = 0;
        for (let c = 0; c < 5; c++) dot += data.q[row * 5 + c]! * data.k[(row >= 23 ? 23 : 0) * 5 + c]!;
        return dot / Math.sqrt(5);
      })();
      expect(Math.exp(s0 - stats.lse[row]!)).toBeCloseTo(values[0]!, 12);
    }
  });

  it('a row that sees nothing: L = -Infinity, entropy 0', () => {
    const stats = referenceRowStats(input(4, 3, { keyLength: 0 }));
    expect([...stats.lse].every((x) => x === -Infinity) && [...stats.entropy].every((x) => x === 0)).toBe(true);
  });

  it('column sums add up to the number of rows that see something', () => {
    const data = input(31, 4, { causal: true });
    const sums = referenceColumnSums(data, referenceRowStats(data));
    expect(sums.subarray(0, 31).reduce((a, b) => a + b, 0)).toBeCloseTo(31, 10);
    expect(sums[30]).toBeGreaterThan(0); // only the last query sees the last key
  });

  it('a 1:1 tile is P itself, and a 1×1 mean tile is the mean of the whole matrix', () => {
    const data = input(9, 4, { causal: true });
    const stats = referenceRowStats(data);
    const p = referenceAttentionWeights({ ...data, batch: 2 });
    const head1 = p.subarray(81);
    const whole = { head: 1, rows: [0, 9], cols: [0, 9] } as const;
    const tile = referenceTile(data, stats, { ...whole, width: 9, height: 9, reduce: 'max' });
    tile.forEach((value, index) => expect(value).toBeCloseTo(head1[index]!, 12));
    const mean = referenceTile(data, stats, { ...whole, width: 1, height: 1, reduce: 'mean' });
    expect(mean[0]).toBeCloseTo(9 / 81, 12); // rows sum to 1
  });

  it('cells: floors of the grid when pooling, the entry under the centre when zoomed in', () => {
    expect(referenceCellSpan([10, 20], 3, 0)).toEqual([10, 13]);
    expect(referenceCellSpan([10, 20], 3, 2)).toEqual([16, 20]);
    expect(referenceCellSpan([10, 20], 10, 4)).toEqual([14, 15]); // exactly 1:1
    expect(referenceCellSpan([0, 2], 8, 3)).toEqual([0, 1]); // centre 3.5/8·2 = 0.875
    expect(referenceCellSpan([0, 2], 8, 4)).toEqual([1, 2]);
  });
});

// The tile shader's u32 arithmetic, with each intermediate checked to stay below 2^32.
function u32(x: number): number {
  if (!(Number.isInteger(x) && x >= 0 && x < 2 ** 32)) throw new Error(`u32 overflow: ${x}`);
  return x;
}
const shader = {
  // cursor_at: first + s·q + floor(s·r / G), with q = R / G, r = R % G.
  sourceStart: (count: number, grid: number, s: number) =>
    count >= grid ? u32(s * Math.floor(count / grid)) + Math.floor(u32(s * (count % grid)) / grid) : s,
  sourceOfCell: (count: number, grid: number, c: number) => (count >= grid ? c : Math.floor(u32((2 * c + 1) * count) / (2 * grid))),
  firstCellOfSource: (count: number, grid: number, s: number) =>
    count >= grid ? s : Math.floor(u32(u32(2 * grid * s) + count - 1) / u32(2 * count)),
};

/** cursor_next, stepped from source 0: must land on every sourceStart. */
function cursorStarts(count: number, grid: number, sources: number): number[] {
  const [q, r] = [Math.floor(count / grid), count % grid];
  const starts = [0];
  let [start, frac] = [0, 0];
  for (let s = 1; s <= sources; s++) {
    if (count < grid) start += 1;
    else {
      frac += r;
      const carry = frac >= grid ? 1 : 0;
      [start, frac] = [start + q + carry, frac - carry * grid];
    }
    starts.push(start);
  }
  return starts;
}

describe('the tile shader\'s cell arithmetic', () => {
  const combos: [number, number][] = [];
  for (const count of [1, 2, 3, 7, 64, 65, 100, 1000, 4097]) for (const grid of [1, 2, 3, 5, 64, 100, 1024, 3000]) combos.push([count, grid]);
  combos.push([131_072, 1024], [131_072, MAX_TILE_GRID], [2 ** 22, MAX_TILE_GRID], [MAX_TILE_GRID - 1, MAX_TILE_GRID], [1, MAX_TILE_GRID]);

  it.each(combos)('R %i entries on %i cells: spans, sources and their first cells match the reference', (count, grid) => {
    const cells = grid > 5000 ? [0, 1, 2, grid >> 1, grid - 2, grid - 1] : Array.from({ length: grid }, (_, c) => c);
    for (const c of cells) {
      const source = shader.sourceOfCell(count, grid, c);
      const start = shader.sourceStart(count, grid, source);
      const end = count >= grid ? shader.sourceStart(count, grid, source + 1) : source + 1;
      expect([start, end]).toEqual(referenceCellSpan([0, count], grid, c));
      // The first cell of this source is at or before c, and its predecessor shows an earlier source.
      const first = shader.firstCellOfSource(count, grid, source);
      expect(first).toBeLessThanOrEqual(c);
      expect(shader.sourceOfCell(count, grid, first)).toBe(source);
      if (first > 0) expect(shader.sourceOfCell(count, grid, first - 1)).toBeLessThan(source);
    }
  });

  it('stepping the cursor source by source gives the same starts as computing them', () => {
    for (const [count, grid] of combos) {
      const sources = Math.min(count, grid);
      const starts = cursorStarts(count, grid, Math.min(sources, 5000));
      starts.forEach((start, s) => expect(start).toBe(shader.sourceStart(count, grid, s)));
      if (sources <= 5000) expect(starts.at(-1)).toBe(count);
    }
  });

  it('a workgroup block spans at most 64 entries unless it is a single source', () => {
    for (const [count, grid] of combos) {
      const plan = planTileAxis([0, count], grid, 0, grid);
      for (let s = plan.src0; s < plan.src1; s += plan.block) {
        const end = Math.min(s + plan.block, plan.src1);
        const entries = shader.sourceStart(count, grid, end) - shader.sourceStart(count, grid, s);
        if (end - s > 1) expect(entries, `R ${count}, G ${grid}, sources [${s}, ${end})`).toBeLessThanOrEqual(64);
      }
      expect(plan.groups).toBeLessThanOrEqual(65_535);
    }
  });

  it('sub-rectangles of the grid: their sources, and the entries they cost', () => {
    const plan = planTileAxis([100, 1100], 100, 20, 30); // 10 entries per cell
    expect(plan).toMatchObject({ first: 100, count: 1000, src0: 20, src1: 30, block: 6, groups: 2 });
    const zoomed = planTileAxis([0, 10], 100, 45, 100); // 10 cells per entry
    expect(zoomed).toMatchObject({ src0: 4, src1: 10, block: 64, groups: 1 });
    const request = { head: 0, rows: [0, 1000], cols: [0, 10], width: 100, height: 100, reduce: 'max' } as const;
    expect(tileEntries(request)).toBe(1000 * 10);
    expect(tileEntries({ ...request, cells: { x0: 0, y0: 0, x1: 50, y1: 10 } })).toBe(100 * 5);
  });
});

describe('binding and dispatch plans', () => {
  it('per-head windows start at an aligned offset and say where the head begins inside', () => {
    expect(bindingWindow(0, 100, 4, 256)).toEqual({ offset: 0, size: 400, base: 0 });
    expect(bindingWindow(7 * 17, 7 * 17, 4, 256)).toEqual({ offset: 256, size: 7 * 17 * 8 - 256, base: 55 });
    expect(bindingWindow(3 * 131_072, 131_072, 16, 256)).toEqual({ offset: 3 * 131_072 * 16, size: 131_072 * 16, base: 0 });
  });

  it('2D dispatches stay within 65,535 workgroups per dimension', () => {
    expect(grid2d(1)).toEqual([1, 1]);
    expect(grid2d(65_535)).toEqual([65_535, 1]);
    expect(grid2d(65_536)).toEqual([65_535, 2]);
    expect(grid2d(0)).toEqual([1, 0]);
  });
});
