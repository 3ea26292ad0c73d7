// Two builds from one config:
//   `vite build`               → the library (dist/glassbox.js, dist/elements.js), WGSL inlined through `?raw` imports;
//   `vite build --mode demos`  → the demo gallery as a multi-page static site (dist-demos/).
// `vite` (dev) serves the gallery at / with every demo under /demos/<name>/.
import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

function demoPages(): Record<string, string> {
  const pages: Record<string, string> = { gallery: resolve(root, 'index.html') };
  for (const name of readdirSync(resolve(root, 'demos'))) {
    const html = resolve(root, 'demos', name, 'index.html');
    if (existsSync(html)) pages[name] = html;
  }
  return pages;
}

export default defineConfig(({ mode }) => ({
  server: { host: '127.0.0.1' },
  // Relative asset URLs in the library build: the flow worker is found beside glassbox.js, wherever it is served.
  base: mode === 'demos' ? undefined : './',
  // Bundled up front: discovered while a demo runs, they make vite re-bundle and reload the page.
  optimizeDeps: {
    include: ['@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core/dist/register_all_gradients', 'regl'],
  },
  build:
    mode === 'demos'
      ? { outDir: 'dist-demos', rollupOptions: { input: demoPages() } }
      : {
          outDir: 'dist',
          lib: {
            entry: { glassbox: resolve(root, 'src/index.ts'), elements: resolve(root, 'src/elements/index.ts') },
            formats: ['es'],
            fileName: (_format, name) => `${name}.js`,
          },
          rollupOptions: { external: [/^@tensorflow\//, 'regl'] },
          sourcemap: true,
        },
}));
