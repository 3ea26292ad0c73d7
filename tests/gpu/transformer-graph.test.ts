// The layered graph behind <glassbox-transformer view="rollout|flow">: its input row against the float64
// rollout and against attention flow of the graph it drew; setQuery() changes the row without a rebuild
// (rollout: another row of the same buffer; flow: one worker whose cache answers a token asked again);
// a query still in flight when a later one starts is dropped; bad queries are refused; nothing leaks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attentionFlow } from '../../src/attention/attention-flow';
import { InvalidArgumentError } from '../../src/core/errors';
import { createTransformerGraph, type GraphNodes, type TransformerGraph } from '../../src/elements/transformer-graph';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { referenceAttentionRollout } from '../../src/reference/attention-rollout';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const [LAYERS, HEADS, N, D] = [3, 2, 9, 5];

/** Causal softmax rows of seeded Q·K, [layers, heads, n, n]. */
function seededWeights(): Float32Array {
  const q = randomFloats(LAYERS * HEADS * N * D, 61, 2);
  const k = randomFloats(LAYERS * HEADS * N * D, 62, 2);
  return Float32Array.from(referenceAttentionWeights({ q, k, batch: LAYERS * HEADS, nq: N, nk: N, d: D, causal: true }));
}

const p = seededWeights();
const tokens = Array.from({ length: N }, (_, i) => `t${i}`);
let weights: GpuTensor;
let canvas: HTMLCanvasElement;
let liveBefore: number;
const built: TransformerGraph[] = [];

beforeEach(() => {
  liveBefore = engine().liveBufferCount();
  weights = tensorFromArray(engine(), p, [LAYERS, HEADS, N, N], { label: 'test.P' });
  canvas = Object.assign(document.createElement('canvas'), { width: 120, height: 90 });
  document.body.append(canvas);
});

afterEach(() => {
  for (const graph of built.splice(0)) graph.destroy();
  weights.destroy();
  canvas.remove();
  vi.restoreAllMocks();
  expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(liveBefore);
});

async function build(nodes: GraphNodes, query: number): Promise<TransformerGraph> {
  const graph = await createTransformerGraph(engine(), {
    canvas, weights, tokens, nodes, fusion: 'mean', discardRatio: 0, query, threshold: 0, label: 'test.graph',
  });
  built.push(graph);
  return graph;
}

async function shownRow(graph: TransformerGraph): Promise<Float32Array> {
  return graph.nodeValues.tensor.readRange(graph.nodeValues.offset ?? 0, N);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tolerance);
}

describe('createTransformerGraph', () => {
  it('rollout: the input row is R_{L−1}[query] of the float64 rollout, and setQuery moves to another row', async () => {
    const { rollout } = referenceAttentionRollout(p, [LAYERS, HEADS, N, N]);
    const row = (query: number) => rollout.subarray(((LAYERS - 1) * N + query) * N, ((LAYERS - 1) * N + query + 1) * N);
    const graph = await build('rollout', 8);
    expectClose(await shownRow(graph), row(8), 1e-6, 'query 8'); // float32 products of three row-stochastic 9×9 matrices
    const tensor = graph.nodeValues.tensor;
    await graph.setQuery(3);
    expect(graph.query).toBe(3);
    expect(graph.nodeValues.tensor).toBe(tensor); // the same buffer: no recomputation
    expectClose(await shownRow(graph), row(3), 1e-6, 'query 3');
    expect(graph.flow).toBeNull();
  });

  it('flow: each row is attention flow of the drawn graph; a token asked again comes from the cache', async () => {
    const post = vi.spyOn(Worker.prototype, 'postMessage');
    const graph = await build('flow', 8);
    const fused = await graph.graph.read();
    const flowOf = (query: number) => attentionFlow(fused, LAYERS, N, { outputs: [query] });
    expect(Array.from(graph.flow!)).toEqual(Array.from(flowOf(8)));
    expectClose(await shownRow(graph), flowOf(8), 1e-6, 'shown flow 8');
    expect(post).toHaveBeenCalledTimes(1);
    await graph.setQuery(4);
    expect(graph.query).toBe(4);
    expect(Array.from(graph.flow!)).toEqual(Array.from(flowOf(4)));
    expectClose(await shownRow(graph), flowOf(4), 1e-6, 'shown flow 4');
    await graph.setQuery(8);
    expect(post).toHaveBeenCalledTimes(2); // 8 again: answered by the cache
    expect(Array.from(graph.flow!)).toEqual(Array.from(flowOf(8)));
  });

  it('a query still in flight when a later one starts is dropped, and its tensor freed', async () => {
    const graph = await build('flow', 8);
    const first = graph.setQuery(2);
    const second = graph.setQuery(6);
    await Promise.all([first, second]);
    expect(graph.query).toBe(6);
    expect(Array.from(graph.flow!)).toEqual(Array.from(attentionFlow(await graph.graph.read(), LAYERS, N, { outputs: [6] })));
    // afterEach checks that the dropped query's tensor was destroyed (no live buffer left).
  });

  it('refuses queries outside 0 … n − 1, at creation and in setQuery', async () => {
    await expect(build('rollout', N)).rejects.toThrow(/query must be a token index in 0 … 8; got 9/);
    const graph = await build('flow', 0);
    await expect(graph.setQuery(-1)).rejects.toThrow(InvalidArgumentError);
    await expect(graph.setQuery(2.5)).rejects.toThrow(/got 2\.5/);
    expect(graph.query).toBe(0);
  });
});
