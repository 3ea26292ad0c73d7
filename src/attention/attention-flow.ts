// Attention flow (Abnar & Zuidema 2020): how much of output token i can reach input token j through the
// stack of attention layers, as the maximum flow in the layered token graph. Exact, on the CPU, in float64.
import { formatCount, invalidArgument } from '../core/errors';
import { createFlowNetwork, createMaxFlowSolver, maxFlowTolerance } from './max-flow';

/** Options for {@link attentionFlow} and `AttentionFlowWorker.compute`. */
export interface AttentionFlowOptions {
  /** Output tokens whose rows to compute, in this order; default all n. */
  outputs?: readonly number[];
  /**
   * Index of the last layer to pass through (0-based): flow from the tokens after that layer down to the
   * inputs, using Â_0 … Â_upToLayer only. Default layers − 1 (the whole stack).
   */
  upToLayer?: number;
}

/** Every pair is a max-flow on (layers + 1) · n nodes and layers · n² edges: O(n⁵)-ish, so n is capped. */
export const maxAttentionFlowTokens = 64;

/**
 * Attention flow of a stack of row-stochastic attention matrices (any non-negative capacities work).
 * graph: [layers, n, n] row-major, graph[l][i][j] = Â_l[i][j] = capacity of the edge from token i at level
 * l + 1 (the layer's query) to token j at level l (its key); level 0 holds the input tokens.
 * Returns [outputs.length, n] (default [n, n]) float64: entry (r, j) = max flow from output token
 * outputs[r] at level upToLayer + 1 to input token j at level 0, exact to ~1e-14 relative to the largest
 * capacity per edge crossing the minimum cut (see max-flow.ts).
 */
export function attentionFlow(
  graph: ArrayLike<number>,
  layers: number,
  n: number,
  options: AttentionFlowOptions = {},
): Float64Array {
  const { outputs, depth } = checkAttentionFlowArguments(graph, layers, n, options);
  const flow = new Float64Array(outputs.length * n);
  // One layer: the only path from i to j is the edge itself.
  if (depth === 1) {
    outputs.forEach((output, row) => {
      for (let input = 0; input < n; input++) flow[row * n + input] = graph[output * n + input]!;
    });
    return flow;
  }
  const pairs = createPairNetwork(graph, depth, n);
  outputs.forEach((output, row) => {
    for (let input = 0; input < n; input++) flow[row * n + input] = pairs.maxFlow(output, input);
  });
  return flow;
}

/**
 * Validates the arguments of `attentionFlow` (also used by the worker client, so bad input fails before it
 * is sent). Returns the resolved outputs and the number of layers used.
 */
export function checkAttentionFlowArguments(
  graph: ArrayLike<number>,
  layers: number,
  n: number,
  options: AttentionFlowOptions = {},
): { outputs: readonly number[]; depth: number } {
  invalidArgument(Number.isInteger(layers) && layers >= 1, () => `attentionFlow: layers must be an integer ≥ 1; got ${layers}.`);
  invalidArgument(Number.isInteger(n) && n >= 1, () => `attentionFlow: n (tokens) must be an integer ≥ 1; got ${n}.`);
  invalidArgument(
    n <= maxAttentionFlowTokens,
    () =>
      `attentionFlow: exact flow is computed for at most ${maxAttentionFlowTokens} tokens (n² max-flows on ` +
      `the layered graph); got n = ${formatCount(n)}. Use rollout for longer sequences, or pass fewer tokens.`,
  );
  const expected = layers * n * n;
  invalidArgument(
    graph.length === expected,
    () => `attentionFlow: graph must hold [layers, n, n] = [${layers}, ${n}, ${n}] = ${formatCount(expected)} values; got ${formatCount(graph.length)}.`,
  );
  for (let index = 0; index < expected; index++) {
    const value = graph[index]!;
    if (Number.isFinite(value) && value >= 0) continue;
    const [l, i, j] = [Math.floor(index / (n * n)), Math.floor(index / n) % n, index % n];
    invalidArgument(false, () => `attentionFlow: capacities must be finite and ≥ 0; got ${value} at [${l}, ${i}, ${j}].`);
  }
  const depth = (options.upToLayer ?? layers - 1) + 1;
  invalidArgument(
    Number.isInteger(depth) && depth >= 1 && depth <= layers,
    () => `attentionFlow: upToLayer must be an integer in [0, ${layers - 1}]; got ${options.upToLayer}.`,
  );
  const outputs = options.outputs ?? Array.from({ length: n }, (_, i) => i);
  outputs.forEach((output) =>
    invalidArgument(
      Number.isInteger(output) && output >= 0 && output < n,
      () => `attentionFlow: outputs must be token indices in [0, ${n - 1}]; got ${output}.`,
    ),
  );
  return { outputs, depth };
}

/**
 * The layers between the output and the input levels, built once; the output token's edges (row i of the
 * top layer) and the input token's (column j of the bottom layer) become edges from a source node and into
 * a sink node whose capacities are set for each pair. The other tokens at those two levels cannot carry
 * flow from i to j (no edge enters an output, none leaves an input), so they are left out.
 * Inner node of (level, token), level 1 … depth − 1: (level − 1) · n + token.
 */
function createPairNetwork(graph: ArrayLike<number>, depth: number, n: number) {
  const inner = (depth - 1) * n;
  const [source, sink] = [inner, inner + 1];
  const middle = (depth - 2) * n * n; // edges of layers 1 … depth − 2
  const from = new Int32Array(middle + 2 * n);
  const to = new Int32Array(middle + 2 * n);
  const capacity = new Float64Array(middle + 2 * n).fill(1); // source and sink edges: set per pair
  for (let t = 0; t < n; t++) {
    [from[t], to[t]] = [source, (depth - 2) * n + t];
    [from[middle + n + t], to[middle + n + t]] = [t, sink];
  }
  for (let index = 0; index < middle; index++) {
    const l = 1 + Math.floor(index / (n * n)); // edge from level l + 1 to level l
    from[n + index] = l * n + (Math.floor(index / n) % n);
    to[n + index] = (l - 1) * n + (index % n);
    capacity[n + index] = graph[n * n + index]!;
  }
  const network = createFlowNetwork(inner + 2, from, to, capacity, largest(graph, depth * n * n) * maxFlowTolerance);
  // Layers counted down from the source: level depth − 1 is layer 1, level 1 is layer depth − 1.
  const layers = Int32Array.from({ length: inner + 2 }, (_, node) => (node < inner ? depth - 1 - Math.floor(node / n) : 0));
  layers[sink] = depth;
  const solver = createMaxFlowSolver(network, layers);
  const top = (depth - 1) * n * n;
  return {
    maxFlow(output: number, input: number): number {
      let [out, into] = [0, 0];
      for (let t = 0; t < n; t++) {
        out += network.capacity[network.edgeIndex[t]!] = graph[top + output * n + t]!;
        into += network.capacity[network.edgeIndex[middle + n + t]!] = graph[t * n + input]!;
      }
      // The edges out of the output token, and those into the input token, are cuts: bounds on the flow.
      return solver.maxFlow(source, sink, Math.min(out, into));
    },
  };
}

function largest(values: ArrayLike<number>, count: number): number {
  let value = 0;
  for (let index = 0; index < count; index++) value = Math.max(value, values[index]!);
  return value;
}
