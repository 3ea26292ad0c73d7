// <glassbox-feature-maps> in headless Chromium: activations from arrays (NCHW, as PyTorch writes them) drawn,
// the value under the pointer equal to the data, the visible maps exported as .npy; a tfjs model from a URL
// run on a picture, then on a playing video every frame with tfjs's tensor count flat; removal frees every
// buffer; a missing input is said.
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy';
import { randomFloats } from '../../src/reference/random';
import { distinctColours, useDemoPage } from '../helpers/browser-page';
import { expectFollowsSize } from '../helpers/element-size';

const demo = useDemoPage({ width: 700, height: 560 });
const [C, H, W] = [7, 9, 11];
const VALUES = randomFloats(C * H * W, 77, 2); // [1, C, H, W]

type Probe = { state: string; error: string | null; framesDrawn: number; forwardPasses: number };
type TestWindow = {
  glassboxTest: { tf: { memory(): { numTensors: number } }; currentHost(): { engine: { liveBufferCount(): number } } | null };
};

async function mount(page: Page, id: string, attributes: Record<string, string>, setup: 'tensors' | 'video' | null): Promise<Probe> {
  await page.evaluate((id, attributes, setup, values, shape) => {
    const element = document.createElement('glassbox-feature-maps') as HTMLElement & { tensors: unknown; image: unknown };
    element.id = id;
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (setup === 'tensors') element.tensors = new Map([['act.npy', { shape, data: Float32Array.from(values) }]]);
    if (setup === 'video') {
      // A live picture: a canvas repainted every frame, streamed into a playing video element.
      const canvas = document.createElement('canvas');
      [canvas.width, canvas.height] = [34, 26];
      const context = canvas.getContext('2d')!;
      let t = 0;
      const paint = () => {
        context.fillStyle = `hsl(${(t += 7) % 360} 80% 50%)`;
        context.fillRect(0, 0, 34, 26);
        context.fillStyle = '#fff';
        context.fillRect((t / 3) % 30, 5, 6, 12);
        requestAnimationFrame(paint);
      };
      paint();
      const video = document.createElement('video');
      video.muted = true;
      video.srcObject = canvas.captureStream(30);
      void video.play();
      element.image = video;
    }
    document.querySelector('#mount')!.append(element);
  }, id, attributes, setup, Array.from(VALUES), [1, C, H, W]);
  await page.waitForFunction((id) => ['ready', 'error'].includes((document.getElementById(id) as unknown as Probe).state), { timeout: 90_000 }, id);
  return probe(page, id);
}

function probe(page: Page, id: string): Promise<Probe> {
  return page.$eval(`#${id}`, (el) => {
    const { state, error, framesDrawn, forwardPasses } = el as unknown as Probe;
    return { state, error, framesDrawn, forwardPasses };
  });
}

const framesAfter = (page: Page, id: string, count: number) =>
  page.waitForFunction((id, count) => (document.getElementById(id) as unknown as Probe).framesDrawn >= count, { timeout: 60_000 }, id, count);

describe('<glassbox-feature-maps>', () => {
  it('draws NCHW activations; the value under the pointer and the exported .npy are the data', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/tests/e2e/fixtures/feature-maps.html`);
    await page.waitForFunction(() => 'glassboxTest' in window, { timeout: 60_000 });
    expect(await mount(page, 'maps', { normalization: 'layer' }, 'tensors')).toMatchObject({ state: 'ready', error: null });
    await framesAfter(page, 'maps', 3);
    const box = (await (await page.$('#maps'))!.boundingBox())!;
    expect(distinctColours(await page.screenshot({ type: 'png' }), box)).toBeGreaterThan(20);

    const hit = await page.$eval('#maps', (el) => {
      const view = (el as unknown as { view: { mapAtPixel(x: number, y: number): { channel: number; u: number; v: number } | null } }).view;
      for (let y = 40; y < 360; y += 7) for (let x = 10; x < 480; x += 7) {
        const found = view.mapAtPixel(x, y);
        if (found && found.channel === 3) return { ...found, px: x, py: y };
      }
      return null;
    });
    const [y, x] = [Math.floor(hit!.v * H), Math.floor(hit!.u * W)];
    expect(hit).not.toBeNull();
    await page.mouse.move(box.x + hit!.px, box.y + hit!.py);
    const tip = await page.waitForFunction(() => {
      const tip = document.getElementById('maps')!.shadowRoot!.querySelector<HTMLElement>('[part=tooltip]');
      return tip && !tip.hidden && tip.textContent;
    }, { timeout: 30_000 });
    const value = VALUES[(3 * H + y) * W + x]!;
    expect(await tip.jsonValue()).toBe(`act.npy · channel 3 · y ${y}, x ${x}: ${value.toPrecision(4)}`);

    const npy = parseNpy(Uint8Array.from(await page.$eval('#maps', async (el) => Array.from(await (el as unknown as { exportNpy(): Promise<Uint8Array> }).exportNpy()))));
    expect(npy.shape).toEqual([C, H, W]); // fitted: every channel on screen, channels first
    expect(Array.from(npy.data)).toEqual(Array.from(VALUES));
    expect(consoleErrors).toEqual([]);
  });

  it('runs a tfjs model from a URL on a live video every frame with tfjs memory flat, and frees everything on removal', async () => {
    const { page, consoleErrors } = demo();
    const before = await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.liveBufferCount());
    expect(await mount(page, 'live', { model: 'indexeddb://glassbox-tiny-cnn', layers: 'conv1,pool,concat' }, 'video')).toMatchObject({ state: 'ready', error: null });
    await page.waitForFunction(() => (document.getElementById('live') as unknown as Probe).forwardPasses >= 5, { timeout: 60_000 });
    const tensorsAt = () => page.evaluate(() => (window as unknown as TestWindow).glassboxTest.tf.memory().numTensors);
    const [passes, tensors] = [(await probe(page, 'live')).forwardPasses, await tensorsAt()];
    await page.waitForFunction((p) => (document.getElementById('live') as unknown as Probe).forwardPasses >= p + 15, { timeout: 60_000 }, passes);
    expect(await tensorsAt()).toBe(tensors);
    await expectFollowsSize(page, 'live', { width: 300, height: 220 });
    const sections = await page.$eval('#live', (el) => (el as unknown as { view: { layout: { sections: { name: string }[] } } }).view.layout.sections.map((s) => s.name));
    expect(sections).toEqual(['conv1', 'pool', 'concat']);

    await page.$eval('#live', (el) => el.remove());
    expect(await page.evaluate(() => (window as unknown as TestWindow).glassboxTest.currentHost()!.engine.liveBufferCount())).toBe(before);
    expect(consoleErrors).toEqual([]);
  });

  it('reloads its model on a new device after the device is lost, and runs on', async () => {
    const { page, consoleErrors } = demo();
    await mount(page, 'again', { model: 'indexeddb://glassbox-tiny-cnn', layers: 'conv2' }, 'video');
    await page.evaluate(() => (window as unknown as { glassboxTest: { currentHost(): { engine: { device: GPUDevice } } } }).glassboxTest.currentHost().engine.device.destroy());
    await page.waitForFunction(() => {
      const element = document.getElementById('again') as unknown as Probe & { generation: number };
      return element.generation === 1 && element.state === 'ready';
    }, { timeout: 60_000 });
    const passes = (await probe(page, 'again')).forwardPasses;
    await page.waitForFunction((p) => (document.getElementById('again') as unknown as Probe).forwardPasses >= p + 5, { timeout: 60_000 }, passes);
    expect(consoleErrors).toEqual([]);
  });

  it('says what is missing', async () => {
    const { page } = demo();
    expect((await mount(page, 'no-input', { model: 'indexeddb://glassbox-tiny-cnn' }, null)).error).toBe(
      '<glassbox-feature-maps>: a model needs a picture: an input attribute (an image URL) or the image property.',
    );
    expect((await mount(page, 'nothing', {}, null)).error).toMatch(/expected src, a tensors property, or a model with an input/);
  });
});
