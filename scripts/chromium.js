// Which browser runs the GPU tests, the e2e tests and the benchmarks, and with which flags.
// One place, shared by vitest.config.ts, tests/e2e and bench/run.js.
import { existsSync } from 'node:fs';

/**
 * CHROME_PATH if set, else Debian's chromium, else undefined (puppeteer's own Chrome).
 * @returns {string | undefined}
 */
export function browserPath() {
  if (process.env.CHROME_PATH) return process.env.CHROME_PATH;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined;
}

// Without the ANGLE/Vulkan SwiftShader flags, presenting a WebGPU canvas kills Chromium's GPU process
// on machines without a GPU, and tfjs readbacks can return wrong numbers (see DESIGN.md). On a machine
// with a real GPU, GLASSBOX_REAL_GPU=1 drops them so the hardware adapter is used.
const swiftshaderFlags = [
  '--use-angle=swiftshader',
  '--use-vulkan=swiftshader',
  '--enable-features=Vulkan',
  '--enable-unsafe-swiftshader',
];

export const chromiumFlags = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  ...(process.env.GLASSBOX_REAL_GPU ? [] : swiftshaderFlags),
];
