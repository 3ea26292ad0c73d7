// <glassbox-long-attention> in headless Chromium: Q and K from a .safetensors blob: URL, row statistics and
// the overview built with the progress bar, the exact P under the pointer equal to the float64 reference,
// in-place settings, a PNG export, and removal freeing everything; a missing layer is said.
import { PNG } from 'pngjs';
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { randomFloats } from '../../src/reference/random';
import { distinctColours, useDemoPage } from '../helpers/browser-page';
import { expectFollowsSize } from '../helpers/element-size';

const demo = useDemoPage({ width: 700, height: 560 });
const [HEADS, N, D] = [2, 301, 16];
const q = randomFloats(HEADS * N * D, 41, 1.5);
const k = randomFloats(HEADS * N * D, 42, 1.5);
const FILE = writeSafetensors({ 'layers.0.q': { data: q, shape: [HEADS, N, D] }, 'layers.0.k': { data: k, shape: [HEADS, N, D] } });

type Probe = { state: string; error: string | null; overview: number; framesDrawn: number };
type TestWindow = { glassboxTest: { currentHost(): { engine: { liveBufferCount(): number } } | null } };
const probe = (page: Page, id: string) => page.$eval(`#${id}`, (el) => {
  const { state, error, overview, framesDrawn } = el as unknown as Probe;
  return { state, error, overview, framesDrawn };
});

async function mount(page: Page, id: string, attributes: Record<string, string>): Promise<Probe> {
  await page.evaluate((id, attributes, bytes) => {
    const element = document.createElement('glassbox-long-attention');
    element.id = id;
    const url = URL.createObjectURL(new Blob([Uint8Array.from(bytes)]));
    for (const [name, value] of Object.entries({ src: url, ...attributes })) element.setAttribute(name, value);
    document.querySelector('#mount')!.append(element);
  }, id, attributes, Array.from(FILE));
  await page.waitForFunction((id) => ['ready', 'error'].includes((document.getElementById(id) as unknown as Probe).state), { timeout: 90_000 }, id);
  return probe(page, id);
}

describe('<glassbox-long-attention>', () => {
  it('builds the overview and reads the exact weight under the pointer', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/tests/e2e/fixtures/elements.html`);
    await page.waitForFunction(() => 'glassboxTest' in window);
    // Another element keeps the shared engine alive, so that the count after removal means something.
    await page.evaluate(() => {
      const keeper = document.createElement('glassbox-attention-heatmap') as HTMLElement & { tensors: unknown };
      keeper.id = 'keeper';
      keeper.tensors = new Map([['a', { shape: [3, 4], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) }]]);
      document.querySelector('#mount')!.append(keeper);
    });
    await page.waitForFunction(() => (document.getElementById('keeper') as unknown as Probe).state === 'ready', { timeout: 60_000 });
    const before = await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()?.engine.liveBufferCount() ?? 0);
    expect(await mount(page, 'long', { causal: '', head: '1', scale: 'linear' })).toMatchObject({ state: 'ready', error: null });
    await page.waitForFunction(() => (document.getElementById('long') as unknown as Probe).overview >= 1, { timeout: 90_000 });
    const box = (await (await page.$('#long'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(8);

    const [x, y] = [box.width * 0.4, box.height * 0.7];
    const cell = await page.$eval('#long', (el, x, y) => {
      const world = (el as unknown as { view: { camera: { pixelToWorld(x: number, y: number): { x: number; y: number } } } }).view.camera.pixelToWorld(x, y);
      return { query: Math.floor(world.y), key: Math.floor(world.x) };
    }, x, y);
    expect(cell.key).toBeLessThanOrEqual(cell.query); // below the diagonal: a weight, not a masked entry
    await page.mouse.move(box.x + x, box.y + y);
    const tip = await page.waitForFunction(() => {
      const tip = document.getElementById('long')!.shadowRoot!.querySelector<HTMLElement>('[part=tooltip]');
      return tip && !tip.hidden && tip.textContent;
    }, { timeout: 30_000 });
    const text = String(await tip.jsonValue());
    expect(text).toMatch(new RegExp(`^head 1 · query ${cell.query} → key ${cell.key}: P = `));
    const p = referenceAttentionWeights({ q, k, batch: HEADS, nq: N, nk: N, d: D, causal: true })[(1 * N + cell.query) * N + cell.key]!;
    expect(Number(/P = (\S+),/.exec(text)![1])).toBeCloseTo(p, 5);

    await expectFollowsSize(page, 'long', { width: 360, height: 240 });
    const switched = await page.$eval('#long', (el) => { // in place: no remount, a new overview
      el.setAttribute('pooling', 'mean');
      const { state, overview } = el as unknown as Probe;
      return { state, overview };
    });
    expect(switched).toEqual({ state: 'ready', overview: 0 });
    await page.waitForFunction(() => (document.getElementById('long') as unknown as Probe).overview >= 1, { timeout: 90_000 });
    const exported = await page.$eval('#long', async (el) => {
      const blob = await (el as unknown as { exportPng(): Promise<Blob> }).exportPng();
      return { type: blob.type, bytes: Array.from(new Uint8Array(await blob.arrayBuffer())) };
    });
    expect(exported.type).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(exported.bytes)); // the matrix as drawn, not a blank picture
    expect(distinctColours(Uint8Array.from(exported.bytes), { x: 0, y: 0, width: png.width, height: png.height })).toBeGreaterThan(10);
    await page.$eval('#long', (el) => el.remove());
    expect(before).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()?.engine.liveBufferCount() ?? -1)).toBe(before);
    expect(consoleErrors).toEqual([]);
  });

  it('says which layers a file has when asked for another', async () => {
    const { page } = demo();
    expect((await mount(page, 'wrong-layer', { layer: '3' })).error).toBe('<glassbox-long-attention>: layer 3 is not in the file; it has layers 0.');
  });
});
