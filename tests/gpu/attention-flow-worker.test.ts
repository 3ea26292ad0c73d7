// The attention-flow worker in a real browser: the same numbers as the direct call, repeats answered by the
// cache (messages to the worker counted), requests in flight shared, errors named, destroy rejecting.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attentionFlow } from '../../src/attention/attention-flow';
import { createAttentionFlowWorker } from '../../src/attention/attention-flow-client';
import type { AttentionFlowReply } from '../../src/attention/attention-flow-worker';
import { GlassboxError, InvalidArgumentError } from '../../src/core/errors';
import { randomAttentionGraph } from '../../src/reference/attention-flow';

afterEach(() => vi.restoreAllMocks());

describe('createAttentionFlowWorker in the browser', () => {
  it('runs in a worker and gives exactly the direct result', async () => {
    expect(typeof Worker).toBe('function'); // else the client would fall back to this thread
    const graph = new Float32Array(randomAttentionGraph(3, 11, 21, { zeroFraction: 0.3 }));
    const flows = createAttentionFlowWorker();
    try {
      expect(Array.from(await flows.compute(graph, 3, 11))).toEqual(Array.from(attentionFlow(graph, 3, 11)));
      const rows = await flows.compute(graph, 3, 11, { outputs: [10, 2], upToLayer: 1 });
      expect(Array.from(rows)).toEqual(Array.from(attentionFlow(graph, 3, 11, { outputs: [10, 2], upToLayer: 1 })));
    } finally {
      flows.destroy();
    }
  });

  it('answers a repeat from the cache and shares a request in flight: one message per distinct ask', async () => {
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    const graph = randomAttentionGraph(4, 9, 22, { zeroFraction: 0.2 });
    const flows = createAttentionFlowWorker();
    try {
      const [a, b] = await Promise.all([flows.compute(graph, 4, 9), flows.compute(graph.slice(), 4, 9)]);
      expect(posted).toHaveBeenCalledTimes(1);
      expect(Array.from(b)).toEqual(Array.from(a));
      a.fill(0); // each caller has its own copy
      const again = await flows.compute(new Float64Array(graph), 4, 9);
      expect(posted).toHaveBeenCalledTimes(1);
      expect(Array.from(again)).toEqual(Array.from(b));
      const changed = graph.slice();
      changed[5] = changed[5]! + 1e-9; // other content: a new computation
      await flows.compute(changed, 4, 9);
      await flows.compute(graph, 4, 9, { upToLayer: 2 }); // other options: a new computation
      expect(posted).toHaveBeenCalledTimes(3);
    } finally {
      flows.destroy();
    }
  });

  it('rejects bad input as InvalidArgumentError without messaging the worker', async () => {
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    const flows = createAttentionFlowWorker();
    try {
      const bad = randomAttentionGraph(2, 5, 23).map((c, i) => (i === 7 ? -1 : c));
      await expect(flows.compute(bad, 2, 5)).rejects.toThrow(InvalidArgumentError);
      await expect(flows.compute(bad, 2, 5)).rejects.toThrow(/capacities must be finite and ≥ 0; got -1 at \[0, 1, 2\]/);
      await expect(flows.compute(new Float64Array(65 * 65), 1, 65)).rejects.toThrow(/at most 64 tokens.*got n = 65/);
      expect(posted).not.toHaveBeenCalled();
    } finally {
      flows.destroy();
    }
    for (const cacheSize of [Number.NaN, -1, 2.5]) {
      expect(() => createAttentionFlowWorker({ cacheSize })).toThrow(`createAttentionFlowWorker: cacheSize must be an integer ≥ 0; got ${cacheSize}.`);
    }
  });

  it('the worker itself replies to a bad request with the error name and message', async () => {
    const worker = new Worker(new URL('../../src/attention/attention-flow-worker.ts', import.meta.url), { type: 'module' });
    try {
      const reply = new Promise<AttentionFlowReply>((resolve) => (worker.onmessage = (event) => resolve(event.data)));
      worker.postMessage({ id: 7, graph: new Float64Array([0.5, NaN, 0, 1]), layers: 1, n: 2 });
      expect(await reply).toEqual({
        id: 7,
        error: { name: 'InvalidArgumentError', message: expect.stringMatching(/finite and ≥ 0; got NaN at \[0, 0, 1\]/) },
      });
    } finally {
      worker.terminate();
    }
  });

  it('destroy rejects what is pending, and later asks', async () => {
    const flows = createAttentionFlowWorker();
    const slow = flows.compute(randomAttentionGraph(6, 64, 24), 6, 64); // about a second of max-flows
    const rejected = expect(slow).rejects.toThrow(/destroyed before the flow was computed/);
    flows.destroy();
    await rejected;
    await expect(slow).rejects.toThrow(GlassboxError);
    await expect(flows.compute(randomAttentionGraph(1, 2, 25), 1, 2)).rejects.toThrow(/destroyed/);
  });
});
