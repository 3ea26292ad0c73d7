// <glassbox-attention-heatmap>: attention weights as heatmaps, one tile per head and one row per layer, or
// one head alone. Data from `src` (a .npy / .safetensors URL holding P, or Q and K) or the `tensors`
// property (name → { shape, data }, as the file readers return). Hovering a cell shows its weight.
//   <glassbox-attention-heatmap src="attn.safetensors" head="all" colormap="viridis"></glassbox-attention-heatmap>
import { createHeatmapView, type HeatmapView } from '../render/heatmap-view';
import type { HeatmapHover } from '../render/hover-readout';
import { InvalidArgumentError } from '../core/errors';
import type { NamedTensors } from '../io/attention-tensors';
import { fetchNamedTensors } from '../io/named-tensors';
import { exportViewPng } from '../export/png';
import { heatmapVisibleData, visibleDataNpy } from '../export/visible-data';
import { elementWeights } from './attention-source';
import { colormapAttribute, requiredAttribute } from './attribute-values';
import { GlassboxElement, type MountContext, type MountedView } from './glassbox-element';
import { createTooltip } from './tooltip';

interface ViewExports {
  png(scale: number): Promise<Blob>;
  npy(): Promise<Uint8Array>;
}

/**
 * `<glassbox-attention-heatmap>`: attention weights as heatmaps, one tile per head and one row per layer
 * (`head="all"`), or one head. Data from `src` (.npy / .safetensors holding P, or Q and K) or `tensors`.
 */
export class GlassboxAttentionHeatmap extends GlassboxElement {
  static readonly tagName = 'glassbox-attention-heatmap';
  static readonly observedAttributes = ['src', 'head', 'colormap', 'causal', 'scale'];

  #tensors: NamedTensors | null = null;
  #view: HeatmapView | null = null;
  #exports: ViewExports | null = null;

  /** Tensors given directly (they win over `src`): name → { shape, data }. */
  get tensors(): NamedTensors | null {
    return this.#tensors;
  }
  set tensors(value: NamedTensors | null) {
    this.#tensors = value;
    if (this.isConnected) this.requestRemount();
  }

  /** The mounted heatmap view (camera, export, selection); null while none is. */
  get view(): HeatmapView | null {
    return this.#view;
  }

  /** A PNG of the view at `scale`× the canvas's resolution. */
  async exportPng(options: { scale?: number } = {}): Promise<Blob> {
    return this.#ready().png(options.scale ?? 1);
  }

  /** The visible cells as .npy: [heads on screen, queries, keys] (see heatmapVisibleData). */
  async exportNpy(): Promise<Uint8Array> {
    return this.#ready().npy();
  }

  #ready(): ViewExports {
    if (!this.#exports) throw new InvalidArgumentError(`<${GlassboxAttentionHeatmap.tagName}>: nothing to export until the view is ready (state '${this.state}').`);
    return this.#exports;
  }

  protected override attributeUpdated(name: string): boolean {
    const view = this.#view;
    if (!view) return false;
    if (name === 'head') view.setHead(this.#head());
    else if (name === 'colormap') view.setColormap(colormapAttribute(this));
    else return false;
    return true;
  }

  protected async mountView({ engine, canvas, stage, signal }: MountContext): Promise<MountedView> {
    const label = GlassboxAttentionHeatmap.tagName;
    const tensors = this.#tensors ?? (await fetchNamedTensors(requiredAttribute(this, 'src', 'a src attribute or a tensors property'), signal));
    const weights = await elementWeights(engine, tensors, this.hasAttribute('causal'), label);
    const tooltip = createTooltip(stage);
    try {
      const log = this.getAttribute('scale') === 'log';
      const view = createHeatmapView(engine, {
        canvas,
        weights: weights.tensor,
        head: this.#head(),
        columns: weights.heads,
        colormap: colormapAttribute(this),
        ...(weights.kind === 'array' ? weights.range : {}),
        ...(log ? { scale: 'log' as const } : {}),
        onHover: (hover) => tooltip.show(hover && describeCell(hover, weights.heads, weights.layers)),
        label,
      });
      this.#view = view;
      this.#exports = {
        png: (scale) => exportViewPng(engine, view, { canvas, scale }),
        npy: async () => visibleDataNpy(await heatmapVisibleData(view, weights.tensor)),
      };
      return {
        render: (encoder) => view.render(encoder),
        destroy: () => {
          this.#view = null;
          this.#exports = null;
          view.destroy();
          weights.tensor.destroy();
          tooltip.destroy();
        },
      };
    } catch (error) {
      weights.tensor.destroy();
      tooltip.destroy();
      throw error;
    }
  }

  #head(): number | 'all' {
    const head = this.getAttribute('head') ?? 'all';
    if (head === 'all') return 'all';
    const index = Number(head);
    if (!Number.isInteger(index) || index < 0) {
      throw new InvalidArgumentError(`<${GlassboxAttentionHeatmap.tagName}>: head must be 'all' or a head index ≥ 0; got '${head}'.`);
    }
    return index;
  }
}

function describeCell(hover: HeatmapHover, heads: number, layers: number): string {
  const where = layers > 1 ? `layer ${Math.floor(hover.head / heads)} head ${hover.head % heads}` : `head ${hover.head}`;
  return `${where} · query ${hover.query} → key ${hover.key}: ${hover.value.toPrecision(4)}`;
}
