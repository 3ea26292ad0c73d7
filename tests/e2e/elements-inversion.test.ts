// <glassbox-inversion> in headless Chromium on the tests' tiny CNN (a LayersModel saved to indexeddb://):
// inversion's loss falls while the image is drawn every frame, pause stops the steps and resume goes on,
// tfjs's tensor count stays flat, the PNG export is the optimized image; maximization runs; a lost device
// is survived; removal frees every buffer; the Dense logits invert; a missing picture and an unknown mode are said.
import type { Page } from 'puppeteer';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { TINY_CNN_INPUT } from '../helpers/tiny-cnn';
import { distinctColours, useDemoPage } from '../helpers/browser-page';
import { expectFollowsSize } from '../helpers/element-size';

const demo = useDemoPage({ width: 700, height: 560 });

type Probe = { state: string; error: string | null; steps: number; loss: number | null; lossStep: number | null; firstLoss: number | null; running: boolean; generation: number };
type TestWindow = {
  glassboxTest: { tf: { memory(): { numTensors: number } }; currentHost(): { engine: { device: GPUDevice; liveBufferCount(): number } } | null };
};

async function mount(page: Page, id: string, attributes: Record<string, string>): Promise<Probe> {
  await page.evaluate((id, attributes) => {
    const element = document.createElement('glassbox-inversion');
    element.id = id;
    // The picture: a few coloured shapes, as a data URL.
    const canvas = Object.assign(document.createElement('canvas'), { width: 34, height: 26 });
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#2a6';
    context.fillRect(0, 0, 34, 26);
    context.fillStyle = '#f83';
    context.fillRect(6, 4, 12, 14);
    for (const [name, value] of Object.entries({ input: canvas.toDataURL(), ...attributes })) element.setAttribute(name, value);
    document.querySelector('#mount')!.append(element);
  }, id, attributes);
  await page.waitForFunction((id) => ['ready', 'error'].includes((document.getElementById(id) as unknown as Probe).state), { timeout: 90_000 }, id);
  return probe(page, id);
}

function probe(page: Page, id: string): Promise<Probe> {
  return page.$eval(`#${id}`, (el) => {
    const { state, error, steps, loss, lossStep, firstLoss, running, generation } = el as unknown as Probe;
    return { state, error, steps, loss, lossStep, firstLoss, running, generation };
  });
}

const stepsAtLeast = (page: Page, id: string, steps: number) =>
  page.waitForFunction((id, steps) => (document.getElementById(id) as unknown as Probe).steps >= steps, { timeout: 90_000 }, id, steps);

describe('<glassbox-inversion>', () => {
  it('inverts a layer live: the loss falls, pause and resume, tfjs memory flat, PNG export', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/tests/e2e/fixtures/feature-maps.html`);
    await page.waitForFunction(() => 'glassboxTest' in window, { timeout: 60_000 });
    expect(await mount(page, 'inv', { model: 'indexeddb://glassbox-tiny-cnn', layer: 'conv2' })).toMatchObject({ state: 'ready', error: null, running: true });
    await stepsAtLeast(page, 'inv', 30);
    const tensors = await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.tf.memory().numTensors);
    await stepsAtLeast(page, 'inv', 80);
    expect(await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.tf.memory().numTensors)).toBe(tensors);
    const { loss, firstLoss, lossStep, steps } = await probe(page, 'inv');
    expect(loss!).toBeLessThan(firstLoss! / 3);
    expect(lossStep! >= 1 && lossStep! <= steps, `the loss read belongs to a step taken (${lossStep} of ${steps})`).toBe(true);
    const box = (await (await page.$('#inv'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(20);

    await page.$eval('#inv', (el) => (el as unknown as { pause(): void }).pause());
    const paused = (await probe(page, 'inv')).steps; // steps taken: no frame takes one once paused
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await probe(page, 'inv')).steps).toBe(paused);
    await page.$eval('#inv', (el) => (el as unknown as { resume(): void }).resume());
    await stepsAtLeast(page, 'inv', paused + 5);

    await expectFollowsSize(page, 'inv', { width: 400, height: 300 }, { width: 400, height: 210 }); // the loss curve takes 90 px
    const png = await page.$eval('#inv', async (el) => Array.from(new Uint8Array(await (await (el as unknown as { exportPng(o: object): Promise<Blob> }).exportPng({ scale: 2 })).arrayBuffer())));
    const decoded = PNG.sync.read(Buffer.from(png));
    expect([decoded.width, decoded.height]).toEqual([TINY_CNN_INPUT[1] * 2, TINY_CNN_INPUT[0] * 2]);
    // The optimized image, not a blank one: many colours, each texel a uniform 2 × 2 block at scale 2.
    expect(distinctColours(Uint8Array.from(png), { x: 0, y: 0, width: decoded.width, height: decoded.height })).toBeGreaterThan(20);
    for (let y = 0; y < decoded.height; y += 2)
      for (let x = 0; x < decoded.width; x += 2) {
        const at = (dy: number, dx: number) => Array.from(decoded.data.subarray(((y + dy) * decoded.width + x + dx) * 4, ((y + dy) * decoded.width + x + dx) * 4 + 4));
        expect(at(1, 1), `block (${y}, ${x})`).toEqual(at(0, 0));
      }

    // reset() while paused empties the loss curve (the bottom 90 px) at once, not at the next loss read.
    await page.$eval('#inv', (el) => (el as unknown as { pause(): void }).pause());
    const sized = (await (await page.$('#inv'))!.boundingBox())!;
    const strip = { x: sized.x, y: sized.y + sized.height - 90, width: sized.width, height: 90 };
    const withCurve = distinctColours(await page.screenshot({ type: 'png' }), strip);
    await page.$eval('#inv', (el) => (el as unknown as { reset(): void }).reset());
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await probe(page, 'inv')).toMatchObject({ steps: 0, loss: null, firstLoss: null });
    expect(distinctColours(await page.screenshot({ type: 'png' }), strip), 'colours of the loss strip after reset').toBeLessThan(withCurve);
    await page.$eval('#inv', (el) => (el as unknown as { resume(): void }).resume());
    expect(consoleErrors).toEqual([]);
  });

  it('maximizes a channel, survives a lost device, and removal frees every buffer', async () => {
    const { page, consoleErrors } = demo();
    // The inversion's loss reads come and go: pause it, and let its last read land, for a steady count.
    await page.$eval('#inv', (el) => (el as unknown as { pause(): void }).pause());
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.liveBufferCount());
    expect(await mount(page, 'max', { model: 'indexeddb://glassbox-tiny-cnn', mode: 'maximize', layer: 'conv3', channel: '2' })).toMatchObject({ state: 'ready', error: null });
    await stepsAtLeast(page, 'max', 10);
    await page.$eval('#max', (el) => el.remove());
    // A loss read in flight at removal frees its staging buffer when it lands.
    await page.waitForFunction((before) => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.liveBufferCount() === before, { timeout: 10_000 }, before);
    await page.$eval('#inv', (el) => (el as unknown as { resume(): void }).resume());

    await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.device.destroy());
    await page.waitForFunction(() => {
      const element = document.getElementById('inv') as unknown as Probe;
      return element.generation === 1 && element.state === 'ready';
    }, { timeout: 90_000 });
    await stepsAtLeast(page, 'inv', 10); // counting again from a fresh optimization on the new device
    expect(consoleErrors).toEqual([]);
  });

  it('inverts a layer of units, the Dense logits (M&V invert fully connected layers too)', async () => {
    const { page, consoleErrors } = demo();
    expect(await mount(page, 'inv-dense', { model: 'indexeddb://glassbox-tiny-cnn', layer: 'dense' })).toMatchObject({ state: 'ready', error: null, running: true });
    await stepsAtLeast(page, 'inv-dense', 40);
    const { loss, firstLoss } = await probe(page, 'inv-dense');
    expect(loss!).toBeLessThan(firstLoss! / 2);
    await page.$eval('#inv-dense', (el) => el.remove());
    expect(consoleErrors).toEqual([]);
  });

  it('says what is missing or wrong', async () => {
    const { page } = demo();
    expect((await mount(page, 'no-layer', { model: 'indexeddb://glassbox-tiny-cnn' })).error).toMatch(/expected a layer attribute; the model's feature layers are conv1, dw, bn/);
    expect((await mount(page, 'bad-mode', { model: 'indexeddb://glassbox-tiny-cnn', layer: 'conv2', mode: 'dream' })).error).toBe("<glassbox-inversion>: mode is invert or maximize; got 'dream'.");
  });

  it('waits for resume() when the reader asked for reduced motion', async () => {
    const { page } = demo();
    await page.emulateMediaFeatures([{ name: 'prefers-reduced-motion', value: 'reduce' }]);
    try {
      expect(await mount(page, 'still', { model: 'indexeddb://glassbox-tiny-cnn', layer: 'conv1' })).toMatchObject({ state: 'ready', running: false });
      await page.$eval('#still', (el) => el.scrollIntoView());
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await probe(page, 'still')).steps).toBe(0);
      await page.$eval('#still', (el) => el.scrollIntoView()); // frames run only on screen
      await page.$eval('#still', (el) => (el as unknown as { resume(): void }).resume());
      await stepsAtLeast(page, 'still', 3);
      // A rebuild (another layer) keeps the reader's choice to run, reduced motion or not.
      await page.$eval('#still', (el) => new Promise<void>((resolve) => {
        el.addEventListener('glassbox-ready', () => resolve(), { once: true });
        el.setAttribute('layer', 'dw');
      }));
      expect(await probe(page, 'still')).toMatchObject({ state: 'ready', running: true });
      await stepsAtLeast(page, 'still', 3);
      // The paused attribute pauses and resumes in place: no rebuild, the steps stop and go on.
      const readies = await page.$eval('#still', (el) => {
        (window as unknown as { readies: number }).readies = 0;
        el.addEventListener('glassbox-ready', () => (window as unknown as { readies: number }).readies++);
        el.setAttribute('paused', '');
        return (window as unknown as { readies: number }).readies;
      });
      expect((await probe(page, 'still')).running).toBe(false);
      const pausedAt = (await probe(page, 'still')).steps;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await probe(page, 'still')).steps).toBe(pausedAt);
      await page.$eval('#still', (el) => el.removeAttribute('paused'));
      await stepsAtLeast(page, 'still', pausedAt + 3);
      expect(await page.evaluate(() => (window as unknown as { readies: number }).readies)).toBe(readies);
    } finally {
      await page.emulateMediaFeatures([]);
    }
  });
});
