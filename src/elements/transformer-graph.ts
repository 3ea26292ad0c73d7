// The layered graph of <glassbox-transformer>: the head-fused attention graph Â of every layer (rollout's
// first step), its input row coloured by rollout (on the GPU, drawn from its buffer) or by attention flow
// (exact max-flow on the CPU, in a worker: the graph is read back once) from one output token.
import { createAttentionFlowWorker } from '../attention/attention-flow-client';
import { maxAttentionFlowTokens } from '../attention/attention-flow';
import { attentionRollout, type HeadFusion } from '../attention/attention-rollout';
import type { Engine } from '../core/engine';
import { InvalidArgumentError } from '../core/errors';
import { tensorFromArray, type GpuTensor } from '../memory/gpu-tensor';
import { createLayeredGraphView, type LayeredGraphView, type LayeredNodeValues } from '../render/head-view/layered-graph-view';

export type GraphNodes = 'rollout' | 'flow';

export interface TransformerGraphOptions {
  canvas: HTMLCanvasElement;
  /** P as [layers, heads, n, n]. */
  weights: GpuTensor;
  tokens: readonly string[];
  nodes: GraphNodes;
  fusion: HeadFusion;
  discardRatio: number;
  /** The output token whose rollout or flow colours the input row. */
  query: number;
  threshold: number;
  label: string;
}

export interface TransformerGraph {
  readonly view: LayeredGraphView;
  /** The fused graph Â [layers, n, n]. */
  readonly graph: GpuTensor;
  /** The output token whose rollout or flow colours the input row now. */
  readonly query: number;
  /** The input row's values: a view of the rollout's buffer, or the flow's own [n] tensor. */
  readonly nodeValues: LayeredNodeValues;
  /** The flow from `query` to each input token (float64, as the worker computed it); null for rollout. */
  readonly flow: Float64Array | null;
  /**
   * Colours the input row from another output token, without rebuilding: for rollout another row of the
   * rollout's buffer; for flow that token's flow, computed in this graph's worker from the graph read back
   * once (a token asked again is answered from its cache). Resolves when the view shows it; a call still in
   * flight when a later one starts is dropped. Throws `InvalidArgumentError` unless 0 ≤ query < n.
   */
  setQuery(query: number): Promise<void>;
  destroy(): void;
}

/** Everything made here is released by `destroy`, or before an error leaves. */
export async function createTransformerGraph(engine: Engine, options: TransformerGraphOptions): Promise<TransformerGraph> {
  const { weights, tokens, label } = options;
  const [layers, , n] = weights.shape as [number, number, number, number];
  checkQuery(options.query, n, label);
  if (options.nodes === 'flow' && n > maxAttentionFlowTokens) {
    throw new InvalidArgumentError(`<${label}>: attention flow is exact for at most ${maxAttentionFlowTokens} tokens; these weights have ${n} (view="rollout" has no limit).`);
  }
  const owned: { destroy(): void }[] = [];
  const release = () => owned.splice(0).reverse().forEach((thing) => thing.destroy());
  try {
    const rollout = await attentionRollout(engine, weights, { fusion: options.fusion, discardRatio: options.discardRatio, label: `${label}.rollout` });
    owned.push(rollout.graph, rollout.rollout);
    const rolloutRow = (query: number): LayeredNodeValues => ({ tensor: rollout.rollout, offset: ((layers - 1) * n + query) * n });
    const flows = options.nodes === 'flow' ? flowSource(engine, rollout.graph, layers, n, label) : null;
    let shown: { query: number; nodeValues: LayeredNodeValues; flow: Float64Array | null };
    if (flows) {
      owned.push(flows);
      // The rollout is not shown: give its buffer back now.
      rollout.rollout.destroy();
      owned.splice(owned.indexOf(rollout.rollout), 1);
      const flow = await flows.compute(options.query);
      shown = { query: options.query, nodeValues: { tensor: flow.tensor, offset: 0 }, flow: flow.values };
      owned.push({ destroy: () => shown.nodeValues.tensor.destroy() }); // whichever flow is shown then
    } else {
      shown = { query: options.query, nodeValues: rolloutRow(options.query), flow: null };
    }
    const view = createLayeredGraphView(engine, { canvas: options.canvas, graph: rollout.graph, tokens, nodeValues: shown.nodeValues, threshold: options.threshold, label });
    owned.push(view);
    let latest = 0;
    return {
      view,
      graph: rollout.graph,
      get query() { return shown.query; },
      get nodeValues() { return shown.nodeValues; },
      get flow() { return shown.flow; },
      async setQuery(query) {
        checkQuery(query, n, label);
        const ticket = ++latest;
        if (!flows) {
          shown = { query, nodeValues: rolloutRow(query), flow: null };
          view.setNodeValues(shown.nodeValues);
          return;
        }
        const flow = await flows.compute(query);
        if (ticket !== latest || owned.length === 0) return flow.tensor.destroy(); // a later query, or destroyed
        const previous = shown.nodeValues.tensor;
        shown = { query, nodeValues: { tensor: flow.tensor, offset: 0 }, flow: flow.values };
        view.setNodeValues(shown.nodeValues);
        previous.destroy();
      },
      destroy: release,
    };
  } catch (error) {
    release();
    throw error;
  }
}

function checkQuery(query: number, n: number, label: string): void {
  if (!Number.isInteger(query) || query < 0 || query >= n) {
    throw new InvalidArgumentError(`<${label}>: query must be a token index in 0 … ${n - 1}; got ${query}.`);
  }
}

/**
 * Attention flow rows on demand: the graph is read back once, and one worker (with its cache) serves every
 * query of this graph's life.
 */
function flowSource(engine: Engine, graph: GpuTensor, layers: number, n: number, label: string) {
  const worker = createAttentionFlowWorker();
  let values: Promise<Float32Array> | null = null;
  return {
    async compute(query: number): Promise<{ values: Float64Array; tensor: GpuTensor }> {
      values ??= graph.read();
      const flow = await worker.compute(await values, layers, n, { outputs: [query] });
      return { values: flow, tensor: tensorFromArray(engine, Float32Array.from(flow), [n], { label: `${label}.flow` }) };
    },
    destroy: () => worker.destroy(),
  };
}
