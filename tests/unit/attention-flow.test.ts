// Attention flow: exact against min-cut enumeration on tiny graphs, sound bounds and closed forms on n = 64,
// options, timing, bad input, and the worker client's Node fallback and cache.
import { describe, expect, it } from 'vitest';
import { attentionFlow } from '../../src/attention/attention-flow';
import { createAttentionFlowWorker } from '../../src/attention/attention-flow-client';
import { GlassboxError, InvalidArgumentError } from '../../src/core/errors';
import { randomAttentionGraph, referenceAttentionFlow } from '../../src/reference/attention-flow';
import { maxAbsDifference, seededRandom } from '../../src/reference/random';

/** Raw capacities with zeros, plus whole tokens cut off: one sends nothing down a layer, one gets nothing. */
function sparseGraph(layers: number, n: number, seed: number): Float64Array {
  const graph = randomAttentionGraph(layers, n, seed, { zeroFraction: 0.3, rowStochastic: false });
  const random = seededRandom(seed + 1000);
  const [l, t] = [Math.floor(random() * layers), Math.floor(random() * n)];
  graph.fill(0, (l * n + t) * n, (l * n + t + 1) * n); // token t at level l + 1 has no edge down
  const [l2, t2] = [Math.floor(random() * layers), Math.floor(random() * n)];
  for (let i = 0; i < n; i++) graph[(l2 * n + i) * n + t2] = 0; // token t2 at level l2 has no edge in
  return graph;
}

/** R = Â_{L−1} ··· Â_0 (rows: outputs): attention rollout, in float64. */
function rollout(graph: Float64Array, layers: number, n: number): Float64Array {
  let product = graph.slice(0, n * n);
  for (let l = 1; l < layers; l++) {
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let t = 0; t < n; t++)
        for (let j = 0; j < n; j++) next[i * n + j]! += graph[(l * n + i) * n + t]! * product[t * n + j]!;
    product = next;
  }
  return product;
}

function timed<T>(body: () => T): { value: T; wallMs: number; cpuMs: number } {
  const [wall, cpu] = [performance.now(), process.cpuUsage()];
  const value = body();
  const used = process.cpuUsage(cpu);
  return { value, wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

describe('attentionFlow against min-cut enumeration', () => {
  it('the reference itself: two layers give Σ_t min(Â_1[i][t], Â_0[t][j]) (disjoint two-edge paths)', () => {
    const graph = randomAttentionGraph(2, 3, 7, { zeroFraction: 0.2 });
    const flow = referenceAttentionFlow(graph, 2, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let want = 0;
        for (let t = 0; t < 3; t++) want += Math.min(graph[9 + i * 3 + t]!, graph[t * 3 + j]!);
        expect(flow[i * 3 + j]).toBeCloseTo(want, 14);
      }
  });

  for (const layers of [1, 2, 3])
    for (const n of [1, 2, 3, 4])
      it(`L = ${layers}, n = ${n}: equal within 1e-12 on attention-like and on sparse graphs with cut-off tokens`, () => {
        for (let seed = 1; seed <= 4; seed++) {
          const graphs = [randomAttentionGraph(layers, n, seed, { zeroFraction: 0.25 }), sparseGraph(layers, n, seed)];
          for (const graph of graphs) {
            const want = referenceAttentionFlow(graph, layers, n);
            expect(maxAbsDifference(attentionFlow(graph, layers, n), want)).toBeLessThan(1e-12);
            if (n === 4 && layers === 3 && graph !== graphs[1]) expect(new Set(want).size).toBeGreaterThan(8); // not a trivial answer
          }
        }
      });
});

describe('attentionFlow on n = 64', () => {
  const n = 64;

  it('one layer: the flow is Â_0 itself', () => {
    const graph = randomAttentionGraph(1, n, 3);
    expect(Array.from(attentionFlow(graph, 1, n))).toEqual(Array.from(graph));
  });

  it('two layers: Σ_t min(Â_1[i][t], Â_0[t][j]) exactly, and within [rollout, min(out of i, into j)]', () => {
    const graph = randomAttentionGraph(2, n, 4, { zeroFraction: 0.1 });
    const { value: flow, wallMs, cpuMs } = timed(() => attentionFlow(graph, 2, n));
    console.log(`attentionFlow n = 64, L = 2: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`);
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let t = 0; t < n; t++) want += Math.min(graph[(n + i) * n + t]!, graph[t * n + j]!);
        worst = Math.max(worst, Math.abs(flow[i * n + j]! - want));
      }
    expect(worst).toBeLessThan(1e-14);
    expectWithinBounds(graph, 2, n, flow);
  }, 30_000);

  it('six layers: within [rollout, min(out of i, into j)], every row carrying at least 1', () => {
    const graph = randomAttentionGraph(6, n, 5, { zeroFraction: 0.5 });
    const { value: flow, wallMs, cpuMs } = timed(() => attentionFlow(graph, 6, n));
    console.log(`attentionFlow n = 64, L = 6: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`);
    expectWithinBounds(graph, 6, n, flow);
  }, 120_000);
});

/**
 * Sound bounds for row-stochastic Â. Upper: the edges out of output i, and those into input j, are cuts.
 * Lower: sending each node's mass down in proportion to its row (rollout) is a feasible flow, since no mass
 * exceeds 1; the part of it ending at j is a flow from i to j of value R[i][j].
 */
function expectWithinBounds(graph: Float64Array, layers: number, n: number, flow: Float64Array): void {
  const lower = rollout(graph, layers, n);
  const top = (layers - 1) * n * n;
  let [tooLow, tooHigh] = [0, 0];
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < n; j++) {
      let [out, into] = [0, 0];
      for (let t = 0; t < n; t++) [out, into] = [out + graph[top + i * n + t]!, into + graph[t * n + j]!];
      const value = flow[i * n + j]!;
      rowSum += value;
      tooHigh = Math.max(tooHigh, value - Math.min(out, into));
      tooLow = Math.max(tooLow, lower[i * n + j]! - value);
    }
    expect(rowSum).toBeGreaterThan(1 - 1e-12);
  }
  expect(tooHigh).toBeLessThan(1e-12);
  expect(tooLow).toBeLessThan(1e-12);
  expect(maxAbsDifference(flow, lower)).toBeGreaterThan(1e-3); // flow is not rollout
}

describe('attentionFlow options and algebra (n = 12, L = 4)', () => {
  const [layers, n] = [4, 12];
  const graph = randomAttentionGraph(layers, n, 6, { zeroFraction: 0.4 });
  const full = attentionFlow(graph, layers, n);

  it('outputs: only those rows, in the order asked', () => {
    const rows = attentionFlow(graph, layers, n, { outputs: [7, 0, 7] });
    expect(Array.from(rows)).toEqual([...full.subarray(7 * n, 8 * n), ...full.subarray(0, n), ...full.subarray(7 * n, 8 * n)]);
  });

  it('upToLayer: the same as the flow of the stack cut after that layer', () => {
    const below = attentionFlow(graph.slice(0, 2 * n * n), 2, n);
    expect(Array.from(attentionFlow(graph, layers, n, { upToLayer: 1 }))).toEqual(Array.from(below));
    expect(Array.from(attentionFlow(graph, layers, n, { upToLayer: 3 }))).toEqual(Array.from(full));
  });

  it('scales with the capacities, and never falls when one capacity grows', () => {
    const scaled = attentionFlow(graph.map((c) => c * 3.5), layers, n);
    expect(maxAbsDifference(scaled, full.map((f) => f * 3.5))).toBeLessThan(1e-12);
    const wider = graph.slice();
    wider[2 * n * n + 5 * n + 9] = wider[2 * n * n + 5 * n + 9]! + 0.5;
    const grown = attentionFlow(wider, layers, n);
    expect(grown.every((f, index) => f >= full[index]! - 1e-12)).toBe(true);
    expect(maxAbsDifference(grown, full)).toBeGreaterThan(1e-6);
  });
});

describe('attentionFlow rejects bad input, saying what was expected and what came', () => {
  const graph = randomAttentionGraph(2, 3, 1);
  const cases: [string, () => unknown, RegExp][] = [
    ['n over the limit', () => attentionFlow(new Float64Array(65 * 65), 1, 65), /at most 64 tokens.*got n = 65/],
    ['a wrong length', () => attentionFlow(graph, 2, 4), /\[2, 4, 4\] = 32 values; got 18/],
    ['NaN', () => attentionFlow(graph.map((c, i) => (i === 13 ? NaN : c)), 2, 3), /finite and ≥ 0; got NaN at \[1, 1, 1\]/],
    ['a negative capacity', () => attentionFlow(graph.map((c, i) => (i === 2 ? -0.5 : c)), 2, 3), /got -0.5 at \[0, 0, 2\]/],
    ['Infinity', () => attentionFlow(graph.map((c, i) => (i === 0 ? Infinity : c)), 2, 3), /got Infinity at \[0, 0, 0\]/],
    ['layers 0', () => attentionFlow([], 0, 3), /layers must be an integer ≥ 1; got 0/],
    ['a fractional n', () => attentionFlow(graph, 2, 2.5), /n \(tokens\) must be an integer ≥ 1; got 2.5/],
    ['upToLayer too high', () => attentionFlow(graph, 2, 3, { upToLayer: 2 }), /upToLayer must be an integer in \[0, 1\]; got 2/],
    ['an output out of range', () => attentionFlow(graph, 2, 3, { outputs: [0, 3] }), /token indices in \[0, 2\]; got 3/],
  ];
  for (const [what, call, message] of cases)
    it(what, () => {
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(message);
    });
});

describe('createAttentionFlowWorker without Worker (Node): the same computation on this thread', () => {
  const [layers, n] = [3, 10];
  const graph = randomAttentionGraph(layers, n, 8, { zeroFraction: 0.3 });

  it('gives the direct result, as a fresh copy each time, from float32 input too', async () => {
    const flows = createAttentionFlowWorker();
    try {
      const want = attentionFlow(graph, layers, n);
      const first = await flows.compute(graph, layers, n);
      expect(Array.from(first)).toEqual(Array.from(want));
      first.fill(-1); // the caller's copy: must not reach the cache
      expect(Array.from(await flows.compute(graph, layers, n))).toEqual(Array.from(want));
      const single = new Float32Array(graph);
      expect(Array.from(await flows.compute(single, layers, n, { outputs: [4] }))).toEqual(
        Array.from(attentionFlow(single, layers, n, { outputs: [4] })),
      );
    } finally {
      flows.destroy();
    }
  });

  it('rejects bad input as InvalidArgumentError, and everything once destroyed', async () => {
    const flows = createAttentionFlowWorker();
    await expect(flows.compute(graph, layers, n + 1)).rejects.toThrow(InvalidArgumentError);
    await expect(flows.compute(graph, layers, n + 1)).rejects.toThrow(/graph must hold \[layers, n, n\] = .*; got /);
    await expect(flows.compute(graph, layers, n, { upToLayer: -1 })).rejects.toThrow(/upToLayer/);
    flows.destroy();
    const late = flows.compute(graph, layers, n);
    await expect(late).rejects.toThrow(GlassboxError);
    await expect(late).rejects.toThrow(/destroyed/);
  });
});
