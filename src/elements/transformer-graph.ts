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
  /** The input row's values: a view of the rollout's buffer, or the flow's own [n] tensor. */
  readonly nodeValues: LayeredNodeValues;
  /** The flow from `query` to each input token (float64, as the worker computed it); null for rollout. */
  readonly flow: Float64Array | null;
  destroy(): void;
}

/** Everything made here is released by `destroy`, or before an error leaves. */
export async function createTransformerGraph(engine: Engine, options: TransformerGraphOptions): Promise<TransformerGraph> {
  const { weights, tokens, query, label } = options;
  const [layers, , n] = weights.shape as [number, number, number, number];
  if (query >= n) throw new InvalidArgumentError(`<${label}>: query must be a token index below ${n}; got ${query}.`);
  if (options.nodes === 'flow' && n > maxAttentionFlowTokens) {
    throw new InvalidArgumentError(`<${label}>: attention flow is exact for at most ${maxAttentionFlowTokens} tokens; these weights have ${n} (view="rollout" has no limit).`);
  }
  const owned: { destroy(): void }[] = [];
  const release = () => owned.splice(0).reverse().forEach((thing) => thing.destroy());
  try {
    const rollout = await attentionRollout(engine, weights, { fusion: options.fusion, discardRatio: options.discardRatio, label: `${label}.rollout` });
    owned.push(rollout.graph, rollout.rollout);
    let nodeValues: LayeredNodeValues = { tensor: rollout.rollout, offset: ((layers - 1) * n + query) * n };
    let flow: Float64Array | null = null;
    if (options.nodes === 'flow') {
      flow = await flowFrom(rollout.graph, layers, n, query);
      const tensor = tensorFromArray(engine, Float32Array.from(flow), [n], { label: `${label}.flow` });
      owned.push(tensor);
      nodeValues = { tensor, offset: 0 };
      // The rollout is not shown: give its buffer back now.
      rollout.rollout.destroy();
      owned.splice(owned.indexOf(rollout.rollout), 1);
    }
    const view = createLayeredGraphView(engine, { canvas: options.canvas, graph: rollout.graph, tokens, nodeValues, threshold: options.threshold, label });
    owned.push(view);
    return { view, graph: rollout.graph, nodeValues, flow, destroy: release };
  } catch (error) {
    release();
    throw error;
  }
}

/** One row of attention flow, in a worker that lives only as long as this computation (a rebuild makes a new one). */
async function flowFrom(graph: GpuTensor, layers: number, n: number, query: number): Promise<Float64Array> {
  const worker = createAttentionFlowWorker({ cacheSize: 1 });
  try {
    return await worker.compute(await graph.read(), layers, n, { outputs: [query] });
  } finally {
    worker.destroy();
  }
}
