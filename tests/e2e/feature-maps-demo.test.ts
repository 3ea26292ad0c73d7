// The feature-maps demo in headless Chromium: MoveNet's 75 backbone layers (18,352 maps) are captured from
// its own buffers and drawn; hovering reads a value, clicking enlarges a map with its statistics, the WebGL
// fallback draws the same grid, a dropped NCHW .npy replaces the model's maps and a broken one is reported
// while the page keeps drawing, NaN/Inf in a dump are counted and reported; no console error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/io/npy';
import { randomFloats } from '../../src/reference/random';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 1100, height: 800 });

type Demo = { focus: (layer: number, channel: number) => void; ready: boolean; framesDrawn: number; forwardPasses: number; maps: number; layers: number; renderer: string; error: string | null };
const state = () => (window as unknown as { glassboxDemo?: Demo }).glassboxDemo;

describe('demos/feature-maps', () => {
  it("draws every channel of MoveNet's backbone, hovers, enlarges a map, and switches to the WebGL fallback", async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/demos/feature-maps/`);
    await page.waitForFunction(() => {
      const s = (window as unknown as { glassboxDemo?: Demo }).glassboxDemo;
      return s?.error || (s?.ready && s.framesDrawn > 5);
    }, { timeout: 150_000, polling: 500 });
    const ready = await page.evaluate(state);
    expect(ready!.error).toBeNull();
    expect(ready!.layers).toBe(75);
    expect(ready!.maps).toBeGreaterThan(18_000);
    expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/75 layers, 18,352 feature maps/);

    const box = (await (await page.$('#grid'))!.boundingBox())!;
    const shot = await page.screenshot({ type: 'png' });
    expect(distinctColours(shot, box, 3)).toBeGreaterThan(40);
    mkdirSync('docs/images', { recursive: true });
    writeFileSync('docs/images/feature-maps-demo.png', shot);
    expect(await page.$$eval('.glassbox-section-label', (labels) => labels.length)).toBeGreaterThan(0);

    // Zoom onto one map of block 3 (24×24) so that it fills the canvas, then hover and click it.
    await page.evaluate(() => (window as unknown as { glassboxDemo: Demo }).glassboxDemo.focus(10, 5));
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => /channel 5 · y \d+, x \d+: -?\d/.test(document.querySelector('#readout')!.textContent ?? ''), { timeout: 30_000 });
    writeFileSync('docs/images/feature-maps-zoomed.png', await page.screenshot({ type: 'png' }));
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => !document.querySelector<HTMLElement>('#detail')!.hidden && document.querySelectorAll('#detail dd').length === 5, { timeout: 30_000 });
    const detail = await page.$$eval('#detail dd', (cells) => cells.map((c) => Number(c.textContent)));
    expect(detail.slice(0, 4).every(Number.isFinite)).toBe(true);
    expect(detail[0]!).toBeLessThanOrEqual(detail[1]!); // min ≤ max
    expect(detail[4]).toBe(0); // no NaN or Inf in a pretrained model's activations

    await page.select('select[name=renderer]', 'webgl');
    await page.waitForFunction(() => document.querySelector('#grid-webgl') !== null, { timeout: 60_000 });
    const framesBefore = (await page.evaluate(state))!.framesDrawn;
    await page.waitForFunction((n) => ((window as unknown as { glassboxDemo: Demo }).glassboxDemo.framesDrawn > n + 5), { timeout: 60_000 }, framesBefore);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the readback and upload land
    const glBox = (await (await page.$('#grid-webgl'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), glBox, 3)).toBeGreaterThan(40);
    expect(consoleErrors).toEqual([]);
  });

  it('shows the maps of a dropped NCHW .npy; a broken file is reported and the page keeps drawing', async () => {
    const { page } = demo();
    const passes = (await page.evaluate(state))!.forwardPasses;
    await page.select('select[name=renderer]', 'webgpu');
    await page.waitForFunction((n) => (window as unknown as { glassboxDemo: Demo }).glassboxDemo.forwardPasses > n, { timeout: 60_000 }, passes);
    const drop = (name: string, bytes: Uint8Array) =>
      page.evaluate((fileName, base64) => {
        const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([data], fileName));
        document.querySelector('main')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }, name, Buffer.from(bytes).toString('base64'));
    const frames = async () => (await page.evaluate(state))!.framesDrawn;

    const good = writeNpy(randomFloats(2 * 64 * 28 * 28, 9), [2, 64, 28, 28]);
    await drop('broken.npy', good.subarray(0, good.length - 1000));
    await page.waitForFunction(() => document.querySelector('#status')!.className === 'error', { timeout: 30_000 });
    expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/shape \[2, 64, 28, 28\] declares .* of data, but the file holds .*truncated/);
    const before = await frames();
    await page.waitForFunction((n) => (window as unknown as { glassboxDemo: Demo }).glassboxDemo.framesDrawn > n + 2, { timeout: 30_000 }, before);

    await drop('conv.npy', good);
    await page.waitForFunction(() => /conv\.npy: 1 layer, 64 maps/.test(document.querySelector('#status')!.textContent ?? ''), { timeout: 60_000 });

    // NaN and Inf in a dump are drawn in the marked colour, counted, and reported.
    const values = randomFloats(64 * 12 * 10, 10);
    values[5] = NaN;
    values[700] = Infinity;
    values[701] = -Infinity;
    await drop('with-nan.npy', writeNpy(values, [1, 64, 12, 10]));
    await page.waitForFunction(() => /^3 activations are NaN or ±Inf/.test(document.querySelector('#status')!.textContent ?? ''), { timeout: 30_000 });
  });

  it('without WebGPU, runs the model on the CPU backend and draws the maps through the regl fallback', async () => {
    const { page: first, url } = demo();
    const page = await first.browser().newPage();
    await page.setViewport({ width: 1100, height: 800, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.evaluateOnNewDocument(() => Object.defineProperty(navigator, 'gpu', { value: undefined }));
    await page.goto(`${url}/demos/feature-maps/`);
    await page.waitForFunction(() => {
      const s = (window as unknown as { glassboxDemo?: Demo }).glassboxDemo;
      return s?.error || (s?.ready && s.framesDrawn > 5);
    }, { timeout: 150_000, polling: 500 });
    const shown = await page.evaluate(state);
    expect(shown!.error).toBeNull();
    expect(shown!.renderer).toBe('webgl');
    expect(shown!.maps).toBe(18_352);
    expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/WebGPU is unavailable .*WebGL.*18,352 feature maps/);
    const box = (await (await page.$('#grid'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box, 3)).toBeGreaterThan(40);
    expect(errors).toEqual([]);
    await page.close();
  });
});
