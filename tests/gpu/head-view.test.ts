// The head view and the layered graph drawn on the GPU and read back: a link of weight p between query i
// and key j colours the pixels along its line with its head's colour at opacity p (premultiplied over the
// background), zero links leave the background, heads toggle, a focused token keeps only its links, the
// layer offset picks the right slice of [L, H, n, n], line width follows p, hairlines and quads of two heads
// mix in head order (in the benchmark's WebGL peer too); the layered graph's edges and
// node colours; DOM labels; bad shapes rejected; no leaked buffers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { colormapIndex, colormapRgba, createReglLinks, seededRandom, tensorFromArray, type GpuTensor } from '../../src/index';
import { createHeadView, type HeadView, type HeadViewOptions } from '../../src/render/head-view/head-view';
import { HEAD_PALETTE, headViewLayout, tokenY } from '../../src/render/head-view/head-view-layout';
import { nodeCentre } from '../../src/render/head-view/layered-graph-layout';
import { createLayeredGraphView, type LayeredGraphView, type LayeredGraphViewOptions } from '../../src/render/head-view/layered-graph-view';
import { decodeFloat16 } from '../../src/io/half';
import { copyRowsTight, paddedBytesPerRow } from '../../src/memory/readback';
import { drawPixels } from '../helpers/draw-pixels';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const [H, N] = [2, 3];
const [WIDTH, HEIGHT] = [128, 96];
const TOKENS = ['the', 'cat', 'sat'];
const BACKGROUND = [0.2, 0.3, 0.4] as const;
const bgBytes = BACKGROUND.map((c) => Math.round(c * 255));

let canvas: HTMLCanvasElement;
let liveBefore: number;
const owned: { destroy(): void }[] = [];

beforeEach(() => {
  liveBefore = engine().liveBufferCount();
  canvas = document.createElement('canvas');
  canvas.style.cssText = `width: ${WIDTH}px; height: ${HEIGHT}px; display: block;`;
  document.body.append(canvas);
});

afterEach(() => {
  for (const thing of owned.splice(0).reverse()) thing.destroy();
  canvas.remove();
  expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(liveBefore);
});

function tensor(values: readonly number[], shape: number[]): GpuTensor {
  const t = tensorFromArray(engine(), values, shape, { label: 'test.P' });
  owned.push(t);
  return t;
}

function headView(weights: GpuTensor, options: Partial<HeadViewOptions> = {}): HeadView {
  const view = createHeadView(engine(), { canvas, weights, tokens: TOKENS, background: BACKGROUND, lineWidth: 4, ...options });
  owned.push(view);
  return view;
}

/** P[h][i][j] = value where j = perm[h][i], 0 elsewhere. */
function oneHot(perms: readonly (readonly number[])[], value = 1): number[] {
  const p = new Array<number>(perms.length * N * N).fill(0);
  perms.forEach((perm, h) => perm.forEach((j, i) => (p[(h * N + i) * N + j] = value)));
  return p;
}

type Point = { x: number; y: number };

/** A pixel whose centre lies within half a pixel (across) of the segment a→b, a fraction t along it. */
function pixelOnLine(a: Point, b: Point, t: number): [number, number] {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  if (Math.abs(dx) >= Math.abs(dy)) {
    const px = Math.floor(a.x + t * dx);
    return [px, Math.floor(a.y + ((px + 0.5 - a.x) * dy) / dx)];
  }
  const py = Math.floor(a.y + t * dy);
  return [Math.floor(a.x + ((py + 0.5 - a.y) * dx) / dy), py];
}

/** A quarter of the way along link (i, j) (or `t` of it): distinct for every (i, j) at n = 3, 8 pixels apart here. */
function linkPixel(view: HeadView, i: number, j: number, t = 0.25): [number, number] {
  const layout = view.layout;
  return pixelOnLine({ x: layout.queryX, y: tokenY(layout, i) }, { x: layout.keyX, y: tokenY(layout, j) }, t);
}

function rgbAt(pixels: Uint8Array, [x, y]: [number, number], width = WIDTH): number[] {
  const at = (y * width + x) * 4;
  return [pixels[at]!, pixels[at + 1]!, pixels[at + 2]!];
}

const bytes = (rgb: readonly number[]) => rgb.map((c) => Math.round(c * 255));
/** Premultiplied "over" of colour at opacity p onto `under` (bytes). */
const over = (rgb: readonly number[], p: number, under: readonly number[]) => rgb.map((c, k) => c * 255 * p + under[k]! * (1 - p));

function expectRgb(actual: number[], expected: readonly number[], what: string, tolerance = 2): void {
  const off = actual.some((c, k) => Math.abs(c - expected[k]!) > tolerance);
  expect(off, `${what}: got rgb(${actual}), expected rgb(${expected.map(Math.round)}) ±${tolerance}`).toBe(false);
}

/** The view drawn into an rgba16float target, read back as float32 RGBA rows. */
async function drawFloatPixels(view: HeadView): Promise<Float32Array> {
  const texture = engine().device.createTexture({ size: [WIDTH, HEIGHT], format: 'rgba16float', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
  const bytesPerRow = paddedBytesPerRow(WIDTH * 8);
  const staging = engine().createBuffer({ label: 'test.float.staging', size: bytesPerRow * HEIGHT, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  await engine().run('test.float', (encoder) => {
    view.draw(encoder, texture.createView(), WIDTH, HEIGHT, 'rgba16float');
    encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [WIDTH, HEIGHT]);
  });
  await staging.mapAsync(GPUMapMode.READ);
  const rows = copyRowsTight(new Uint8Array(staging.getMappedRange()), bytesPerRow, WIDTH * 8, HEIGHT);
  staging.unmap();
  staging.destroy();
  texture.destroy();
  return decodeFloat16(rows, WIDTH * HEIGHT * 4);
}

const PERMS = [[0, 2, 1], [2, 1, 0]] as const; // differ at every query, so no two live links share a line

describe('HeadView pixels', () => {
  it('a link of weight 1 is its head colour along its line; zero links leave the background', async () => {
    const view = headView(tensor(oneHot(PERMS), [H, N, N]));
    const pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    expect(view.layout).toMatchObject({ width: WIDTH, height: HEIGHT, tokens: N });
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        const head = PERMS.findIndex((perm) => perm[i] === j);
        const expected = head < 0 ? bgBytes : bytes(HEAD_PALETTE[head]!);
        for (const t of [0.25, 0.5, 0.75]) {
          if (t === 0.5 && i + j === N - 1) continue; // the middles of (0,2), (1,1), (2,0) coincide
          const layout = view.layout;
          const at = pixelOnLine({ x: layout.queryX, y: tokenY(layout, i) }, { x: layout.keyX, y: tokenY(layout, j) }, t);
          expectRgb(rgbAt(pixels, at), expected, `link (${i}, ${j}) at ${t} (head ${head})`, 0);
        }
      }
    // Beside the columns (the label gutters) nothing is drawn.
    expectRgb(rgbAt(pixels, [4, Math.round(tokenY(view.layout, 1))]), bgBytes, 'gutter', 0);
  });

  it('opacity is p (blended over the background) and width is p · lineWidth, at least minLineWidth', async () => {
    // Horizontal links (i, i) of weights 1, 0.5, 0.1 in head 0: 4, 2 and 1 (the minimum) pixels thick.
    const p = new Array<number>(H * N * N).fill(0);
    [1, 0.5, 0.1].forEach((w, i) => (p[i * N + i] = w));
    const view = headView(tensor(p, [H, N, N]), { colours: [[1, 1, 0], [0, 1, 1]] });
    const pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    [1, 0.5, 0.1].forEach((w, i) => {
      const y = tokenY(view.layout, i);
      const column = WIDTH / 2;
      let thick = 0;
      for (let dy = -6; dy <= 6; dy++) {
        const rgb = rgbAt(pixels, [column, Math.floor(y) + dy]);
        if (rgb.some((c, k) => c !== bgBytes[k])) {
          thick++;
          expectRgb(rgb, over([1, 1, 0], w, bgBytes), `link (${i}, ${i}) of weight ${w}`);
        }
      }
      expect(thick, `thickness of a link of weight ${w}`).toBe(Math.max(1, 4 * w));
    });
  });

  // Widths 4·p: 0.6 and 0.3 are quads (2.4 and 1.2 px), 0.2 a hairline (0.8 px: a 1-pixel line), so
  // head 1 must land over head 0 whether either is drawn by the line or the quad pipeline.
  const SHARED: [number, number, [number, number]][] = [[1, 2, [0.6, 0.3]], [0, 1, [0.2, 0.6]], [2, 0, [0.6, 0.2]]];
  const sharedWeights = () => {
    const p = new Array<number>(H * N * N).fill(0);
    for (const [i, j, values] of SHARED) values.forEach((w, h) => (p[(h * N + i) * N + j] = w));
    return p;
  };
  const expectHead1OverHead0 = (pixels: Uint8Array, view: HeadView, who: string) => {
    for (const [i, j, [w0, w1]] of SHARED) {
      const under = over(HEAD_PALETTE[0]!, w0, bgBytes);
      for (const t of [0.25, 0.75])
        expectRgb(rgbAt(pixels, linkPixel(view, i, j, t)), over(HEAD_PALETTE[1]!, w1, under), `${who} (${i}, ${j}) at ${t}: head 1 (${w1}) over head 0 (${w0})`);
    }
  };

  it('overlapping heads mix: head 1 is blended over head 0 on their shared line, hairline or quad', async () => {
    const view = headView(tensor(sharedWeights(), [H, N, N]));
    expectHead1OverHead0(await drawPixels(engine(), view, WIDTH, HEIGHT), view, 'head view');
  });

  it('the WebGL peer (createReglLinks, the benchmark\'s) draws the same: hairlines, quads, head 1 over head 0', async () => {
    const p = sharedWeights();
    const view = headView(tensor(p, [H, N, N]));
    await drawPixels(engine(), view, WIDTH, HEIGHT); // lays the view out at WIDTH × HEIGHT, as regl's canvas
    const glCanvas = document.createElement('canvas');
    [glCanvas.width, glCanvas.height] = [WIDTH, HEIGHT];
    document.body.append(glCanvas);
    const regl = createReglLinks(glCanvas, { heads: H, tokens: N, lineWidth: 4, background: BACKGROUND });
    try {
      regl.upload(Float32Array.from(p));
      regl.render();
      expectHead1OverHead0(regl.readPixels(), view, 'regl');
    } finally {
      regl.destroy();
      glCanvas.remove();
    }
  });

  it('toggling a head removes its colour; the threshold drops faint links', async () => {
    const dense = Array.from({ length: H * N * N }, (_, k) => 0.3 + ((k * 7) % 11) * 0.03); // 0.3 .. 0.6
    const view = headView(tensor(dense, [H, N, N]));
    view.setHeads([false, true]);
    let pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        expectRgb(rgbAt(pixels, linkPixel(view, i, j)), over(HEAD_PALETTE[1]!, dense[(N + i) * N + j]!, bgBytes), `head 1 only, (${i}, ${j})`);
      }
    view.setHeads([false, false]);
    pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    expect(pixels.every((c, k) => (k % 4 === 3 ? c === 255 : c === bgBytes[k % 4])), 'no heads: only background').toBe(true);
    view.setHeads([false, true]);
    view.setThreshold(0.45);
    pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        const w = dense[(N + i) * N + j]!;
        const expected = w >= 0.45 ? over(HEAD_PALETTE[1]!, w, bgBytes) : bgBytes;
        expectRgb(rgbAt(pixels, linkPixel(view, i, j)), expected, `threshold 0.45, (${i}, ${j}) of ${w.toFixed(2)}`);
      }
  });

  it('a link half a byte step faint changes no 8-bit pixel, so it is left out; one a little stronger shows', async () => {
    // White over black: a link of opacity α adds α·255 to each byte, rounded. At 0.55/255 that is one step;
    // at 0.45/255 none, which is why the view skips such links (see attention-links.wgsl).
    const p = new Array<number>(H * N * N).fill(0);
    [p[0], p[N + 1]] = [0.45 / 255, 0.55 / 255]; // links (0, 0) and (1, 1) of head 0
    const view = headView(tensor(p, [H, N, N]), { background: [0, 0, 0], colours: [[1, 1, 1], [1, 1, 1]] });
    const pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    const brightest = (i: number) => { // across the 1-pixel line, wherever its row of pixels falls
      const y = Math.floor(tokenY(view.layout, i));
      return Math.max(...[-1, 0, 1].map((dy) => rgbAt(pixels, [WIDTH / 2, y + dy])[0]!));
    };
    expect([brightest(0), brightest(1)], 'bytes on the links of 0.45/255 and 0.55/255').toEqual([0, 1]);
  });

  it('leaving out the faint links loses no pixel of many blended over one another; a float target keeps them', async () => {
    // Softmax rows over 40 keys (logits in [-6, 6)), three heads over one another: most entries are fainter
    // than half a byte step (p < 0.5/255), and thousands of them cross the same pixels. The same rows with
    // those entries raised to exactly 0.5/255, where links are drawn again, must give the same bytes.
    const [heads, n] = [3, 40];
    const random = seededRandom(17);
    const p = new Float32Array(heads * n * n);
    for (let row = 0; row < heads * n; row++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += p[row * n + j] = Math.exp((random() * 2 - 1) * 6);
      for (let j = 0; j < n; j++) p[row * n + j]! /= sum;
    }
    const raised = p.map((w) => Math.max(w, Math.fround(0.5 / 255)));
    expect(p.filter((w) => w < 0.5 / 255).length).toBeGreaterThan(heads * n * n * 0.4);
    const tokens = Array.from({ length: n }, (_, i) => `t${i}`);
    const [faint, drawn] = [p, raised].map((weights) => headView(tensor(Array.from(weights), [heads, n, n]), { tokens, labels: false }));

    const [faintPixels, drawnPixels] = [await drawPixels(engine(), faint!, WIDTH, HEIGHT), await drawPixels(engine(), drawn!, WIDTH, HEIGHT)];
    expect(new Set(Array.from({ length: WIDTH * HEIGHT }, (_, k) => rgbAt(faintPixels, [k % WIDTH, Math.floor(k / WIDTH)]).join())).size).toBeGreaterThan(50);
    const differing = faintPixels.reduce((count, byte, k) => count + (byte !== drawnPixels[k] ? 1 : 0), 0);
    expect(differing, 'bytes that differ with the faint links drawn at 0.5/255').toBe(0);

    // In rgba16float every link blends: the faint ones show there, so they are not left out.
    const zeroed = headView(tensor(Array.from(p.map((w) => (w < 0.5 / 255 ? 0 : w))), [heads, n, n]), { tokens, labels: false });
    const [floatFaint, floatZeroed] = [await drawFloatPixels(faint!), await drawFloatPixels(zeroed)];
    const moved = floatFaint.reduce((count, value, k) => count + (value !== floatZeroed[k] ? 1 : 0), 0);
    expect(moved, 'float values the faint links change').toBeGreaterThan(100);
  });

  it.each([['query', 1], ['key', 2]] as const)('focusing %s %i keeps only its links', async (side, index) => {
    const dense = new Array<number>(H * N * N).fill(0);
    for (let k = 0; k < N * N; k++) dense[k] = 0.3 + ((k * 5) % 9) * 0.035; // head 0 only, 0.3 .. 0.58
    const view = headView(tensor(dense, [H, N, N]));
    view.focusToken(side, index);
    expect(view.focus).toEqual({ side, index });
    let pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        const kept = side === 'query' ? i === index : j === index;
        const expected = kept ? over(HEAD_PALETTE[0]!, dense[i * N + j]!, bgBytes) : bgBytes;
        expectRgb(rgbAt(pixels, linkPixel(view, i, j)), expected, `focus ${side} ${index}, link (${i}, ${j})`);
      }
    view.focusToken(side, null);
    pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    expectRgb(rgbAt(pixels, linkPixel(view, 0, 0)), over(HEAD_PALETTE[0]!, dense[0]!, bgBytes), 'unfocused again');
  });

  it('layer selection picks the slice [l] of [L, H, n, n]', async () => {
    const layerPerms = [PERMS, [[1, 0, 2], [0, 2, 1]]] as const;
    const values = layerPerms.flatMap((perms) => oneHot(perms));
    const view = headView(tensor(values, [2, H, N, N]), { layer: 1 });
    expect([view.layers, view.heads, view.tokens, view.layer]).toEqual([2, H, N, 1]);
    for (const layer of [1, 0]) {
      view.setLayer(layer);
      const pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) {
          const head = layerPerms[layer]!.findIndex((perm) => perm[i] === j);
          const expected = head < 0 ? bgBytes : bytes(HEAD_PALETTE[head]!);
          expectRgb(rgbAt(pixels, linkPixel(view, i, j)), expected, `layer ${layer}, link (${i}, ${j})`, 0);
        }
    }
  });
});

describe('HeadView labels, pointer and errors', () => {
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  it('puts one label per token in each column, on its row; hovering a label or a row focuses its token', async () => {
    const view = headView(tensor(oneHot(PERMS), [H, N, N]));
    await nextFrame();
    await nextFrame(); // the backing size is observed asynchronously
    expect(view.labels.map((el) => [el.dataset['side'], el.textContent])).toEqual([
      ['query', 'the'], ['query', 'cat'], ['query', 'sat'], ['key', 'the'], ['key', 'cat'], ['key', 'sat'],
    ]);
    const box = canvas.getBoundingClientRect();
    const css = box.width / canvas.width;
    const layout = headViewLayout(canvas.width, canvas.height, N); // the canvas's own arrangement
    for (const el of view.labels) {
      const rect = el.getBoundingClientRect();
      const i = Number(el.dataset['index']);
      expect(rect.top + rect.height / 2, `label ${el.textContent} centred on its row`).toBeCloseTo(box.top + tokenY(layout, i) * css, 0);
      if (el.dataset['side'] === 'query') expect(rect.right).toBeLessThanOrEqual(box.left + layout.queryX * css);
      else expect(rect.left).toBeGreaterThanOrEqual(box.left + layout.keyX * css);
    }
    const key1 = view.labels[4]!;
    key1.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
    expect(view.focus).toEqual({ side: 'key', index: 1 });
    expect(key1.style.fontWeight).toBe('bold');
    key1.dispatchEvent(new PointerEvent('pointerout', { bubbles: true }));
    expect(view.focus).toBeNull();
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: box.left + 10, clientY: box.top + box.height * 0.9, bubbles: true }));
    expect(view.focus).toEqual({ side: 'query', index: 2 });
    canvas.dispatchEvent(new PointerEvent('pointerleave', {}));
    expect(view.focus).toBeNull();
  });

  it('with interactive: false, the labels are shown but neither they nor the rows focus a token on hover', async () => {
    const view = headView(tensor(oneHot(PERMS), [H, N, N]), { interactive: false });
    await nextFrame();
    expect(view.labels).toHaveLength(2 * N);
    view.labels[4]!.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
    const box = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: box.left + 10, clientY: box.top + box.height * 0.9, bubbles: true }));
    expect(view.focus).toBeNull();
    view.focusToken('key', 1); // the API still focuses
    expect(view.focus).toEqual({ side: 'key', index: 1 });
  });

  it('the keyboard focuses tokens as hovering does, and a live region says which', async () => {
    const view = headView(tensor(oneHot(PERMS), [H, N, N]));
    expect(canvas.tabIndex).toBe(0);
    const press = (key: string) => canvas.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
    const live = () => canvas.parentElement!.querySelector('[role=status]')!.textContent;
    press('ArrowDown');
    expect(view.focus).toEqual({ side: 'query', index: 0 });
    press('ArrowDown');
    press('ArrowRight');
    expect(view.focus).toEqual({ side: 'key', index: 1 });
    expect(live()).toBe('Key 1: only its links shown.');
    press('End');
    expect(view.focus).toEqual({ side: 'key', index: N - 1 });
    press('Escape');
    expect(view.focus).toBeNull();
    expect(live()).toBe('Every link shown.');
    view.destroy();
    expect(canvas.parentElement!.querySelector('[role=status]')).toBeNull();
  });

  it('shows only every k-th label where rows are thinner than a line of text', async () => {
    const n = 64;
    const tokens = Array.from({ length: n }, (_, i) => `t${i}`);
    const p = Array.from({ length: n * n }, (_, k) => ((k % n) + 1) / n);
    const view = headView(tensor(p, [1, n, n]), { tokens });
    await nextFrame();
    await nextFrame();
    const queries = view.labels.filter((el) => el.dataset['side'] === 'query');
    expect(queries.length).toBeLessThan(n);
    expect(queries.length).toBeGreaterThanOrEqual(Math.floor(HEIGHT / 14) - 1);
    const pixels = await drawPixels(engine(), view, WIDTH, HEIGHT);
    expect(pixels.some((c, k) => k % 4 < 3 && c !== bgBytes[k % 4]), 'n = 64 draws').toBe(true);
  });

  it('rejects bad shapes, token counts, layers and head flags with clear errors', () => {
    expect(() => headView(tensor(new Array(2 * 3 * 4).fill(0.5), [2, 3, 4]))).toThrow(/\[H, n, n\] or \[L, H, n, n\].*got \[2, 3, 4\]/);
    expect(() => headView(tensor(new Array(18).fill(0.5), [2, 9]))).toThrow(/got \[2, 9\]/);
    const p = tensor(oneHot(PERMS), [H, N, N]);
    expect(() => headView(p, { tokens: ['a', 'b'] })).toThrow(/one token per row of P \(3\); got 2 tokens/);
    expect(() => headView(p, { layer: 1 })).toThrow(/layer must be an integer in \[0, 1\).*got 1/);
    expect(() => headView(p, { threshold: -1 })).toThrow(/threshold must be a finite number ≥ 0; got -1/);
    const view = headView(p);
    expect(() => view.setLayer(-1)).toThrow(/layer must be an integer in \[0, 1\)/);
    expect(() => view.setHeads([true])).toThrow(/one flag per head \(2\); got 1/);
    expect(() => view.focusToken('query', 3)).toThrow(/token in \[0, 3\) or null; got 3/);
    expect(() => view.setWeights(tensor(new Array(4 * 4).fill(0.5), [1, 4, 4]))).toThrow(/one token per row of P \(4\); got 3/);
    view.destroy();
    expect(() => view.draw(null as unknown as GPUCommandEncoder, null as unknown as GPUTextureView, 1, 1)).toThrow(/after destroy/);
  });
});

describe('LayeredGraphView pixels', () => {
  const [L, GW, GH] = [2, 120, 200];
  const EDGE = [1, 0.5, 0] as const;
  const GREY = [0.6, 0.6, 0.6] as const;
  // graph[l][i][j] = 1 where j = perm[l][i]: three live edges per layer, to distinct nodes below.
  const LAYER_PERMS = [[1, 2, 0], [0, 2, 1]] as const;

  function graphView(options: Partial<LayeredGraphViewOptions> = {}): LayeredGraphView {
    const graph = tensor(LAYER_PERMS.flatMap((perm) => perm.flatMap((j) => [0, 1, 2].map((k) => (k === j ? 1 : 0)))), [L, N, N]);
    const view = createLayeredGraphView(engine(), {
      canvas, graph, tokens: TOKENS, colour: EDGE, background: BACKGROUND, nodeColour: GREY, lineWidth: 2, ...options,
    });
    owned.push(view);
    return view;
  }

  function distanceToSegment(p: Point, a: Point, b: Point): number {
    const [dx, dy] = [b.x - a.x, b.y - a.y];
    const t = Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(p.x - a.x - t * dx, p.y - a.y - t * dy);
  }

  it('draws each edge (l + 1, i) → (l, j) of weight 1 in the edge colour; zero edges leave the background', async () => {
    const view = graphView();
    expect([view.layers, view.tokens]).toEqual([L, N]);
    const pixels = await drawPixels(engine(), view, GW, GH);
    const layout = view.layout;
    const live: [Point, Point][] = [];
    LAYER_PERMS.forEach((perm, l) => perm.forEach((j, i) => live.push([nodeCentre(layout, l + 1, i), nodeCentre(layout, l, j)])));
    for (const [a, b] of live) {
      for (const t of [0.3, 0.5, 0.7]) expectRgb(rgbAt(pixels, pixelOnLine(a, b, t), GW), bytes(EDGE), `live edge at ${t}`, 0);
    }
    let checked = 0;
    for (let l = 0; l < L; l++)
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) {
          if (LAYER_PERMS[l]![i] === j) continue;
          const at = pixelOnLine(nodeCentre(layout, l + 1, i), nodeCentre(layout, l, j), 0.5);
          const centre = { x: at[0] + 0.5, y: at[1] + 0.5 };
          if (live.some(([a, b]) => distanceToSegment(centre, a, b) < 3)) continue; // crosses a live edge here
          expectRgb(rgbAt(pixels, at, GW), bgBytes, `zero edge (${l + 1}, ${i}) → (${l}, ${j})`, 0);
          checked++;
        }
    expect(checked, 'zero edges checked away from live ones').toBeGreaterThan(4);
  });

  it('colours the nodes through the colormap: the input row from a row of [n, n], or every row', async () => {
    // Values at colormap bin centres, so float32 rounding cannot change the entry.
    const value = (k: number) => (((k * 53 + 17) % 256) + 0.5) / 256;
    const rows = tensor(Array.from({ length: N * N }, (_, k) => value(k)), [N, N]);
    const view = graphView({ nodeValues: { tensor: rows, offset: 2 * N }, colormap: 'magma' });
    let pixels = await drawPixels(engine(), view, GW, GH);
    const entry = (v: number) => [...colormapRgba('magma').subarray(colormapIndex(v) * 4, colormapIndex(v) * 4 + 3)];
    const nodeAt = (l: number, i: number): [number, number] => {
      const c = nodeCentre(view.layout, l, i);
      return [Math.floor(c.x), Math.floor(c.y)];
    };
    for (let l = 0; l <= L; l++)
      for (let i = 0; i < N; i++) {
        const expected = l === 0 ? entry(value(2 * N + i)) : bytes(GREY);
        expectRgb(rgbAt(pixels, nodeAt(l, i), GW), expected, `input row from row 2: node (${l}, ${i})`, 0);
      }
    const every = tensor(Array.from({ length: (L + 1) * N }, (_, k) => value(100 + k)), [L + 1, N]);
    view.setNodeValues({ tensor: every, layers: 'all' });
    pixels = await drawPixels(engine(), view, GW, GH);
    for (let l = 0; l <= L; l++)
      for (let i = 0; i < N; i++) expectRgb(rgbAt(pixels, nodeAt(l, i), GW), entry(value(100 + l * N + i)), `every row: node (${l}, ${i})`, 0);
    view.setNodeValues(null);
    pixels = await drawPixels(engine(), view, GW, GH);
    expectRgb(rgbAt(pixels, nodeAt(0, 1), GW), bytes(GREY), 'no values: grey', 0);
  });

  it('labels the tokens under the input row and the layers at the left; rejects bad shapes', async () => {
    const view = graphView();
    await new Promise((resolve) => requestAnimationFrame(resolve));
    expect(view.labels.map((el) => el.textContent)).toEqual([...TOKENS, 'input', 'layer 1', 'layer 2']);
    const square = tensor(new Array(2 * N * N).fill(0.5), [2, N, N]);
    expect(() => graphView({ graph: tensor(new Array(2 * 2 * N * N).fill(0.5), [2, 2, N, N]) })).toThrow(/\[L, n, n\].*got \[2, 2, 3, 3\]/);
    expect(() => graphView({ graph: square, tokens: ['a'] })).toThrow(/one token per node column \(3\); got 1/);
    expect(() => graphView({ graph: square, nodeValues: { tensor: square, offset: 16 } })).toThrow(/need 3 elements from offset 16.*holds 18/);
    expect(() => view.setGraph(tensor(new Array(N * N).fill(0.5), [1, N, N]))).toThrow(/expected a graph of shape \[2, 3, 3\]; got \[1, 3, 3\]/);
  });
});
