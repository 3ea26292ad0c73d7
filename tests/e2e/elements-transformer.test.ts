// <glassbox-transformer> in headless Chromium: the head view of a file of P with its text as labels, the
// arrow keys focusing a token, the SVG export with one line per drawn link; the layered graph, whose export
// is the fused graph Â of the float64 reference; a removed element leaves no buffer; bad input is said.
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy';
import { referenceAttentionRollout, randomSoftmaxRows } from '../../src/reference/attention-rollout';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 900, height: 700 });
const [LAYERS, HEADS, N] = [2, 3, 11];
const TEXT = 'hello world';
const P = randomSoftmaxRows(LAYERS * HEADS * N, N, 17, { causal: true });

type Probe = { state: string; error: string | null; framesDrawn: number };
type TestWindow = { glassboxTest: { currentHost(): { engine: { liveBufferCount(): number } } | null } };

async function mount(page: Page, id: string, attributes: Record<string, string>): Promise<Probe> {
  const per = HEADS * N * N;
  const tensors = Array.from({ length: LAYERS }, (_, l) => [`attentions.${l}`, Array.from(P.subarray(l * per, (l + 1) * per))] as const);
  await page.evaluate((id, attributes, tensors, shape) => {
    const element = document.createElement('glassbox-transformer') as HTMLElement & { tensors: unknown };
    element.id = id;
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    element.tensors = new Map(tensors.map(([name, data]) => [name, { shape, data: Float32Array.from(data) }]));
    document.querySelector('#mount')!.append(element);
  }, id, attributes, tensors, [HEADS, N, N]);
  await page.waitForFunction((id) => ['ready', 'error'].includes((document.getElementById(id) as unknown as Probe).state), { timeout: 60_000 }, id);
  await page.waitForFunction((id) => (document.getElementById(id) as unknown as Probe).framesDrawn >= 2 || (document.getElementById(id) as unknown as Probe).error, { timeout: 60_000 }, id);
  return page.evaluate((id) => {
    const { state, error, framesDrawn } = document.getElementById(id) as unknown as Probe;
    return { state, error, framesDrawn };
  }, id);
}

const liveBuffers = (page: Page) => page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()?.engine.liveBufferCount() ?? -1);

describe('<glassbox-transformer>', () => {
  it('draws the head view with the text as labels; keys focus a token; the SVG has one line per drawn link', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/tests/e2e/fixtures/elements.html`);
    await page.waitForFunction(() => 'glassboxTest' in window);
    expect(await mount(page, 'head', { text: TEXT, layer: '1', heads: '0,2' })).toMatchObject({ state: 'ready', error: null });
    const box = (await (await page.$('#head'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(8);
    const labels = await page.$eval('#head', (el) => [...el.shadowRoot!.querySelectorAll('.glassbox-token-label')].map((l) => l.textContent));
    expect(labels).toEqual([...TEXT, ...TEXT]);

    await page.$eval('#head', (el) => el.shadowRoot!.querySelector('canvas')!.focus());
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.$eval('#head', (el) => (el as unknown as { headView: { focus: object } }).headView.focus)).toEqual({ side: 'query', index: 1 });
    await page.keyboard.press('Escape');

    const svg = await page.$eval('#head', async (el) => (el as unknown as { exportSvg(): Promise<string> }).exportSvg());
    const drawn = new Set(Array.from({ length: HEADS * N * N }, (_, k) => k).filter((k) => {
      const head = Math.floor(k / (N * N));
      return (head === 0 || head === 2) && P[HEADS * N * N + k]! > 0;
    }).map((k) => `${Math.floor(k / (N * N))},${Math.floor(k / N) % N},${k % N}`));
    const links = await page.evaluate((svg) => [...new DOMParser().parseFromString(svg, 'image/svg+xml').querySelectorAll('line')].map((l) => l.getAttribute('data-link')), svg);
    expect(new Set(links)).toEqual(drawn);
    expect(consoleErrors).toEqual([]);
  });

  it('draws the layered graph; its .npy is the fused graph of the float64 reference; removal frees everything', async () => {
    const { page } = demo();
    const before = await liveBuffers(page); // the head view's element is still mounted: the engine stays
    expect(before).toBeGreaterThan(0);
    expect(await mount(page, 'graph', { view: 'graph', fusion: 'max', text: TEXT })).toMatchObject({ state: 'ready', error: null });
    const npy = parseNpy(Uint8Array.from(await page.$eval('#graph', async (el) => Array.from(await (el as unknown as { exportNpy(): Promise<Uint8Array> }).exportNpy()))));
    const reference = referenceAttentionRollout(P, [LAYERS, HEADS, N, N], { fusion: 'max' });
    expect(npy.shape).toEqual([LAYERS, N, N]);
    npy.data.forEach((v, i) => expect(Math.abs(v - reference.graph[i]!)).toBeLessThan(1e-5));
    const svg = await page.$eval('#graph', async (el) => (el as unknown as { exportSvg(): Promise<string> }).exportSvg());
    expect(svg).toMatch(/^<svg [^>]*viewBox/);
    await page.$eval('#graph', (el) => el.remove());
    expect(await liveBuffers(page)).toBe(before);
  });

  it('says what is wrong with bad settings and mismatched text', async () => {
    const { page } = demo();
    expect((await mount(page, 'bad-text', { text: 'too short' })).error).toBe('<glassbox-transformer>: the weights have 11 tokens; got 9 token labels.');
    expect((await mount(page, 'bad-heads', { heads: '0,7' })).error).toMatch(/heads lists head indices below 3, e\.g\. "0,2"; got '0,7'/);
    expect((await mount(page, 'bad-fusion', { view: 'graph', fusion: 'median' })).error).toMatch(/fusion is mean, max or min; got 'median'/);
  });
});
