// A vite dev server started in-process, for the benchmarks, the e2e tests and `npm start`.
// It serves the repository root with vite.config.ts on 127.0.0.1 (a secure context, which WebGPU needs).
import { resolve } from 'node:path';
import { createServer } from 'vite';

const repoRoot = resolve(import.meta.dirname, '..');

/**
 * @typedef {object} ViteServerOptions
 * @property {number} [port] 0 (default) picks a free port; any other number is required to be free.
 * @property {string} [root] Directory to serve; default the repository root.
 * @property {'info' | 'warn' | 'error' | 'silent'} [logLevel] Default 'warn'.
 * @property {boolean} [watch] Default true: reload pages when files change. Benchmarks and tests pass
 *   false, so that someone saving a file mid-run cannot reload the page under them.
 * @property {import('vite').PluginOption[]} [plugins] Extra vite plugins (the CLI's file route).
 * @property {string | boolean} [open] Open this path (or /) in the default browser once listening.
 */

/**
 * @typedef {object} ViteServer
 * @property {string} url Base URL without a trailing slash, e.g. http://127.0.0.1:41234.
 * @property {import('vite').ViteDevServer} server
 * @property {() => Promise<void>} close Stops the server; safe to call twice.
 */

/**
 * Starts vite and resolves once it is listening.
 * @param {ViteServerOptions} [options]
 * @returns {Promise<ViteServer>}
 */
export async function startViteServer(options = {}) {
  const port = options.port ?? 0;
  const watch = options.watch ?? true;
  const server = await createServer({
    root: options.root ?? repoRoot,
    logLevel: options.logLevel ?? 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port, strictPort: port !== 0, open: options.open ?? false, ...(!watch && { hmr: false, watch: null }) },
    plugins: options.plugins ?? [],
  });
  try {
    await server.listen();
  } catch (error) {
    await server.close();
    throw error;
  }
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') {
    await server.close();
    throw new Error(`vite did not report a TCP address (got ${JSON.stringify(address)}).`);
  }
  let closing = null;
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: () => (closing ??= server.close()),
  };
}
