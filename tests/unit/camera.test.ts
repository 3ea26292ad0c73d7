// Camera math and the heatmap's tile layout: pixel → world → (head, query, key), pure and exact.
import { describe, expect, it } from 'vitest';
import { Camera } from '../../src/render/camera';
import { cellAt, cellCenter, heatmapLayout, TILE_GAP_FRACTION } from '../../src/render/heatmap-layout';

describe('Camera', () => {
  it('fits the bounds centred, preserving aspect', () => {
    const camera = new Camera();
    camera.setBounds({ x: 0, y: 0, width: 10, height: 3 });
    camera.setViewport(64, 48);
    expect(camera.scale).toBeCloseTo(6.4);
    expect([camera.centerX, camera.centerY]).toEqual([5, 1.5]);
    expect(camera.pixelToWorld(0, 24)).toEqual({ x: 0, y: 1.5 });
    expect(camera.pixelToWorld(64, 24)).toEqual({ x: 10, y: 1.5 });
    expect(camera.pixelToWorld(32, 24 - 1.5 * 6.4).y).toBeCloseTo(0);
  });

  it('worldToPixel inverts pixelToWorld', () => {
    const camera = new Camera();
    camera.setBounds({ x: -3, y: 2, width: 7, height: 11 });
    camera.setViewport(123, 77);
    camera.zoomAt(40, 20, 3.7);
    camera.pan(-13, 8);
    const world = camera.pixelToWorld(17.25, 60.5);
    const back = camera.worldToPixel(world.x, world.y);
    expect(back.x).toBeCloseTo(17.25, 9);
    expect(back.y).toBeCloseTo(60.5, 9);
  });

  it('zoomAt keeps the world point under the pointer fixed', () => {
    const camera = new Camera();
    camera.setBounds({ x: 0, y: 0, width: 100, height: 100 });
    camera.setViewport(200, 200);
    const before = camera.pixelToWorld(150, 50);
    camera.zoomAt(150, 50, 4);
    expect(camera.scale).toBeCloseTo(8);
    const after = camera.pixelToWorld(150, 50);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
    expect(camera.fitted).toBe(false);
  });

  it('pan moves the content with the pointer', () => {
    const camera = new Camera();
    camera.setBounds({ x: 0, y: 0, width: 100, height: 100 });
    camera.setViewport(100, 100);
    const world = camera.pixelToWorld(30, 30);
    camera.pan(10, -5);
    const moved = camera.worldToPixel(world.x, world.y);
    expect([moved.x, moved.y]).toEqual([40, 25]);
  });

  it('clamps zoom to [fit·minZoom, maxScale] and keeps the centre inside the bounds', () => {
    const camera = new Camera({ minZoom: 0.5, maxScale: 50 });
    camera.setBounds({ x: 0, y: 0, width: 10, height: 10 });
    camera.setViewport(100, 100);
    camera.zoomAt(50, 50, 1e-6);
    expect(camera.scale).toBeCloseTo(5);
    camera.zoomAt(50, 50, 1e6);
    expect(camera.scale).toBeCloseTo(50);
    camera.pan(1e6, -1e6);
    expect([camera.centerX, camera.centerY]).toEqual([0, 10]);
  });

  it('reset refits after moving; a resize refits only while untouched', () => {
    const camera = new Camera();
    camera.setBounds({ x: 0, y: 0, width: 10, height: 10 });
    camera.setViewport(100, 100);
    camera.setViewport(200, 100);
    expect(camera.scale).toBeCloseTo(10);
    camera.zoomAt(0, 0, 2);
    camera.setViewport(300, 300);
    expect(camera.scale).toBeCloseTo(20);
    camera.reset();
    expect(camera.scale).toBeCloseTo(30);
    expect([camera.centerX, camera.centerY]).toEqual([5, 5]);
  });

  it('counts versions so views know when to rewrite uniforms', () => {
    const camera = new Camera();
    camera.setViewport(10, 10);
    const v = camera.version;
    camera.setViewport(10, 10);
    expect(camera.version).toBe(v);
    camera.pan(1, 0);
    expect(camera.version).toBeGreaterThan(v);
  });
});

describe('heatmapLayout and cellAt', () => {
  it('lays out all heads in ceil(sqrt(heads)) columns with a gap', () => {
    const layout = heatmapLayout([5, 3, 4], 'all');
    const gap = 4 * TILE_GAP_FRACTION;
    expect(layout).toMatchObject({ heads: 5, queries: 3, keys: 4, cols: 3, rows: 2, shownHeads: 5, firstHead: 0 });
    expect(layout.bounds.width).toBeCloseTo(3 * 4 + 2 * gap);
    expect(layout.bounds.height).toBeCloseTo(2 * 3 + gap);
    expect(cellAt(layout, 0.5, 0.5)).toEqual({ head: 0, query: 0, key: 0 });
    expect(cellAt(layout, 4 + gap + 3.5, 2.5)).toEqual({ head: 1, query: 2, key: 3 });
    expect(cellAt(layout, 2 * (4 + gap) + 1.2, 3 + gap + 0.1)).toBeNull(); // slot 5 of 5 heads: empty
    expect(cellAt(layout, 4 + gap + 1.2, 3 + gap + 1.7)).toEqual({ head: 4, query: 1, key: 1 });
    expect(cellAt(layout, 4 + gap / 2, 1)).toBeNull(); // in the gap
    expect(cellAt(layout, -0.01, 1)).toBeNull();
    expect(cellAt(layout, 1, 3 + gap / 2)).toBeNull();
  });

  it('columns: one layer per row for the model view ([layers, heads, N, N] in `heads` columns)', () => {
    const layout = heatmapLayout([3, 4, 2, 2], 'all', 4);
    const gap = 2 * TILE_GAP_FRACTION;
    expect(layout).toMatchObject({ heads: 12, cols: 4, rows: 3 });
    // layer 2, head 1 is slot 9: row 2, column 1.
    expect(cellAt(layout, (2 + gap) + 1.5, 2 * (2 + gap) + 0.5)).toEqual({ head: 9, query: 0, key: 1 });
    expect(heatmapLayout([3, 2, 2], 'all', 8).cols).toBe(3); // never more columns than tiles
    expect(() => heatmapLayout([3, 2, 2], 'all', 0)).toThrow(/columns must be a positive integer; got 0/);
  });

  it('one head: a single tile, indices from the chosen head', () => {
    const layout = heatmapLayout([2, 3, 5], 1);
    expect(layout).toMatchObject({ cols: 1, rows: 1, gap: 0, firstHead: 1, bounds: { x: 0, y: 0, width: 5, height: 3 } });
    expect(cellAt(layout, 4.9, 2.9)).toEqual({ head: 1, query: 2, key: 4 });
    expect(cellAt(layout, 5, 1)).toBeNull();
  });

  it('flattens leading axes into heads and accepts a bare [N, M]', () => {
    expect(heatmapLayout([2, 3, 7, 9], 'all').heads).toBe(6);
    expect(heatmapLayout([7, 9], 'all')).toMatchObject({ heads: 1, cols: 1, gap: 0 });
    expect(() => heatmapLayout([2, 3, 5], 2)).toThrow(/head must be 'all' or an integer in 0..1; got 2/);
    expect(() => heatmapLayout([5], 'all')).toThrow(/\[heads, N, M\]/);
  });

  it('camera pixel → cell: every cell centre maps back to its cell', () => {
    const layout = heatmapLayout([2, 3, 5], 'all');
    const camera = new Camera();
    camera.setBounds(layout.bounds);
    camera.setViewport(64, 48);
    for (let head = 0; head < 2; head++)
      for (let query = 0; query < 3; query++)
        for (let key = 0; key < 5; key++) {
          const centre = cellCenter(layout, { head, query, key });
          const pixel = camera.worldToPixel(centre.x, centre.y);
          const world = camera.pixelToWorld(Math.floor(pixel.x) + 0.5, Math.floor(pixel.y) + 0.5);
          expect(cellAt(layout, world.x, world.y)).toEqual({ head, query, key });
        }
    // Head 1 starts one tile and one gap to the right of head 0.
    const head1 = camera.worldToPixel(5 + layout.gap, 0);
    expect(head1.x).toBeCloseTo((5 + 0.5) * camera.scale, 9);
  });
});
