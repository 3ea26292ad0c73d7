// <glassbox-long-attention>: one head of attention over a long sequence, never holding N×N: each row's
// log-sum-exp once, then exact tiles at screen resolution as you pan and zoom (the long-sequence explorer).
// Q and K from `src` (.npy / .safetensors: 'layers.L.q' / 'layers.L.k', or 'q' / 'k') or the `tensors`
// property. A bar shows the overview's progress; hovering reads P_ij and s_ij.
//   <glassbox-long-attention src="qk.safetensors" causal pooling="max" scale="log"></glassbox-long-attention>
import { createLongAttention, type LongAttention, type LongAttentionProfiles } from '../attention/long-attention';
import { InvalidArgumentError } from '../core/errors';
import { exportViewPng } from '../export/png';
import { attentionTensorsFrom, type NamedTensors } from '../io/attention-tensors';
import { fetchNamedTensors } from '../io/named-tensors';
import { tensorFromArray, type GpuTensor } from '../memory/gpu-tensor';
import { createExplorerView, type ExplorerView } from '../render/explorer/explorer-view';
import { tileProducerFor } from '../render/explorer/long-attention-producer';
import { choiceAttribute, colormapAttribute, indexAttribute, numberAttribute, requiredAttribute } from './attribute-values';
import { GlassboxElement, type MountContext, type MountedView } from './glassbox-element';
import { createTooltip } from './tooltip';

const TAG = 'glassbox-long-attention';

/**
 * `<glassbox-long-attention>`: one head of attention over a long sequence, never holding N×N: exact tiles at
 * screen resolution as you pan and zoom. Q and K of `layer` from `src` or `tensors`.
 */
export class GlassboxLongAttention extends GlassboxElement {
  static readonly tagName = TAG;
  static readonly observedAttributes = ['src', 'layer', 'causal', 'head', 'pooling', 'scale', 'colormap', 'budget-ms'];

  #tensors: NamedTensors | null = null;
  #view: ExplorerView | null = null;
  #png: ((scale: number) => Promise<Blob>) | null = null;
  /** Fraction of the overview built, 0..1 (1 once every tile of the overview is exact). */
  overview = 0;

  /** Q and K given directly (they win over `src`): name → { shape, data }. */
  get tensors(): NamedTensors | null {
    return this.#tensors;
  }
  set tensors(value: NamedTensors | null) {
    this.#tensors = value;
    if (this.isConnected) this.requestRemount();
  }

  /** The mounted explorer view (camera, jumpTo, cancelOverview); null while none is. */
  get view(): ExplorerView | null {
    return this.#view;
  }

  /** A PNG of the view at `scale`× the canvas's resolution. */
  async exportPng(options: { scale?: number } = {}): Promise<Blob> {
    if (!this.#png) throw new InvalidArgumentError(`<${TAG}>: nothing to export until the view is ready (state '${this.state}').`);
    return this.#png(options.scale ?? 1);
  }

  protected override attributeUpdated(name: string): boolean {
    const view = this.#view;
    if (!view) return false;
    if (name === 'head') view.setHead(indexAttribute(this, 'head', 0));
    else if (name === 'pooling') view.setPooling(choiceAttribute(this, 'pooling', ['max', 'mean'] as const, 'max'));
    else if (name === 'scale') view.setScale(choiceAttribute(this, 'scale', ['linear', 'log'] as const, 'log'));
    else if (name === 'colormap') view.setColormap(colormapAttribute(this));
    else return false;
    return true;
  }

  protected async mountView({ engine, canvas, stage, signal }: MountContext): Promise<MountedView> {
    const tensors = this.#tensors ?? (await fetchNamedTensors(requiredAttribute(this, 'src', 'a src attribute or a tensors property'), signal));
    const layers = attentionTensorsFrom(tensors);
    const index = indexAttribute(this, 'layer', 0);
    const layer = layers.find((l) => l.layer === index);
    if (!layer) throw new InvalidArgumentError(`<${TAG}>: layer ${index} is not in the file; it has layers ${layers.map((l) => l.layer).join(', ')}.`);
    const owned: { destroy(): void }[] = [];
    const release = () => owned.splice(0).reverse().forEach((thing) => thing.destroy());
    try {
      const q: GpuTensor = tensorFromArray(engine, layer.q.data, layer.q.shape, { label: `${TAG}.q` });
      owned.push(q);
      const k: GpuTensor = tensorFromArray(engine, layer.k.data, layer.k.shape, { label: `${TAG}.k` });
      owned.push(k);
      const attention = createLongAttention(engine, q, k, { causal: this.hasAttribute('causal'), label: TAG });
      owned.push(attention);
      const bar = progressBar(stage);
      owned.push(bar);
      await attention.computeRowStats({ signal, onProgress: (p) => bar.show('row statistics', p.fraction) });
      const view = this.#explorer(engine, canvas, stage, attention, bar, signal, owned);
      owned.push(view);
      this.#view = view;
      this.#png = (scale) => exportViewPng(engine, view, { canvas, scale });
      return {
        compute: (encoder, info) => view.compute?.(encoder, info),
        render: (encoder, info) => view.render?.(encoder, info),
        destroy: () => {
          this.#view = null;
          this.#png = null;
          release();
        },
      };
    } catch (error) {
      release();
      throw error;
    }
  }

  #explorer(
    engine: MountContext['engine'],
    canvas: HTMLCanvasElement,
    stage: HTMLElement,
    attention: LongAttention,
    bar: ProgressBar,
    signal: AbortSignal,
    owned: { destroy(): void }[],
  ): ExplorerView {
    const tooltip = createTooltip(stage);
    owned.push(tooltip);
    let profilesStarted = false;
    const view = createExplorerView(engine, {
      canvas,
      producer: tileProducerFor(engine, attention),
      head: indexAttribute(this, 'head', 0),
      pooling: choiceAttribute(this, 'pooling', ['max', 'mean'] as const, 'max'),
      scale: choiceAttribute(this, 'scale', ['linear', 'log'] as const, 'log'),
      colormap: colormapAttribute(this),
      budgetMs: numberAttribute(this, 'budget-ms', 8, 0),
      onProgress: (p) => {
        this.overview = p.fraction;
        bar.show(p.cancelled ? 'overview stopped' : 'overview', p.fraction);
        if (p.fraction < 1 || profilesStarted) return;
        profilesStarted = true;
        // Attention received per key along the top, entropy per query down the left, once the overview is in.
        attention.profiles({ signal }).then(
          (profiles) => (signal.aborted ? destroyProfiles(profiles) : (owned.push({ destroy: () => destroyProfiles(profiles) }), view.setProfiles(profiles))),
          () => undefined, // aborted with the mount
        );
      },
      onHover: (h) =>
        tooltip.show(h && `head ${h.head} · query ${h.query} → key ${h.key}: P = ${h.weight.toPrecision(5)}, s = ${Number.isFinite(h.score) ? h.score.toPrecision(5) : 'masked'}`),
      label: TAG,
    });
    return view;
  }
}

function destroyProfiles(profiles: LongAttentionProfiles): void {
  profiles.columnSums.destroy();
  profiles.entropy.destroy();
}

interface ProgressBar {
  show(what: string, fraction: number): void;
  destroy(): void;
}

/** A thin bar along the top with a percentage, gone when the work is done. */
function progressBar(stage: HTMLElement): ProgressBar {
  const bar = document.createElement('progress');
  bar.setAttribute('part', 'progress');
  bar.max = 1;
  bar.style.cssText = 'position:absolute;left:0;right:0;top:0;width:100%;height:4px;z-index:1';
  stage.append(bar);
  return {
    show(what, fraction) {
      bar.value = fraction;
      bar.title = `${what}: ${Math.round(fraction * 100)}%`;
      bar.setAttribute('aria-label', bar.title);
      bar.hidden = fraction >= 1 && what !== 'row statistics';
    },
    destroy: () => bar.remove(),
  };
}
