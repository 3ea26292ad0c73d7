// The visible-data export as numpy sees it: the cells a zoomed, panned heatmap camera shows, cut by the
// export's own code (heatmapVisibleRegion + heatmapRegionData, here reading from a CPU array instead of a
// GPU tensor) and written as .npy, load in the real numpy equal to the full array sliced with bounds worked
// out independently here from the camera's corner pixels. /usr/bin/python3 with numpy (Debian's
// python3-numpy, installed in CI); skipped without it, as io-npy-numpy.test.ts is.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cameraRect, heatmapRegionData, heatmapVisibleRegion, visibleDataNpy } from '../../src/export/visible-data';
import { parseNpy, writeNpy } from '../../src/io/npy';
import { Camera } from '../../src/render/camera';
import { heatmapLayout } from '../../src/render/heatmap-layout';
import { randomFloats } from '../../src/reference/random';
import { hasNumpy, PYTHON } from '../helpers/numpy';

const numpy = hasNumpy();
const directory = mkdtempSync(join(tmpdir(), 'glassbox-export-npy-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const [HEADS, N, M] = [4, 37, 29];
const values = randomFloats(HEADS * N * M, 404, 3);

/** A camera on `head`'s tile of [HEADS, N, M], as a 200 × 150 canvas shows it after a zoom and a pan. */
function zoomedCamera(shape: number[], head: number | 'all', zoom: number, pan: [number, number]) {
  const layout = heatmapLayout(shape, head);
  const camera = new Camera();
  camera.setBounds(layout.bounds);
  camera.setViewport(200, 150);
  camera.zoomAt(61, 47, zoom);
  camera.pan(...pan);
  return { layout, camera };
}

async function exported(shape: number[], head: number | 'all', zoom: number, pan: [number, number]) {
  const { layout, camera } = zoomedCamera(shape, head, zoom, pan);
  const region = heatmapVisibleRegion(layout, cameraRect(camera));
  expect(region).not.toBeNull();
  const visible = await heatmapRegionData(layout, region!, async (offset, count) => values.slice(offset, offset + count));
  return { visible, camera };
}

describe.skipIf(!numpy)('visible heatmap cells in numpy', () => {
  it('loads as the full array sliced to the cells under the camera', async () => {
    const { visible, camera } = await exported([HEADS, N, M], 2, 3.1, [17, -23]);
    // Independently: the cells under the top-left and bottom-right pixels' corners, clamped to the matrix.
    const a = camera.pixelToWorld(0, 0);
    const b = camera.pixelToWorld(camera.width, camera.height);
    const [q0, q1] = [Math.max(0, Math.floor(a.y)), Math.min(N, Math.ceil(b.y))];
    const [k0, k1] = [Math.max(0, Math.floor(a.x)), Math.min(M, Math.ceil(b.x))];
    expect(q1 - q0).toBeLessThan(N); // a true crop on both axes, not the whole tile
    expect(k1 - k0).toBeLessThan(M);
    expect(visible.origin).toEqual([2, q0, k0]);

    writeFileSync(join(directory, 'full.npy'), writeNpy(values, [HEADS, N, M]));
    writeFileSync(join(directory, 'visible.npy'), visibleDataNpy(visible));
    const script = `
import json, sys, os
import numpy as np
d, h, q0, q1, k0, k1 = sys.argv[1], *map(int, sys.argv[2:])
full = np.load(os.path.join(d, 'full.npy'))
crop = np.load(os.path.join(d, 'visible.npy'))
want = full[h:h + 1, q0:q1, k0:k1]
print(json.dumps({'dtype': str(crop.dtype), 'shape': list(crop.shape), 'equal': bool(np.array_equal(crop, want)),
                  'sum': float(crop.astype(np.float64).sum())}))
`;
    const run = spawnSync(PYTHON, ['-c', script, directory, '2', String(q0), String(q1), String(k0), String(k1)], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { dtype: string; shape: number[]; equal: boolean; sum: number };
    expect(result).toMatchObject({ dtype: 'float32', shape: [1, q1 - q0, k1 - k0], equal: true });
    let sum = 0;
    for (let q = q0; q < q1; q++) for (let k = k0; k < k1; k++) sum += values[(2 * N + q) * M + k]!;
    expect(result.sum).toBeCloseTo(sum, 3);
    // And our own reader agrees with numpy on the same bytes.
    const parsed = parseNpy(visibleDataNpy(visible));
    expect(parsed.shape).toEqual([1, q1 - q0, k1 - k0]);
    expect(Array.from(parsed.data)).toEqual(Array.from(visible.data));
  });

  it('holds every head whose tile is on screen in the grid of all heads (here 0 and 2, not 1), cropped to their union', async () => {
    const shape = [HEADS, N, M];
    const { visible, camera } = await exported(shape, 'all', 2.2, [60, 0]);
    // Independently, cell by cell: which heads have a cell overlapping the world rectangle on screen.
    const { cols: gridCols, gap } = heatmapLayout(shape, 'all');
    const a = camera.pixelToWorld(0, 0);
    const b = camera.pixelToWorld(camera.width, camera.height);
    const seen = new Map<number, { q0: number; q1: number; k0: number; k1: number }>();
    for (let h = 0; h < HEADS; h++) {
      const [x, y] = [(h % gridCols) * (M + gap), Math.floor(h / gridCols) * (N + gap)];
      for (let q = 0; q < N; q++) {
        for (let k = 0; k < M; k++) {
          if (x + k + 1 <= a.x || x + k >= b.x || y + q + 1 <= a.y || y + q >= b.y) continue;
          const s = seen.get(h) ?? { q0: q, q1: q + 1, k0: k, k1: k + 1 };
          seen.set(h, { q0: Math.min(s.q0, q), q1: Math.max(s.q1, q + 1), k0: Math.min(s.k0, k), k1: Math.max(s.k1, k + 1) });
        }
      }
    }
    const heads = [...seen.keys()];
    expect(heads).toEqual([0, 2]);
    const q0 = Math.min(...[...seen.values()].map((s) => s.q0));
    const k0 = Math.min(...[...seen.values()].map((s) => s.k0));
    const rows = Math.max(...[...seen.values()].map((s) => s.q1)) - q0;
    const cols = Math.max(...[...seen.values()].map((s) => s.k1)) - k0;
    expect(visible.heads).toEqual(heads);
    expect(visible.shape).toEqual([heads.length, rows, cols]);
    expect(visible.origin).toEqual([0, q0, k0]);

    writeFileSync(join(directory, 'grid.npy'), visibleDataNpy(visible));
    const script = `
import json, sys, os
import numpy as np
a = np.load(os.path.join(sys.argv[1], 'grid.npy'))
print(json.dumps({'dtype': str(a.dtype), 'shape': list(a.shape), 'values': a.ravel().tolist()}))
`;
    const run = spawnSync(PYTHON, ['-c', script, directory], { encoding: 'utf8', timeout: 60_000 });
    const result = JSON.parse(run.stdout) as { dtype: string; shape: number[]; values: number[] };
    expect(result.dtype).toBe('float32');
    expect(result.shape).toEqual([heads.length, rows, cols]);
    const want: number[] = [];
    for (const h of heads) {
      for (let q = q0; q < q0 + rows; q++) for (let k = k0; k < k0 + cols; k++) want.push(values[(h * N + q) * M + k]!);
    }
    expect(result.values).toEqual(want); // float32 → float64 in JSON is exact
  });
});
