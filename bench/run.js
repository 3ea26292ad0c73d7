// `npm run bench [-- --filter TEXT] [--samples N] [--timeout SECONDS]`: serves bench/page with vite, drives it in
// headless Chromium, prints a table and writes bench/results/latest.json. The page does the measuring
// (bench/harness.ts); this file starts and stops things, and never leaves a browser or server behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer';
import { browserPath, chromiumFlags } from '../scripts/chromium.js';
import { startViteServer } from '../scripts/vite-server.js';
import { mergeResults } from './merge-results.js';
import { formatTable, paramsLabel } from './report.js';

const repoRoot = resolve(import.meta.dirname, '..');
const resultsPath = resolve(repoRoot, 'bench/results/latest.json');
const pagePath = '/bench/page/index.html';
// Chrome rounds timestamp queries to 100 µs unless WebGPU developer features are enabled.
const benchFlags = ['--enable-webgpu-developer-features'];
const closeTimeoutMs = 10_000;

class BenchError extends Error {
  /** @param {string} message @param {number} exitCode */
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** @type {{ server: import('../scripts/vite-server.js').ViteServer | null, browser: import('puppeteer').Browser | null }} */
const resources = { server: null, browser: null };
/** Set once closeAll() has begun: a server or browser whose start finishes after that is closed at once. */
let closing = false;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string', default: '' },
      timeout: { type: 'string', default: '600' },
      samples: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('Usage: npm run bench [-- --filter TEXT] [--samples N] [--timeout SECONDS]\n' +
      '  --filter   run only cases whose name or parameters contain TEXT, e.g. attention or N=512\n' +
      '  --samples  timed runs per side instead of each case\'s own (fewer than 10: a smoke run, not a result)\n' +
      '  --timeout  give up (exit 124) after this many seconds in all; default 600');
    process.exit(0);
  }
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) throw new BenchError(`--timeout takes a positive number of seconds; got '${values.timeout}'.`, 2);
  const samples = values.samples === undefined ? undefined : Number(values.samples);
  if (samples !== undefined && !(Number.isInteger(samples) && samples >= 1)) {
    throw new BenchError(`--samples takes a positive integer; got '${values.samples}'.`, 2);
  }
  return { filter: values.filter, timeoutMs: timeoutS * 1000, samples };
}

/**
 * @typedef {{ filter: string, timeoutMs: number, samples: number | undefined }} Options
 * @typedef {{ id: string, name: string, params: Record<string, number | string | boolean> }} CaseEntry
 */

/** @param {Options} options */
async function bench(options) {
  const { call, env } = await openBenchPage(options);
  /** @type {CaseEntry[]} */
  const entries = await call((filter) => window.glassboxBench.list(filter), options.filter);
  const caseOrder = [...new Set((await call((all) => window.glassboxBench.list(all), '')).map((e) => e.name))];
  if (entries.length === 0) {
    /** @type {CaseEntry[]} */
    const all = await call(() => window.glassboxBench.list(''));
    const names = [...new Set(all.map((entry) => entry.name))].join(', ');
    throw new BenchError(`no case matches --filter '${options.filter}' (cases: ${names}).`, 2);
  }
  const { adapter } = env;
  console.error(`bench: ${entries.length} case(s) on ${adapter.vendor} ${adapter.architecture} ${adapter.description}`);

  const counts = options.samples === undefined ? {} : { samples: options.samples };
  const cases = [];
  const walls = [];
  for (const entry of entries) {
    const label = `${entry.name} ${paramsLabel(entry.params)}`;
    const start = performance.now();
    const { result, wall } = await call(({ id, counts }) => window.glassboxBench.run(id, counts), { id: entry.id, counts })
      .catch((error) => {
        throw new BenchError(`${label} failed: ${error instanceof Error ? error.message : String(error)}`, 1);
      });
    console.error(`bench: ${label}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
    cases.push(result);
    walls.push({ name: result.name, params: result.params, ...wall });
  }
  await call(() => window.glassboxBench.finish());

  const results = { env: { ...env, ...(await runEnv(options)), wall_cross_check: walls }, cases };
  mkdirSync(dirname(resultsPath), { recursive: true });
  // A filtered run keeps the rows it did not measure (bench/merge-results.js).
  const merged = options.filter && existsSync(resultsPath) ? mergeResults(JSON.parse(readFileSync(resultsPath, 'utf8')), results, caseOrder) : results;
  writeFileSync(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);
  console.log(formatTable(cases, walls));
  console.error(`bench: wrote ${resultsPath}`);
}

/**
 * Starts vite and the browser, opens the page and creates the engine there.
 * @param {Options} options
 */
async function openBenchPage(options) {
  resources.server = await startViteServer({ watch: false });
  await stopIfClosing();
  resources.browser = await puppeteer.launch({
    headless: true,
    executablePath: browserPath(),
    args: [...chromiumFlags, ...benchFlags],
    protocolTimeout: options.timeoutMs,
    handleSIGINT: false, // closeAll() handles signals, for the server too
    handleSIGTERM: false,
  });
  await stopIfClosing();
  const page = await resources.browser.newPage();
  await exposeScreenCapture(page);
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn') console.error(`[page ${message.type()}] ${message.text()}`);
    else if (message.type() === 'info') console.error(`[page] ${message.text()}`); // progress of long cases
  });
  page.on('pageerror', (error) => console.error(`[page error] ${error instanceof Error ? error.message : String(error)}`));
  await page.goto(`${resources.server.url}${pagePath}`, { waitUntil: 'load' });
  const call = pageCaller(page);
  const started = await call(() => window.glassboxBench.start());
  if (!started.ok) {
    throw started.webgpuUnavailable
      ? new BenchError(`WebGPU is unavailable in this browser (${browserPath() ?? "puppeteer's Chrome"}): ${started.message}`, 3)
      : new BenchError(`could not create the engine: ${started.message}`, 1);
  }
  return { call, env: started.env };
}

/**
 * window.glassboxCaptureScreen(clip) for the page: Page.captureScreenshot of that CSS-pixel rectangle. It
 * returns once the compositor has drawn a frame of the page as it is now, with everything in the clip
 * rasterized: a capture right after a change waits for the raster work that the page's own clocks cannot
 * see, since it runs on other threads after the main thread's part of the frame (head-view's SVG).
 * @param {import('puppeteer').Page} page
 */
async function exposeScreenCapture(page) {
  const cdp = await page.createCDPSession();
  await page.exposeFunction('glassboxCaptureScreen', async (/** @type {{x: number, y: number, width: number, height: number}} */ clip) => {
    await cdp.send('Page.captureScreenshot', { format: 'png', clip: { ...clip, scale: 1 } });
  });
}

/** After a timeout or signal, closes what a start that was under way has just opened, and stops. */
async function stopIfClosing() {
  if (!closing) return;
  await closeAll();
  throw new BenchError('stopped', 1);
}

/**
 * What the page cannot know about the run, and how the numbers were taken.
 * @param {Options} options
 */
async function runEnv(options) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    ...gitState(),
    browser: await resources.browser?.version(),
    chromium_flags: [...chromiumFlags, ...benchFlags],
    filter: options.filter,
    samples_override: options.samples ?? null,
    timing: 'ours_ms: GPU timestamps around our compute pass; peer_ms: tf.time() kernelMs (tfjs timestamps per ' +
      'kernel); medians after warm-up. Without timestamp-query both are wall-clock medians.',
    bytes: 'ours: GPUBuffers created while building and first running our side; ' +
      'peer: growth of tf.memory().numBytesInGPU after one run is recorded, before it is submitted.',
  };
}

/**
 * page.evaluate that survives vite reloading the page (the server does not watch files, but vite still
 * reloads when it finds a dependency to optimize late, on a first run): it waits for the page to come
 * back, starts the engine again and retries, twice at most.
 * Every page call is idempotent, so a retry measures the same thing.
 * @param {import('puppeteer').Page} page
 */
function pageCaller(page) {
  let reloads = 0;
  /** @type {(fn: (arg: any) => any, arg?: any) => Promise<any>} */
  const call = async (fn, arg) => {
    for (;;) {
      try {
        await page.waitForFunction(() => 'glassboxBench' in window, { timeout: 120_000 });
        return await page.evaluate(fn, arg);
      } catch (error) {
        const navigated = error instanceof Error && /context was destroyed|navigat/i.test(error.message);
        if (!navigated || reloads === 2) throw error;
        reloads += 1;
        console.error('bench: the page reloaded (vite does when it optimizes a dependency late); retrying');
        await page.waitForFunction(() => 'glassboxBench' in window, { timeout: 120_000 });
        await page.evaluate(() => window.glassboxBench.start());
      }
    }
  };
  return call;
}

function gitState() {
  const git = (/** @type {string[]} */ ...args) =>
    execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { git_commit: git('rev-parse', 'HEAD'), git_dirty: git('status', '--porcelain') !== '' };
  } catch {
    return { git_commit: null, git_dirty: null };
  }
}

/** Closes the browser (killing it if it hangs) and the server; never throws. */
async function closeAll() {
  closing = true;
  const { browser, server } = resources;
  resources.browser = null;
  resources.server = null;
  if (browser) {
    const closed = await withTimeout(browser.close(), closeTimeoutMs).then(() => true, () => false);
    if (!closed) browser.process()?.kill('SIGKILL');
  }
  if (server) await withTimeout(server.close(), closeTimeoutMs).catch(() => {});
}

/** @template T @param {Promise<T>} promise @param {number} ms @param {string} [message] @returns {Promise<T>} */
function withTimeout(promise, ms, message = `timed out after ${ms / 1000} s`) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new BenchError(message, 124)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`bench: ${signal}, closing the browser and the server`);
      void closeAll().finally(() => process.exit(130));
    });
  }
  let exitCode = 0;
  try {
    const options = parseOptions();
    await withTimeout(bench(options), options.timeoutMs,
      `timed out after ${options.timeoutMs / 1000} s (raise it with --timeout SECONDS)`);
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = error instanceof BenchError ? error.exitCode : 1;
  } finally {
    await closeAll();
  }
  process.exit(exitCode);
}

await main();
