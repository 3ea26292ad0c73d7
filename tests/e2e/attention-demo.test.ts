// The attention demo in headless Chromium: it loads, draws frames, logs no console error, and the canvas
// is not blank. The screenshot it takes is the README's picture (docs/images/attention-demo.png).
import { mkdirSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPath, chromiumFlags } from '../../scripts/chromium.js';
import { startViteServer } from '../../scripts/vite-server.js';

const SCREENSHOT = 'docs/images/attention-demo.png';

let server: Awaited<ReturnType<typeof startViteServer>>;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  server = await startViteServer();
  browser = await puppeteer.launch({ executablePath: browserPath(), args: chromiumFlags, headless: true });
  page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 760, deviceScaleFactor: 1 });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Distinct colours in the canvas region of a screenshot: a blank or single-colour canvas has ≤ 2. */
function distinctColours(png: PNG, box: { x: number; y: number; width: number; height: number }): number {
  const colours = new Set<number>();
  for (let y = Math.floor(box.y); y < box.y + box.height; y += 2) {
    for (let x = Math.floor(box.x); x < box.x + box.width; x += 2) {
      const at = (y * png.width + x) * 4;
      colours.add((png.data[at]! << 16) | (png.data[at + 1]! << 8) | png.data[at + 2]!);
    }
  }
  return colours.size;
}

describe('demos/attention', () => {
  it('draws the attention heatmap of every head with no console error', async () => {
    await page.goto(`${server.url}/demos/attention/`);
    await page.waitForFunction(
      () => {
        const demo = (window as unknown as { glassboxDemo?: { ready: boolean; framesDrawn: number; error: string | null } })
          .glassboxDemo;
        return demo?.error || (demo?.ready && demo.framesDrawn >= 10);
      },
      { timeout: 120_000 },
    );
    const demo = await page.evaluate(() => (window as unknown as { glassboxDemo: { error: string | null } }).glassboxDemo);
    expect(demo.error).toBeNull();

    // Hover the first head's matrix: the readout reads back one value and names the two tokens.
    const box = (await (await page.$('#heatmap'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.waitForFunction(() => /P = \d/.test(document.querySelector('#readout')!.textContent ?? ''), {
      timeout: 30_000,
    });

    const shot = await page.screenshot({ type: 'png' });
    const png = PNG.sync.read(Buffer.from(shot));
    expect(distinctColours(png, box)).toBeGreaterThan(20);
    mkdirSync('docs/images', { recursive: true });
    writeFileSync(SCREENSHOT, shot);
    expect(consoleErrors).toEqual([]);
  });
});
