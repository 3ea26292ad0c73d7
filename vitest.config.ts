// Three suites, one `vitest run`:
//   unit — Node: float64 references, layout math, argument checks;
//   gpu  — headless Chromium on WebGPU (SwiftShader here): kernels against the references, render pixels;
//   e2e  — Node drives headless Chromium (puppeteer) through the demo pages served by vite.
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { browserPath, chromiumFlags } from './scripts/chromium.js';

export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-reports/results.json' }]] : ['default'],
    projects: [
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node' } },
      {
        // Bundled up front: found mid-run, vite would re-bundle and reload the page under a running test.
        optimizeDeps: {
          include: ['@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core/dist/register_all_gradients', 'regl'],
        },
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: browserPath(), args: chromiumFlags } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
