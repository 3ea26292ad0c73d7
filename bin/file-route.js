// The one file `glassbox view` shows, checked before anything starts and served read-only at a fixed URL
// (nothing else on the disk is reachable through it): GET /__glassbox/file is its bytes, GET
// /__glassbox/file.json its name and size. The viewer page (demos/viewer/) asks for both.
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';

export const VIEWER_PATH = '/demos/viewer/';
export const FILE_ROUTE = '/__glassbox/file';
const EXTENSIONS = ['.npy', '.safetensors'];

/**
 * @typedef {{ path: string, name: string, size: number }} TensorFile
 */

/**
 * The file, if it exists, is a regular file and has an extension the readers take; else an Error saying which.
 * @param {string} path
 * @returns {Promise<TensorFile>}
 */
export async function checkedTensorFile(path) {
  const name = basename(path);
  if (!EXTENSIONS.some((extension) => name.toLowerCase().endsWith(extension))) {
    throw new Error(`Expected a .npy or .safetensors file; got '${name}'.`);
  }
  const info = await stat(path).catch(() => null);
  if (!info) throw new Error(`No such file: '${path}'.`);
  if (!info.isFile()) throw new Error(`Expected a file; '${path}' is a directory or a device.`);
  const handle = await open(path, 'r').catch((error) => {
    throw new Error(`Cannot read '${path}': ${error.code ?? error.message}.`);
  });
  await handle.close();
  return { path, name, size: info.size };
}

/**
 * A vite plugin whose middleware answers the file's two URLs before vite's own.
 * @param {TensorFile} file
 * @returns {import('vite').Plugin}
 */
export function fileRoutePlugin(file) {
  return {
    name: 'glassbox-file-route',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = (request.url ?? '').split('?')[0];
        if (path === `${FILE_ROUTE}.json`) {
          response.setHeader('Content-Type', 'application/json');
          response.setHeader('Cache-Control', 'no-store');
          return void response.end(JSON.stringify({ name: file.name, size: file.size }));
        }
        if (path !== FILE_ROUTE) return next();
        sendFile(file, response).catch((error) => {
          response.statusCode = 500;
          response.end(`Could not read ${file.name}: ${error.message}`);
        });
      });
    },
  };
}

/** @param {TensorFile} file @param {import('node:http').ServerResponse} response */
async function sendFile(file, response) {
  const handle = await open(file.path, 'r');
  try {
    const { size } = await handle.stat(); // the file may have been rewritten since the start
    response.setHeader('Content-Type', 'application/octet-stream');
    response.setHeader('Content-Length', String(size));
    response.setHeader('Cache-Control', 'no-store');
    for await (const chunk of handle.createReadStream({ autoClose: false })) response.write(chunk);
    response.end();
  } finally {
    await handle.close();
  }
}
