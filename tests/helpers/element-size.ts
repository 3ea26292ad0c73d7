// An element follows its size: given a new CSS size, its canvas's backing store follows (deviceScaleFactor 1
// in the e2e pages) and frames keep coming.
import type { Page } from 'puppeteer';
import { expect } from 'vitest';

export async function expectFollowsSize(page: Page, id: string, css: { width: number; height: number }, canvas = css): Promise<void> {
  await page.$eval(`#${id}`, (el, css) => ((el as HTMLElement).style.cssText = `width: ${css.width}px; height: ${css.height}px`), css);
  await page.waitForFunction(
    (id, w, h) => {
      const c = document.getElementById(id)!.shadowRoot!.querySelector('canvas');
      return c?.width === w && c.height === h;
    },
    { timeout: 10_000 },
    id,
    canvas.width,
    canvas.height,
  );
  const drawn = await page.$eval(`#${id}`, (el) => (el as unknown as { framesDrawn: number }).framesDrawn);
  await page.waitForFunction((id, drawn) => (document.getElementById(id) as unknown as { framesDrawn: number }).framesDrawn >= drawn + 2, { timeout: 30_000 }, id, drawn);
  expect(await page.$eval(`#${id}`, (el) => (el as unknown as { state: string }).state)).toBe('ready');
}
