#!/usr/bin/env node
// The command line: `glassbox view FILE` shows a .npy / .safetensors dump in the browser (the path for
// PyTorch users), `glassbox bench` runs the benchmarks headless and prints the table.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkedTensorFile, fileRoutePlugin, VIEWER_PATH } from './file-route.js';

const repoRoot = resolve(import.meta.dirname, '..');

const USAGE = `Usage:
  glassbox view FILE [--port N] [--no-open]   show a .npy or .safetensors file in the browser
  glassbox bench [--filter TEXT] [--samples N] [--timeout SECONDS]
                                              run the benchmarks in headless Chromium, print the table
  glassbox --help

view picks the view from what the file holds: attention weights ('attentions.L', 'p', …) or Q and K
('layers.L.q' / 'layers.L.k') as heatmaps of every layer and head (Q and K of more than 2,048 tokens in the
long-sequence explorer), 4-D activations as feature maps, any other 2-D or 3-D array as a heatmap.`;

class UsageError extends Error {}

/** @param {string[]} argv */
async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return void console.log(USAGE);
  if (command === 'view') return view(rest);
  if (command === 'bench') return bench(rest);
  throw new UsageError(`Unknown command '${command}'; expected 'view' or 'bench'.`);
}

/** @param {string[]} args */
async function view(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: 'string', default: '0' }, 'no-open': { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) {
    throw new UsageError(`glassbox view takes one file; got ${positionals.length === 0 ? 'none' : positionals.map((p) => `'${p}'`).join(', ')}.`);
  }
  const port = Number(values.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new UsageError(`--port takes a port number from 0 (any free port) to 65535; got '${values.port}'.`);
  }
  const file = await checkedTensorFile(resolve(positionals[0]));
  const { startViteServer } = await import('../scripts/vite-server.js');
  const server = await startViteServer({
    port,
    root: repoRoot,
    watch: false,
    plugins: [fileRoutePlugin(file)],
    open: values['no-open'] ? false : VIEWER_PATH,
  }).catch((error) => {
    throw new UsageError(port !== 0 && /EADDRINUSE|in use/i.test(String(error)) ? `Port ${port} is in use; pick another or --port 0.` : String(error));
  });
  console.log(`Showing ${file.name} (${formatBytes(file.size)}) at ${server.url}${VIEWER_PATH}`);
  console.log('Press Ctrl+C to stop.');
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** `bench` is `npm run bench` from anywhere: the same runner, the same arguments. @param {string[]} args */
function bench(args) {
  const child = spawn(process.execPath, [resolve(repoRoot, 'bench/run.js'), ...args], { cwd: repoRoot, stdio: 'inherit' });
  return new Promise((done) => child.on('exit', (code, signal) => done(void (process.exitCode = code ?? (signal ? 1 : 0)))));
}

/** @param {number} bytes */
function formatBytes(bytes) {
  return bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

main(process.argv.slice(2)).catch((error) => {
  // node:util's parseArgs says what was wrong with an option in its own words: a usage error too.
  const usage = error instanceof UsageError || /^ERR_PARSE_ARGS/.test(error?.code ?? '');
  console.error(`glassbox: ${error instanceof Error ? error.message : String(error)}`);
  if (usage) console.error("Run 'glassbox --help' for usage.");
  process.exit(usage ? 2 : 1);
});
