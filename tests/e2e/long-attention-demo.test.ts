// The long-sequence explorer demo in headless Chromium, at a size SwiftShader computes in seconds: row
// statistics finish, the overview fills in, hovering reads an exact weight, and no console error appears.
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomFloats } from '../../src/reference/random';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 1000, height: 760 });

type Demo = { ready: boolean; framesDrawn: number; rowStatsDone: boolean; overview: number; profilesDone: boolean; error: string | null };

describe('demos/long-attention', () => {
  it('explores 1,024 tokens of Shakespeare exactly, with axis profiles and no console error', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/demos/long-attention/?n=1024`);
    await page.waitForFunction(
      () => {
        const state = (window as unknown as { glassboxDemo?: Demo }).glassboxDemo;
        return state?.error || (state?.rowStatsDone && state.overview >= 1 && state.profilesDone && state.framesDrawn > 10);
      },
      { timeout: 150_000, polling: 500 },
    );
    const state = await page.evaluate(() => (window as unknown as { glassboxDemo: Demo }).glassboxDemo);
    expect(state.error).toBeNull();

    const box = (await (await page.$('#explorer'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.6);
    await page.waitForFunction(() => /P = \d.*s = /.test(document.querySelector('#readout')!.textContent ?? ''), {
      timeout: 30_000,
    });
    expect(await page.$eval('#progress span', (el) => el.textContent)).toMatch(/overview and profiles: 100%/);

    const shot = await page.screenshot({ type: 'png' });
    expect(distinctColours(shot, box, 3)).toBeGreaterThan(20);
    mkdirSync('docs/images', { recursive: true });
    writeFileSync('docs/images/long-attention-demo.png', shot);
    expect(consoleErrors).toEqual([]);
  });

  it('opens dropped .safetensors files, and a malformed one leaves the view working with a clear error', async () => {
    const { page } = demo();
    const [heads, n, d] = [2, 300, 16];
    const good = writeSafetensors({
      'layers.0.q': { data: randomFloats(heads * n * d, 5), shape: [heads, n, d] },
      'layers.0.k': { data: randomFloats(heads * n * d, 6), shape: [heads, n, d] },
    });
    const drop = (name: string, bytes: Uint8Array) =>
      page.evaluate(
        (fileName, base64) => {
          const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([data], fileName));
          document.querySelector('main')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        },
        name,
        Buffer.from(bytes).toString('base64'),
      );
    const frames = () => page.evaluate(() => (window as unknown as { glassboxDemo: Demo }).glassboxDemo.framesDrawn);

    await drop('broken.safetensors', good.subarray(0, good.length - 100));
    await page.waitForFunction(() => document.querySelector('#status')!.className === 'error', { timeout: 30_000 });
    expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/data_offsets \[\d+, \d+\] run past the end of the data buffer/);
    const before = await frames();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await frames()).toBeGreaterThan(before); // the page keeps drawing

    await drop('qk.safetensors', good);
    await page.waitForFunction(
      () => /qk\.safetensors, layer 0: 2 heads × 300 queries/.test(document.querySelector('#status')!.textContent ?? ''),
      { timeout: 60_000 },
    );
    await page.waitForFunction(() => (window as unknown as { glassboxDemo: Demo }).glassboxDemo.rowStatsDone, { timeout: 60_000 });
  });
});
