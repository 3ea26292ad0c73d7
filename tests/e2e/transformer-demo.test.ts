// The transformer-views demo in headless Chromium: the shipped model's attention in all six panels with
// no console error; a click on a model-view thumbnail opens that layer, head, query and key, and a click on
// one head's heatmap picks a query and a key; rollout and flow recolour the text; a dropped safetensors file
// of P replaces the model's attention, and a malformed one is reported while the picture stays. The
// screenshot is the README's picture (docs/images/transformer-demo.png).
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { randomFloats } from '../../src/reference/random';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 1280, height: 1100 });

interface DemoState {
  ready: boolean;
  framesDrawn: number;
  layers: number;
  heads: number;
  tokens: number;
  selection: { layer: number; head: number; query: number; key: number } | null;
  highlight: string;
  error: string | null;
}
type DemoWindow = {
  glassboxDemo: DemoState & { select(s: object): Promise<void>; setHighlight(mode: string): Promise<void>; readWeights(): Promise<number[]> };
};

const demoState = (page: Page) => page.evaluate(() => {
  const { select, setHighlight, readWeights, ...state } = (window as unknown as DemoWindow).glassboxDemo;
  void [select, setHighlight, readWeights];
  return state;
});

/** Waits for the status line to report `shown` (or an error) and returns the state. */
async function shown(page: Page, status: RegExp): Promise<DemoState> {
  await page.waitForFunction(
    (source) => (window as unknown as DemoWindow).glassboxDemo.error !== null || new RegExp(source).test(document.querySelector('#status')!.textContent ?? ''),
    { timeout: 60_000 },
    status.source,
  );
  return demoState(page);
}

async function framesAfter(page: Page, count: number): Promise<void> {
  const start = (await demoState(page)).framesDrawn;
  await page.waitForFunction((target) => (window as unknown as DemoWindow).glassboxDemo.framesDrawn >= target, { timeout: 60_000 }, start + count);
}

/** The tiles of a heatmap view: `tiles` matrices of n × n, `cols` to a row. */
interface HeatmapGrid {
  tiles: number;
  cols: number;
  n: number;
}

/**
 * Clicks (press and release in place: panels.ts takes a moved pointer for a drag) the centre of cell
 * (query, key) of tile `slot` of a heatmap canvas. Where the view draws it is worked out here from the
 * geometry heatmap-layout.ts and camera.ts document, not with their code: one world unit per cell, a gap of
 * 0.1·n between tiles (none for one), tiles row by row, fitted into the backing store and centred (the camera
 * as it opens); backing pixels to CSS pixels by the canvas's bounding box.
 */
async function clickCell(page: Page, selector: string, grid: HeatmapGrid, slot: number, cell: { query: number; key: number }): Promise<void> {
  const box = await page.$eval(selector, (element) => {
    element.scrollIntoView({ block: 'center' });
    const { left, top, width, height } = element.getBoundingClientRect();
    return { left, top, width, height, pixelsX: (element as HTMLCanvasElement).width, pixelsY: (element as HTMLCanvasElement).height };
  });
  const gap = grid.tiles > 1 ? 0.1 * grid.n : 0;
  const rows = Math.ceil(grid.tiles / grid.cols);
  const world = { width: grid.cols * (grid.n + gap) - gap, height: rows * (grid.n + gap) - gap };
  const scale = Math.min(box.pixelsX / world.width, box.pixelsY / world.height); // backing pixels per cell
  const centre = {
    x: (slot % grid.cols) * (grid.n + gap) + cell.key + 0.5,
    y: Math.floor(slot / grid.cols) * (grid.n + gap) + cell.query + 0.5,
  };
  const [cssX, cssY] = [box.width / box.pixelsX, box.height / box.pixelsY];
  // Away from the cell's borders: half a cell is more than a CSS pixel rounded either way.
  expect(0.5 * scale * cssX, `${selector}: half a cell, in CSS pixels`).toBeGreaterThan(0.6);
  await page.mouse.click(
    box.left + ((centre.x - world.width / 2) * scale + box.pixelsX / 2) * cssX,
    box.top + ((centre.y - world.height / 2) * scale + box.pixelsY / 2) * cssY,
  );
}

/**
 * The state once the select a click queued has coloured the text from `query` (its heading's number is
 * written last). A click that picked another query never gets there: after 15 s the state is returned as it
 * is, so that the assertion shows which cell was picked instead of a timeout.
 */
async function stateAfterClick(page: Page, query: number): Promise<DemoState> {
  await page.waitForFunction(
    (q) => {
      const state = (window as unknown as DemoWindow).glassboxDemo;
      return state.error !== null || state.highlight.includes(`(${q}); brightest`);
    },
    { timeout: 15_000 },
    query,
  ).catch(() => {});
  return demoState(page);
}

async function dropFile(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  await page.evaluate(
    (fileName, data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], fileName));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    name,
    Array.from(bytes),
  );
}

/** Seeded Q and K, [layers][heads, n, d] each, as a .safetensors file of 'layers.L.q' / 'layers.L.k'. */
function qkFile(layers: number, heads: number, n: number, d: number): { q: Float32Array; k: Float32Array; bytes: Uint8Array } {
  const q = randomFloats(layers * heads * n * d, 21, 2);
  const k = randomFloats(layers * heads * n * d, 22, 2);
  const size = heads * n * d;
  const entries = Array.from({ length: layers }, (_, l) => [
    [`layers.${l}.q`, { data: q.subarray(l * size, (l + 1) * size), shape: [heads, n, d] }],
    [`layers.${l}.k`, { data: k.subarray(l * size, (l + 1) * size), shape: [heads, n, d] }],
  ]).flat();
  return { q, k, bytes: writeSafetensors(Object.fromEntries(entries)) };
}

function expectCloseTo(got: readonly number[], want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let e = 0; e < want.length; e++) worst = Math.max(worst, Math.abs(got[e]! - want[e]!));
  expect(worst, `${what}: largest |P − reference|`).toBeLessThan(2e-6);
}

/** Causal softmax rows of seeded random scores: [layers, heads, n, n]. */
function causalWeights(layers: number, heads: number, n: number): Float32Array {
  const d = 8;
  const q = randomFloats(layers * heads * n * d, 11, 2);
  const k = randomFloats(layers * heads * n * d, 12, 2);
  const p = referenceAttentionWeights({ q, k, batch: layers * heads, nq: n, nk: n, d, causal: true });
  return Float32Array.from(p);
}

describe('demos/transformer', () => {
  it("draws the shipped model's attention in every panel; clicks on the model view and one head's heatmap select; no console error", async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/demos/transformer/`);
    await page.waitForFunction(
      () => {
        const state = (window as unknown as DemoWindow).glassboxDemo;
        return state?.error || (state?.ready && state.framesDrawn >= 5);
      },
      { timeout: 150_000 },
    );
    const state = await demoState(page);
    expect(state.error).toBeNull();
    expect(state.layers).toBeGreaterThanOrEqual(2);
    expect(state.tokens).toBe(63);
    expect(state.highlight).toMatch(/^Text coloured by attention of layer 1, head 3 from “d” \(62\)/); // the induction head

    // The picture as the page opens: the induction head (layer 1, head 3) from the last character.
    await framesAfter(page, 3);
    const shot = await page.screenshot({ type: 'png', fullPage: true });
    for (const selector of ['#head-view', '#model-view', '#detail-view', '#neuron-view', '#flow-view', '#token-text']) {
      const box = (await (await page.$(selector))!.boundingBox())!;
      expect(distinctColours(shot, box), selector).toBeGreaterThan(8);
    }
    mkdirSync('docs/images', { recursive: true });
    writeFileSync('docs/images/transformer-demo.png', shot);

    // A real click on the model view (pointerdown and up in place, as panels.ts wants) opens a thumbnail
    // cell: layer 0, head 2 (flattened head 2 of 8: with layers and heads swapped it would read as layer 1,
    // head 0), query 40, key 3 (j ≤ i: a weight the causal mask leaves). Every field differs from the opening
    // selection (layer 1, head 3, query 62, key 0), so each of the four is checked.
    const modelCell = { layer: 0, head: 2, query: 40, key: 3 };
    const thumbnails = { tiles: state.layers * state.heads, cols: state.heads, n: state.tokens }; // one layer per row
    await clickCell(page, '#model-view', thumbnails, modelCell.layer * state.heads + modelCell.head, modelCell);
    const afterModelClick = await stateAfterClick(page, modelCell.query);
    expect(afterModelClick.selection).toEqual(modelCell);
    expect(afterModelClick.highlight).toMatch(/^Text coloured by attention of layer 0, head 2 from “.” \(40\)/); // the queued select ran
    // A click on one head's heatmap picks a query and a key; the layer and head stay.
    const detailCell = { ...modelCell, query: 50, key: 17 };
    await clickCell(page, '#detail-view', { tiles: 1, cols: 1, n: state.tokens }, 0, detailCell);
    expect((await stateAfterClick(page, detailCell.query)).selection).toEqual(detailCell);
    for (const mode of ['rollout', 'flow']) {
      await page.evaluate((m) => (window as unknown as DemoWindow).glassboxDemo.setHighlight(m), mode);
      expect((await demoState(page)).highlight).toMatch(new RegExp(`^Text coloured by ${mode === 'flow' ? 'attention flow' : 'rollout'}.*brightest 0\\.\\d`));
    }
    await framesAfter(page, 3);
    expect(consoleErrors).toEqual([]);
  });

  it('shows a dropped file of P, and reports a malformed one while the picture stays', async () => {
    const { page, consoleErrors } = demo();
    const [layers, heads, n] = [3, 2, 9];
    const bytes = writeSafetensors(
      Object.fromEntries(
        Array.from({ length: layers }, (_, l) => [
          `attentions.${l}`,
          { data: causalWeights(layers, heads, n).subarray(l * heads * n * n, (l + 1) * heads * n * n), shape: [1, heads, n, n] },
        ]),
      ),
    );
    await dropFile(page, 'attentions.safetensors', bytes);
    await page.waitForFunction(
      () => (window as unknown as DemoWindow).glassboxDemo.error !== null || /^Showing P/.test(document.querySelector('#status')!.textContent ?? ''),
      { timeout: 60_000 },
    );
    const state = await demoState(page);
    expect(state).toMatchObject({ layers, heads, tokens: n, error: null });
    expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/Showing P from attentions\.safetensors/);
    expect(await page.$eval('#neuron-panel', (el) => (el as HTMLElement).hidden)).toBe(true); // no Q and K in a file of P

    await dropFile(page, 'broken.safetensors', bytes.subarray(0, bytes.length - 5));
    await page.waitForFunction(() => (window as unknown as DemoWindow).glassboxDemo.error !== null, { timeout: 30_000 });
    expect((await demoState(page)).error).toMatch(/data_offsets \[\d+, \d+\] run past the end of the data buffer/);
    expect((await demoState(page)).tokens).toBe(9); // the last good picture stays
    await framesAfter(page, 3);
    expect(consoleErrors).toEqual([]);
  });

  it('computes P from dropped Q and K, causal or not as the box says', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/demos/transformer/`);
    await page.waitForFunction(() => (window as unknown as DemoWindow).glassboxDemo?.ready, { timeout: 150_000 });
    const [layers, heads, n, d] = [2, 3, 11, 5];
    const { q, k, bytes } = qkFile(layers, heads, n, d);
    const reference = (causal: boolean) => referenceAttentionWeights({ q, k, batch: layers * heads, nq: n, nk: n, d, causal });

    await page.$eval('input[name="causal"]', (box) => (box as HTMLInputElement).click()); // an encoder's Q and K
    await dropFile(page, 'qk.safetensors', bytes);
    expect(await shown(page, /^Showing Q and K from qk\.safetensors \(P computed here\)/)).toMatchObject({ layers, heads, tokens: n, error: null });
    expect(await page.$eval('#neuron-panel', (el) => (el as HTMLElement).hidden)).toBe(false);
    expectCloseTo(await page.evaluate(() => (window as unknown as DemoWindow).glassboxDemo.readWeights()), reference(false), 'not causal');

    await page.$eval('input[name="causal"]', (box) => (box as HTMLInputElement).click()); // the same files, causal
    expect((await shown(page, /P computed here, causal/)).error).toBeNull();
    expectCloseTo(await page.evaluate(() => (window as unknown as DemoWindow).glassboxDemo.readWeights()), reference(true), 'causal');
    await framesAfter(page, 3);
    expect(consoleErrors).toEqual([]);
  });
});
