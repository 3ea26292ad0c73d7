// The long-sequence explorer demo in headless Chromium, at a size SwiftShader computes in seconds: row
// statistics finish, the overview fills in, hovering reads an exact weight, and no console error appears.
import { mkdirSync, writeFileSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPath, chromiumFlags } from '../../scripts/chromium.js';
import { startViteServer } from '../../scripts/vite-server.js';

let server: Awaited<ReturnType<typeof startViteServer>>;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  server = await startViteServer();
  browser = await puppeteer.launch({ executablePath: browserPath(), args: chromiumFlags, headless: true });
  page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 760, deviceScaleFactor: 1 });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Demo = { ready: boolean; framesDrawn: number; rowStatsDone: boolean; overview: number; profilesDone: boolean; error: string | null };

describe('demos/long-attention', () => {
  it('explores 1,024 tokens of Shakespeare exactly, with axis profiles and no console error', async () => {
    await page.goto(`${server.url}/demos/long-attention/?n=1024`);
    await page.waitForFunction(
      () => {
        const demo = (window as unknown as { glassboxDemo?: Demo }).glassboxDemo;
        return demo?.error || (demo?.rowStatsDone && demo.overview >= 1 && demo.profilesDone && demo.framesDrawn > 10);
      },
      { timeout: 150_000, polling: 500 },
    );
    const demo = await page.evaluate(() => (window as unknown as { glassboxDemo: Demo }).glassboxDemo);
    expect(demo.error).toBeNull();

    const box = (await (await page.$('#explorer'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.6);
    await page.waitForFunction(() => /P = \d.*s = /.test(document.querySelector('#readout')!.textContent ?? ''), {
      timeout: 30_000,
    });
    expect(await page.$eval('#progress span', (el) => el.textContent)).toMatch(/overview and profiles: 100%/);

    const shot = await page.screenshot({ type: 'png' });
    const png = PNG.sync.read(Buffer.from(shot));
    const colours = new Set<number>();
    for (let y = Math.floor(box.y); y < box.y + box.height; y += 3)
      for (let x = Math.floor(box.x); x < box.x + box.width; x += 3) {
        const at = (y * png.width + x) * 4;
        colours.add((png.data[at]! << 16) | (png.data[at + 1]! << 8) | png.data[at + 2]!);
      }
    expect(colours.size).toBeGreaterThan(20);
    mkdirSync('docs/images', { recursive: true });
    writeFileSync('docs/images/long-attention-demo.png', shot);
    expect(consoleErrors).toEqual([]);
  });
});
