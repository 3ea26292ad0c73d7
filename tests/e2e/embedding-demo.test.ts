// The embedding page of the gallery: six elements from files and a pretrained model, on one shared device,
// each drawn, with no console error; the inversion starts when asked. Its screenshot is the README's
// (docs/images/embedding-demo.png).
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 1000, height: 900 });
type Probe = { id: string; state: string; error: string | null; framesDrawn: number };
type PageWindow = { glassboxEmbedding: { elements(): Probe[]; sharedEngine(): boolean } };

describe('demos/embedding', () => {
  it('mounts every element on one device and draws each', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/demos/embedding/`);
    await page.waitForFunction(
      () => (window as unknown as PageWindow).glassboxEmbedding?.elements().every((e) => e.state === 'ready' || e.state === 'error'),
      { timeout: 170_000 },
    );
    const elements = await page.evaluate(() => (window as unknown as PageWindow).glassboxEmbedding.elements());
    expect(elements.map((e) => [e.id, e.state, e.error])).toEqual(
      ['heatmap', 'head-view', 'graph', 'explorer', 'features', 'inversion'].map((id) => [id, 'ready', null]),
    );
    expect(await page.evaluate(() => (window as unknown as PageWindow).glassboxEmbedding.sharedEngine())).toBe(true);

    for (const { id } of elements) {
      await page.$eval(`#${id}`, (el) => el.scrollIntoView()); // elements draw only on screen
      await page.waitForFunction((id) => (document.getElementById(id) as unknown as Probe).framesDrawn > 1, { timeout: 60_000 }, id);
      const box = (await (await page.$(`#${id}`))!.boundingBox())!;
      expect(distinctColours(await page.screenshot({ type: 'png' }), box), id).toBeGreaterThan(8);
    }
    // Each canvas keeps its last frame off screen: now every one has drawn, the whole page can be taken.
    mkdirSync('docs/images', { recursive: true });
    writeFileSync('docs/images/embedding-demo.png', await page.screenshot({ type: 'png', fullPage: true }));

    await page.click('#start-inversion');
    await page.waitForFunction(() => (document.getElementById('inversion') as unknown as { steps: number }).steps >= 2, { timeout: 120_000 });
    expect(consoleErrors).toEqual([]);
  });
});
