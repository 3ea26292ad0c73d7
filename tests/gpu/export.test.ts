// Export: a view's PNG decodes to exactly the pixels its pipeline draws, and at scale 2 to the same picture
// at twice the resolution (the camera's framing kept, and the camera left as it was); the visible cells of
// a zoomed heatmap come back as .npy equal to the data (read by parseNpy); the head view's and the layered
// graph's SVG have one line per drawn link with the GPU's width, opacity and colour, escaped labels, and
// honour toggled heads and a focused token.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNpy, randomFloats, tensorFromArray, type GpuTensor } from '../../src/index';
import { createLongAttention } from '../../src/attention/long-attention';
import { explorerVisibleData } from '../../src/export/explorer-data';
import { headViewSvg, layeredGraphSvg } from '../../src/export/links-svg';
import { exportViewPng } from '../../src/export/png';
import { viewPixels, type DrawableView } from '../../src/export/view-pixels';
import { cameraRect, featureGridVisibleData, headViewData, heatmapVisibleData, visibleDataNpy } from '../../src/export/visible-data';
import { featureIndex, featureLayer } from '../../src/features/feature-layer';
import { createExplorerView } from '../../src/render/explorer/explorer-view';
import { tileProducerFor } from '../../src/render/explorer/long-attention-producer';
import { createFeatureGridView } from '../../src/render/feature-grid/feature-grid-view';
import { mapRect } from '../../src/render/feature-grid/grid-layout';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { referenceChannelStats, STATS_RECORD_FLOATS } from '../../src/reference/channel-stats';
import { createHeadView } from '../../src/render/head-view/head-view';
import { HEAD_PALETTE } from '../../src/render/head-view/head-view-layout';
import { createLayeredGraphView } from '../../src/render/head-view/layered-graph-view';
import { createHeatmapView, type HeatmapView } from '../../src/render/heatmap-view';
import { createImageView } from '../../src/render/image-view';
import { createTokenHighlight } from '../../src/render/token-highlight';
import { Camera } from '../../src/render/camera';
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

  it('keeps a fitted camera with padding in pixels framed as on screen (not refitted to the larger target)', async () => {
    const camera = new Camera({ padding: 20 });
    camera.setBounds({ x: 0, y: 0, width: 40, height: 30 });
    const seen: number[][] = [];
    const view: DrawableView = {
      camera,
      draw(_encoder, _target, width, height) {
        camera.setViewport(width, height); // what every camera view does first
        const [a, b] = [camera.pixelToWorld(0, 0), camera.pixelToWorld(width, height)];
        seen.push([a.x, a.y, b.x, b.y]);
      },
    };
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    await viewPixels(engine(), view, WIDTH, HEIGHT, 3);
    expect(seen[1]!.map((v, i) => v - seen[0]![i]!).every((d) => Math.abs(d) < 1e-9)).toBe(true);
    expect([camera.width, camera.height, camera.fitted]).toEqual([WIDTH, HEIGHT, true]);
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
    // Every line: its weight sets width and opacity, its head the colour, its ends the token rows.
    const hex = (h: number) => `#${HEAD_PALETTE[h]!.map((c) => Math.round(c * 255).toString(16).padStart(2, '0')).join('')}`;
    for (const l of lines) {
      const [h, i, jj] = l.getAttribute('data-link')!.split(',').map(Number) as [number, number, number];
      const w = Math.fround(data[(h * n + i) * n + jj]!);
      expect(Number(l.getAttribute('stroke-width'))).toBeCloseTo(Math.max(1, Math.min(w, 1) * 6), 2);
      expect(Number(l.getAttribute('stroke-opacity'))).toBeCloseTo(Math.min(w, 1), 2);
      expect(l.getAttribute('stroke')).toBe(hex(h));
      expect(Number(l.getAttribute('y1'))).toBeCloseTo(view.layout.top + i * view.layout.row, 2);
      expect(Number(l.getAttribute('y2'))).toBeCloseTo(view.layout.top + jj * view.layout.row, 2);
    }
    const legend = [...doc.querySelectorAll('text')].filter((t) => /^head \d+$/.test(t.textContent ?? ''));
    expect(legend.map((t) => [t.textContent, t.getAttribute('fill')])).toEqual([['head 0', hex(0)], ['head 1', hex(1)]]);
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

// ---- PNG of the link views and the feature grid -------------------------------------------------------

const BACKGROUND_RGB = [31, 31, 31]; // the views' default background, 0.12 · 255 rounded

/** Pixels that differ from the background by more than a faint antialiasing fringe. */
function ink(rgba: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < rgba.length; i += 4) if ([0, 1, 2].some((k) => Math.abs(rgba[i + k]! - BACKGROUND_RGB[k]!) > 24)) count += 1;
  return count;
}

/** Mean |difference| per channel between a picture and a 2×-larger one averaged down in 2×2 blocks. */
function downsampledDifference(one: ArrayLike<number>, two: ArrayLike<number>, width: number, height: number): number {
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) {
        const at = (dx: number, dy: number) => two[((2 * y + dy) * 2 * width + 2 * x + dx) * 4 + k]!;
        total += Math.abs(one[(y * width + x) * 4 + k]! - (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4);
      }
    }
  }
  return total / (width * height * 3);
}

describe('PNG of the link views', () => {
  it('is the drawn pixels at scale 1; at scale 2 the same picture with lines and nodes twice as wide', async () => {
    const n = 6;
    const p = randomSoftmaxRows(3 * n, n, 21); // [heads 3, n, n]
    const head = createHeadView(engine(), { canvas, weights: tensor(p, [3, n, n]), tokens: 'abcdef'.split(''), labels: false, lineWidth: 5 });
    const graph = createLayeredGraphView(engine(), { canvas, graph: tensor(randomSoftmaxRows(2 * n, n, 22), [2, n, n]), tokens: 'abcdef'.split(''), labels: false });
    owned.push(head, graph);
    for (const view of [head, graph] as DrawableView[]) {
      const one = await viewPixels(engine(), view, WIDTH, HEIGHT);
      const png = await decodePng(await exportViewPng(engine(), view, { canvas }));
      expect([png.width, png.height]).toEqual([WIDTH, HEIGHT]);
      expect(Array.from(png.rgba)).toEqual(Array.from(one.rgba));
      const two = await decodePng(await exportViewPng(engine(), view, { canvas, scale: 2 }));
      expect([two.width, two.height]).toEqual([2 * WIDTH, 2 * HEIGHT]);
      // Widths in pixels scale with the picture: four times the pixels are inked, not two.
      const ratio = ink(two.rgba) / (4 * ink(one.rgba));
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
      expect(downsampledDifference(one.rgba, two.rgba, WIDTH, HEIGHT)).toBeLessThan(6);
    }
    // The screen's layout is kept for the SVG and the labels, not the export's larger one.
    expect([head.layout.width, head.layout.height]).toEqual([WIDTH, HEIGHT]);
  });

  it('paints the token labels where the DOM shows them: in the gutters, scaled with the picture', async () => {
    const n = 5;
    const view = createHeadView(engine(), { canvas, weights: tensor(randomSoftmaxRows(2 * n, n, 23), [2, n, n]), tokens: ['WW', 'MM', 'WM', 'MW', 'WWW'] });
    owned.push(view);
    await expect.poll(() => view.labels.length, { timeout: 5000 }).toBe(2 * n);
    const plain = await decodePng(await exportViewPng(engine(), view, { canvas, labels: false }));
    const labelled = await decodePng(await exportViewPng(engine(), view, { canvas }));
    const differing = (a: Uint8ClampedArray, b: Uint8ClampedArray, width: number) => {
      const xs: number[] = [];
      for (let i = 0; i < a.length; i += 4) if ([0, 1, 2].some((k) => a[i + k] !== b[i + k])) xs.push((i / 4) % width);
      return xs;
    };
    const xs = differing(plain.rgba, labelled.rgba, WIDTH);
    expect(xs.length).toBeGreaterThan(20);
    // Query labels end left of the query column, key labels start right of the key column (4 px apart).
    expect(xs.every((x) => x < view.layout.queryX || x > view.layout.keyX)).toBe(true);
    expect(xs.some((x) => x < view.layout.queryX)).toBe(true);
    expect(xs.some((x) => x > view.layout.keyX)).toBe(true);
    const plain2 = await decodePng(await exportViewPng(engine(), view, { canvas, labels: false, scale: 2 }));
    const labelled2 = await decodePng(await exportViewPng(engine(), view, { canvas, scale: 2 }));
    const ratio = differing(plain2.rgba, labelled2.rgba, 2 * WIDTH).length / (4 * xs.length);
    expect(ratio).toBeGreaterThan(0.6); // text drawn at twice the size, not the same text on a larger picture
    expect(ratio).toBeLessThan(1.6);
    await expect(exportViewPng(engine(), view, { width: WIDTH, height: HEIGHT, labels: view.labels })).rejects.toThrow(/need the canvas to place them/);
  });
});

// ---- the feature grid ---------------------------------------------------------------------------------

const GRID = { batch: 2, height: 5, width: 7, channels: 45 };

/** `withLabels`: section labels in their default container over the canvas; else none. */
function featureGrid(withLabels = false) {
  const { batch, height, width, channels } = GRID;
  const values = randomFloats(batch * height * width * channels, 61, 3);
  const t = tensor(values, [batch, height, width, channels]);
  const layer = featureLayer('conv', t, 'NHWC');
  const records = referenceChannelStats({ values, batch, height, width, channels, layout: 'NHWC' });
  const buffer = engine().createBuffer({ label: 'test.export.stats', size: (channels + 1) * STATS_RECORD_FLOATS * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  engine().device.queue.writeBuffer(buffer, 0, new Float32Array(records));
  owned.push({ destroy: () => buffer.destroy() });
  const view = createFeatureGridView(engine(), { canvas, layers: [layer], stats: { buffer, recordOffsets: [0] }, columns: 8, labels: withLabels ? undefined : null });
  owned.push(view);
  return { view, layer, values };
}

describe('feature grid export', () => {
  it('PNG: the drawn pixels at scale 1, the same framing at scale 2', async () => {
    const { view } = featureGrid();
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    view.camera.zoomAt(20, 30, 2.1);
    view.camera.pan(9, -5);
    const one = await viewPixels(engine(), view, WIDTH, HEIGHT);
    const png = await decodePng(await exportViewPng(engine(), view, { canvas }));
    expect(Array.from(png.rgba)).toEqual(Array.from(one.rgba));
    const two = await decodePng(await exportViewPng(engine(), view, { canvas, scale: 2 }));
    expect([two.width, two.height]).toEqual([2 * WIDTH, 2 * HEIGHT]);
    // Pixel (x, y)'s centre is the corner shared by its 2×2 block at scale 2: one of the four has its colour
    // (nearest sampling), except where a texel edge passes between them.
    let same = 0;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const a = (y * WIDTH + x) * 4;
        const block = [0, 1, 2, 3].map((i) => ((2 * y + (i >> 1)) * 2 * WIDTH + 2 * x + (i & 1)) * 4);
        if (block.some((b) => [0, 1, 2].every((k) => one.rgba[a + k] === two.rgba[b + k]))) same += 1;
      }
    }
    expect(same / (WIDTH * HEIGHT)).toBeGreaterThan(0.97);
    expect(ink(one.rgba)).toBeGreaterThan(WIDTH * HEIGHT * 0.3); // maps on screen, not an empty background
  });

  it('PNG: the layer name shown over the canvas is painted in, where the DOM has it', async () => {
    const { view } = featureGrid(true);
    await engine().run('test.screenFrame', (encoder) => view.render(encoder)); // a screen frame places the DOM labels
    expect(view.labels.map((l) => l.textContent)).toEqual(['conv']);
    const plain = await decodePng(await exportViewPng(engine(), view, { canvas, labels: false }));
    const labelled = await decodePng(await exportViewPng(engine(), view, { canvas }));
    const box = canvas.getBoundingClientRect();
    const r = view.labels[0]!.getBoundingClientRect();
    let inside = 0;
    let outside = 0;
    for (let i = 0; i < plain.rgba.length; i += 4) {
      if ([0, 1, 2].every((k) => plain.rgba[i + k] === labelled.rgba[i + k])) continue;
      const [x, y] = [((i / 4) % WIDTH) + 0.5, Math.floor(i / 4 / WIDTH) + 0.5];
      const near = x >= r.left - box.left - 4 && x <= r.right - box.left + 4 && y >= r.top - box.top - 4 && y <= r.bottom - box.top + 4;
      if (near) inside += 1;
      else outside += 1;
    }
    expect(inside).toBeGreaterThan(10);
    expect(outside).toBe(0); // within the label's box and its 3 px text shadow
  });

  it('.npy: the maps overlapping the screen of a zoomed, panned grid, of the chosen batch item', async () => {
    const { view, layer, values } = featureGrid();
    await viewPixels(engine(), view, WIDTH, HEIGHT);
    view.camera.zoomAt(WIDTH / 2, HEIGHT / 2, 2.6);
    view.camera.pan(-14, 11);
    const visible = await featureGridVisibleData(view, [layer], 1);
    // Independently: every channel's map rectangle against the world rectangle the corner pixels span.
    const a = view.camera.pixelToWorld(0, 0);
    const b = view.camera.pixelToWorld(view.camera.width, view.camera.height);
    const section = view.layout.sections[0]!;
    const expected = Array.from({ length: GRID.channels }, (_, c) => c).filter((c) => {
      const r = mapRect(view.layout, section, c);
      return r.x < b.x && r.x + r.width > a.x && r.y < b.y && r.y + r.height > a.y;
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(GRID.channels - 8); // zoomed: a true selection, rows cut at the sides
    expect(visible.channels).toEqual(expected);
    const { height, width } = GRID;
    const parsed = parseNpy(visibleDataNpy(visible));
    expect(parsed.shape).toEqual([expected.length, height, width]);
    expected.forEach((channel, i) => {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) expect(parsed.data[(i * height + y) * width + x]).toBe(values[featureIndex(layer, 1, y, x, channel)]);
      }
    });
  });
});

// ---- the long-sequence explorer ------------------------------------------------------------------------

describe('explorer export', () => {
  it('.npy: exact P of the window on screen, or pooled at screen resolution beyond maxExactEntries', async () => {
    const [heads, n, d] = [2, 131, 8];
    const q = randomFloats(heads * n * d, 81, 2);
    const k = randomFloats(heads * n * d, 82, 2);
    const attention = createLongAttention(engine(), tensor(q, [heads, n, d]), tensor(k, [heads, n, d]), { causal: true });
    owned.push(attention);
    await attention.computeRowStats();
    canvas.style.width = '160px'; // the profile strips' padding (48 px a side) leaves the matrix 54 px
    canvas.style.height = '150px';
    [canvas.width, canvas.height] = [160, 150];
    const view = createExplorerView(engine(), { canvas, producer: tileProducerFor(engine(), attention), head: 1 });
    owned.push(view);
    await viewPixels(engine(), view, 160, 150);
    const reference = referenceAttentionWeights({ q, k, batch: heads, nq: n, nk: n, d, causal: true });
    const p = (row: number, col: number) => reference[(n + row) * n + col]!;

    // Pooled: the whole matrix on a small canvas, max over each cell's entries.
    const pooled = await explorerVisibleData(engine(), view, { maxExactEntries: 100 });
    expect(pooled.pooled).toEqual({ rows: [0, n], cols: [0, n], reduce: 'max' });
    const [, gy, gx] = pooled.shape as [number, number, number];
    expect(gx).toBe(Math.ceil(n * view.camera.scale));
    expect(gx).toBeLessThan(n);
    let worst = 0;
    for (let cy = 0; cy < gy; cy++) {
      for (let cx = 0; cx < gx; cx++) {
        let max = 0;
        for (let r = Math.floor((cy * n) / gy); r < Math.floor(((cy + 1) * n) / gy); r++) {
          for (let c = Math.floor((cx * n) / gx); c < Math.floor(((cx + 1) * n) / gx); c++) max = Math.max(max, p(r, c));
        }
        worst = Math.max(worst, Math.abs(pooled.data[cy * gx + cx]! - max));
      }
    }
    expect(worst).toBeLessThan(1e-6);

    // Exact: zoomed and panned, the entries under the screen one by one.
    view.camera.zoomAt(80, 75, 6);
    view.camera.pan(-23, 17);
    const exact = await explorerVisibleData(engine(), view);
    const a = view.camera.pixelToWorld(0, 0);
    const b = view.camera.pixelToWorld(view.camera.width, view.camera.height);
    const [r0, r1] = [Math.max(0, Math.floor(a.y)), Math.min(n, Math.ceil(b.y))];
    const [c0, c1] = [Math.max(0, Math.floor(a.x)), Math.min(n, Math.ceil(b.x))];
    expect(r1 - r0).toBeLessThan(n / 2);
    expect(exact.pooled).toBeUndefined();
    expect(exact.origin).toEqual([1, r0, c0]);
    const parsed = parseNpy(visibleDataNpy(exact));
    expect(parsed.shape).toEqual([1, r1 - r0, c1 - c0]);
    worst = 0;
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) worst = Math.max(worst, Math.abs(parsed.data[(r - r0) * (c1 - c0) + c - c0]! - p(r, c)));
    expect(worst).toBeLessThan(1e-6);
  });
});

// ---- the image view -------------------------------------------------------------------------------------

/** Share of pixels of `one` whose colour one of the four pixels of its 2×2 block in `two` has. */
function blockMatch(one: ArrayLike<number>, two: ArrayLike<number>, width: number, height: number): number {
  let same = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = (y * width + x) * 4;
      const block = [0, 1, 2, 3].map((i) => ((2 * y + (i >> 1)) * 2 * width + 2 * x + (i & 1)) * 4);
      if (block.some((b) => [0, 1, 2].every((k) => one[a + k] === two[b + k]))) same += 1;
    }
  }
  return same / (width * height);
}

describe('image view export', () => {
  it('PNG: two images side by side, the same arrangement (gap included) at scale 2', async () => {
    const images = [tensor(randomFloats(6 * 5 * 3, 91, 0.5).map((v) => v + 0.5), [6, 5, 3]), tensor(randomFloats(4 * 7, 92, 0.5).map((v) => v + 0.5), [4, 7, 1])];
    const view = createImageView(engine(), { canvas, images });
    owned.push(view);
    const one = await viewPixels(engine(), view, WIDTH, HEIGHT);
    const png = await decodePng(await exportViewPng(engine(), view, { canvas }));
    expect(Array.from(png.rgba)).toEqual(Array.from(one.rgba));
    const two = await decodePng(await exportViewPng(engine(), view, { canvas, scale: 2 }));
    expect(blockMatch(one.rgba, two.rgba, WIDTH, HEIGHT)).toBeGreaterThan(0.97);
    expect(ink(one.rgba)).toBeGreaterThan(WIDTH * HEIGHT * 0.2);
  });
});

// ---- token highlight --------------------------------------------------------------------------------------

describe('token highlight export', () => {
  it('PNG: the highlight at scale 2 in the same place, with the spans’ text painted over it', async () => {
    const container = document.createElement('div');
    container.style.cssText = 'width: 150px; font: 16px monospace; padding: 4px;';
    document.body.append(container);
    owned.push({ destroy: () => container.remove() });
    const tokens = ['The', ' cat', ' sat', ' on', ' the', ' mat', '.'];
    const values = tensor(Float32Array.from(tokens, (_, i) => (i + 0.5) / tokens.length), [tokens.length]);
    const view = createTokenHighlight(engine(), { container, tokens, values });
    owned.push(view);
    const { canvas: target } = view;
    for (let i = 0; i < 3; i++) await new Promise((done) => requestAnimationFrame(done)); // the canvas takes its box
    const [w, h] = [target.width, target.height];
    const one = await viewPixels(engine(), view, w, h);
    const plain = await decodePng(await exportViewPng(engine(), view, { canvas: target }));
    expect(Array.from(plain.rgba)).toEqual(Array.from(one.rgba));
    const plain2 = await decodePng(await exportViewPng(engine(), view, { canvas: target, scale: 2 }));
    expect(blockMatch(one.rgba, plain2.rgba, w, h)).toBeGreaterThan(0.97);
    // The text: every span's box gains dark glyph pixels; outside the spans nothing changes.
    const text = await decodePng(await exportViewPng(engine(), view, { canvas: target, labels: view.spans }));
    const box = target.getBoundingClientRect();
    const k = w / box.width;
    for (const span of view.spans) {
      const r = span.getBoundingClientRect();
      let changed = 0;
      for (let y = Math.floor((r.top - box.top) * k); y < Math.ceil((r.bottom - box.top) * k); y++) {
        for (let x = Math.floor((r.left - box.left) * k); x < Math.ceil((r.right - box.left) * k); x++) {
          const i = (y * w + x) * 4;
          if (text.rgba[i] !== one.rgba[i] || text.rgba[i + 1] !== one.rgba[i + 1]) changed += 1;
        }
      }
      expect(changed, span.textContent ?? '').toBeGreaterThan(5);
    }
  });
});
