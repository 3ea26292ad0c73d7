// <glassbox-transformer>: the transformer views of one file of attention weights (P per layer, or Q and K):
//   view="head"  (default) the head view of one layer: queries left, keys right, one link per (head, i, j);
//                hover or arrow keys keep one token's links;
//   view="rollout" (or "graph") the layered graph: the head-fused attention graph Â of every layer, its
//                input row coloured by rollout from token `query` (default the last) down to the input;
//   view="flow"  the same graph, its input row coloured by attention flow from `query` (exact max-flow in a
//                worker; at most 64 tokens).
// The model view (every layer × head as heatmaps) is <glassbox-attention-heatmap head="all">.
//   <glassbox-transformer src="attention.safetensors" text="Now is the winter…" layer="1"></glassbox-transformer>
import { InvalidArgumentError } from '../core/errors';
import { exportViewPng } from '../export/png';
import { headViewSvg, layeredGraphSvg } from '../export/links-svg';
import { headViewData, visibleDataNpy } from '../export/visible-data';
import type { NamedTensors } from '../io/attention-tensors';
import { fetchNamedTensors } from '../io/named-tensors';
import { tensorFromBuffer, type GpuTensor } from '../memory/gpu-tensor';
import { createHeadView, type HeadView } from '../render/head-view/head-view';
import { elementWeights } from './attention-source';
import { choiceAttribute, indexAttribute, numberAttribute, requiredAttribute } from './attribute-values';
import { GlassboxElement, type MountContext, type MountedView } from './glassbox-element';
import { createTransformerGraph, type GraphNodes, type TransformerGraph } from './transformer-graph';

const TAG = 'glassbox-transformer';

interface TransformerExports {
  png(scale: number): Promise<Blob>;
  npy(): Promise<Uint8Array>;
  svg(): Promise<string>;
}

/**
 * `<glassbox-transformer>`: transformer views of one file of attention (P per layer, or Q and K): `view="head"`
 * (default) the head view of `layer`; `"rollout"` / `"graph"` the layered graph coloured by rollout from
 * `query`; `"flow"` the same coloured by attention flow (at most 64 tokens).
 */
export class GlassboxTransformer extends GlassboxElement {
  static readonly tagName = TAG;
  static readonly observedAttributes = ['src', 'text', 'view', 'layer', 'heads', 'threshold', 'fusion', 'discard', 'query', 'causal'];

  #tensors: NamedTensors | null = null;
  #tokens: readonly string[] | null = null;
  #headView: HeadView | null = null;
  #built: TransformerGraph | null = null;
  #exports: TransformerExports | null = null;
  /** The file `src` named, parsed: a rebuild for another view, fusion or discard does not fetch it again. */
  #fetched: { src: string; tensors: NamedTensors } | null = null;

  /** Tensors given directly (they win over `src`): name → { shape, data }. */
  get tensors(): NamedTensors | null {
    return this.#tensors;
  }
  set tensors(value: NamedTensors | null) {
    this.#tensors = value;
    if (this.isConnected) this.requestRemount();
  }

  /** One label per token (they win over the `text` attribute, whose characters are the tokens). */
  get tokens(): readonly string[] | null {
    return this.#tokens;
  }
  set tokens(value: readonly string[] | null) {
    this.#tokens = value;
    if (this.isConnected) this.requestRemount();
  }

  /** The head view while view="head"; null otherwise. */
  get headView(): HeadView | null {
    return this.#headView;
  }

  /** view="flow": the attention flow from `query` to each input token, as computed (float64); else null. */
  get flow(): Float64Array | null {
    return this.#built?.flow ?? null;
  }

  /** A PNG of the view at `scale`× the canvas's resolution (links only: the labels are DOM text; see exportSvg). */
  async exportPng(options: { scale?: number } = {}): Promise<Blob> {
    return this.#ready().png(options.scale ?? 1);
  }

  /** The shown data as .npy: P of the shown layer [heads, n, n], or the fused graph Â [layers, n, n]. */
  async exportNpy(): Promise<Uint8Array> {
    return this.#ready().npy();
  }

  /** The picture as SVG, labels and all: one line per drawn link. */
  async exportSvg(): Promise<string> {
    return this.#ready().svg();
  }

  protected override attributeUpdated(name: string): boolean {
    const view = this.#headView;
    const graph = this.#built;
    if (name === 'threshold' && (view ?? graph)) {
      (view ?? graph!.view).setThreshold(numberAttribute(this, 'threshold', 0));
      return true;
    }
    if (name === 'query' && graph) {
      // Another row of the rollout, or another token's flow from the worker's cache: no rebuild.
      const query = indexAttribute(this, 'query', graph.graph.shape[1]! - 1);
      graph.setQuery(query).catch((error: unknown) => graph === this.#built && this.failed(error));
      return true;
    }
    if (!view) return false;
    if (name === 'layer') view.setLayer(indexAttribute(this, 'layer', 0));
    else if (name === 'heads') view.setHeads(this.#enabledHeads(view.heads));
    else return false;
    return true;
  }

  protected async mountView({ engine, canvas, signal }: MountContext): Promise<MountedView> {
    const tensors = this.#tensors ?? (await this.#fetch(requiredAttribute(this, 'src', 'a src attribute or a tensors property'), signal));
    const weights = await elementWeights(engine, tensors, this.hasAttribute('causal'), TAG);
    if (weights.kind === 'array') {
      weights.tensor.destroy();
      throw new InvalidArgumentError(`<${TAG}>: expected attention weights or Q and K; the file holds another kind of array.`);
    }
    const n = weights.tensor.shape[1]!;
    // [layers × heads, n, n] seen as [layers, heads, n, n]: the same buffer, another shape.
    const stacked = tensorFromBuffer(engine, weights.tensor.buffer, [weights.layers, weights.heads, n, n]);
    const owned: { destroy(): void }[] = [weights.tensor];
    const release = () => owned.splice(0).reverse().forEach((thing) => thing.destroy());
    try {
      const tokens = this.#tokenLabels(n);
      const view = this.#view();
      const mounted = view === 'head'
        ? this.#head(engine, canvas, stacked, tokens, owned)
        : await this.#graph(engine, canvas, stacked, tokens, view, owned);
      return { render: mounted.render, destroy: () => ((this.#headView = null), (this.#built = null), (this.#exports = null), release()) };
    } catch (error) {
      release();
      throw error;
    }
  }

  #head(engine: MountContext['engine'], canvas: HTMLCanvasElement, weights: GpuTensor, tokens: string[], owned: { destroy(): void }[]) {
    const view = createHeadView(engine, { canvas, weights, tokens, layer: indexAttribute(this, 'layer', 0), threshold: numberAttribute(this, 'threshold', 0), label: TAG });
    owned.push(view);
    view.setHeads(this.#enabledHeads(view.heads));
    this.#headView = view;
    this.#exports = {
      png: (scale) => exportViewPng(engine, view, { canvas, scale }),
      npy: async () => visibleDataNpy(await headViewData(view, weights)),
      svg: async () => headViewSvg(view, (await headViewData(view, weights)).data),
    };
    return { render: (encoder: GPUCommandEncoder) => view.render(encoder) };
  }

  async #graph(engine: MountContext['engine'], canvas: HTMLCanvasElement, weights: GpuTensor, tokens: string[], nodes: GraphNodes, owned: { destroy(): void }[]) {
    const [layers, , n] = weights.shape as [number, number, number, number];
    const built = await createTransformerGraph(engine, {
      canvas, weights, tokens, nodes, fusion: choiceAttribute(this, 'fusion', ['mean', 'max', 'min'] as const, 'mean'), discardRatio: numberAttribute(this, 'discard', 0),
      query: indexAttribute(this, 'query', n - 1), threshold: numberAttribute(this, 'threshold', 0), label: TAG,
    });
    owned.push(built);
    const { view, graph } = built;
    this.#built = built;
    this.#exports = {
      png: (scale) => exportViewPng(engine, view, { canvas, scale }),
      npy: async () => visibleDataNpy({ data: await graph.read(), shape: [layers, n, n], origin: [0, 0, 0], description: 'fused attention graph' }),
      svg: async () => {
        const { flow, nodeValues } = built; // the query shown when the export starts
        return layeredGraphSvg(view, await graph.read(), flow ?? (await nodeValues.tensor.readRange(nodeValues.offset ?? 0, n)));
      },
    };
    return { render: (encoder: GPUCommandEncoder) => view.render(encoder) };
  }

  // Only a finished fetch is kept: one in flight belongs to its mount, whose signal may abort it.
  async #fetch(src: string, signal: AbortSignal): Promise<NamedTensors> {
    if (this.#fetched?.src === src) return this.#fetched.tensors;
    const tensors = await fetchNamedTensors(src, signal);
    this.#fetched = { src, tensors };
    return tensors;
  }

  #ready(): TransformerExports {
    if (!this.#exports) throw new InvalidArgumentError(`<${TAG}>: nothing to export until the view is ready (state '${this.state}').`);
    return this.#exports;
  }

  #view(): 'head' | GraphNodes {
    const view = this.getAttribute('view') ?? 'head';
    if (view === 'graph' || view === 'rollout') return 'rollout';
    if (view !== 'head' && view !== 'flow') throw new InvalidArgumentError(`<${TAG}>: view is head, rollout (or graph) or flow; got '${view}'.`);
    return view;
  }

  #tokenLabels(n: number): string[] {
    const given = this.#tokens ?? (this.hasAttribute('text') ? [...this.getAttribute('text')!] : null);
    if (!given) return Array.from({ length: n }, (_, i) => String(i));
    if (given.length !== n) throw new InvalidArgumentError(`<${TAG}>: the weights have ${n} tokens; got ${given.length} token labels.`);
    return [...given];
  }

  /** "0,2,3" → those heads on; no attribute → all. */
  #enabledHeads(heads: number): boolean[] {
    const list = this.getAttribute('heads');
    if (list === null || list.trim() === '' || list === 'all') return Array.from({ length: heads }, () => true);
    const chosen = list.split(',').map((part) => Number(part.trim()));
    const bad = chosen.find((h) => !Number.isInteger(h) || h < 0 || h >= heads);
    if (bad !== undefined) throw new InvalidArgumentError(`<${TAG}>: heads lists head indices below ${heads}, e.g. "0,2"; got '${list}'.`);
    return Array.from({ length: heads }, (_, h) => chosen.includes(h));
  }
}
