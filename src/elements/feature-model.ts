// A tfjs model for <glassbox-feature-maps>, loaded from a URL (model.json, or a tfjs storage URL such as
// indexeddb://name), and the picture it is fed: any image source, resized to the model's input and scaled to
// its range. Loaded again after a lost device: the weights lived on the old one.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../core/errors';
import { captureSourceOf, type CapturableModel } from '../interop/tfjs/capture-sources';

/** A LayersModel or a GraphModel: the JSON's `format` says which ('graph-model' or 'layers-model'). */
export async function loadCapturableModel(url: string): Promise<CapturableModel> {
  if (!/^[a-z-]+:\/\//i.test(url) || /^https?:/i.test(url)) {
    const response = await fetch(url);
    if (!response.ok) throw new InvalidArgumentError(`Could not fetch the model '${url}': HTTP ${response.status} ${response.statusText}.`);
    const json = (await response.json().catch(() => null)) as { format?: string; modelTopology?: unknown } | null;
    if (!json?.modelTopology) throw new InvalidArgumentError(`'${url}' is not a tfjs model.json (no modelTopology).`);
    return json.format === 'graph-model' ? loadGraphModel(url) : loadLayersModel(url);
  }
  return loadLayersModel(url); // tfjs storage (indexeddb://, localstorage://): saved LayersModels
}

export interface ImageInput {
  height: number;
  width: number;
  channels: number;
  dtype: 'float32' | 'int32';
}

/** The model's single image input: [height, width, channels] and dtype. */
export function imageInputOf(model: CapturableModel): ImageInput {
  const inputs = captureSourceOf(model).inputs;
  const shape = inputs[0]?.shape;
  if (inputs.length !== 1 || !shape || shape.length !== 4 || shape.slice(1).some((d) => d === null || d <= 0)) {
    throw new InvalidArgumentError(
      `Expected a model with one image input [batch, height, width, channels] of known size; got ${inputs.map((i) => `${i.name} [${i.shape?.join(', ') ?? '?'}]`).join(', ')}.`,
    );
  }
  const [, height, width, channels] = shape as [null, number, number, number];
  if (channels !== 1 && channels !== 3) throw new InvalidArgumentError(`Expected an input of 1 or 3 channels; the model's has ${channels}.`);
  return { height, width, channels, dtype: inputs[0]!.dtype === 'int32' ? 'int32' : 'float32' };
}

/**
 * `image` drawn into the model's input size, as [1, H, W, C]: 0..255 for int32 inputs, else mapped to
 * [lo, hi] (default [0, 1]). `scratch` is the canvas it is drawn into (reused frame after frame).
 */
export function imageTensor(input: ImageInput, image: CanvasImageSource, scratch: HTMLCanvasElement, range: readonly [number, number]): tf.Tensor4D {  scratch.width = input.width;
  scratch.height = input.height;
  scratch.getContext('2d', { willReadFrequently: true })!.drawImage(image, 0, 0, input.width, input.height);
  return tf.tidy(() => {
    const pixels = tf.browser.fromPixels(scratch, input.channels);
    if (input.dtype === 'int32') return tf.expandDims(pixels, 0) as tf.Tensor4D;
    const [lo, hi] = range;
    return tf.expandDims(tf.add(tf.mul(tf.cast(pixels, 'float32'), (hi - lo) / 255), lo), 0) as tf.Tensor4D;
  });
}

/** An image element for a URL, loaded. */
export async function loadImage(url: string): Promise<HTMLImageElement> {
  const image = new Image();
  image.crossOrigin = 'anonymous';
  image.src = url;
  try {
    await image.decode();
  } catch {
    throw new InvalidArgumentError(`Could not load the image '${url}'.`);
  }
  return image;
}
