// `glassbox view FILE` end to end: the CLI serves a file written by the tests, headless Chromium opens the
// URL it prints, and the page shows the file (a value under the pointer equals the file's); a dropped
// safetensors file of Q and K replaces it, a malformed one is reported while the picture stays. Bad
// arguments get a message and an exit code. The screenshot is the README's (docs/images/cli-view.png).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPath, chromiumFlags } from '../../scripts/chromium.js';
import { writeNpy } from '../../src/io/npy';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { randomSoftmaxRows } from '../../src/reference/attention-rollout';
import { randomFloats } from '../../src/reference/random';
import { distinctColours } from '../helpers/browser-page';

const CLI = 'bin/glassbox.js';
const [HEADS, N] = [3, 37];
const weights = randomSoftmaxRows(HEADS * N, N, 99);
const dir = mkdtempSync(join(tmpdir(), 'glassbox-cli-'));
const npyPath = join(dir, 'attentions.0.npy');
writeFileSync(npyPath, writeNpy(weights, [HEADS, N, N]));

let cli: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const consoleErrors: string[] = [];

type ViewerWindow = { glassboxViewer: { ready: boolean; file: string | null; element: string | null; error: string | null } };
const viewerState = () => page.evaluate(() => (window as unknown as ViewerWindow).glassboxViewer);

/** Starts `glassbox view` and resolves with the URL it prints. */
function startCli(file: string): Promise<string> {
  cli = spawn(process.execPath, [CLI, 'view', file, '--port', '0', '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    cli!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /at (http:\/\/127\.0\.0\.1:\d+\S*)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    cli!.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    cli!.on('exit', (code) => reject(new Error(`glassbox view exited with ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  browser = await puppeteer.launch({ executablePath: browserPath(), args: chromiumFlags, headless: true });
  page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 760, deviceScaleFactor: 1 });
  page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())));
  page.on('pageerror', (error) => void consoleErrors.push(String(error)));
});

afterAll(async () => {
  await browser?.close();
  cli?.kill('SIGTERM');
});

async function dropFile(name: string, bytes: Uint8Array): Promise<void> {
  await page.evaluate(
    (name, data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([Uint8Array.from(data)], name));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    name,
    Array.from(bytes),
  );
}

describe('npx glassbox view FILE', () => {
  it('serves the file, and the page shows it: the value under the pointer is the file’s', async () => {
    const url = await startCli(npyPath);
    expect(url).toMatch(/\/demos\/viewer\/$/);
    await page.goto(url);
    await page.waitForFunction(() => {
      const s = (window as unknown as ViewerWindow).glassboxViewer;
      return s?.ready || s?.error;
    }, { timeout: 60_000 });
    expect(await viewerState()).toEqual({ ready: true, file: 'attentions.0.npy', element: 'glassbox-attention-heatmap', error: null });

    const box = (await (await page.$('#stage'))!.boundingBox())!;
    const cell = await page.evaluate((x, y) => {
      const element = document.querySelector('glassbox-attention-heatmap') as unknown as { view: { cellAtPixel(x: number, y: number): { head: number; query: number; key: number } | null } };
      return element.view.cellAtPixel(x, y);
    }, box.width * 0.2, box.height * 0.3);
    expect(cell).not.toBeNull();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3);
    const tip = await page.waitForFunction(() => {
      const tip = document.querySelector('glassbox-attention-heatmap')!.shadowRoot!.querySelector<HTMLElement>('[part=tooltip]');
      return tip && !tip.hidden && tip.textContent;
    }, { timeout: 30_000 });
    const { head, query, key } = cell!;
    expect(await tip.jsonValue()).toBe(`head ${head} · query ${query} → key ${key}: ${weights[(head * N + query) * N + key]!.toPrecision(4)}`);

    const shot = await page.screenshot({ type: 'png' });
    expect(distinctColours(shot, box)).toBeGreaterThan(20);
    writeFileSync('docs/images/cli-view.png', shot);
  });

  it('replaces it with a dropped file of Q and K, and reports a malformed one while the picture stays', async () => {
    const [layers, heads, n, d] = [2, 2, 29, 8];
    const tensors = Object.fromEntries(
      Array.from({ length: layers }, (_, l) => [
        [`layers.${l}.q`, { data: randomFloats(heads * n * d, 10 + l), shape: [heads, n, d] }],
        [`layers.${l}.k`, { data: randomFloats(heads * n * d, 20 + l), shape: [heads, n, d] }],
      ]).flat(),
    );
    const bytes = writeSafetensors(tensors);
    await dropFile('qk.safetensors', bytes);
    await page.waitForFunction(() => (window as unknown as ViewerWindow).glassboxViewer.file === 'qk.safetensors' || (window as unknown as ViewerWindow).glassboxViewer.error, { timeout: 60_000 });
    expect(await viewerState()).toMatchObject({ ready: true, element: 'glassbox-attention-heatmap', error: null });
    expect(await page.$eval('#file', (el) => el.textContent)).toMatch(/^qk\.safetensors .*Q and K/);
    expect(await page.$$eval('#tensors li', (items) => items.map((li) => li.textContent))).toContain('layers.1.k [2, 29, 8]');
    expect(await page.$$eval('#stage > *', (children) => children.length)).toBe(1); // the npy's view was released

    await dropFile('broken.safetensors', bytes.subarray(0, bytes.length - 3));
    await page.waitForFunction(() => (window as unknown as ViewerWindow).glassboxViewer.error, { timeout: 30_000 });
    expect((await viewerState()).error).toMatch(/data_offsets \[\d+, \d+\] run past the end of the data buffer/);
    expect(await page.$$eval('#stage > glassbox-attention-heatmap', (children) => children.length)).toBe(1); // still shown
    expect(consoleErrors).toEqual([]);
  });
});

describe('glassbox arguments', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('prints usage, and refuses bad commands, options and files with a message and an exit code', () => {
    expect(run('--help')).toMatchObject({ status: 0, stdout: expect.stringMatching(/^Usage:\n {2}glassbox view FILE/) });
    expect(run('frob')).toMatchObject({ status: 2, stderr: expect.stringMatching(/Unknown command 'frob'; expected 'view' or 'bench'/) });
    expect(run('view')).toMatchObject({ status: 2, stderr: expect.stringMatching(/takes one file; got none/) });
    expect(run('view', npyPath, '--port', 'x')).toMatchObject({ status: 2, stderr: expect.stringMatching(/--port takes a port number .* got 'x'/) });
    expect(run('view', npyPath, '--bogus')).toMatchObject({ status: 2, stderr: expect.stringMatching(/Unknown option '--bogus'/) });
    expect(run('view', join(dir, 'missing.npy'))).toMatchObject({ status: 1, stderr: expect.stringMatching(/No such file: '.*missing\.npy'/) });
    expect(run('view', 'README.md')).toMatchObject({ status: 1, stderr: expect.stringMatching(/Expected a \.npy or \.safetensors file; got 'README\.md'/) });
    mkdirSync(join(dir, 'folder.npy'), { recursive: true });
    expect(run('view', join(dir, 'folder.npy'))).toMatchObject({ status: 1, stderr: expect.stringMatching(/Expected a file; '.*folder\.npy' is a directory/) });
  });

  it('bench passes its arguments to the benchmark runner', () => {
    expect(run('bench', '--help')).toMatchObject({ status: 0, stdout: expect.stringMatching(/^Usage: npm run bench/) });
    expect(run('bench', '--samples', 'zero')).toMatchObject({ status: 2, stderr: expect.stringMatching(/--samples takes a positive integer; got 'zero'/) });
  });
});
