// The custom elements' shared machinery in headless Chromium, through <glassbox-attention-heatmap>: mount
// and draw the data given, follow a resize, pause off screen, share one device between elements, release
// everything on removal, rebuild after the device is lost, and say what is wrong with bad input.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy';
import { randomSoftmaxRows } from '../../src/reference/attention-rollout';
import { distinctColours, useDemoPage } from '../helpers/browser-page';
import { hasNumpy, PYTHON } from '../helpers/numpy';

const demo = useDemoPage({ width: 900, height: 700 });
// Debian's numpy reads the exported .npy where it is installed (CI installs it).
const numpy = hasNumpy();

type Tensors = Record<string, { shape: number[]; data: number[] }>;
interface ElementProbe {
  state: string;
  error: string | null;
  framesDrawn: number;
  generation: number;
  width: number;
  height: number;
}
type TestWindow = {
  glassboxTest: { currentHost(): { engine: { device: GPUDevice; liveBufferCount(): number }; loop: { framesSubmitted: number } } | null };
};

const [LAYERS, HEADS, N] = [2, 3, 37];
/** Seeded softmax rows [heads, N, N] per layer, named as Hugging Face's output_attentions. */
function attentionTensors(): Tensors {
  const all = randomSoftmaxRows(LAYERS * HEADS * N, N, 7);
  const per = HEADS * N * N;
  return Object.fromEntries(
    Array.from({ length: LAYERS }, (_, l) => [`attentions.${l}`, { shape: [HEADS, N, N], data: Array.from(all.subarray(l * per, (l + 1) * per)) }]),
  );
}

/** Appends an element with `attributes` and (when given) `tensors`, and waits until it is ready or failed. */
async function mount(page: Page, id: string, attributes: Record<string, string>, tensors: Tensors | null): Promise<ElementProbe> {
  await page.evaluate(
    (id, attributes, tensors) => {
      const element = document.createElement('glassbox-attention-heatmap') as HTMLElement & { tensors: unknown };
      element.id = id;
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
      if (tensors) element.tensors = new Map(Object.entries(tensors).map(([name, t]) => [name, { shape: t.shape, data: Float32Array.from(t.data) }]));
      document.querySelector('#mount')!.append(element);
    },
    id,
    attributes,
    tensors,
  );
  await page.waitForFunction((id) => ['ready', 'error'].includes((document.getElementById(id) as unknown as ElementProbe).state), { timeout: 60_000 }, id);
  return probe(page, id);
}

function probe(page: Page, id: string): Promise<ElementProbe> {
  return page.evaluate((id) => {
    const element = document.getElementById(id) as unknown as ElementProbe & HTMLElement;
    const canvas = element.shadowRoot!.querySelector('canvas');
    const { state, error, framesDrawn, generation } = element;
    return { state, error, framesDrawn, generation, width: canvas?.width ?? 0, height: canvas?.height ?? 0 };
  }, id);
}

async function framesAfter(page: Page, id: string, count: number): Promise<void> {
  const start = (await probe(page, id)).framesDrawn;
  await page.waitForFunction((id, target) => (document.getElementById(id) as unknown as ElementProbe).framesDrawn >= target, { timeout: 60_000 }, id, start + count);
}

const liveBuffers = (page: Page) => page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()?.engine.liveBufferCount() ?? -1);

describe('custom elements (through <glassbox-attention-heatmap>)', () => {
  it('draws its tensors, and its hover tooltip reads the value of the cell under the pointer', async () => {
    const { page, url } = demo();
    await page.goto(`${url}/tests/e2e/fixtures/elements.html`);
    await page.waitForFunction(() => 'glassboxTest' in window);
    const tensors = attentionTensors();
    const first = await mount(page, 'a', { head: '4' }, tensors); // layer 1, head 1
    expect(first).toMatchObject({ state: 'ready', error: null, width: 400, height: 300 });
    await framesAfter(page, 'a', 2);
    const box = (await (await page.$('#a'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(20);

    // The cell at the canvas centre, found through the view's own camera; then the tooltip must say its value.
    const cell = await page.evaluate(() => (document.getElementById('a') as unknown as { view: { cellAtPixel(x: number, y: number): object | null } }).view.cellAtPixel(200, 150));
    expect(cell).toMatchObject({ head: 4 });
    const { query, key } = cell as { query: number; key: number };
    await page.mouse.move(box.x + 200, box.y + 150);
    const tip = await page.waitForFunction(
      () => {
        const tip = document.getElementById('a')!.shadowRoot!.querySelector<HTMLElement>('[part=tooltip]');
        return tip && !tip.hidden && tip.textContent;
      },
      { timeout: 30_000 },
    );
    const expected = tensors['attentions.1']!.data[(1 * N + query) * N + key]!;
    expect(await tip.jsonValue()).toBe(`layer 1 head 1 · query ${query} → key ${key}: ${Math.fround(expected).toPrecision(4)}`);
  });

  it('exports a PNG at a chosen scale and the visible cells as .npy that parseNpy and numpy read', async () => {
    const { page } = demo();
    // Before its view is ready an element's exports reject (a promise's caller catches it), not throw.
    const early = await page.evaluate(async () => {
      await customElements.whenDefined('glassbox-attention-heatmap');
      const element = document.createElement('glassbox-attention-heatmap') as unknown as { exportPng(): Promise<Blob>; exportNpy(): Promise<Uint8Array> };
      const outcome = async (run: () => Promise<unknown>) => {
        let promise: Promise<unknown>;
        try {
          promise = run();
        } catch (error) {
          return `threw ${String(error)}`;
        }
        return promise.then(() => 'resolved', (error: Error) => error.message);
      };
      return [await outcome(() => element.exportPng()), await outcome(() => element.exportNpy())];
    });
    expect(early).toEqual([0, 1].map(() => "<glassbox-attention-heatmap>: nothing to export until the view is ready (state 'idle')."));
    const exported = await page.evaluate(async () => {
      const element = document.getElementById('a') as unknown as { exportPng(o: object): Promise<Blob>; exportNpy(): Promise<Uint8Array> };
      const png = new Uint8Array(await (await element.exportPng({ scale: 2 })).arrayBuffer());
      return { png: Array.from(png), npy: Array.from(await element.exportNpy()) };
    });
    const png = PNG.sync.read(Buffer.from(exported.png));
    expect([png.width, png.height]).toEqual([800, 600]);
    const npy = parseNpy(Uint8Array.from(exported.npy));
    expect(npy.shape).toEqual([1, N, N]); // head 4 alone, fitted: every cell on screen
    const expected = attentionTensors()['attentions.1']!.data.slice(1 * N * N, 2 * N * N);
    expect(Array.from(npy.data)).toEqual(expected.map((v) => Math.fround(v)));
    if (numpy) {
      const file = join(mkdtempSync(join(tmpdir(), 'glassbox-export-')), 'visible.npy');
      writeFileSync(file, Uint8Array.from(exported.npy));
      const run = spawnSync(PYTHON, ['-c', 'import sys, json, numpy as np; a = np.load(sys.argv[1]); print(json.dumps([list(a.shape), str(a.dtype), a.ravel().tolist()]))', file], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const [shape, dtype, values] = JSON.parse(run.stdout) as [number[], string, number[]];
      expect({ shape, dtype }).toEqual({ shape: [1, N, N], dtype: 'float32' });
      expect(values).toEqual(Array.from(npy.data));
    }
  });

  it('follows its size, and records no frames while scrolled off screen or in a hidden tab', async () => {
    const { page } = demo();
    await page.$eval('#a', (el) => ((el as HTMLElement).style.cssText = 'width: 300px; height: 180px'));
    await page.waitForFunction(() => document.getElementById('a')!.shadowRoot!.querySelector('canvas')!.width === 300, { timeout: 10_000 });
    expect(await probe(page, 'a')).toMatchObject({ width: 300, height: 180 });

    await page.evaluate(() => window.scrollTo(0, 3000));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the intersection observer reports asynchronously
    const hidden = (await probe(page, 'a')).framesDrawn;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await probe(page, 'a')).framesDrawn).toBe(hidden);
    await page.evaluate(() => window.scrollTo(0, 0));
    await framesAfter(page, 'a', 2);

    // A hidden tab, as the page sees one (headless Chromium never hides its only tab).
    const setHidden = (hidden: boolean) => page.evaluate((hidden) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(true);
    const inHiddenTab = (await probe(page, 'a')).framesDrawn;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await probe(page, 'a')).framesDrawn).toBe(inHiddenTab);
    await setHidden(false);
    await framesAfter(page, 'a', 2);
  });

  it('shares one device between elements, and a removed element leaves no buffer behind', async () => {
    const { page } = demo();
    const alone = await liveBuffers(page);
    expect(alone).toBeGreaterThan(0);
    await mount(page, 'b', { head: 'all', colormap: 'magma' }, attentionTensors());
    const shared = await page.evaluate(() => {
      const [a, b] = ['a', 'b'].map((id) => (document.getElementById(id) as unknown as { engine: object }).engine);
      return a === b && a === (window as unknown as TestWindow).glassboxTest.currentHost()!.engine;
    });
    expect(shared).toBe(true);
    expect(await liveBuffers(page)).toBeGreaterThan(alone);
    await framesAfter(page, 'b', 2);
    await page.$eval('#b', (el) => el.remove());
    expect(await liveBuffers(page)).toBe(alone);
  });

  it('an element removed leaves the shared frame loop stopping in a hidden tab', async () => {
    const { page } = demo();
    await mount(page, 'd', { head: '0' }, attentionTensors());
    await page.$eval('#d', (el) => el.remove()); // with a listener per element, this took the page's away
    await framesAfter(page, 'a', 2);
    const setHidden = (hidden: boolean) => page.evaluate((hidden) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    // Not only no frame of the element's: no frame at all (empty ones included) while the tab is hidden.
    const submitted = () => page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.loop.framesSubmitted);
    await setHidden(true);
    const inHiddenTab = await submitted();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await submitted()).toBe(inHiddenTab);
    await setHidden(false);
    await framesAfter(page, 'a', 2);
  });

  it('rebuilds every element on a new device after the device is lost, without a reload', async () => {
    const { page, consoleErrors } = demo();
    await mount(page, 'c', { head: '0' }, attentionTensors());
    await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.device.destroy());
    await page.waitForFunction(
      () => ['a', 'c'].every((id) => {
        const element = document.getElementById(id) as unknown as ElementProbe;
        return element.generation === 1 && element.state === 'ready';
      }),
      { timeout: 60_000 },
    );
    await framesAfter(page, 'a', 2);
    await framesAfter(page, 'c', 2);
    const box = (await (await page.$('#c'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(20);
    expect(consoleErrors).toEqual([]);
  });

  it('says what is wrong with bad input on the element, and the other elements keep drawing', async () => {
    const { page, consoleErrors } = demo();
    const bad = await mount(page, 'd', { head: '0' }, { 'attentions.0': { shape: [2, 5, 5], data: Array.from({ length: 50 }, (_, i) => i) } });
    expect(bad.state).toBe('error');
    expect(bad.error).toMatch(/attentions\.0.*sum/i);
    expect(await page.$eval('#d', (el) => el.shadowRoot!.querySelector('[part=status]')!.textContent)).toBe(bad.error);

    const notTensors = await mount(page, 'e', { src: '/package.json' }, null);
    expect(notTensors.error).toBe("'/package.json': Expected a .npy or .safetensors file; got 'package.json'.");

    // A bad setting is reported while the view keeps drawing with its last good one.
    await page.$eval('#a', (el) => el.setAttribute('colormap', 'no-such-map'));
    await framesAfter(page, 'a', 2);
    expect(await probe(page, 'a')).toMatchObject({ state: 'ready', error: expect.stringMatching(/unknown colormap 'no-such-map'/) });
    await page.$eval('#a', (el) => el.setAttribute('colormap', 'inferno'));
    expect(await probe(page, 'a')).toMatchObject({ state: 'ready', error: null });
    expect(consoleErrors).toEqual([]);
  });
});
