// The explorer's pure parts: pyramid geometry, the LRU tile cache, and the per-frame budget planner.
import { describe, expect, it } from 'vitest';
import { TileCache } from '../../src/render/explorer/tile-cache';
import {
  TILE_CELLS,
  createPyramid,
  levelForScale,
  tileEntries,
  tileHasEntries,
  tileRect,
  tilesAcross,
  visibleTiles,
} from '../../src/render/explorer/tile-pyramid';
import { CostModel, planFrame, type TileJob } from '../../src/render/explorer/tile-scheduler';

describe('tile pyramid', () => {
  it('has one tile at level 0 and one entry per cell at the finest level', () => {
    const pyramid = createPyramid(131_072, 131_072);
    expect(pyramid.finest).toBe(9); // 131072 / 256 = 512 = 2^9
    expect(tilesAcross(pyramid, 0)).toEqual({ x: 1, y: 1 });
    expect(tileRect(pyramid, { level: 0, tx: 0, ty: 0 })).toEqual({
      rowStart: 0, rowEnd: 131_072, colStart: 0, colEnd: 131_072, width: TILE_CELLS, height: TILE_CELLS,
    });
    const finest = tileRect(pyramid, { level: 9, tx: 3, ty: 511 });
    expect(finest).toEqual({ rowStart: 511 * 256, rowEnd: 512 * 256, colStart: 768, colEnd: 1024, width: 256, height: 256 });
  });

  it('covers a matrix of awkward size exactly, with narrower edge tiles', () => {
    const pyramid = createPyramid(1000, 700);
    for (let level = 0; level <= pyramid.finest; level++) {
      const across = tilesAcross(pyramid, level);
      let covered = 0;
      for (let ty = 0; ty < across.y; ty++)
        for (let tx = 0; tx < across.x; tx++) {
          const rect = tileRect(pyramid, { level, tx, ty });
          expect(rect.width).toBeGreaterThanOrEqual(1);
          expect(rect.width).toBeLessThanOrEqual(Math.max(1, rect.colEnd - rect.colStart));
          covered += tileEntries(rect);
        }
      expect(covered).toBe(1000 * 700);
    }
  });

  it('picks the level whose cells are about one pixel', () => {
    const pyramid = createPyramid(16_384, 16_384); // finest = 6
    expect(levelForScale(pyramid, 256 / 16_384)).toBe(0); // the whole matrix on 256 px: one tile
    expect(levelForScale(pyramid, 1024 / 16_384)).toBe(2); // on 1024 px: 4 × 256 cells across
    expect(levelForScale(pyramid, 1000 / 16_384)).toBe(2);
    expect(levelForScale(pyramid, 1)).toBe(6);
    expect(levelForScale(pyramid, 40)).toBe(6); // past 1:1 the finest level is enlarged
    expect(levelForScale(pyramid, 1e-6)).toBe(0);
  });

  it('lists visible tiles nearest the view centre first', () => {
    const pyramid = createPyramid(4096, 4096);
    const keys = visibleTiles(pyramid, 2, { x0: 1100, y0: 0, x1: 3000, y1: 1000 });
    expect(keys.map((k) => `${k.tx},${k.ty}`).sort()).toEqual(['1,0', '2,0']);
    const centred = visibleTiles(pyramid, 2, { x0: 0, y0: 0, x1: 4096, y1: 4096 });
    expect(centred).toHaveLength(16);
    expect([1, 2]).toContain(centred[0]!.tx);
  });

  it('knows which tiles of a causal matrix are empty', () => {
    expect(tileHasEntries({ rowStart: 0, rowEnd: 64, colStart: 64, colEnd: 128, width: 64, height: 64 }, true)).toBe(false);
    expect(tileHasEntries({ rowStart: 0, rowEnd: 65, colStart: 64, colEnd: 128, width: 64, height: 64 }, true)).toBe(true);
    expect(tileHasEntries({ rowStart: 0, rowEnd: 64, colStart: 64, colEnd: 128, width: 64, height: 64 }, false)).toBe(true);
  });
});

describe('TileCache', () => {
  it('evicts the least recently used unpinned tile when full', () => {
    const cache = new TileCache(3);
    expect([cache.allocate('a'), cache.allocate('b'), cache.allocate('c')]).toEqual([0, 1, 2]);
    cache.get('a'); // a is now the most recent; b the least
    cache.pin('b');
    expect(cache.allocate('d')).toBe(2); // c evicted, not the pinned b
    expect(cache.has('c')).toBe(false);
    expect(cache.has('b')).toBe(true);
    cache.pin('a');
    cache.pin('d');
    expect(cache.allocate('e')).toBeNull(); // everything pinned
    cache.unpin('a');
    expect(cache.allocate('e')).toBe(0);
    expect(cache.size).toBe(3);
  });
});

describe('planFrame', () => {
  const job = (id: string, height: number, rowsDone = 0): TileJob => ({
    id,
    rect: { rowStart: 0, rowEnd: height * 100, colStart: 0, colEnd: 1000, width: 10, height },
    rowsDone,
  });

  it('fills the budget with whole cell rows, in priority order', () => {
    const model = new CostModel(1e-5); // 100·1000 entries a row → 1 ms a row
    const strips = planFrame([job('a', 4, 1), job('b', 10)], 8, model);
    expect(strips.map((s) => [s.job.id, s.cellRowStart, s.cellRowEnd])).toEqual([
      ['a', 1, 4],
      ['b', 0, 5],
    ]);
  });

  it('always makes progress, even when one row exceeds the budget', () => {
    const strips = planFrame([job('a', 4)], 0.1, new CostModel(1e-5));
    expect(strips.map((s) => [s.cellRowStart, s.cellRowEnd])).toEqual([[0, 1]]);
  });

  it('learns the cost from measurements', () => {
    const model = new CostModel(1e-5);
    for (let i = 0; i < 50; i++) model.observe(1e6, 2);
    expect(model.msPerEntry).toBeCloseTo(2e-6, 8);
  });
});
