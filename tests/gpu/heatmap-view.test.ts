// The heatmap view drawn on the GPU and read back: cell colours against the colormap tables, the log
// scale, the gaps, hover readout through pointer events, frame-loop behaviour, and no leaked buffers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cellCenter,
  colormapIndex,
  colormapRgba,
  createFrameLoop,
  createHeatmapView,
  tensorFromArray,
  type ColormapName,
  type GpuTensor,
  type HeatmapHover,
  type HeatmapView,
  type HeatmapViewOptions,
} from '../../src/index';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const [HEADS, N, M] = [2, 3, 5];
const [WIDTH, HEIGHT] = [64, 48];
// Distinct values at bin centres ((k + 0.5) / 256, k a permutation step), so the linear colour entry is
// unambiguous: the GPU's float32 arithmetic cannot land in a neighbouring bin.
const VALUES = Float32Array.from({ length: HEADS * N * M }, (_, i) => (((i * 37 + 11) % 256) + 0.5) / 256);
const BACKGROUND = [0.25, 0.5, 0.75] as const;

let canvas: HTMLCanvasElement;
let weights: GpuTensor;
let liveBefore: number;
const views: HeatmapView[] = [];

beforeEach(() => {
  liveBefore = engine().liveBufferCount();
  canvas = document.createElement('canvas');
  canvas.style.cssText = `width: ${WIDTH}px; height: ${HEIGHT}px; display: block;`;
  document.body.append(canvas);
  weights = tensorFromArray(engine(), VALUES, [HEADS, N, M], { label: 'test.P' });
});

afterEach(() => {
  for (const view of views.splice(0)) view.destroy();
  weights.destroy();
  canvas.remove();
  expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(liveBefore);
});

function makeView(options: Partial<HeatmapViewOptions> = {}): HeatmapView {
  const view = createHeatmapView(engine(), { canvas, weights, background: BACKGROUND, ...options });
  views.push(view);
  return view;
}

/** Draws the view into a WIDTH×HEIGHT rgba8unorm texture and returns its pixels, tightly packed. */
async function drawPixels(view: HeatmapView): Promise<Uint8Array> {
  const device = engine().device;
  const texture = device.createTexture({
    label: 'test.target',
    size: [WIDTH, HEIGHT],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = Math.ceil((WIDTH * 4) / 256) * 256; // copies need rows aligned to 256 bytes
  const staging = engine().createBuffer({
    label: 'test.pixels',
    size: bytesPerRow * HEIGHT,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  try {
    await engine().run('test.draw', (encoder) => {
      view.draw(encoder, texture.createView(), WIDTH, HEIGHT, 'rgba8unorm');
      encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [WIDTH, HEIGHT]);
    });
    await staging.mapAsync(GPUMapMode.READ);
    const padded = new Uint8Array(staging.getMappedRange());
    const pixels = new Uint8Array(WIDTH * HEIGHT * 4);
    for (let y = 0; y < HEIGHT; y++) pixels.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + WIDTH * 4), y * WIDTH * 4);
    return pixels;
  } finally {
    staging.destroy();
    texture.destroy();
  }
}

function pixelAt(pixels: Uint8Array, x: number, y: number): number[] {
  const at = (Math.floor(y) * WIDTH + Math.floor(x)) * 4;
  return [...pixels.subarray(at, at + 4)];
}

/** The colour a value should get, asserting it is not within float32 reach of a bin boundary. */
function expectedColour(name: ColormapName, value: number, range = { vmin: 0, vmax: 1, log: false }): number[] {
  const f = range.log ? Math.log : (x: number) => x;
  const t = (f(value) - f(range.vmin)) / (f(range.vmax) - f(range.vmin));
  const bin = t * 256;
  if (bin > 0 && bin < 256) expect(Math.abs(bin - Math.round(bin)), `value ${value} is at a bin boundary`).toBeGreaterThan(1e-3);
  const k = colormapIndex(t);
  return [...colormapRgba(name).subarray(k * 4, k * 4 + 4)];
}

function expectColour(actual: number[], expected: number[], what: string): void {
  const off = actual.some((channel, c) => Math.abs(channel - expected[c]!) > 1);
  expect(off, `${what}: got rgba(${actual}), expected rgba(${expected}) ±1`).toBe(false);
}

/** Checks the pixel at the centre of every shown cell against the colour its value should get. */
function expectCells(view: HeatmapView, pixels: Uint8Array, colour: (value: number) => number[], values = VALUES): void {
  const { layout, camera } = view;
  const [n, m] = [layout.queries, layout.keys];
  for (let slot = 0; slot < layout.shownHeads; slot++)
    for (let query = 0; query < n; query++)
      for (let key = 0; key < m; key++) {
        const head = layout.firstHead + slot;
        const centre = cellCenter(layout, { head, query, key });
        const pixel = camera.worldToPixel(centre.x, centre.y);
        const value = values[(head * n + query) * m + key]!;
        expectColour(pixelAt(pixels, pixel.x, pixel.y), colour(value), `head ${head}, cell (${query}, ${key})`);
      }
}

const backgroundBytes = BACKGROUND.map((c) => Math.round(c * 255)).concat(255);

describe('HeatmapView pixels', () => {
  it.each(['viridis', 'grey'] as const)('grid of all heads in %s: every cell centre has its colour', async (name) => {
    const view = makeView({ colormap: name });
    const pixels = await drawPixels(view);
    expect(view.layout).toMatchObject({ cols: 2, rows: 1, shownHeads: 2 });
    expectCells(view, pixels, (value) => expectedColour(name, value));
  });

  it('the gap between heads and the margins show the background colour', async () => {
    const view = makeView();
    const pixels = await drawPixels(view);
    const { layout, camera } = view;
    const gap = camera.worldToPixel(M + layout.gap / 2, N / 2);
    expect(layout.gap * camera.scale, 'the gap should be wider than a pixel').toBeGreaterThan(2);
    expectColour(pixelAt(pixels, gap.x, gap.y), backgroundBytes, 'gap');
    // The grid is wider than tall: the rows above and below it are background.
    expectColour(pixelAt(pixels, WIDTH / 2, 1), backgroundBytes, 'top margin');
    expectColour(pixelAt(pixels, WIDTH / 2, HEIGHT - 1), backgroundBytes, 'bottom margin');
  });

  it('a single head fills the view with that head', async () => {
    const view = makeView({ head: 1, colormap: 'grey' });
    const pixels = await drawPixels(view);
    expect(view.layout).toMatchObject({ cols: 1, shownHeads: 1, firstHead: 1 });
    expectCells(view, pixels, (value) => expectedColour('grey', value));
    view.setHead(0);
    expectCells(view, await drawPixels(view), (value) => expectedColour('grey', value));
  });

  it('log scale maps log(v) between log(vmin) and log(vmax)', async () => {
    const view = makeView({ colormap: 'viridis', scale: 'log', vmin: 1e-3, vmax: 1 });
    const pixels = await drawPixels(view);
    const range = { vmin: 1e-3, vmax: 1, log: true };
    expectCells(view, pixels, (value) => expectedColour('viridis', value, range));
    // Small values are lifted: VALUES[0] = 11.5/256 ≈ 0.045 is entry 11 linearly but entry 141 on the log scale.
    const first = view.camera.worldToPixel(0.5, 0.5);
    expectColour(pixelAt(pixels, first.x, first.y), [...colormapRgba('viridis').subarray(141 * 4, 142 * 4)], 'log, cell 0');
    view.setRange({ scale: 'linear', vmin: 0 });
    const linear = await drawPixels(view);
    expectColour(pixelAt(linear, first.x, first.y), [...colormapRgba('viridis').subarray(11 * 4, 12 * 4)], 'linear, cell 0');
    expectCells(view, linear, (value) => expectedColour('viridis', value));
  });

  it('setColormap and setRange change the picture without rebuilding the view', async () => {
    const view = makeView({ colormap: 'viridis' });
    await drawPixels(view);
    view.setColormap('magma');
    view.setRange({ vmin: 0.2, vmax: 0.7 });
    const range = { vmin: 0.2, vmax: 0.7, log: false };
    expectCells(view, await drawPixels(view), (value) => expectedColour('magma', value, range));
  });

  it('setWeights rebinds another tensor, of another shape too', async () => {
    const view = makeView({ head: 1, colormap: 'grey' });
    const values = VALUES.slice(0, 3 * 4 * 2).reverse();
    const other = tensorFromArray(engine(), values, [3, 4, 2], { label: 'test.P2' });
    view.setWeights(other);
    expect(view.layout).toMatchObject({ heads: 3, queries: 4, keys: 2, firstHead: 1 });
    expectCells(view, await drawPixels(view), (value) => expectedColour('grey', value), values);
    view.setWeights(weights);
    other.destroy();
  });

  it('rejects bad settings with messages that say what was expected', () => {
    const view = makeView();
    expect(() => view.setHead(2)).toThrow(/0\.\.1; got 2/);
    expect(() => view.setRange({ vmin: 1, vmax: 0.5 })).toThrow(/vmax > vmin/);
    expect(() => view.setRange({ scale: 'log', vmin: 0 })).toThrow(/log scale needs vmin > 0/);
    expect(() => view.setColormap('jet' as ColormapName)).toThrow(/Unknown colormap 'jet'/);
  });
});

describe('HeatmapView on a canvas', () => {
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  async function drawToCanvas(view: HeatmapView): Promise<void> {
    await nextFrame(); // the ResizeObserver sets the backing size
    await nextFrame();
    await engine().run('test.frame', (encoder) => view.render(encoder));
  }

  function clientPoint(view: HeatmapView, head: number, query: number, key: number) {
    const centre = cellCenter(view.layout, { head, query, key });
    const pixel = view.camera.worldToPixel(centre.x, centre.y);
    const rect = canvas.getBoundingClientRect();
    return { clientX: rect.left + (pixel.x * rect.width) / canvas.width, clientY: rect.top + (pixel.y * rect.height) / canvas.height };
  }

  it('backing store follows CSS size × devicePixelRatio', async () => {
    const view = makeView();
    await drawToCanvas(view);
    expect(canvas.width).toBe(Math.round(WIDTH * devicePixelRatio));
    expect(canvas.height).toBe(Math.round(HEIGHT * devicePixelRatio));
    expect([view.camera.width, view.camera.height]).toEqual([canvas.width, canvas.height]);
  });

  it('hover reads back the one value under the pointer and reports null on leave', async () => {
    const hovers: (HeatmapHover | null)[] = [];
    const view = makeView({ onHover: (hover) => hovers.push(hover) });
    await drawToCanvas(view);
    // Several moves in a row: at most one read is in flight, and only the last cell is reported last.
    for (const [head, query, key] of [[0, 0, 0], [0, 2, 4], [1, 1, 3]] as const) {
      canvas.dispatchEvent(new PointerEvent('pointermove', { ...clientPoint(view, head, query, key), pointerId: 1, bubbles: true }));
    }
    await expect.poll(() => hovers.at(-1)?.head, { timeout: 10_000 }).toBe(1);
    expect(hovers.at(-1)).toEqual({ head: 1, query: 1, key: 3, value: VALUES[(1 * N + 1) * M + 3] });
    expect(hovers.length).toBeLessThanOrEqual(2);
    canvas.dispatchEvent(new PointerEvent('pointerleave', { pointerId: 1 }));
    expect(hovers.at(-1)).toBeNull();
  });

  it('wheel zooms about the pointer, a drag pans, keys pan and 0 resets', async () => {
    const view = makeView();
    await drawToCanvas(view);
    const { camera } = view;
    const fit = camera.scale;
    const at = clientPoint(view, 0, 1, 2);
    const before = view.cellAtPixel(camera.width / 2, camera.height / 2);
    canvas.dispatchEvent(new WheelEvent('wheel', { ...at, deltaY: -200, bubbles: true, cancelable: true }));
    expect(camera.scale).toBeGreaterThan(fit);
    const rect = canvas.getBoundingClientRect();
    const pointerPixel = { x: ((at.clientX - rect.left) * canvas.width) / rect.width, y: ((at.clientY - rect.top) * canvas.height) / rect.height };
    expect(view.cellAtPixel(pointerPixel.x, pointerPixel.y)).toEqual({ head: 0, query: 1, key: 2 });
    const centreX = camera.centerX;
    canvas.dispatchEvent(new PointerEvent('pointerdown', { ...at, pointerId: 7, button: 0, pointerType: 'mouse' }));
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: at.clientX + 10, clientY: at.clientY, pointerId: 7 }));
    canvas.dispatchEvent(new PointerEvent('pointerup', { pointerId: 7 }));
    expect(camera.centerX).toBeLessThan(centreX);
    canvas.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    canvas.dispatchEvent(new KeyboardEvent('keydown', { key: '0' }));
    expect(camera.scale).toBeCloseTo(fit);
    expect(view.cellAtPixel(camera.width / 2, camera.height / 2)).toEqual(before);
  });

  it('two fingers pinch-zoom about their midpoint; one finger drags', async () => {
    const view = makeView();
    await drawToCanvas(view);
    const { camera } = view;
    const fit = camera.scale;
    const [a, b] = [clientPoint(view, 0, 1, 1), clientPoint(view, 0, 1, 3)];
    const touch = (type: string, pointerId: number, point: { clientX: number; clientY: number }) =>
      canvas.dispatchEvent(new PointerEvent(type, { ...point, pointerId, pointerType: 'touch', bubbles: true }));
    touch('pointerdown', 11, a);
    touch('pointerdown', 12, b);
    const spread = b.clientX - a.clientX;
    touch('pointermove', 12, { clientX: b.clientX + spread, clientY: b.clientY }); // fingers twice as far apart
    expect(camera.scale / fit).toBeCloseTo(2, 5);
    touch('pointerup', 12, b);
    const centreY = camera.centerY;
    touch('pointermove', 11, { clientX: a.clientX, clientY: a.clientY + 5 });
    expect(camera.centerY).toBeLessThan(centreY);
    touch('pointerup', 11, a);
  });

  it('as a frame-loop participant it rewrites uniforms only when something changed', async () => {
    const view = makeView();
    await drawToCanvas(view);
    const loop = createFrameLoop(engine(), 'test.loop');
    const errors: Error[] = [];
    loop.onError = (error) => errors.push(error);
    loop.add(view);
    const queue = engine().device.queue;
    const writeBuffer = queue.writeBuffer;
    let writes = 0;
    queue.writeBuffer = (...args: Parameters<GPUQueue['writeBuffer']>) => {
      writes++;
      return writeBuffer.apply(queue, args);
    };
    try {
      loop.frame();
      loop.frame();
      loop.frame();
      expect(writes).toBe(0);
      view.camera.pan(3, 0);
      loop.frame();
      loop.frame();
      expect(writes).toBe(1);
    } finally {
      queue.writeBuffer = writeBuffer;
    }
    await queue.onSubmittedWorkDone();
    await nextFrame();
    expect(errors).toEqual([]);
  });
});
