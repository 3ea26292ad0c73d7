// The feature grid drawn on the GPU and read back: every sampled texel's colour against the colour the
// float64 reference statistics predict (colormapRgba at colormapIndex(normalizedValue(...))), in every
// normalization mode, for NHWC and NCHW; NaN/±Inf, bilinear, batch items, new buffers of the same shapes,
// many layers and a 1000-channel layer, paging of a buffer larger than the binding limit, the overlay,
// hover/select, the DOM labels, culling, and no leaked buffers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceLimitError } from '../../src/core/errors';
import { createFeatureStats } from '../../src/features/feature-stats';
import { featureIndex, featureLayer, type FeatureLayer, type FeatureLayout } from '../../src/features/feature-layer';
import { createFrameLoop } from '../../src/core/frame-loop';
import { tensorFromArray } from '../../src/memory/gpu-tensor';
import {
  normalizationRange,
  normalizedValue,
  referenceChannelStats,
  STATS_RECORD_FLOATS,
  type FeatureNormalization,
} from '../../src/reference/channel-stats';
import { seededRandom } from '../../src/reference/random';
import { colormapIndex, colormapRgba, type ColormapName } from '../../src/render/colormaps';
import {
  createFeatureGridView,
  type FeatureGridView,
  type FeatureGridViewOptions,
  type FeatureHover,
  type FeatureStatsBinding,
} from '../../src/render/feature-grid/feature-grid-view';
import { mapRect } from '../../src/render/feature-grid/grid-layout';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const SIZE = 128; // canvas CSS size and draw target: the same, so a late resize cannot move the camera
const MAGENTA = [255, 0, 255, 255];

interface LayerSpec {
  name: string;
  batch: number;
  height: number;
  width: number;
  channels: number;
  layout?: FeatureLayout;
  /** Value of (n, y, x, c); default: seeded random with a range of its own per channel. */
  value?: (n: number, y: number, x: number, c: number) => number;
}

/** Layers, their values (in their own layout) and a stats buffer filled from the float64 reference. */
interface Model {
  layers: FeatureLayer[];
  values: Float32Array[];
  records: Float64Array[];
  stats: FeatureStatsBinding;
  destroy(): void;
}

function randomValue(seed: number): (n: number, y: number, x: number, c: number) => number {
  const random = seededRandom(seed);
  // Distinct ranges per channel (offset and spread), so 'channel' and 'layer' differ.
  return (_n, _y, _x, c) => (c % 5) * 3 - 6 + (1 + (c % 3)) * (random() * 2 - 1);
}

function makeModel(specs: LayerSpec[], seed = 1): Model {
  const layers: FeatureLayer[] = [];
  const values: Float32Array[] = [];
  const records: Float64Array[] = [];
  const recordOffsets: number[] = [];
  let recordCount = 0;
  specs.forEach((spec, i) => {
    const layout = spec.layout ?? 'NHWC';
    const { batch, height, width, channels } = spec;
    const data = new Float32Array(batch * height * width * channels);
    const value = spec.value ?? randomValue(seed * 100 + i);
    const shape = layout === 'NHWC' ? [batch, height, width, channels] : [batch, channels, height, width];
    const tensor = tensorFromArray(engine(), data, shape, { label: `test.${spec.name}` });
    const layer = featureLayer(spec.name, tensor, layout);
    // Filled in a fixed (n, y, x, c) order, so NHWC and NCHW of one spec hold the same activations.
    for (let n = 0; n < batch; n++)
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          for (let c = 0; c < channels; c++) data[featureIndex(layer, n, y, x, c)] = value(n, y, x, c);
    engine().device.queue.writeBuffer(tensor.buffer, 0, data);
    layers.push(layer);
    values.push(data);
    records.push(referenceChannelStats({ values: data, batch, height, width, channels, layout }));
    recordOffsets.push(recordCount);
    recordCount += channels + 1;
  });
  const statsData = new Float32Array(recordCount * STATS_RECORD_FLOATS);
  records.forEach((r, i) => statsData.set(r, recordOffsets[i]! * STATS_RECORD_FLOATS));
  const buffer = engine().createBuffer({
    label: 'test.stats',
    size: statsData.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  engine().device.queue.writeBuffer(buffer, 0, statsData);
  return {
    layers,
    values,
    records,
    stats: { buffer, recordOffsets },
    destroy() {
      for (const layer of layers) layer.tensor.destroy();
      buffer.destroy();
    },
  };
}

let canvas: HTMLCanvasElement;
let liveBefore: number;
const views: FeatureGridView[] = [];
const models: Model[] = [];

beforeEach(() => {
  liveBefore = engine().liveBufferCount();
  canvas = document.createElement('canvas');
  canvas.style.cssText = `width: ${SIZE}px; height: ${SIZE}px; display: block;`;
  document.body.append(canvas);
});

afterEach(() => {
  for (const view of views.splice(0)) view.destroy();
  for (const model of models.splice(0)) model.destroy();
  canvas.remove();
  expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(liveBefore);
});

function model(specs: LayerSpec[], seed?: number): Model {
  const m = makeModel(specs, seed);
  models.push(m);
  return m;
}

function makeView(m: Model, options: Partial<FeatureGridViewOptions> = {}): FeatureGridView {
  const view = createFeatureGridView(engine(), { canvas, layers: m.layers, stats: m.stats, labels: null, ...options });
  views.push(view);
  return view;
}

/** The picture and the camera it was drawn with (copied at once: nothing can move it in between). */
interface Shot {
  pixels: Uint8Array;
  camera: { centerX: number; centerY: number; scale: number };
}

async function drawShot(view: FeatureGridView, record?: (encoder: GPUCommandEncoder, target: GPUTextureView) => void): Promise<Shot> {
  const device = engine().device;
  const texture = device.createTexture({
    label: 'test.target',
    size: [SIZE, SIZE],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = Math.ceil((SIZE * 4) / 256) * 256;
  const staging = engine().createBuffer({ label: 'test.pixels', size: bytesPerRow * SIZE, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    let camera = { centerX: 0, centerY: 0, scale: 0 };
    await engine().run('test.draw', (encoder) => {
      const target = texture.createView();
      if (record) record(encoder, target);
      else view.draw(encoder, target, SIZE, SIZE, 'rgba8unorm');
      const { centerX, centerY, scale } = view.camera;
      camera = { centerX, centerY, scale };
      encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [SIZE, SIZE]);
    });
    await staging.mapAsync(GPUMapMode.READ);
    const padded = new Uint8Array(staging.getMappedRange());
    const pixels = new Uint8Array(SIZE * SIZE * 4);
    for (let y = 0; y < SIZE; y++) pixels.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + SIZE * 4), y * SIZE * 4);
    return { pixels, camera };
  } finally {
    staging.destroy();
    texture.destroy();
  }
}

function toPixel(shot: Shot, wx: number, wy: number): { x: number; y: number } {
  const c = shot.camera;
  return { x: (wx - c.centerX) * c.scale + SIZE / 2, y: (wy - c.centerY) * c.scale + SIZE / 2 };
}

function pixelAt(shot: Shot, x: number, y: number): number[] {
  const at = (Math.floor(y) * SIZE + Math.floor(x)) * 4;
  return [...shot.pixels.subarray(at, at + 4)];
}

function near(a: readonly number[], b: readonly number[], tolerance = 1): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}

function entry(name: ColormapName, k: number): number[] {
  return [...colormapRgba(name).subarray(k * 4, k * 4 + 4)];
}

/** Colours a normalized t may take: its entry, and the neighbour when t lies within float32 reach of a bin edge. */
function allowedColours(name: ColormapName, t: number, slack = 1e-4): number[][] {
  const [lo, hi] = [colormapIndex(t - slack), colormapIndex(t + slack)];
  return Array.from({ length: hi - lo + 1 }, (_, i) => entry(name, lo + i));
}

interface Expectation {
  mode?: FeatureNormalization;
  k?: number;
  colormap?: ColormapName;
  batch?: number;
  nonFinite?: number[];
  /** Which channels of which layers to check (default: every channel of every layer on screen). */
  channels?: (layer: number) => Iterable<number>;
}

/** Checks the pixel at the centre of every texel of the chosen maps; returns how many were checked. */
function expectTexels(shot: Shot, m: Model, view: FeatureGridView, e: Expectation = {}): number {
  const { mode = 'channel', k = 3, colormap = 'viridis', batch = 0, nonFinite = MAGENTA } = e;
  let checked = 0;
  m.layers.forEach((layer, l) => {
    const section = view.layout.sections[l]!;
    const channelRecord = (c: number) => m.records[l]!.subarray(c * STATS_RECORD_FLOATS, (c + 1) * STATS_RECORD_FLOATS);
    const layerRecord = channelRecord(layer.channels);
    for (const c of e.channels?.(l) ?? Array.from({ length: layer.channels }, (_, i) => i)) {
      const rect = mapRect(view.layout, section, c);
      const texel = (rect.height / layer.height) * shot.camera.scale;
      for (let y = 0; y < layer.height; y++)
        for (let x = 0; x < layer.width; x++) {
          const p = toPixel(shot, rect.x + ((x + 0.5) / layer.width) * rect.width, rect.y + ((y + 0.5) / layer.height) * rect.height);
          if (p.x < 0 || p.y < 0 || p.x >= SIZE || p.y >= SIZE) continue;
          expect(texel, 'texels must be a few pixels wide for a centre sample').toBeGreaterThanOrEqual(3);
          const v = m.values[l]![featureIndex(layer, batch, y, x, c)]!;
          const actual = pixelAt(shot, p.x, p.y);
          const what = `${layer.name} channel ${c} (batch ${batch}, y ${y}, x ${x}) = ${v}`;
          if (!Number.isFinite(v)) {
            expect(near(actual, nonFinite), `${what}: got rgba(${actual}), want the non-finite colour`).toBe(true);
          } else {
            const t = normalizedValue(v, normalizationRange(mode, channelRecord(c), layerRecord, k));
            const allowed = allowedColours(colormap, t);
            expect(allowed.some((colour) => near(actual, colour)), `${what}: got rgba(${actual}), want one of ${JSON.stringify(allowed)} (t ${t})`).toBe(true);
          }
          checked++;
        }
    }
  });
  return checked;
}

function samePixels(a: Shot, b: Shot): boolean {
  return a.pixels.every((v, i) => v === b.pixels[i]);
}

function differingPixels(a: Shot, b: Shot): number {
  let n = 0;
  for (let i = 0; i < a.pixels.length; i += 4) if (!near([...a.pixels.subarray(i, i + 3)], [...b.pixels.subarray(i, i + 3)], 2)) n++;
  return n;
}

const SMALL: LayerSpec = { name: 'conv', batch: 2, height: 5, width: 3, channels: 4 };

describe('FeatureGridView pixels', () => {
  it('NHWC and NCHW of the same activations draw identical pictures, each texel its colour', async () => {
    const nhwc = model([{ ...SMALL, layout: 'NHWC' }], 3);
    const nchw = model([{ ...SMALL, layout: 'NCHW' }], 3);
    expect(nchw.values[0]).not.toEqual(nhwc.values[0]); // the buffers really are laid out differently
    const a = await drawShot(makeView(nhwc, { columns: 2 }));
    const b = await drawShot(makeView(nchw, { columns: 2 }));
    expect(expectTexels(a, nhwc, views[0]!)).toBe(4 * 5 * 3);
    expect(samePixels(a, b)).toBe(true);
  });

  it.each(['channel', 'layer', 'symmetric', 'robust'] as const)('normalization %s predicts every texel', async (mode) => {
    const m = model([{ ...SMALL, layout: 'NCHW' }], 5);
    const colormap = mode === 'symmetric' ? 'coolwarm' : 'magma';
    const view = makeView(m, { columns: 2, normalization: 'channel', colormap });
    const before = await drawShot(view);
    view.setNormalization(mode, 1.5);
    const shot = await drawShot(view);
    expect(expectTexels(shot, m, view, { mode, k: 1.5, colormap })).toBe(60);
    if (mode !== 'channel') expect(differingPixels(before, shot)).toBeGreaterThan(50); // the mode changed the picture
  });

  it('NaN and ±Inf draw the non-finite colour; bilinear matches float64 between texels, skipping non-finite neighbours', async () => {
    const special = new Map([[1, NaN], [7, Infinity], [11, -Infinity]]); // (y·W + x) positions in channel 2
    const base = randomValue(9);
    const m = model([{ ...SMALL, value: (n, y, x, c) => (c === 2 && special.has(y * 3 + x) ? special.get(y * 3 + x)! : base(n, y, x, c)) }]);
    expect(m.records[0]![2 * STATS_RECORD_FLOATS + 5]).toBe(6); // 3 per batch item, counted by the reference
    const green = [0, 255, 0, 255];
    const view = makeView(m, { columns: 2, nonFiniteColor: [0, 1, 0] });
    const nearest = await drawShot(view);
    expect(expectTexels(nearest, m, view, { nonFinite: green })).toBe(60);
    view.setSampling('bilinear');
    const bilinear = await drawShot(view);
    expect(differingPixels(nearest, bilinear)).toBeGreaterThan(100);
    // Every pixel of two maps against the bilinear value at its centre, from float64: neighbours that are
    // non-finite are left out, and a pixel whose own texel is non-finite keeps the non-finite colour.
    const layer = m.layers[0]!;
    for (const channel of [0, 2]) {
      const rect = mapRect(view.layout, view.layout.sections[0]!, channel);
      const record = m.records[0]!.subarray(channel * STATS_RECORD_FLOATS, (channel + 1) * STATS_RECORD_FLOATS);
      const at = (y: number, x: number) => m.values[0]![featureIndex(layer, 0, y, x, channel)]!;
      const c = bilinear.camera;
      const [corner, farCorner] = [toPixel(bilinear, rect.x, rect.y), toPixel(bilinear, rect.x + rect.width, rect.y + rect.height)];
      let [checked, overNonFinite] = [0, 0];
      // Whole pixels inside the map, one pixel in from its edges (edge pixels are partly background).
      for (let py = Math.ceil(corner.y) + 1; py < Math.floor(farCorner.y) - 1; py++)
        for (let px = Math.ceil(corner.x) + 1; px < Math.floor(farCorner.x) - 1; px++) {
          const gx = (((px + 0.5 - SIZE / 2) / c.scale + c.centerX - rect.x) / rect.width) * layer.width;
          const gy = (((py + 0.5 - SIZE / 2) / c.scale + c.centerY - rect.y) / rect.height) * layer.height;
          const actual = pixelAt(bilinear, px, py);
          checked++;
          if (!Number.isFinite(at(Math.floor(gy), Math.floor(gx)))) {
            expect(near(actual, green), `pixel (${px}, ${py}) over a non-finite texel: rgba(${actual})`).toBe(true);
            overNonFinite++;
            continue;
          }
          const t = normalizedValue(bilinearReference(at, gx, gy, layer.height, layer.width), normalizationRange('channel', record, record));
          // Slack in t for the rasterizer's float32 interpolation of uv (the test's pixel centres are float64).
          expect(allowedColours('viridis', t, 0.01).some((colour) => near(actual, colour)), `pixel (${px}, ${py}): rgba(${actual}) vs t ${t}`).toBe(true);
        }
      expect(checked).toBeGreaterThan(100);
      expect(overNonFinite > 0).toBe(channel === 2);
    }
  });

  it('batchItem selects the image; setLayers with new buffers of the same shapes redraws their values', async () => {
    const m = model([SMALL], 11);
    const view = makeView(m, { columns: 2, batchItem: 1 });
    expect(expectTexels(await drawShot(view), m, view, { batch: 1 })).toBe(60);
    view.setBatchItem(0);
    expect(expectTexels(await drawShot(view), m, view, { batch: 0 })).toBe(60);
    expect(() => view.setBatchItem(2)).toThrow(/0\.\.1.*got 2/);

    const layoutBefore = view.layout;
    view.camera.zoomAt(10, 10, 1.3); // the user's camera must survive a same-shape update
    const cameraBefore = [view.camera.centerX, view.camera.centerY, view.camera.scale];
    const next = model([SMALL], 12);
    const live = engine().liveBufferCount();
    view.setLayers(next.layers, next.stats);
    expect(engine().liveBufferCount()).toBe(live); // bind groups only
    expect(view.layout).toBe(layoutBefore);
    expect([view.camera.centerX, view.camera.centerY, view.camera.scale]).toEqual(cameraBefore);
    expect(expectTexels(await drawShot(view), next, view)).toBeGreaterThan(10);
  });

  it('several layers of different sizes and a 1000-channel layer: every map drawn, off-screen layers not drawn', async () => {
    const m = model([
      { name: 'a', batch: 1, height: 5, width: 3, channels: 4 },
      { name: 'many', batch: 1, height: 3, width: 3, channels: 1000, layout: 'NCHW' },
      { name: 'c', batch: 1, height: 2, width: 6, channels: 3 },
    ], 13);
    const view = makeView(m, { columns: 32, colormap: 'inferno' });
    const draws: number[][] = [];
    // Records the view's draw while counting the draw calls it makes (instance count, first instance;
    // an instance is a row of 32 maps).
    const countingDraws = (encoder: GPUCommandEncoder, target: GPUTextureView) => {
      const begin = encoder.beginRenderPass.bind(encoder);
      encoder.beginRenderPass = (descriptor) => {
        const pass = begin(descriptor);
        const draw = pass.draw.bind(pass);
        pass.draw = (...args: Parameters<GPURenderPassEncoder['draw']>) => {
          draws.push(args.map(Number));
          draw(...args);
        };
        return pass;
      };
      view.draw(encoder, target, SIZE, SIZE);
    };
    await drawShot(view, countingDraws);
    expect(draws).toEqual([[6, 1, 0, 0], [6, 32, 0, 0], [6, 1, 0, 0]]); // all on screen: one draw per layer
    for (const [l, c] of [[1, 0], [1, 999], [1, 517], [0, 3], [2, 0], [2, 2]] as const) {
      view.focusMap(l, c);
      draws.length = 0;
      const shot = await drawShot(view, countingDraws);
      const texels = expectTexels(shot, m, view, { colormap: 'inferno', channels: (layer) => (layer === l ? [c] : []) });
      expect(texels, `layer ${l}, channel ${c}`).toBe(m.layers[l]!.height * m.layers[l]!.width);
      // Zoomed onto one map, only its layer is drawn, and only the rows on screen.
      expect(draws, `layer ${l}, channel ${c}`).toHaveLength(1);
      const [, rows, , firstRow] = draws[0]!;
      expect(firstRow! * 32 <= c && c < (firstRow! + rows!) * 32).toBe(true);
      expect(rows!).toBeLessThanOrEqual(3);
    }
  });

  it('with statistics from the GPU kernel, computed in the same submit as the draw', async () => {
    const base = randomValue(43);
    const m = model([
      { ...SMALL, layout: 'NCHW', value: (n, y, x, c) => (c === 1 && y === 2 && x === 1 ? NaN : base(n, y, x, c)) },
      { name: 'wide', batch: 2, height: 2, width: 6, channels: 3 },
    ]);
    const stats = createFeatureStats(engine(), m.layers, { label: 'test.kernelStats' });
    try {
      expect([...stats.recordOffsets]).toEqual(m.stats.recordOffsets);
      const view = makeView(m, { columns: 4, stats, normalization: 'robust', robustK: 2 });
      const shot = await drawShot(view, (encoder, target) => {
        stats.compute(encoder, m.layers);
        view.draw(encoder, target, SIZE, SIZE);
      });
      expect(expectTexels(shot, m, view, { mode: 'robust', k: 2 })).toBe(4 * 15 + 3 * 12);
    } finally {
      stats.destroy();
    }
  });

  it('pages a layer larger than the binding limit: every batch item drawn from its own aligned range', async () => {
    // 5·7·3 floats = 420 bytes per item, 1,260 in all: over a 768-byte limit, never 256-byte aligned.
    for (const layout of ['NHWC', 'NCHW'] as const) {
      const m = model([{ name: 'paged', batch: 3, height: 5, width: 7, channels: 3, layout }], 17);
      const view = makeView(m, { columns: 3, maxBindingBytes: 768 });
      for (let item = 0; item < 3; item++) {
        view.setBatchItem(item);
        expect(expectTexels(await drawShot(view), m, view, { batch: item })).toBe(105);
      }
      expect(() => makeView(m, { maxBindingBytes: 256 })).toThrow(DeviceLimitError);
    }
  });

  it('blends the overlay image over every map, uploads it only when set, and removes it', async () => {
    const m = model([SMALL], 19);
    const view = makeView(m, { columns: 2 });
    const plain = await drawShot(view);
    const image = document.createElement('canvas');
    [image.width, image.height] = [6, 10];
    const context = image.getContext('2d')!;
    context.fillStyle = 'rgb(255, 0, 0)';
    context.fillRect(0, 0, 6, 10);
    const queue = engine().device.queue;
    const copy = queue.copyExternalImageToTexture;
    let uploads = 0;
    queue.copyExternalImageToTexture = (...args: Parameters<GPUQueue['copyExternalImageToTexture']>) => {
      uploads++;
      return copy.apply(queue, args);
    };
    try {
      view.setOverlay(image, 0.25);
      const blended = await drawShot(view);
      await drawShot(view);
      expect(uploads).toBe(1);
      const rect = mapRect(view.layout, view.layout.sections[0]!, 3);
      const p = toPixel(blended, rect.x + rect.width / 2, rect.y + rect.height / 2);
      const under = pixelAt(plain, p.x, p.y);
      const want = under.map((v, i) => (i === 3 ? 255 : Math.round(0.75 * v + 0.25 * (i === 0 ? 255 : 0))));
      expect(near(pixelAt(blended, p.x, p.y), want, 2), `rgba(${pixelAt(blended, p.x, p.y)}) vs rgba(${want})`).toBe(true);
      view.setOverlay(null);
      expect(samePixels(await drawShot(view), plain)).toBe(true);
    } finally {
      queue.copyExternalImageToTexture = copy;
    }
  });

  it('keeps the last overlay, even a 1×1 one, while a video has no pixels yet; shows none before any', async () => {
    const m = model([SMALL], 29);
    const view = makeView(m, { columns: 2 });
    const plain = await drawShot(view);
    const loading = document.createElement('video'); // no source: videoWidth 0
    view.setOverlay(loading, 0.5);
    expect(samePixels(await drawShot(view), plain)).toBe(true);
    const dot = document.createElement('canvas');
    [dot.width, dot.height] = [1, 1]; // the size of the blank texture the overlay starts with
    const context = dot.getContext('2d')!;
    context.fillStyle = 'rgb(0, 255, 0)';
    context.fillRect(0, 0, 1, 1);
    view.setOverlay(dot, 0.5);
    const blended = await drawShot(view);
    expect(samePixels(blended, plain)).toBe(false);
    view.setOverlay(loading, 0.5);
    expect(samePixels(await drawShot(view), blended)).toBe(true);
  });

  it('rejects bad input with messages that say what was expected', () => {
    const m = model([SMALL], 23);
    const view = makeView(m);
    expect(() => view.setNormalization('minmax' as FeatureNormalization)).toThrow(/channel, layer, symmetric, robust; got 'minmax'/);
    expect(() => view.setNormalization('robust', 0)).toThrow(/robustK must be a positive number; got 0/);
    expect(() => view.setSampling('cubic' as 'nearest')).toThrow(/'nearest' or 'bilinear'; got 'cubic'/);
    expect(() => view.focusMap(0, 4)).toThrow(/channels 0\.\.3; got 4/);
    expect(() => view.setOverlay(null, 2)).toThrow(/opacity must be in \[0, 1\]; got 2/);
    expect(() => makeView(m, { stats: { buffer: m.stats.buffer, recordOffsets: [0, 5] } })).toThrow(/record offsets for 2 layers, but 1 layers/);
    expect(() => makeView(m, { stats: { buffer: m.stats.buffer, recordOffsets: [1] } })).toThrow(/records end at/);
  });
});

function bilinearReference(at: (y: number, x: number) => number, gx: number, gy: number, height: number, width: number): number {
  const [qx, qy] = [gx - 0.5, gy - 0.5];
  const [bx, by] = [Math.floor(qx), Math.floor(qy)];
  const [fx, fy] = [qx - bx, qy - by];
  let [sum, weight] = [0, 0];
  for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
    const x = Math.min(Math.max(bx + dx, 0), width - 1);
    const y = Math.min(Math.max(by + dy, 0), height - 1);
    const w = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
    const v = at(y, x);
    if (Number.isFinite(v)) [sum, weight] = [sum + w * v, weight + w];
  }
  return sum / weight;
}

describe('FeatureGridView on a canvas', () => {
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  async function drawToCanvas(view: FeatureGridView): Promise<void> {
    await nextFrame(); // the ResizeObserver sets the backing size
    await nextFrame();
    await engine().run('test.frame', (encoder) => view.render(encoder));
  }

  function clientOf(view: FeatureGridView, wx: number, wy: number) {
    const pixel = view.camera.worldToPixel(wx, wy);
    const box = canvas.getBoundingClientRect();
    return { clientX: box.left + (pixel.x * box.width) / canvas.width, clientY: box.top + (pixel.y * box.height) / canvas.height };
  }

  function texelCentre(view: FeatureGridView, layer: FeatureLayer, l: number, c: number, y: number, x: number) {
    const rect = mapRect(view.layout, view.layout.sections[l]!, c);
    return clientOf(view, rect.x + ((x + 0.5) / layer.width) * rect.width, rect.y + ((y + 0.5) / layer.height) * rect.height);
  }

  it('hover reads back the activation under the pointer; a click selects the map, a drag does not', async () => {
    const m = model([SMALL, { name: 'second', batch: 2, height: 4, width: 4, channels: 3, layout: 'NCHW' }], 29);
    const hovers: (FeatureHover | null)[] = [];
    const selected: { layer: number; channel: number }[] = [];
    const view = makeView(m, { columns: 4, batchItem: 1, onHover: (h) => hovers.push(h), onSelect: (s) => selected.push(s) });
    await drawToCanvas(view);
    for (const [l, c, y, x] of [[0, 1, 4, 2], [1, 2, 3, 0]] as const) {
      const at = texelCentre(view, m.layers[l]!, l, c, y, x);
      canvas.dispatchEvent(new PointerEvent('pointermove', { ...at, pointerId: 1, bubbles: true }));
      await expect.poll(() => hovers.at(-1)?.layer === l && hovers.at(-1)?.channel === c, { timeout: 10_000 }).toBe(true);
      const value = m.values[l]![featureIndex(m.layers[l]!, 1, y, x, c)];
      expect(hovers.at(-1)).toEqual({ layer: l, name: m.layers[l]!.name, channel: c, batch: 1, y, x, value });
      const box = canvas.getBoundingClientRect();
      const pixel = { x: ((at.clientX - box.left) * canvas.width) / box.width, y: ((at.clientY - box.top) * canvas.height) / box.height };
      expect(view.mapAtPixel(pixel.x, pixel.y)).toMatchObject({ layer: l, channel: c });
      canvas.dispatchEvent(new PointerEvent('pointerdown', { ...at, pointerId: 2, button: 0, pointerType: 'mouse' }));
      canvas.dispatchEvent(new PointerEvent('pointerup', { ...at, pointerId: 2, button: 0, pointerType: 'mouse' }));
      expect(selected.at(-1)).toEqual({ layer: l, channel: c });
    }
    const at = texelCentre(view, m.layers[0]!, 0, 0, 0, 0);
    canvas.dispatchEvent(new PointerEvent('pointerdown', { ...at, pointerId: 3, button: 0, pointerType: 'mouse' }));
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: at.clientX + 20, clientY: at.clientY, pointerId: 3 }));
    canvas.dispatchEvent(new PointerEvent('pointerup', { clientX: at.clientX + 20, clientY: at.clientY, pointerId: 3, button: 0, pointerType: 'mouse' }));
    expect(selected).toHaveLength(2);
    canvas.dispatchEvent(new PointerEvent('pointerleave', { pointerId: 1 }));
    expect(hovers.at(-1)).toBeNull();
    // The drag's last move started a read that the leave made stale: it must finish and free its buffer.
    await expect.poll(() => engine().liveBufferLabels().some((name) => name.endsWith('.readback')), { timeout: 10_000 }).toBe(false);
    expect(hovers.at(-1)).toBeNull();
  });

  it('shows one DOM label per visible section, follows the camera, and removes them on destroy', async () => {
    const parent = document.createElement('div');
    parent.style.cssText = 'position: relative; padding: 7px';
    document.body.append(parent);
    parent.append(canvas);
    const m = model([SMALL, { name: 'big', batch: 1, height: 3, width: 3, channels: 40 }, { name: 'last', batch: 1, height: 2, width: 2, channels: 2 }], 31);
    const view = createFeatureGridView(engine(), { canvas, layers: m.layers, stats: m.stats, columns: 8 });
    try {
      await drawToCanvas(view);
      const shownNames = () => [...parent.querySelectorAll<HTMLElement>('.glassbox-section-label')].filter((el) => el.style.display !== 'none').map((el) => el.textContent);
      expect(shownNames()).toEqual(['conv', 'big', 'last']);
      const host = parent.querySelector<HTMLElement>('.glassbox-section-label')!.parentElement!;
      const [hostBox, canvasBox] = [host.getBoundingClientRect(), canvas.getBoundingClientRect()];
      for (const side of ['left', 'top', 'width', 'height'] as const) expect(hostBox[side]).toBeCloseTo(canvasBox[side], 1);
      view.focusMap(1, 20);
      await engine().run('test.frame', (encoder) => view.render(encoder));
      expect(shownNames()).toEqual(['big']);
      expect(parent.querySelectorAll('.glassbox-section-label')).toHaveLength(3); // reused, not recreated
      view.focusMap(2, 1);
      await engine().run('test.frame', (encoder) => view.render(encoder));
      expect(shownNames()).toEqual(['last']);
    } finally {
      view.destroy();
      parent.remove();
    }
    expect(parent.querySelectorAll('.glassbox-section-label')).toHaveLength(0);
    expect([...parent.children]).toEqual([canvas]); // the label container is gone too
  });

  it('in the frame loop: nothing written while nothing changes; new same-shaped buffers cost only bind groups', async () => {
    const m = model([SMALL, { name: 'second', batch: 2, height: 4, width: 4, channels: 3 }], 41);
    const view = makeView(m);
    await drawToCanvas(view);
    const loop = createFrameLoop(engine(), 'test.loop');
    const errors: Error[] = [];
    loop.onError = (error) => errors.push(error);
    loop.add(view);
    const next = model([SMALL, { name: 'second', batch: 2, height: 4, width: 4, channels: 3 }], 42);
    const { device } = engine();
    const [writeBuffer, createBindGroup, createBuffer] = [device.queue.writeBuffer, device.createBindGroup, device.createBuffer];
    const counts = { writes: 0, bindGroups: 0, buffers: 0 };
    device.queue.writeBuffer = (...args: Parameters<GPUQueue['writeBuffer']>) => (counts.writes++, writeBuffer.apply(device.queue, args));
    device.createBindGroup = (descriptor) => (counts.bindGroups++, createBindGroup.call(device, descriptor));
    device.createBuffer = (descriptor) => (counts.buffers++, createBuffer.call(device, descriptor));
    try {
      for (let i = 0; i < 3; i++) loop.frame();
      expect(counts).toEqual({ writes: 0, bindGroups: 0, buffers: 0 });
      // What a live model does every frame: new buffers of the same shapes (and here a new stats buffer).
      view.setLayers(next.layers, next.stats);
      loop.frame();
      expect(counts).toEqual({ writes: 0, bindGroups: 3, buffers: 0 }); // two layers and the shared group
      view.setLayers(next.layers, next.stats); // the same buffers again: nothing at all
      view.camera.pan(2, 0);
      loop.frame();
      loop.frame();
      expect(counts).toEqual({ writes: 1, bindGroups: 3, buffers: 0 }); // the camera's one uniform write
    } finally {
      device.queue.writeBuffer = writeBuffer;
      device.createBindGroup = createBindGroup;
      device.createBuffer = createBuffer;
    }
    await device.queue.onSubmittedWorkDone();
    await nextFrame();
    expect(errors).toEqual([]);
  });

  it('destroy frees every buffer the view made', async () => {
    const m = model([SMALL, { name: 'other', batch: 2, height: 2, width: 2, channels: 5 }], 37);
    const live = engine().liveBufferCount();
    const view = createFeatureGridView(engine(), { canvas, layers: m.layers, stats: m.stats, labels: null });
    await drawToCanvas(view);
    expect(engine().liveBufferCount()).toBeGreaterThan(live);
    view.destroy();
    view.destroy(); // twice is harmless
    expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(live);
    expect(() => view.draw(engine().device.createCommandEncoder(), null as unknown as GPUTextureView, 1, 1)).toThrow(/after destroy/);
  });
});
