// A captured layer's activations: a float32 GpuTensor read as [batch, H, W, C] (NHWC, what tfjs makes) or
// [batch, C, H, W] (NCHW, what PyTorch dumps hold). Every feature kernel and view indexes it through the
// element strides computed here, so the two layouts cost the same everywhere.
import { invalidArgument } from '../core/errors';
import type { GpuTensor } from '../memory/gpu-tensor';

/** Axis order of a layer's activations: [batch, H, W, C] (tfjs) or [batch, C, H, W] (PyTorch). */
export type FeatureLayout = 'NHWC' | 'NCHW';

/** Element (not byte) strides of each axis in the layer's buffer; `featureIndex` applies them. */
export interface FeatureStrides {
  batch: number;
  y: number;
  x: number;
  channel: number;
}

/**
 * A named float32 tensor of activations read as [batch, height, width, channels] in either layout; made by
 * `featureLayer`. It does not own its tensor: the caller destroys that.
 */
export interface FeatureLayer {
  readonly name: string;
  readonly tensor: GpuTensor;
  readonly layout: FeatureLayout;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Element (not byte) strides of each axis in the tensor's buffer. */
  readonly strides: FeatureStrides;
}

/**
 * Names a GpuTensor of activations. A rank-3 tensor is one image ([H, W, C] or [C, H, W]); rank 4 has the
 * batch first. The layout defaults to the tensor's own when it names one, else NHWC.
 */
export function featureLayer(name: string, tensor: GpuTensor, layout?: FeatureLayout): FeatureLayer {
  const resolved = layout ?? (tensor.layout === 'NCHW' ? 'NCHW' : 'NHWC');
  invalidArgument(
    tensor.dtype === 'float32',
    () => `featureLayer('${name}'): activations must be float32; got ${tensor.dtype}.`,
  );
  invalidArgument(
    tensor.shape.length === 3 || tensor.shape.length === 4,
    () => `featureLayer('${name}'): expected activations of rank 4 ([batch, ${axesOf(resolved)}]) or rank 3 ` +
      `([${axesOf(resolved)}]); got shape [${tensor.shape.join(', ')}] (rank ${tensor.shape.length}).`,
  );
  const shape = tensor.shape.length === 3 ? [1, ...tensor.shape] : [...tensor.shape];
  const [batch, a, b, c] = shape as [number, number, number, number];
  const [height, width, channels] = resolved === 'NHWC' ? [a, b, c] : [b, c, a];
  return Object.freeze({
    name,
    tensor,
    layout: resolved,
    batch,
    height,
    width,
    channels,
    strides: Object.freeze(stridesOf(resolved, height, width, channels)),
  });
}

/** Where element (n, y, x, c) lives in the layer's buffer, in elements. */
export function featureIndex(layer: FeatureLayer, n: number, y: number, x: number, c: number): number {
  const s = layer.strides;
  return n * s.batch + y * s.y + x * s.x + c * s.channel;
}

function stridesOf(layout: FeatureLayout, height: number, width: number, channels: number): FeatureStrides {
  const batch = height * width * channels;
  return layout === 'NHWC'
    ? { batch, y: width * channels, x: channels, channel: 1 }
    : { batch, y: width, x: 1, channel: height * width };
}

function axesOf(layout: FeatureLayout): string {
  return layout === 'NHWC' ? 'H, W, C' : 'C, H, W';
}
