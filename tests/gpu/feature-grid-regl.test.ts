// The feature grid's WebGL2 (regl) fallback and its Canvas2D peer, drawn in Chromium and read back:
// colours at texel centres against the colormap entries predicted from float64 statistics, for NHWC and
// NCHW and every normalization mode; NaN/±Inf in the marked colour; bilinear values; the camera; the
// Canvas2D peer's colours at map centres; the CPU statistics against the float64 reference; GL leaks.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, colormapIndex, colormapRgba, randomFloats, type ColormapName } from '../../src/index';
import {
  NORMALIZATION_MODES,
  STATS_RECORD_FLOATS,
  normalizationRange,
  normalizedValue,
  referenceChannelStats,
  type FeatureNormalization,
} from '../../src/reference/channel-stats';
import { createCanvas2dGrid, type Canvas2dGrid } from '../../src/render/feature-grid/canvas2d-grid';
import { mapRect, type FeatureGridLayout } from '../../src/render/feature-grid/grid-layout';
import type { Camera } from '../../src/render/camera';
import { cpuChannelStats, cpuStatsScratch, type CpuFeatureLayer } from '../../src/render/webgl/cpu-feature-stats';
import { createFeatureGridFallback, type FeatureGridFallback, type FeatureGridFallbackOptions } from '../../src/render/webgl/feature-grid-regl';

type Layout = 'NHWC' | 'NCHW';
const [WIDTH, HEIGHT] = [120, 320];
const COLUMNS = 3;
const NON_FINITE = [0.2, 0.8, 0.4] as const;
const BACKGROUND = [0.25, 0.5, 0.75] as const;
/** Odd sizes, so a map's centre is a texel's centre; two batch items, so the drawn one matters. */
const SHAPES = [
  { name: 'conv1', batch: 2, height: 3, width: 5, channels: 7 },
  { name: 'conv2', batch: 2, height: 5, width: 3, channels: 4 },
] as const;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function makeCanvas(): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  canvas.style.cssText = `width: ${WIDTH}px; height: ${HEIGHT}px; display: block;`;
  document.body.append(canvas);
  cleanups.push(() => canvas.remove());
  return canvas;
}

/** Seeded values with a different offset and spread per layer; `poison` puts NaN/±Inf at given indices. */
function makeLayers(layout: Layout, seed: number, poison: readonly [number, number][] = []): CpuFeatureLayer[] {
  return SHAPES.map((shape, l) => {
    const data = randomFloats(shape.batch * shape.height * shape.width * shape.channels, seed + l, 2 + l);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! + 0.5 * l;
    for (const [layer, index] of poison) if (layer === l) data[index] = [NaN, Infinity, -Infinity][index % 3]!;
    return { ...shape, layout, data };
  });
}

function fallback(canvas: HTMLCanvasElement, layers: CpuFeatureLayer[], options: Partial<FeatureGridFallbackOptions> = {}): FeatureGridFallback {
  const grid = createFeatureGridFallback(canvas, {
    layers, columns: COLUMNS, nonFiniteColor: NON_FINITE, background: BACKGROUND, autoSize: false, interactive: false, ...options,
  });
  cleanups.push(() => grid.destroy());
  return grid;
}

function valueAt(layer: CpuFeatureLayer, n: number, y: number, x: number, c: number): number {
  const { height: h, width: w, channels: k } = layer;
  return layer.data[layer.layout === 'NHWC' ? ((n * h + y) * w + x) * k + c : ((n * k + c) * h + y) * w + x]!;
}

/** The pixel whose centre lies nearest the world point (u, v) of a map: u, v in [0, 1] across it. */
function pixelOf(camera: Camera, layout: FeatureGridLayout, l: number, c: number, u: number, v: number): [number, number] {
  const rect = mapRect(layout, layout.sections[l]!, c);
  const p = camera.worldToPixel(rect.x + u * rect.width, rect.y + v * rect.height);
  return [Math.floor(p.x), Math.floor(p.y)];
}

function rgbAt(pixels: Uint8Array, x: number, y: number): number[] {
  const i = (y * WIDTH + x) * 4;
  return [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
}

/**
 * The colormap entries a value may take: the float64 prediction, and its neighbour only where t lies within
 * `tolerance` of a bin edge (float32 statistics on the GPU side may round across it; for interpolated
 * values, the float32 position of the pixel centre too).
 */
function allowedColours(colormap: Uint8Array, v: number, range: [number, number], tolerance = 1e-4): number[][] {
  const t = normalizedValue(v, range);
  const entries = new Set([colormapIndex(t)]);
  for (const d of [-tolerance, tolerance]) entries.add(colormapIndex(Math.min(1, Math.max(0, t + d))));
  return [...entries].map((e) => [colormap[4 * e]!, colormap[4 * e + 1]!, colormap[4 * e + 2]!]);
}

function rangeOf(stats: Float64Array, mode: FeatureNormalization, channels: number, c: number, k: number): [number, number] {
  const record = stats.subarray(c * STATS_RECORD_FLOATS, (c + 1) * STATS_RECORD_FLOATS);
  const layer = stats.subarray(channels * STATS_RECORD_FLOATS);
  return normalizationRange(mode, record, layer, k);
}

/** Checks every texel centre of every map of batch item `n` against the prediction; returns how many. */
function expectTexelColours(
  pixels: Uint8Array, grid: { camera: Camera; layout: FeatureGridLayout }, layers: CpuFeatureLayer[],
  mode: FeatureNormalization, colormap: ColormapName, k: number, n: number,
): number {
  const table = colormapRgba(colormap);
  const nonFinite = NON_FINITE.map((v) => Math.round(v * 255));
  let checked = 0;
  layers.forEach((layer, l) => {
    const stats = referenceChannelStats({ ...layer, values: layer.data });
    for (let c = 0; c < layer.channels; c++) {
      const range = rangeOf(stats, mode, layer.channels, c, k);
      for (let y = 0; y < layer.height; y++) {
        for (let x = 0; x < layer.width; x++) {
          const [px, py] = pixelOf(grid.camera, grid.layout, l, c, (x + 0.5) / layer.width, (y + 0.5) / layer.height);
          if (px < 0 || py < 0 || px >= WIDTH || py >= HEIGHT) continue;
          const v = valueAt(layer, n, y, x, c);
          const where = `${mode} ${layer.layout} ${layer.name} c=${c} y=${y} x=${x} v=${v} at (${px}, ${py})`;
          const got = rgbAt(pixels, px, py);
          if (Number.isFinite(v)) expect(allowedColours(table, v, range), where).toContainEqual(got);
          else expect(got, where).toEqual(nonFinite);
          checked++;
        }
      }
    }
  });
  return checked;
}

describe('CPU statistics (fallback and Canvas2D peer)', () => {
  it.each(['NHWC', 'NCHW'] as const)('match the float64 reference, %s, NaN/±Inf only counted, large offset', (layout) => {
    const [batch, height, width, channels] = [3, 7, 5, 13];
    const data = randomFloats(batch * height * width * channels, 41, 3);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! + (i % 2 === 0 ? 1000 : -1000 * (i % 3 === 0 ? 1 : 0));
    [5, 77, 300, 301, 1000].forEach((i, j) => (data[i] = [NaN, Infinity, -Infinity][j % 3]!));
    // A channel that is all non-finite has a record of zeros.
    for (let n = 0; n < batch; n++) for (let p = 0; p < height * width; p++) {
      data[layout === 'NHWC' ? (n * height * width + p) * channels + 4 : (n * channels + 4) * height * width + p] = NaN;
    }
    const layer = { name: 'x', data, layout, batch, height, width, channels };
    const expected = referenceChannelStats({ ...layer, values: layer.data });
    const out = new Float64Array(expected.length).fill(NaN);
    cpuChannelStats(layer, cpuStatsScratch(channels), out);
    for (let i = 0; i < expected.length; i++) {
      expect(Math.abs(out[i]! - expected[i]!), `element ${i}: ${out[i]} vs ${expected[i]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected[i]!)));
    }
    expect(out[4 * STATS_RECORD_FLOATS + 4]).toBe(0); // channel 4: no finite value
  });
});

describe('createFeatureGridFallback (regl, WebGL2)', () => {
  for (const layout of ['NHWC', 'NCHW'] as const) {
    for (const mode of NORMALIZATION_MODES) {
      it(`draws the predicted colours, ${layout}, ${mode}`, () => {
        const layers = makeLayers(layout, 7);
        const colormap: ColormapName = mode === 'symmetric' ? 'coolwarm' : 'viridis';
        // k = 1 so that 'robust' clamps some values at both ends.
        const grid = fallback(makeCanvas(), layers, { normalization: mode, colormap, robustK: 1, batchItem: 1 });
        grid.render();
        const checked = expectTexelColours(grid.readPixels(), grid, layers, mode, colormap, 1, 1);
        expect(checked).toBe(7 * 15 + 4 * 15); // every texel of both layers is on screen
      });
    }
  }

  it('marks NaN and ±Inf, leaves them out of the statistics, and fills gaps with the background', () => {
    const layers = makeLayers('NHWC', 9, [[0, 3], [0, 44], [1, 10], [1, 59]]);
    const grid = fallback(makeCanvas(), layers);
    grid.render();
    const pixels = grid.readPixels();
    expect(expectTexelColours(pixels, grid, layers, 'channel', 'viridis', 3, 0)).toBe(7 * 15 + 4 * 15);
    for (const [l, layer] of layers.entries()) {
      const expected = referenceChannelStats({ ...layer, values: layer.data });
      const got = grid.stats(l);
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 9);
    }
    expect(rgbAt(pixels, 0, 0)).toEqual(BACKGROUND.map((v) => Math.round(v * 255)));
  });

  it('interpolates values bilinearly, non-finite neighbours renormalized away', () => {
    const layers = makeLayers('NCHW', 11, [[0, 7]]);
    const grid = fallback(makeCanvas(), layers, { sampling: 'bilinear' });
    grid.render();
    const pixels = grid.readPixels();
    const table = colormapRgba('viridis');
    const layer = layers[0]!;
    const stats = referenceChannelStats({ ...layer, values: layer.data });
    const rect0 = mapRect(grid.layout, grid.layout.sections[0]!, 0);
    let checked = 0;
    for (let c = 0; c < layer.channels; c++) {
      const rect = mapRect(grid.layout, grid.layout.sections[0]!, c);
      const [x0, y0] = pixelOf(grid.camera, grid.layout, 0, c, 0, 0);
      const [x1, y1] = pixelOf(grid.camera, grid.layout, 0, c, 1, 1);
      for (let py = y0 + 1; py < y1; py++) {
        for (let px = x0 + 1; px < x1; px++) {
          const world = grid.camera.pixelToWorld(px + 0.5, py + 0.5);
          const p = [((world.x - rect.x) / rect.width) * layer.width, ((world.y - rect.y) / rect.height) * layer.height] as const;
          // Skip pixels whose nearest texel is ambiguous (within 0.05 of a texel edge).
          if (p.some((q) => Math.abs(q - Math.round(q)) < 0.05)) continue;
          const v = bilinear(layer, c, p[0], p[1]);
          if (!Number.isFinite(v)) continue; // the nearest texel is non-finite: covered above
          // The value changes by up to a few colormap entries per 0.01 px here, so the colours allowed are
          // those of the values within ±0.02 px of the pixel centre (vertices snap to a sub-pixel grid).
          const texelsPerPixel = layer.width / (rect.width * grid.camera.scale);
          const range = rangeOf(stats, 'channel', layer.channels, c, 3);
          const allowed = [-1, 0, 1].flatMap((dx) => [-1, 0, 1].flatMap((dy) => allowedColours(
            table, bilinear(layer, c, p[0] + dx * 0.02 * texelsPerPixel, p[1] + dy * 0.02 * texelsPerPixel), range)));
          expect(allowed, `c=${c} (${px}, ${py}) v=${v}`).toContainEqual(rgbAt(pixels, px, py));
          checked++;
        }
      }
    }
    expect(rect0.width).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(200);
  });

  it('follows the camera: zoomed in, the visible texels are where the camera puts them', () => {
    const layers = makeLayers('NHWC', 13);
    const grid = fallback(makeCanvas(), layers);
    grid.render();
    grid.camera.zoomAt(30, 200, 3);
    grid.render();
    expect(expectTexelColours(grid.readPixels(), grid, layers, 'channel', 'viridis', 3, 0)).toBeGreaterThanOrEqual(8);
  });

  it('pans and zooms with the wheel through the shared interaction', () => {
    const canvas = makeCanvas();
    const grid = fallback(canvas, makeLayers('NHWC', 1), { interactive: true });
    grid.render();
    const before = grid.camera.scale;
    canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, clientX: 40, clientY: 40, bubbles: true, cancelable: true }));
    expect(grid.camera.scale).toBeGreaterThan(before);
  });

  it('update() uploads new values, and lays out new shapes', () => {
    const canvas = makeCanvas();
    const grid = fallback(canvas, makeLayers('NHWC', 1));
    const next = makeLayers('NHWC', 99);
    grid.update(next);
    grid.render();
    expect(expectTexelColours(grid.readPixels(), grid, next, 'channel', 'viridis', 3, 0)).toBe(7 * 15 + 4 * 15);
    const smaller = [next[1]!];
    grid.update(smaller);
    expect(grid.layout.sections.map((s) => s.name)).toEqual(['conv2']);
    grid.render();
    expect(expectTexelColours(grid.readPixels(), grid, smaller, 'channel', 'viridis', 3, 0)).toBe(4 * 15);
  });

  it('says what it expected when the values do not fit the shape', () => {
    const layers = makeLayers('NHWC', 1);
    const bad = [{ ...layers[0]!, data: new Float32Array(10) }];
    expect(() => fallback(makeCanvas(), bad)).toThrowError(InvalidArgumentError);
    expect(() => fallback(makeCanvas(), bad)).toThrowError(/Float32Array of 2·3·5·7 = 210 values; got a Float32Array of 10/);
  });

  it('deletes every GL buffer and texture it made on destroy()', () => {
    const canvas = makeCanvas();
    const gl = canvas.getContext('webgl2')!;
    const live = { buffers: 0, textures: 0 };
    const count = <K extends 'createBuffer' | 'deleteBuffer' | 'createTexture' | 'deleteTexture'>(name: K, key: keyof typeof live, d: number) => {
      const original = gl[name].bind(gl) as (...args: unknown[]) => unknown;
      (gl as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => ((live[key] += d), original(...args));
    };
    count('createBuffer', 'buffers', 1);
    count('deleteBuffer', 'buffers', -1);
    count('createTexture', 'textures', 1);
    count('deleteTexture', 'textures', -1);
    const grid = createFeatureGridFallback(canvas, { layers: makeLayers('NHWC', 1), autoSize: false, interactive: false });
    grid.render();
    grid.update([makeLayers('NCHW', 2)[0]!]); // a relayout replaces the layers' buffers and textures
    grid.render();
    expect(live.buffers).toBeGreaterThan(0);
    grid.destroy();
    expect(live).toEqual({ buffers: 0, textures: 0 });
  });
});

describe('createCanvas2dGrid (the putImageData peer)', () => {
  for (const layout of ['NHWC', 'NCHW'] as const) {
    it(`draws the fallback's colours at every map centre, ${layout}, each mode`, () => {
      const layers = makeLayers(layout, 21, [[0, layout === 'NHWC' ? 49 : 7]]); // +Inf at channel 0's centre
      for (const mode of NORMALIZATION_MODES) {
        const options = { layers, columns: COLUMNS, normalization: mode, robustK: 1, nonFiniteColor: NON_FINITE, autoSize: false, interactive: false };
        const canvas2d = makeCanvas();
        const peer: Canvas2dGrid = createCanvas2dGrid(canvas2d, options);
        cleanups.push(() => peer.destroy());
        peer.render();
        const grid = fallback(makeCanvas(), layers, options);
        grid.render();
        const ours = grid.readPixels();
        const theirs = canvas2d.getContext('2d')!.getImageData(0, 0, WIDTH, HEIGHT).data;
        const table = colormapRgba('viridis');
        layers.forEach((layer, l) => {
          const stats = referenceChannelStats({ ...layer, values: layer.data });
          const [cy, cx] = [(layer.height - 1) / 2, (layer.width - 1) / 2];
          for (let c = 0; c < layer.channels; c++) {
            const [px, py] = pixelOf(peer.camera, peer.layout, l, c, 0.5, 0.5);
            expect(pixelOf(grid.camera, grid.layout, l, c, 0.5, 0.5)).toEqual([px, py]);
            const v = valueAt(layer, 0, cy, cx, c);
            const where = `${mode} ${layer.name} c=${c} v=${v}`;
            const got = [theirs[(py * WIDTH + px) * 4]!, theirs[(py * WIDTH + px) * 4 + 1]!, theirs[(py * WIDTH + px) * 4 + 2]!];
            expect(got, where).toEqual(rgbAt(ours, px, py));
            if (Number.isFinite(v)) expect(allowedColours(table, v, rangeOf(stats, mode, layer.channels, c, 1)), where).toContainEqual(got);
            else expect(got, where).toEqual(NON_FINITE.map((x) => Math.round(x * 255)));
          }
        });
      }
    });
  }

  it('frees its atlases on a relayout and on destroy(), and says so when used after destroy()', () => {
    const peer = createCanvas2dGrid(makeCanvas(), { layers: makeLayers('NHWC', 1), autoSize: false, interactive: false });
    const atlases: OffscreenCanvas[] = [];
    const drawImage = vi.spyOn(CanvasRenderingContext2D.prototype, 'drawImage').mockImplementation(function (image) {
      if (image instanceof OffscreenCanvas && !atlases.includes(image)) atlases.push(image);
    });
    peer.render();
    const first = [...atlases];
    expect(first.length).toBeGreaterThan(0);
    peer.update([makeLayers('NCHW', 2)[0]!]); // another shape: new atlases
    expect(first.map((a) => a.width * a.height)).toEqual(first.map(() => 0));
    peer.render();
    const second = atlases.filter((a) => !first.includes(a));
    expect(second.length).toBeGreaterThan(0);
    drawImage.mockRestore();
    peer.destroy();
    expect(second.map((a) => a.width * a.height)).toEqual(second.map(() => 0));
    expect(() => peer.render()).toThrowError(/createCanvas2dGrid: the grid was used after destroy\(\)/);
    expect(() => peer.update(makeLayers('NHWC', 1))).toThrowError(InvalidArgumentError);
    expect(() => peer.update(makeLayers('NHWC', 1))).toThrowError(/used after destroy\(\)/);
  });
});

/** Bilinear value at p (texel units) as the shaders compute it, in float64; NaN if the nearest is not finite. */
function bilinear(layer: CpuFeatureLayer, c: number, px: number, py: number): number {
  const nearest = valueAt(layer, 0, Math.min(Math.floor(py), layer.height - 1), Math.min(Math.floor(px), layer.width - 1), c);
  if (!Number.isFinite(nearest)) return NaN;
  const [qx, qy] = [px - 0.5, py - 0.5];
  const [bx, by] = [Math.floor(qx), Math.floor(qy)];
  const [fx, fy] = [qx - bx, qy - by];
  let [sum, weight] = [0, 0];
  for (let k = 0; k < 4; k++) {
    const [ox, oy] = [k & 1, k >> 1];
    const x = Math.min(Math.max(bx + ox, 0), layer.width - 1);
    const y = Math.min(Math.max(by + oy, 0), layer.height - 1);
    const v = valueAt(layer, 0, y, x, c);
    const w = (ox ? fx : 1 - fx) * (oy ? fy : 1 - fy);
    if (Number.isFinite(v)) {
      sum += w * v;
      weight += w;
    }
  }
  return sum / weight;
}
