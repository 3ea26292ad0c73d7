// One engine per GPU test file, with a leak check: every test file must end with as many live buffers
// as it started with.
import { afterAll, beforeAll, expect } from 'vitest';
import { createEngine, type Engine } from '../../src/index';

export function useEngine(): () => Engine {
  let engine: Engine | undefined;
  let liveAtStart = 0;
  beforeAll(async () => {
    engine = await createEngine();
    liveAtStart = engine.liveBufferCount();
  });
  afterAll(() => {
    if (!engine) return;
    const leaked = engine.liveBufferLabels();
    expect(engine.liveBufferCount(), `buffers still live: ${leaked.join(', ')}`).toBe(liveAtStart);
    engine.destroy();
  });
  return () => {
    if (!engine) throw new Error('useEngine(): the engine is created in beforeAll');
    return engine;
  };
}
