// <glassbox-inversion>: feature inversion (find a picture whose activations at `layer` match those of
// `input`) or activation maximization (find the picture channel `channel` of `layer` responds to most) on a
// tfjs model from a URL, optimized on the GPU and drawn every frame from the optimizer's buffer, with the
// loss curve below. Steps per frame adapt to a budget. With `prefers-reduced-motion: reduce` (or the
// `paused` attribute) it waits for resume() instead of starting by itself; once the reader has paused or
// resumed (the methods, or the attribute set or removed), a rebuild keeps that choice.
//   <glassbox-inversion model="/cnn/model.json" mode="invert" layer="block3" input="cat.jpg"></glassbox-inversion>
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../core/engine';
import { InvalidArgumentError } from '../core/errors';
import { checkLayerNames, featureLayerNames } from '../interop/tfjs/capture';
import { captureSourceOf, isLayersModel, type CapturableModel } from '../interop/tfjs/capture-sources';
import { OBJECTIVE_LAYER_RANKS } from '../interop/tfjs/optvis-model';
import { tensorFromTf } from '../interop/tfjs/tensors';
import { type GpuTensor, tensorFromArray } from '../memory/gpu-tensor';
import { createOptimization, type Optimization } from '../optvis/optimize';
import { createLiveStepper } from '../optvis/live-stepper';
import { activationMaximization, inversion, type PresetOptions } from '../optvis/presets';
import { exportPng } from '../render/export-png';
import { createImageView } from '../render/image-view';
import { createLossCurve } from '../render/loss-curve';
import { choiceAttribute, indexAttribute, rangeAttribute } from './attribute-values';
import { GlassboxElement, type MountContext, type MountedView } from './glassbox-element';
import { imageInputOf, imageTensor, loadCapturableModel, loadImage, type ImageInput } from './feature-model';

const TAG = 'glassbox-inversion';
/** GPU work per frame that steps may take; at least one step runs each frame. */
const FRAME_BUDGET_MS = 12;
const MAX_STEPS_PER_FRAME = 16;
const LOSS_CURVE_PX = 90;

/**
 * `<glassbox-inversion>`: feature inversion (`mode="invert"`, of `input` / `image` at `layer`) or activation
 * maximization (`mode="maximize"`, of `channel` of `layer`) on a tfjs `model`, optimized live on the GPU,
 * with its loss curve. Starts paused under the `paused` attribute or prefers-reduced-motion.
 */
export class GlassboxInversion extends GlassboxElement {
  static readonly tagName = TAG;
  static readonly observedAttributes = ['model', 'mode', 'layer', 'channel', 'input', 'size', 'input-range', 'input-node', 'steps', 'paused'];

  #image: CanvasImageSource | null = null;
  #optimization: Optimization | null = null;
  /** Restarts the live stepper and empties the loss curve, while a view is mounted. */
  #restart: (() => void) | null = null;
  #running = false;
  /** The reader's latest pause or resume, which outlives rebuilds; null until there is one. */
  #chosen: boolean | null = null;
  /** The latest loss read back (one scalar per frame at most), the step it belongs to, and the first. */
  loss: number | null = null;
  lossStep: number | null = null;
  firstLoss: number | null = null;

  /** Optimization steps taken so far (submitted: the latest loss may be a few steps behind). */
  get steps(): number {
    return this.#optimization?.steps ?? 0;
  }

  /** The picture to invert (wins over `input`). */
  get image(): CanvasImageSource | null {
    return this.#image;
  }
  set image(value: CanvasImageSource | null) {
    this.#image = value;
    if (this.isConnected) this.requestRemount();
  }

  get running(): boolean {
    return this.#running;
  }

  /** Stops taking optimization steps; the current image stays on screen. */
  pause(): void {
    this.#running = this.#chosen = false;
  }

  /** Takes optimization steps again, within a per-frame GPU budget. */
  resume(): void {
    this.#running = this.#chosen = true;
  }

  /** `paused` set or removed pauses or resumes in place, in any state: it never rebuilds. */
  override attributeChangedCallback(name: string, previous: string | null, next: string | null): void {
    if (name !== 'paused') return super.attributeChangedCallback(name, previous, next);
    if ((previous === null) === (next === null)) return;
    if (next === null) this.resume();
    else this.pause();
  }

  /** Starts again from a fresh random image. */
  reset(): void {
    this.#optimization?.reset();
    this.#restart?.();
    [this.loss, this.lossStep, this.firstLoss] = [null, null, null];
  }

  /** The optimized image as a PNG, each pixel a scale × scale block. */
  async exportPng(options: { scale?: number } = {}): Promise<Blob> {
    if (!this.#optimization) throw new InvalidArgumentError(`<${TAG}>: nothing to export until the optimization is ready (state '${this.state}').`);
    return exportPng(this.#optimization.image, options);
  }

  protected async mountView({ engine, canvas, stage }: MountContext): Promise<MountedView> {
    const modelUrl = this.getAttribute('model');
    if (!modelUrl) throw new InvalidArgumentError(`<${TAG}>: expected a model attribute (a model.json or tfjs storage URL).`);
    const model = await loadCapturableModel(modelUrl);
    const owned: { destroy(): void }[] = [{ destroy: () => model.dispose() }];
    const release = () => owned.splice(0).reverse().forEach((thing) => thing.destroy());
    try {
      const layer = this.#layer(model);
      const spec = { ...imageInputOf(model), ...this.#size() };
      const inputOptions: { inputRange: [number, number]; inputNode?: string } = { inputRange: rangeAttribute(this, 'input-range') };
      if (this.hasAttribute('input-node')) inputOptions.inputNode = this.getAttribute('input-node')!;
      const invert = choiceAttribute(this, 'mode', ['invert', 'maximize'] as const, 'invert') === 'invert';
      const original = invert ? await this.#original(engine, spec) : null;
      if (original) owned.push(original);
      let preset: PresetOptions;
      if (original) {
        const target = layerActivations(engine, model, spec, original.pixels, layer, inputOptions);
        owned.push(target);
        preset = inversion({ layer, target, height: spec.height, width: spec.width, ...(this.hasAttribute('steps') ? { steps: indexAttribute(this, 'steps', 200) } : {}) });
      } else {
        preset = activationMaximization({ layer, channel: indexAttribute(this, 'channel', 0), height: spec.height, width: spec.width });
      }
      const optimization = await createOptimization(engine, { model, ...inputOptions, ...preset, seed: 1, label: TAG });
      owned.push(optimization);
      canvas.style.height = `calc(100% - ${LOSS_CURVE_PX}px)`;
      const view = createImageView(engine, { canvas, images: original ? [original.tensor, optimization.image] : [optimization.image], label: TAG });
      owned.push(view);
      const plotCanvas = document.createElement('canvas');
      plotCanvas.style.cssText = `position:absolute;left:0;right:0;bottom:0;width:100%;height:${LOSS_CURVE_PX}px`;
      stage.append(plotCanvas);
      // Maximization's loss is a negative mean: a linear axis; inversion's falls by decades: a log axis.
      const plot = createLossCurve(plotCanvas, { log: invert, background: '#1b1b1b', foreground: '#dddddd' });
      owned.push(plot, { destroy: () => plotCanvas.remove() });
      this.#optimization = optimization;
      [this.loss, this.lossStep, this.firstLoss] = [null, null, null];
      this.#running = this.#chosen ?? (!this.hasAttribute('paused') && !matchMedia('(prefers-reduced-motion: reduce)').matches);
      const stepper = createLiveStepper(optimization, {
        budgetMs: FRAME_BUDGET_MS,
        maxStepsPerFrame: MAX_STEPS_PER_FRAME,
        onLoss: (loss) => {
          if (optimization !== this.#optimization) return;
          [this.loss, this.lossStep] = [loss.total, loss.step];
          this.firstLoss ??= loss.total;
          plot.push(loss.step, { total: loss.total });
          plot.draw();
          if (optimization.state === 'stopped') this.failed(new Error(`The optimization stopped: ${optimization.stopReason}`));
        },
        // A replaced optimization's read may fail late: only the current one's failures count.
        onError: (error) => optimization === this.#optimization && this.failed(error),
      });
      this.#restart = () => {
        stepper.restart();
        plot.clear();
      };
      return {
        compute: () => {
          if (this.#running) stepper.frame();
        },
        render: (encoder) => view.render(encoder),
        destroy: () => {
          this.#optimization = null;
          this.#restart = null;
          release();
        },
      };
    } catch (error) {
      release();
      throw error;
    }
  }

  async #original(engine: Engine, spec: ImageInput): Promise<{ tensor: GpuTensor; pixels: Float32Array; destroy(): void }> {
    const image = this.#image ?? (this.hasAttribute('input') ? await loadImage(this.getAttribute('input')!) : null);
    if (!image) throw new InvalidArgumentError(`<${TAG}>: inversion needs a picture: an input attribute (an image URL) or the image property.`);
    const pixels = tf.tidy(() => tf.div(tf.cast(imageTensor({ ...spec, channels: 3, dtype: 'int32' }, image, document.createElement('canvas'), [0, 255]), 'float32'), 255));
    const values = pixels.dataSync() as Float32Array;
    pixels.dispose();
    const tensor = tensorFromArray(engine, values, [1, spec.height, spec.width, 3], { label: `${TAG}.original`, layout: 'NHWC' });
    return { tensor, pixels: values, destroy: () => tensor.destroy() };
  }

  #layer(model: CapturableModel): string {
    const layer = this.getAttribute('layer');
    const names = featureLayerNames(model);
    if (!layer) throw new InvalidArgumentError(`<${TAG}>: expected a layer attribute; the model's feature layers are ${names.slice(0, 40).join(', ')}.`);
    return layer;
  }

  #size(): { height: number; width: number } | Record<string, never> {
    if (!this.hasAttribute('size')) return {};
    const size = indexAttribute(this, 'size', 0);
    if (size < 8) throw new InvalidArgumentError(`<${TAG}>: size must be at least 8 pixels; got ${size}.`);
    return { height: size, width: size };
  }
}

/**
 * The layer's activations for the original picture, fed as the optimization feeds its image: [0, 1] mapped
 * onto the input range, at the input node when one is named (a GraphModel whose real input is int32). A
 * feature map or a layer of units (M&V invert fully connected layers too).
 */
function layerActivations(
  engine: Engine,
  model: CapturableModel,
  spec: ImageInput,
  pixels: Float32Array,
  layer: string,
  options: { inputRange: readonly [number, number]; inputNode?: string },
): GpuTensor {
  const [lo, hi] = options.inputRange;
  const scaled = () => tf.add(tf.mul(tf.tensor4d(pixels, [1, spec.height, spec.width, 3]), hi - lo), lo);
  let run: () => tf.Tensor;
  if (options.inputNode !== undefined) {
    if (isLayersModel(model)) throw new InvalidArgumentError(`<${TAG}>: input-node names a node of a GraphModel; this model is a LayersModel.`);
    run = () => model.execute({ [options.inputNode!]: scaled() }, layer) as tf.Tensor;
  } else {
    checkLayerNames(engine, model, [layer], `<${TAG}>`, OBJECTIVE_LAYER_RANKS);
    const fetch = captureSourceOf(model).fetcher([layer]);
    run = () => fetch([spec.dtype === 'int32' ? tf.cast(scaled(), 'int32') : scaled()])[0]!;
  }
  const h = tf.tidy(run);
  try {
    return tensorFromTf(engine, h); // keeps tfjs's buffer alive past the dispose
  } finally {
    h.dispose();
  }
}
