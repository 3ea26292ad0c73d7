// Maximum flow (Dinic) on a network stored once in typed arrays and solved many times: attention flow asks
// for n² source–sink pairs on one graph, so a solve only resets the residual capacities, never allocates.

/** A directed network in compressed sparse rows; every edge is paired with its reverse (capacity 0). */
export interface FlowNetwork {
  readonly nodeCount: number;
  /** Edges out of node u are edgeStart[u] .. edgeStart[u + 1] − 1. */
  readonly edgeStart: Int32Array;
  readonly edgeTo: Int32Array;
  /** Index of the paired edge (v → u for u → v). */
  readonly edgeReverse: Int32Array;
  /** Read at the start of every solve: a caller may change capacities of kept edges between solves. */
  readonly capacity: Float64Array;
  /** Where each input edge went (its forward edge), or −1 for a zero-capacity edge that was left out. */
  readonly edgeIndex: Int32Array;
  /** Residual capacities at or below this count as saturated (see `maxFlowTolerance`). */
  readonly epsilon: number;
}

export interface MaxFlowSolver {
  /**
   * The value of a maximum flow from source to sink. Exact up to the tolerance: the returned value f and the
   * capacity c of the cut it leaves satisfy f ≤ maxflow ≤ c ≤ f + (edges crossing that cut) · epsilon.
   * upperBound, the capacity of some source–sink cut the caller knows, lets it stop once the flow is within
   * epsilon of it, skipping the last search that would prove no augmenting path is left.
   */
  maxFlow(source: number, sink: number, upperBound?: number): number;
}

/** Relative size of `epsilon`: far below float32 resolution, far above float64 rounding of a few sums. */
export const maxFlowTolerance = 1e-14;

/**
 * Builds a network from edge lists (u → v with capacity ≥ 0; capacity may be longer than the lists);
 * zero-capacity edges are left out. epsilon defaults to maxFlowTolerance × the largest capacity.
 */
export function createFlowNetwork(
  nodeCount: number,
  from: ArrayLike<number>,
  to: ArrayLike<number>,
  capacity: ArrayLike<number>,
  epsilon?: number,
): FlowNetwork {
  const degree = new Int32Array(nodeCount + 1);
  let largest = 0;
  for (let e = 0; e < from.length; e++) {
    if (!(capacity[e]! > 0)) continue;
    degree[from[e]! + 1]! += 1;
    degree[to[e]! + 1]! += 1;
    largest = Math.max(largest, capacity[e]!);
  }
  const edgeStart = new Int32Array(nodeCount + 1);
  for (let u = 0; u < nodeCount; u++) edgeStart[u + 1] = edgeStart[u]! + degree[u + 1]!;
  const edgeCount = edgeStart[nodeCount]!;
  const next = edgeStart.slice(0, nodeCount);
  const edgeTo = new Int32Array(edgeCount);
  const edgeReverse = new Int32Array(edgeCount);
  const edgeCapacity = new Float64Array(edgeCount);
  const edgeIndex = new Int32Array(from.length).fill(-1);
  for (let e = 0; e < from.length; e++) {
    if (!(capacity[e]! > 0)) continue;
    const u = from[e]!;
    const v = to[e]!;
    const forward = next[u]!++;
    const backward = next[v]!++;
    edgeTo[forward] = v;
    edgeTo[backward] = u;
    edgeReverse[forward] = backward;
    edgeReverse[backward] = forward;
    edgeCapacity[forward] = capacity[e]!;
    edgeIndex[e] = forward;
  }
  return {
    nodeCount,
    edgeStart,
    edgeTo,
    edgeReverse,
    capacity: edgeCapacity,
    edgeIndex,
    epsilon: epsilon ?? largest * maxFlowTolerance,
  };
}

/**
 * A solver with its scratch arrays allocated once for this network. layers: for a layered network (every
 * edge goes from layer k to layer k + 1; the source in layer 0), each node's layer. They are the
 * breadth-first levels of the untouched network, so the first phase of every solve skips its search.
 */
export function createMaxFlowSolver(network: FlowNetwork, layers?: Int32Array): MaxFlowSolver {
  const { nodeCount, edgeStart, edgeTo, edgeReverse, capacity, epsilon } = network;
  const residual = new Float64Array(capacity.length);
  const level = new Int32Array(nodeCount);
  const queue = new Int32Array(nodeCount);
  const currentEdge = new Int32Array(nodeCount);
  let sinkLevel = 0;

  /** Levels by breadth-first search over residual edges; false when the sink cannot be reached. */
  function buildLevels(source: number, sink: number): boolean {
    level.fill(-1);
    level[source] = 0;
    queue[0] = source;
    let head = 0;
    let tail = 1;
    while (head < tail) {
      const u = queue[head++]!;
      if (u === sink) break; // nodes at the sink's depth or deeper cannot lie on a shortest path
      for (let e = edgeStart[u]!; e < edgeStart[u + 1]!; e++) {
        const v = edgeTo[e]!;
        if (level[v]! < 0 && residual[e]! > epsilon) {
          level[v] = level[u]! + 1;
          queue[tail++] = v;
        }
      }
    }
    sinkLevel = level[sink]!;
    return sinkLevel >= 0;
  }

  /** Pushes up to `limit` from u towards the sink along the level graph; returns what was pushed. */
  function push(u: number, sink: number, limit: number): number {
    if (u === sink) return limit;
    let pushed = 0;
    const nextLevel = level[u]! + 1;
    for (let e = currentEdge[u]!; e < edgeStart[u + 1]!; e++, currentEdge[u] = e) {
      const v = edgeTo[e]!;
      const room = residual[e]!;
      // Only the sink may sit at the sink's level: other nodes there lead nowhere shorter.
      if (room <= epsilon || level[v] !== nextLevel || (nextLevel >= sinkLevel && v !== sink)) continue;
      const sent = push(v, sink, Math.min(limit - pushed, room));
      if (sent > 0) {
        residual[e] = room - sent;
        residual[edgeReverse[e]!]! += sent;
        pushed += sent;
        if (limit - pushed <= epsilon) return pushed; // keep this edge current: it may have room left
      }
    }
    return pushed;
  }

  return {
    maxFlow(source, sink, upperBound = Infinity) {
      if (source === sink) throw new Error(`maxFlow: source and sink are both node ${source}`);
      residual.set(capacity);
      let total = 0;
      if (layers) {
        level.set(layers);
        sinkLevel = level[sink]!;
        currentEdge.set(edgeStart.subarray(0, nodeCount));
        total += push(source, sink, Infinity);
      }
      while (upperBound - total > epsilon && buildLevels(source, sink)) {
        currentEdge.set(edgeStart.subarray(0, nodeCount));
        total += push(source, sink, Infinity);
      }
      return total;
    },
  };
}
