// One vite server, one headless Chromium and one page per e2e test file, with console errors collected.
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { PNG } from 'pngjs';
import { afterAll, beforeAll } from 'vitest';
import { browserPath, chromiumFlags } from '../../scripts/chromium.js';
import { startViteServer } from '../../scripts/vite-server.js';

export interface DemoPage {
  readonly url: string;
  readonly page: Page;
  /** Console errors and uncaught exceptions, in order. */
  readonly consoleErrors: string[];
}

export function useDemoPage(viewport: { width: number; height: number }): () => DemoPage {
  let server: Awaited<ReturnType<typeof startViteServer>> | undefined;
  let browser: Browser | undefined;
  let demo: DemoPage | undefined;
  beforeAll(async () => {
    server = await startViteServer({ watch: false }); // a file saved mid-run must not reload the page under a test
    browser = await puppeteer.launch({ executablePath: browserPath(), args: chromiumFlags, headless: true });
    const page = await browser.newPage();
    await page.setViewport({ ...viewport, deviceScaleFactor: 1 });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    demo = { url: server.url, page, consoleErrors };
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return () => {
    if (!demo) throw new Error('useDemoPage(): the page is opened in beforeAll');
    return demo;
  };
}

/** Distinct colours in a region of a PNG screenshot (every `step` pixels): a blank canvas has one or two. */
export function distinctColours(shot: Uint8Array, box: { x: number; y: number; width: number; height: number }, step = 2): number {
  const png = PNG.sync.read(Buffer.from(shot));
  const colours = new Set<number>();
  for (let y = Math.floor(box.y); y < box.y + box.height; y += step) {
    for (let x = Math.floor(box.x); x < box.x + box.width; x += step) {
      const at = (y * png.width + x) * 4;
      colours.add((png.data[at]! << 16) | (png.data[at + 1]! << 8) | png.data[at + 2]!);
    }
  }
  return colours.size;
}
