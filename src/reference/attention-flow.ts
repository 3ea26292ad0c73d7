// Attention flow by brute force, for judging the max-flow solver: by max-flow = min-cut, the flow from s to t
// is the smallest capacity of any s–t cut, and on a tiny graph every cut can be listed. Shares no code with
// src/attention/max-flow.ts.
import { seededRandom } from './random';

/** 2^18 cuts per pair is the most this is meant for. */
export const referenceAttentionFlowMaxInnerNodes = 18;

/**
 * [n, n] float64 attention flow of graph [layers, n, n] (graph[l][i][j] = capacity of the edge from token i
 * at level l + 1 to token j at level l; level 0 = inputs): entry (i, j) = the minimum, over every set S of
 * nodes holding the output (layers, i) and not the input (0, j), of the capacity of the edges leaving S.
 */
export function referenceAttentionFlow(graph: ArrayLike<number>, layers: number, n: number): Float64Array {
  const nodes = (layers + 1) * n;
  const inner = nodes - 2;
  if (inner > referenceAttentionFlowMaxInnerNodes) {
    throw new Error(`referenceAttentionFlow: ${inner} inner nodes; at most ${referenceAttentionFlowMaxInnerNodes} can be enumerated.`);
  }
  if (graph.length !== layers * n * n) throw new Error(`referenceAttentionFlow: graph length ${graph.length}, want ${layers * n * n}.`);
  const flow = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) flow[i * n + j] = minimumCut(graph, layers, n, layers * n + i, j);
  }
  return flow;
}

function minimumCut(graph: ArrayLike<number>, layers: number, n: number, source: number, sink: number): number {
  const nodes = (layers + 1) * n;
  const others = Array.from({ length: nodes }, (_, node) => node).filter((node) => node !== source && node !== sink);
  const onSourceSide = new Uint8Array(nodes);
  let best = Infinity;
  for (let mask = 0; mask < 2 ** others.length; mask++) {
    onSourceSide.fill(0);
    onSourceSide[source] = 1;
    others.forEach((node, bit) => {
      if ((mask >> bit) & 1) onSourceSide[node] = 1;
    });
    best = Math.min(best, cutCapacity(graph, layers, n, onSourceSide));
  }
  return best;
}

/** Sum of the capacities of edges from the source side to the sink side. Node of (level, token) = level·n + token. */
function cutCapacity(graph: ArrayLike<number>, layers: number, n: number, onSourceSide: Uint8Array): number {
  let capacity = 0;
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < n; i++) {
      if (!onSourceSide[(l + 1) * n + i]) continue;
      for (let j = 0; j < n; j++) {
        if (!onSourceSide[l * n + j]) capacity += graph[(l * n + i) * n + j]!;
      }
    }
  }
  return capacity;
}

export interface RandomAttentionGraphOptions {
  /** Share of the random weights set to 0 before the identity is added (no edge). Default 0. */
  zeroFraction?: number;
  /** Rows normalized to sum to 1, Â = rownorm(A + I) as rollout and flow use; false: raw capacities in [0, 4). */
  rowStochastic?: boolean;
}

/** Seeded [layers, n, n] capacities shaped like attention: peaked rows (exp of uniform logits), optional zeros. */
export function randomAttentionGraph(layers: number, n: number, seed: number, options: RandomAttentionGraphOptions = {}): Float64Array {
  const random = seededRandom(seed);
  const { zeroFraction = 0, rowStochastic = true } = options;
  const graph = new Float64Array(layers * n * n);
  for (let row = 0; row < layers * n; row++) {
    const values = graph.subarray(row * n, (row + 1) * n);
    for (let j = 0; j < n; j++) values[j] = random() < zeroFraction ? 0 : rowStochastic ? Math.exp(4 * random()) : 4 * random();
    if (!rowStochastic) continue;
    const sum = values.reduce((a, b) => a + b, 0);
    // rownorm(A + I) with A's rows normalized first (where they have any weight), as a model's P would be.
    for (let j = 0; j < n; j++) values[j] = (sum > 0 ? values[j]! / sum : 0) + (j === row % n ? 1 : 0);
    const total = values.reduce((a, b) => a + b, 0);
    for (let j = 0; j < n; j++) values[j] = values[j]! / total;
  }
  return graph;
}
