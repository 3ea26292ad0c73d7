// Export: a view's PNG decodes to exactly the pixels its pipeline draws, and at scale 2 to the same picture
// at twice the resolution (the camera's framing kept, and the camera left as it was); the visible cells of
// a zoomed heatmap come back as .npy equal to the data (read by parseNpy); the head view's and the layered
// graph's SVG have one line per drawn link with the GPU's width, opacity and colour, escaped labels, and
// honour toggled heads and a focused token.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNpy, randomFloats, tensorFromArray, type GpuTensor } from '../../src/index';
import { headViewSvg, layeredGraphSvg } from '../../src/export/links-svg';
import { exportViewPng } from '../../src/export/png';
import { viewPixels } from '../../src/export/view-pixels';
import { cameraRect, headViewData, heatmapVisibleData, visibleDataNpy } from '../../src/export/visible-data';
import { createHeadView } from '../../src/render/head-view/head-view';
import { HEAD_PALETTE } from '../../src/render/head-view/head-view-layout';
import { createLayeredGraphView } from '../../src/render/head-view/layered-graph-view';
import { createHeatmapView, type HeatmapView } from '../../src/render/heatmap-view';
import { randomSoftmaxRows } from '../../src/reference/attention-rollout';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const [WIDTH, HEIGHT] = [90, 70];
let canvas: HTMLCanvasElement;
const owned: { destroy(): void }[] = [];

beforeEach(() => {
  canvas = document.createElement('canvas');
  canvas.style.cssText = `width: ${WIDTH}px; height: ${HEIGHT}px; display: block;`;
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  document.body.append(canvas);
});

afterEach(() => {
  for (const thing of owned.splice(0).reverse()) thing.destroy();
  canvas.remove();
});

function tensor(values: Float32Array, shape: number[]): GpuTensor {
  const t = tensorFromArray(engine(), values, shape, { label: 'test.export' });
  owned.push(t);
  return t;
}

function heatmap(weights: GpuTensor, head: number | 'all'): HeatmapView {
  const view = createHeatmapView(engine(), { canvas, weights, head, vmin: -2, vmax: 2 });
  owned.push(view);
  return view;
}

async function decodePng(blob: Blob): Promise<{ width: number; height: number; rgba: Uint8ClampedArray }> {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  return { width: bitmap.width, height: bitmap.height, rgba: context.getImageData(0, 0, bitmap.width, bitmap.height).data };
}

const [HEADS, N, M] = [3, 13, 11];
const values = randomFloats(HEADS * N * M, 31, 2);

describe('PNG of a view', () => {
  it('decodes to exactly the drawn pixels, and at scale 2 to the same framing; the camera is left as it was', async () => {
    const view = heatmap(tensor(values, [HEADS, N, M]), 1);
    await viewPixels(engine(), view, WIDTH, HEIGHT); // fits the camera to the canvas-sized target
    view.camera.zoomAt(30, 20, 1.7); // a moved camera: framing must survive the larger target
    view.camera.pan(-7, 4);
    const framing = () => {
      const { centerX, centerY, scale, width, height, fitted } = view.camera;
      return { centerX, centerY, scale, width, height, fitted };
    };
    const before = framing();

    const one = await viewPixels(engine(), view, WIDTH, HEIGHT);
    const png = await decodePng(await exportViewPng(engine(), view, { width: WIDTH, height: HEIGHT }));
    expect([png.width, png.height]).toEqual([WIDTH, HEIGHT]);
    expect(Array.from(png.rgba)).toEqual(Array.from(one.rgba));

    const two = await decodePng(await exportViewPng(engine(), view, { width: WIDTH, height: HEIGHT, scale: 2 }));
    expect([two.width, two.height]).toEqual([2 * WIDTH, 2 * HEIGHT]);
    let same = 0;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const [a, b] = [(y * WIDTH + x) * 4, ((2 * y + 1) * 2 * WIDTH + 2 * x + 1) * 4];
        if ([0, 1, 2].every((k) => one.rgba[a + k] === two.rgba[b + k])) same += 1;
      }
    }
    // Cell edges may fall on either side of a half-pixel; everything else is the same colour.
    expect(same / (WIDTH * HEIGHT)).toBeGreaterThan(0.9);
    expect(framing()).toEqual(before);
  });

  it('refuses a scale beyond the device texture limit, saying so', async () => {
    const view = heatmap(tensor(values, [HEADS, N, M]), 0);
    await expect(exportViewPng(engine(), view, { width: 4000, height: 10, scale: 16 })).rejects.toThrow(/exceeds this device's \d+-pixel texture limit/);
    await expect(exportViewPng(engine(), view, { width: WIDTH, height: HEIGHT, scale: 1.5 })).rejects.toThrow(/integer scale from 1 to 16; got 1.5/);
  });
});

describe('visible data as .npy', () => {
  it('is the cells on screen of a zoomed, panned heatmap, equal to the data', async () => {
    const view = heatmap(tensor(values, [HEADS, N, M]), 2);
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    view.camera.zoomAt(WIDTH / 2, HEIGHT / 2, 2.3);
    view.camera.pan(12, -9);
    const visible = await heatmapVisibleData(view, owned[0] as GpuTensor);
    // Independently: the cells under the corner pixels bound what is visible.
    const rect = cameraRect(view.camera);
    const [k0, q0] = [Math.max(0, Math.floor(rect.x)), Math.max(0, Math.floor(rect.y))];
    const [k1, q1] = [Math.min(M, Math.ceil(rect.x + rect.width)), Math.min(N, Math.ceil(rect.y + rect.height))];
    expect(q1 - q0).toBeLessThan(N); // zoomed in: a true crop
    expect(visible.shape).toEqual([1, q1 - q0, k1 - k0]);
    expect(visible.origin).toEqual([2, q0, k0]);
    const parsed = parseNpy(visibleDataNpy(visible));
    expect(parsed.shape).toEqual(visible.shape);
    for (let q = q0; q < q1; q++) {
      for (let k = k0; k < k1; k++) expect(parsed.data[(q - q0) * (k1 - k0) + (k - k0)]).toBe(values[(2 * N + q) * M + k]);
    }
  });

  it('is every head whose tile is on screen in the grid of all heads', async () => {
    const view = heatmap(tensor(values, [HEADS, N, M]), 'all');
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    const visible = await heatmapVisibleData(view, owned[0] as GpuTensor);
    expect(visible.shape).toEqual([HEADS, N, M]);
    expect(Array.from(visible.data)).toEqual(Array.from(values));
  });
});

describe('SVG of the link views', () => {
  const n = 5;
  const tokens = ['<a>', 'b&c', '"d"', 'e', "f'"];

  it('has one line per drawn link, with the GPU’s width, opacity and colour; toggled heads and focus honoured', async () => {
    const p = randomSoftmaxRows(2 * 2 * n, n, 5); // [layers 2, heads 2, n, n]
    p[(2 * 2 + 0) * n * n + 1] = 0; // layer 1, head 0, link (0, 1): not drawn
    const weights = tensor(p, [2, 2, n, n]);
    const view = createHeadView(engine(), { canvas, weights, tokens, layer: 1, threshold: 0.05, lineWidth: 6, minLineWidth: 1 });
    owned.push(view);
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    const { data } = await headViewData(view, weights);
    expect(Array.from(data)).toEqual(Array.from(p.subarray(2 * n * n)));

    const parse = (svg: string) => new DOMParser().parseFromString(svg, 'image/svg+xml');
    const doc = parse(headViewSvg(view, data, 1));
    expect(doc.querySelector('parsererror')).toBeNull();
    const lines = [...doc.querySelectorAll('line')];
    expect(lines.length).toBe(Array.from(data).filter((v) => v > 0 && v >= 0.05).length);
    const row = Array.from(data.subarray((1 * n + 2) * n, (1 * n + 3) * n));
    const j = row.indexOf(Math.max(...row)); // the strongest link of head 1, query 2: surely drawn
    const line = lines.find((l) => l.getAttribute('data-link') === `1,2,${j}`)!;
    const weight = Math.fround(data[(1 * n + 2) * n + j]!);
    expect(Number(line.getAttribute('stroke-width'))).toBeCloseTo(Math.max(1, weight * 6), 3);
    expect(Number(line.getAttribute('stroke-opacity'))).toBeCloseTo(weight, 3);
    expect(line.getAttribute('stroke')).toBe(`#${HEAD_PALETTE[1]!.map((c) => Math.round(c * 255).toString(16).padStart(2, '0')).join('')}`);
    expect([...doc.querySelectorAll('text')].map((t) => t.textContent)).toEqual(expect.arrayContaining(tokens));

    view.setHeads([false, true]);
    view.focusToken('query', 2);
    const focused = [...parse(headViewSvg(view, data, 1)).querySelectorAll('line')].map((l) => l.getAttribute('data-link'));
    const expected = Array.from({ length: n }, (_, j) => j).filter((j) => data[(n + 2) * n + j]! >= 0.05).map((j) => `1,2,${j}`);
    expect(focused).toEqual(expected);
  });

  it('draws the layered graph with its edges, one square per node coloured by its value, and its labels', async () => {
    const layers = 2;
    const graph = randomSoftmaxRows(layers * n, n, 8);
    const view = createLayeredGraphView(engine(), { canvas, graph: tensor(graph, [layers, n, n]), tokens, threshold: 0.1 });
    owned.push(view);
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    const nodeValues = Float32Array.from({ length: n }, (_, i) => i / (n - 1));
    const doc = new DOMParser().parseFromString(layeredGraphSvg(view, graph, nodeValues, 1), 'image/svg+xml');
    expect(doc.querySelector('parsererror')).toBeNull();
    expect(doc.querySelectorAll('line').length).toBe(Array.from(graph).filter((v) => v >= 0.1).length);
    const squares = [...doc.querySelectorAll('rect')].slice(1); // the first is the background
    expect(squares.length).toBe((layers + 1) * n);
    expect(new Set(squares.slice(0, n).map((r) => r.getAttribute('fill'))).size).toBe(n); // input row: n values, n colours
    expect(new Set(squares.slice(n).map((r) => r.getAttribute('fill'))).size).toBe(1); // rows without values: the node colour
    expect([...doc.querySelectorAll('text')].map((t) => t.textContent)).toEqual(expect.arrayContaining(['input', 'layer 2', '<a>']));
  });
});
