// <glassbox-transformer> in headless Chromium: the head view of a file of P with its text as labels, the
// arrow keys focusing a token, the SVG export with one line per drawn link; the layered graph, whose .npy is
// the fused graph Â of the float64 reference and whose SVG colours the input row by the reference rollout
// R_{L-1}[query]; a removed element leaves no buffer; bad input is said; a .safetensors file from `src`
// drawn as the flow graph, its flow that of the brute-force min-cut reference, following its size and
// rebuilt after a lost device.
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy';
import { referenceAttentionFlow } from '../../src/reference/attention-flow';
import { referenceAttentionRollout, randomSoftmaxRows } from '../../src/reference/attention-rollout';
import { colormapRgba } from '../../src/render/colormaps';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 900, height: 700 });
const [LAYERS, HEADS, N] = [2, 3, 11];
const TEXT = 'hello world';
const P = randomSoftmaxRows(LAYERS * HEADS * N, N, 17, { causal: true });

type Probe = { state: string; error: string | null; framesDrawn: number; generation?: number };
type TestWindow = {
  glassboxTest: {
    currentHost(): { engine: { device: GPUDevice; liveBufferCount(): number } } | null;
    writeSafetensors(tensors: Record<string, { data: Float32Array; shape: number[] }>): Uint8Array;
  };
};
// The flow's reference enumerates every cut: (layers + 1)·n − 2 ≤ 18 inner nodes.
const [FLOW_LAYERS, FLOW_HEADS, FLOW_N, FLOW_QUERY] = [2, 3, 6, 4];
const FLOW_P = randomSoftmaxRows(FLOW_LAYERS * FLOW_HEADS * FLOW_N, FLOW_N, 29);

/** The token whose rollout colours the layered graph's input row: not the default (the last), all keys ≤ it. */
const GRAPH_QUERY = 9;

/** The node squares of a layered-graph SVG, in the order written: centre height and fill. */
function svgNodes(svg: string): { y: number; fill: string }[] {
  const squares = [...svg.matchAll(/<rect x="[^"]+" y="([^"]+)" width="([^"]+)" height="[^"]+" fill="(#[0-9a-f]{6})"\/>/g)];
  return squares.map(([, y, size, fill]) => ({ y: Number(y) + Number(size) / 2, fill: fill! }));
}

/** The values a node fill stands for: [k/256, (k+1)/256] for each viridis entry k of that colour (the ends open). */
function fillRange(fill: string): [number, number][] {
  const ramp = colormapRgba('viridis');
  const ranges: [number, number][] = [];
  for (let k = 0; k < 256; k++) {
    const hex = `#${[0, 1, 2].map((c) => ramp[k * 4 + c]!.toString(16).padStart(2, '0')).join('')}`;
    if (hex === fill) ranges.push([k === 0 ? -Infinity : k / 256, k === 255 ? Infinity : (k + 1) / 256]);
  }
  return ranges;
}

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

  it('draws the layered graph; its .npy is the fused graph and its SVG input row the rollout of the float64 reference; removal frees everything', async () => {
    const { page } = demo();
    const before = await liveBuffers(page); // the head view's element is still mounted: the engine stays
    expect(before).toBeGreaterThan(0);
    expect(await mount(page, 'graph', { view: 'graph', fusion: 'max', text: TEXT, query: String(GRAPH_QUERY) })).toMatchObject({ state: 'ready', error: null });
    const npy = parseNpy(Uint8Array.from(await page.$eval('#graph', async (el) => Array.from(await (el as unknown as { exportNpy(): Promise<Uint8Array> }).exportNpy()))));
    const reference = referenceAttentionRollout(P, [LAYERS, HEADS, N, N], { fusion: 'max' });
    expect(npy.shape).toEqual([LAYERS, N, N]);
    npy.data.forEach((v, i) => expect(Math.abs(v - reference.graph[i]!)).toBeLessThan(1e-5));

    // The input row of the picture is coloured by R_{L-1}[query], the rollout from token `query` down to the
    // input. The SVG says each value as a fill: the colormap entry it falls in. The element's nodes use
    // viridis over [0, 1] (the layered view's defaults), so a fill stands for values in [k/256, (k+1)/256).
    const svg = await page.$eval('#graph', async (el) => (el as unknown as { exportSvg(): Promise<string> }).exportSvg());
    expect(svg).toMatch(/^<svg [^>]*viewBox/);
    const nodes = svgNodes(svg);
    expect(nodes).toHaveLength((LAYERS + 1) * N);
    const input = nodes.slice(0, N); // written layer by layer from the input row, the bottom one
    expect(new Set(input.map((node) => node.y))).toEqual(new Set([Math.max(...nodes.map((node) => node.y))]));
    expect(new Set(nodes.slice(N).map((node) => node.fill)).size, 'the layers above the input: uncoloured').toBe(1);
    const row = (rollout: Float64Array, layer: number, query: number) => Array.from(rollout.subarray((layer * N + query) * N, (layer * N + query + 1) * N));
    const want = row(reference.rollout, LAYERS - 1, GRAPH_QUERY);
    expect(want.filter((v) => v > 0.03).length, 'not a test on zeros').toBe(GRAPH_QUERY + 1); // causal: keys ≤ query
    // 1e-5 beyond the entry's edges: the GPU's float32 rollout of two layers is within 1e-5 of the float64
    // reference, as the graph above is. No value lies within 1e-4 of an edge, so no neighbouring entry passes.
    const edgeDistance = (v: number) => Math.abs(v * 256 - Math.round(v * 256)) / 256;
    expect(Math.min(...want.filter((v) => v > 0).map(edgeDistance))).toBeGreaterThan(1e-4);
    const shows = (fill: string, value: number) => fillRange(fill).some(([lo, hi]) => value >= lo - 1e-5 && value <= hi + 1e-5);
    input.forEach((node, j) => expect(shows(node.fill, want[j]!), `input node ${j}: fill ${node.fill}, R = ${want[j]}`).toBe(true));
    // The fills tell rows apart: the rollout from another token, layer 0's rollout (R_0), or the fused graph
    // row alone (Â_{L-1}) would each fail on some node.
    const others = [
      ...Array.from({ length: N }, (_, q) => q).filter((q) => q !== GRAPH_QUERY).map((q) => row(reference.rollout, LAYERS - 1, q)),
      row(reference.rollout, 0, GRAPH_QUERY),
      row(reference.graph, LAYERS - 1, GRAPH_QUERY),
    ];
    for (const other of others) expect(input.some((node, j) => !shows(node.fill, other[j]!))).toBe(true);

    await page.$eval('#graph', (el) => el.remove());
    expect(await liveBuffers(page)).toBe(before);
  });

  it('says what is wrong with bad settings and mismatched text', async () => {
    const { page } = demo();
    expect((await mount(page, 'bad-text', { text: 'too short' })).error).toBe('<glassbox-transformer>: the weights have 11 tokens; got 9 token labels.');
    expect((await mount(page, 'bad-heads', { heads: '0,7' })).error).toMatch(/heads lists head indices below 3, e\.g\. "0,2"; got '0,7'/);
    expect((await mount(page, 'bad-fusion', { view: 'graph', fusion: 'median' })).error).toMatch(/fusion is mean, max or min; got 'median'/);
    expect((await mount(page, 'bad-query', { view: 'flow', query: '11' })).error).toBe('<glassbox-transformer>: query must be a token index in 0 … 10; got 11.');
  });

  it('draws the flow graph of a .safetensors src; its flow is the min-cut reference; follows its size; survives a lost device', async () => {
    const { page, consoleErrors } = demo();
    await page.evaluate(() => document.querySelectorAll('[id^="bad-"]').forEach((element) => element.remove()));
    const before = await liveBuffers(page);
    const per = FLOW_HEADS * FLOW_N * FLOW_N;
    await page.evaluate((layers, per, shape, values, query) => {
      const { writeSafetensors } = (window as unknown as TestWindow).glassboxTest;
      const tensors = Object.fromEntries(Array.from({ length: layers }, (_, l) => [`attentions.${l}`, { shape, data: Float32Array.from(values.slice(l * per, (l + 1) * per)) }]));
      const element = document.createElement('glassbox-transformer');
      element.id = 'flow';
      element.setAttribute('view', 'flow');
      element.setAttribute('query', String(query));
      element.setAttribute('src', URL.createObjectURL(new Blob([writeSafetensors(tensors) as Uint8Array<ArrayBuffer>]))); // no extension: the bytes say the format
      document.querySelector('#mount')!.append(element);
    }, FLOW_LAYERS, per, [FLOW_HEADS, FLOW_N, FLOW_N], Array.from(FLOW_P), FLOW_QUERY);
    const drawing = (generation: number) => page.waitForFunction((generation) => {
      const element = document.getElementById('flow') as unknown as Probe;
      return element.error ?? (element.state === 'ready' && element.generation === generation && element.framesDrawn >= 2);
    }, { timeout: 60_000 }, generation);
    const flowOf = () => page.$eval('#flow', (el) => Array.from((el as unknown as { flow: Float64Array }).flow));
    await drawing(0);
    expect(await page.$eval('#flow', (el) => (el as unknown as Probe).error)).toBeNull();

    const { graph } = referenceAttentionRollout(FLOW_P, [FLOW_LAYERS, FLOW_HEADS, FLOW_N, FLOW_N], { fusion: 'mean' });
    const expected = Array.from(referenceAttentionFlow(graph, FLOW_LAYERS, FLOW_N).subarray(FLOW_QUERY * FLOW_N, (FLOW_QUERY + 1) * FLOW_N));
    expect(expected.some((v) => v > 0.05)).toBe(true); // not a test on zeros
    const flow = await flowOf();
    expect(flow).toHaveLength(FLOW_N);
    flow.forEach((v, j) => expect(Math.abs(v - expected[j]!)).toBeLessThan(1e-5));

    // Another query recolours in place: the flow of that token, with no remount (no new 'glassbox-ready').
    await page.$eval('#flow', (el) => {
      const counter = window as unknown as { readies: number };
      counter.readies = 0;
      el.addEventListener('glassbox-ready', () => (counter.readies += 1));
    });
    const nextQuery = FLOW_QUERY - 1;
    const expectedNext = Array.from(referenceAttentionFlow(graph, FLOW_LAYERS, FLOW_N).subarray(nextQuery * FLOW_N, (nextQuery + 1) * FLOW_N));
    expect(expectedNext.some((v, j) => Math.abs(v - expected[j]!) > 1e-3), 'the two tokens flow differently').toBe(true);
    await page.$eval('#flow', (el, query) => el.setAttribute('query', String(query)), nextQuery);
    // Runs in the page: whether the shown flow is (or is not) `previous`; null while (re)mounting.
    const flowIs = (previous: string, same: boolean) => {
      const shown = (document.getElementById('flow') as unknown as { flow: Float64Array | null }).flow;
      return shown !== null && (JSON.stringify(Array.from(shown)) === previous) === same;
    };
    await page.waitForFunction(flowIs, { timeout: 30_000 }, JSON.stringify(flow), false);
    (await flowOf()).forEach((v, j) => expect(Math.abs(v - expectedNext[j]!)).toBeLessThan(1e-5));
    await page.$eval('#flow', (el, query) => el.setAttribute('query', String(query)), FLOW_QUERY); // back, from the worker's cache
    await page.waitForFunction(flowIs, { timeout: 30_000 }, JSON.stringify(flow), true);
    expect(await page.evaluate(() => (window as unknown as { readies: number }).readies), 'remounts for a new query').toBe(0);
    const box = (await (await page.$('#flow'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(8);

    await page.$eval('#flow', (el) => ((el as HTMLElement).style.cssText = 'width: 320px; height: 200px'));
    await page.waitForFunction(() => document.getElementById('flow')!.shadowRoot!.querySelector('canvas')!.width === 320, { timeout: 10_000 });
    expect(await page.$eval('#flow', (el) => el.shadowRoot!.querySelector('canvas')!.height)).toBe(200);
    const drawn = await page.$eval('#flow', (el) => (el as unknown as Probe).framesDrawn);
    await page.waitForFunction((drawn) => (document.getElementById('flow') as unknown as Probe).framesDrawn >= drawn + 2, { timeout: 10_000 }, drawn);

    // A bad setting: said on the element, and everything it held given back; a good one draws again.
    await page.$eval('#flow', (el) => el.setAttribute('view', 'neuron'));
    await page.waitForFunction(() => (document.getElementById('flow') as unknown as Probe).state === 'error', { timeout: 10_000 });
    expect(await page.$eval('#flow', (el) => (el as unknown as Probe).error)).toBe("<glassbox-transformer>: view is head, rollout (or graph) or flow; got 'neuron'.");
    expect(await liveBuffers(page)).toBe(before);
    await page.$eval('#flow', (el) => el.setAttribute('view', 'flow'));
    await drawing(0);

    await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.device.destroy());
    await drawing(1); // the file fetched again, the flow computed again, on the new device
    await page.waitForFunction(() => (document.getElementById('head') as unknown as Probe).generation === 1, { timeout: 60_000 });
    (await flowOf()).forEach((v, j) => expect(Math.abs(v - expected[j]!)).toBeLessThan(1e-5));
    await page.$eval('#flow', (el) => el.remove());
    expect(await liveBuffers(page)).toBe(before); // the head view's element alone, as before, on the new device
    expect(consoleErrors).toEqual([]);
  });
});
