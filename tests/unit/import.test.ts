// Importing Glassbox where there is no WebGPU (Node, server-side rendering) must work; only createEngine
// fails, and it says why.
import { expect, it } from 'vitest';

it('the public entry imports without WebGPU, and createEngine explains what is missing', async () => {
  const glassbox = await import('../../src/index');
  expect(typeof glassbox.createEngine).toBe('function');
  await expect(glassbox.createEngine()).rejects.toThrow(glassbox.WebGpuUnavailableError);
}, 60_000); // the first import transforms the whole library from TypeScript here: ~6 s on two cores
