// The attention demo in headless Chromium: it loads, draws frames, logs no console error, and the canvas
// is not blank. The screenshot it takes is the README's picture (docs/images/attention-demo.png).
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { distinctColours, useDemoPage } from '../helpers/browser-page';

const demo = useDemoPage({ width: 1100, height: 760 });

describe('demos/attention', () => {
  it('draws the attention heatmap of every head with no console error', async () => {
    const { page, url, consoleErrors } = demo();
    await page.goto(`${url}/demos/attention/`);
    await page.waitForFunction(
      () => {
        const state = (window as unknown as { glassboxDemo?: { ready: boolean; framesDrawn: number; error: string | null } })
          .glassboxDemo;
        return state?.error || (state?.ready && state.framesDrawn >= 10);
      },
      { timeout: 120_000 },
    );
    const state = await page.evaluate(() => (window as unknown as { glassboxDemo: { error: string | null } }).glassboxDemo);
    expect(state.error).toBeNull();

    // Hover the first head's matrix: the readout reads back one value and names the two tokens.
    const box = (await (await page.$('#heatmap'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.waitForFunction(() => /P = \d/.test(document.querySelector('#readout')!.textContent ?? ''), {
      timeout: 30_000,
    });

    const shot = await page.screenshot({ type: 'png' });
    expect(distinctColours(shot, box)).toBeGreaterThan(20);
    mkdirSync('docs/images', { recursive: true });
    writeFileSync('docs/images/attention-demo.png', shot);
    expect(consoleErrors).toEqual([]);
  });
});
