// <glassbox-feature-maps>: every channel of the chosen layers as small maps, drawn from GPU buffers. Either
// activations from a file (`src`, or the `tensors` property; NHWC or NCHW), or a tfjs model (`model`: a
// model.json or tfjs storage URL) run on a picture (`input`: an image URL, or the `image` property: any
// image source; a playing video is run every frame: forward pass → statistics → draw, no readback).
//   <glassbox-feature-maps model="/models/cnn/model.json" input="cat.jpg" normalization="channel"></glassbox-feature-maps>
import { InvalidArgumentError } from '../core/errors';
import type { Engine } from '../core/engine';
import { exportViewPng } from '../export/png';
import { featureGridVisibleData, visibleDataNpy } from '../export/visible-data';
import type { FeatureLayer } from '../features/feature-layer';
import { featureLayersFromTensors } from '../features/feature-layers-from-tensors';
import { createFeatureStats, type FeatureStats } from '../features/feature-stats';
import { createActivationCapture, featureLayerNames } from '../interop/tfjs/capture';
import type { CapturableModel } from '../interop/tfjs/capture-sources';
import type { NamedTensors } from '../io/attention-tensors';
import { fetchNamedTensors } from '../io/named-tensors';
import { columnsToFill, withoutCommonScope } from '../render/feature-grid/columns-to-fill';
import { createFeatureGridView, type FeatureGridView } from '../render/feature-grid/feature-grid-view';
import { NORMALIZATION_MODES } from '../reference/channel-stats';
import { choiceAttribute, colormapAttribute, rangeAttribute } from './attribute-values';
import { GlassboxElement, type MountContext, type MountedView } from './glassbox-element';
import { imageInputOf, imageTensor, loadCapturableModel, loadImage } from './feature-model';
import { createTooltip } from './tooltip';

const TAG = 'glassbox-feature-maps';

/** Where the maps come from: layers to draw, and (for a model) how to make new ones. */
interface MapSource {
  layers: readonly FeatureLayer[];
  /** A model's next forward pass when the input moved; null when nothing changed (and always for files). */
  next(): readonly FeatureLayer[] | null;
  destroy(): void;
}

/**
 * `<glassbox-feature-maps>`: every channel of the chosen layers as small maps. Activations from `src` or
 * `tensors`, or from a tfjs `model` run on `input` / `image` (a playing video is run every frame).
 */
export class GlassboxFeatureMaps extends GlassboxElement {
  static readonly tagName = TAG;
  static readonly observedAttributes = ['src', 'model', 'layers', 'input', 'input-range', 'normalization', 'colormap', 'sampling'];

  #tensors: NamedTensors | null = null;
  #image: CanvasImageSource | null = null;
  #view: FeatureGridView | null = null;
  #exports: { png(scale: number): Promise<Blob>; npy(): Promise<Uint8Array> } | null = null;
  /** Forward passes run by this element's model (tests and meters). */
  forwardPasses = 0;

  /** Activations given directly (they win over `src` and `model`): name → { shape, data }. */
  get tensors(): NamedTensors | null {
    return this.#tensors;
  }
  set tensors(value: NamedTensors | null) {
    this.#tensors = value;
    if (this.isConnected) this.requestRemount();
  }

  /** The model's input picture (wins over `input`); a playing HTMLVideoElement is run every frame. */
  get image(): CanvasImageSource | null {
    return this.#image;
  }
  set image(value: CanvasImageSource | null) {
    this.#image = value;
    if (this.isConnected) this.requestRemount();
  }

  get view(): FeatureGridView | null {
    return this.#view;
  }

  /** A PNG of the grid at `scale`× the canvas's resolution. */
  async exportPng(options: { scale?: number } = {}): Promise<Blob> {
    return this.#ready().png(options.scale ?? 1);
  }

  /** The visible maps as .npy: [channels, height, width] of the layer most on screen (see featureGridVisibleData). */
  async exportNpy(): Promise<Uint8Array> {
    return this.#ready().npy();
  }

  protected override attributeUpdated(name: string): boolean {
    const view = this.#view;
    if (!view) return false;
    if (name === 'normalization') view.setNormalization(choiceAttribute(this, 'normalization', NORMALIZATION_MODES, 'channel'));
    else if (name === 'colormap') view.setColormap(colormapAttribute(this));
    else if (name === 'sampling') view.setSampling(choiceAttribute(this, 'sampling', ['nearest', 'bilinear'] as const, 'nearest'));
    else return false;
    return true;
  }

  protected async mountView({ engine, canvas, stage, signal }: MountContext): Promise<MountedView> {
    const source = await this.#source(engine, signal);
    const owned: { destroy(): void }[] = [source];
    const release = () => owned.splice(0).reverse().forEach((thing) => thing.destroy());
    try {
      const stats: FeatureStats = createFeatureStats(engine, source.layers, { label: `${TAG}.stats` });
      owned.push({ destroy: () => stats.destroy() });
      const tooltip = createTooltip(stage);
      owned.push(tooltip);
      const view = createFeatureGridView(engine, {
        canvas,
        layers: source.layers,
        columns: columnsToFill(source.layers, stage.clientWidth / Math.max(stage.clientHeight, 1)),
        stats,
        normalization: choiceAttribute(this, 'normalization', NORMALIZATION_MODES, 'channel'),
        colormap: colormapAttribute(this),
        sampling: choiceAttribute(this, 'sampling', ['nearest', 'bilinear'] as const, 'nearest'),
        onHover: (h) => tooltip.show(h && `${h.name} · channel ${h.channel} · y ${h.y}, x ${h.x}: ${Number.isFinite(h.value) ? h.value.toPrecision(4) : String(h.value)}`),
        label: TAG,
      });
      owned.push(view);
      this.#view = view;
      let layers = source.layers;
      let statsDue = true;
      this.#exports = {
        png: (scale) => exportViewPng(engine, view, { canvas, scale }),
        npy: async () => visibleDataNpy(await featureGridVisibleData(view, layers)),
      };
      return {
        compute: (encoder) => {
          const fresh = source.next();
          if (fresh) {
            layers = fresh;
            view.setLayers(layers, stats);
            statsDue = true;
          }
          if (!statsDue) return;
          stats.compute(encoder, layers);
          statsDue = false;
        },
        render: (encoder) => view.render(encoder),
        destroy: () => {
          this.#view = null;
          this.#exports = null;
          release();
        },
      };
    } catch (error) {
      release();
      throw error;
    }
  }

  async #source(engine: Engine, signal: AbortSignal): Promise<MapSource> {
    const src = this.getAttribute('src');
    if (this.#tensors || src) {
      const layers = featureLayersFromTensors(engine, this.#tensors ?? (await fetchNamedTensors(src!, signal)), TAG);
      return { layers, next: () => null, destroy: () => layers.forEach((layer) => layer.tensor.destroy()) };
    }
    const modelUrl = this.getAttribute('model');
    if (!modelUrl) throw new InvalidArgumentError(`<${TAG}>: expected src, a tensors property, or a model with an input; got none of them.`);
    return this.#modelSource(engine, await loadCapturableModel(modelUrl));
  }

  async #modelSource(engine: Engine, model: CapturableModel): Promise<MapSource> {
    try {
      const image = this.#image ?? (this.hasAttribute('input') ? await loadImage(this.getAttribute('input')!) : null);
      if (!image) throw new InvalidArgumentError(`<${TAG}>: a model needs a picture: an input attribute (an image URL) or the image property.`);
      const names = this.#layerNames(model);
      const capture = createActivationCapture(engine, model, names, { label: TAG });
      const scratch = document.createElement('canvas');
      const [spec, range] = [imageInputOf(model), rangeAttribute(this, 'input-range')];
      const labels = withoutCommonScope(names);
      const forward = () => {
        const input = imageTensor(spec, image, scratch, range);
        try {
          this.forwardPasses += 1;
          return capture.run(input).map((layer, i) => ({ ...layer, name: labels[i]! }));
        } finally {
          input.dispose();
        }
      };
      const video = image instanceof HTMLVideoElement ? image : null;
      let shownTime = video?.currentTime ?? 0;
      const layers = forward();
      return {
        layers,
        next: () => {
          if (!video || video.currentTime === shownTime) return null;
          shownTime = video.currentTime;
          return forward();
        },
        destroy: () => {
          capture.dispose();
          model.dispose();
        },
      };
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  #layerNames(model: CapturableModel): string[] {
    const list = this.getAttribute('layers');
    const all = featureLayerNames(model);
    if (list === null || list.trim() === '') return all;
    return list.split(',').map((name) => name.trim()).filter(Boolean);
  }

  #ready() {
    if (!this.#exports) throw new InvalidArgumentError(`<${TAG}>: nothing to export until the view is ready (state '${this.state}').`);
    return this.#exports;
  }
}
