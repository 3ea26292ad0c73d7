// Activations out of a tfjs model without copies: one forward pass fetches every requested layer, and each
// output becomes a FeatureLayer over tfjs's own GPUBuffer (tensorFromTf). The views and the statistics kernel
// then read the buffers tfjs wrote, on the device they share.
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../../core/engine';
import { InvalidArgumentError, invalidArgument } from '../../core/errors';
import { featureLayer, type FeatureLayer } from '../../features/feature-layer';
import { tfjsBackendOf } from './backend';
import { captureSourceOf, type CapturableModel, type CaptureSource, type InputSpec } from './capture-sources';
import { tensorFromTf } from './tensors';

export type { CapturableModel } from './capture-sources';

/** Captures chosen layers of a tfjs model as FeatureLayers over tfjs's own buffers, one forward pass per run. */
export interface ActivationCapture {
  /** The layers (LayersModel) or graph nodes (GraphModel) captured, in the order of `layers`. */
  readonly layerNames: readonly string[];
  /**
   * Runs the model once on `input` (one tensor, or tensors by input name) and returns one NHWC FeatureLayer
   * per name. The layers stay valid until the next run() or dispose(), which give their buffers back to tfjs.
   * The input is left to the caller.
   */
  run(input: tf.Tensor | tf.NamedTensorMap): readonly FeatureLayer[];
  /** The layers of the latest run; empty before the first. */
  readonly layers: readonly FeatureLayer[];
  /** Releases the latest run's layers. The model is the caller's and is left alone. */
  dispose(): void;
}

/** Options for {@link createActivationCapture}. */
export interface ActivationCaptureOptions {
  /** Names the capture in error messages. Default 'ActivationCapture'. */
  label?: string;
}

/**
 * Prepares to capture `layerNames` from `model` on the engine's tfjs backend. Throws InvalidArgumentError
 * when a name does not exist (saying which do), is listed twice, or (LayersModel, where shapes are known
 * before running) does not output a rank-4 map. A GraphModel node that turns out not to be rank 4 is
 * reported by run(), with its shape.
 */
export function createActivationCapture(
  engine: Engine,
  model: CapturableModel,
  layerNames: readonly string[],
  options: ActivationCaptureOptions = {},
): ActivationCapture {
  const label = options.label ?? 'ActivationCapture';
  const source = checkLayerNames(engine, model, layerNames, label, FEATURE_MAPS);
  const names = Object.freeze([...layerNames]);
  const fetch = source.fetcher(names);
  let layers: readonly FeatureLayer[] = [];
  let disposed = false;
  const release = () => {
    for (const layer of layers) layer.tensor.destroy();
    layers = [];
  };
  return {
    layerNames: names,
    get layers() {
      return layers;
    },
    run(input) {
      invalidArgument(!disposed, () => `${label}: run() after dispose().`);
      const feeds = feedsOf(label, source.inputs, input);
      // Released before the pass, so that tfjs can reuse these buffers for the new activations.
      release();
      const outputs = tf.tidy(() => fetch(feeds));
      try {
        layers = wrapOutputs(engine, label, source, names, outputs);
      } finally {
        // The layers hold clones, which keep the data; a model that hands an input straight back keeps it too.
        tf.dispose(outputs.filter((output) => !feeds.includes(output)));
      }
      return layers;
    },
    dispose() {
      release();
      disposed = true;
    },
  };
}

/** The output ranks a reader of layers takes, and the words its errors use for them. */
export interface AcceptedRanks {
  ranks: readonly number[];
  /** Completes "… outputs shape [..] (rank r); ": what is taken instead. */
  expected: string;
}

const FEATURE_MAPS: AcceptedRanks = { ranks: [4], expected: 'a feature map has rank 4, [batch, H, W, C]' };

/**
 * Checks that tfjs runs on the engine's device and that every name is a layer (node) of the model, listed
 * once, whose output has an accepted rank where the model declares it (LayersModel; a GraphModel's shapes
 * are known only by running). Throws InvalidArgumentError saying which names exist; runs nothing.
 */
export function checkLayerNames(
  engine: Engine,
  model: CapturableModel,
  layerNames: readonly string[],
  label: string,
  accepted: AcceptedRanks,
): CaptureSource {
  invalidArgument(
    tfjsBackendOf(engine) !== null,
    () => `${label}: the engine was created with { tfjs: false }; capturing needs tfjs running on the engine's device.`,
  );
  invalidArgument(layerNames.length > 0, () => `${label}: no layer names given; featureLayerNames(model) lists the candidates.`);
  const source = captureSourceOf(model);
  checkNames(label, source, layerNames, accepted);
  return source;
}

/**
 * The layers (LayersModel) or nodes (GraphModel) whose output is a rank-4 activation map, in model order.
 * LayersModel: every layer but the InputLayers whose (first) output shape has rank 4.
 * GraphModel: shapes are only known by running, so the rule goes by op: convolutions (plain, depthwise,
 * fused, transposed), pooling, fused batch norm, resizing and depth/space shuffles always yield [N, H, W, C];
 * element-wise ops, activations, padding and concatenation yield a map when one of their inputs is one.
 * Everything else is left out: Const, Placeholder, Reshape, Cast, Identity (a repeat of its input), Squeeze,
 * reductions, gathers. The input image itself is not listed.
 */
export function featureLayerNames(model: CapturableModel): string[] {
  return [...captureSourceOf(model).featureNames];
}

// Implementation.

function wrapOutputs(
  engine: Engine,
  label: string,
  source: CaptureSource,
  names: readonly string[],
  outputs: readonly tf.Tensor[],
): FeatureLayer[] {
  const what = source.kind === 'LayersModel' ? 'layer' : 'node';
  outputs.forEach((output, i) => {
    const shape = `[${output.shape.join(', ')}]`;
    invalidArgument(
      output.rank === 4,
      () => `${label}: ${what} '${names[i]}' outputs shape ${shape} (rank ${output.rank}); a feature map has rank 4, ` +
        `[batch, H, W, C]. featureLayerNames(model) lists the ${what}s that do.`,
    );
    invalidArgument(
      output.dtype === 'float32',
      () => `${label}: ${what} '${names[i]}' outputs ${output.dtype} values ${shape}; feature maps are float32.`,
    );
    invalidArgument(output.size > 0, () => `${label}: ${what} '${names[i]}' outputs an empty tensor ${shape}.`);
  });
  const layers: FeatureLayer[] = [];
  try {
    outputs.forEach((output, i) => {
      layers.push(featureLayer(names[i]!, tensorFromTf(engine, output, { layout: 'NHWC' }), 'NHWC'));
    });
  } catch (error) {
    for (const layer of layers) layer.tensor.destroy();
    throw error;
  }
  return layers;
}

function checkNames(label: string, source: CaptureSource, names: readonly string[], accepted: AcceptedRanks): void {
  const what = source.kind === 'LayersModel' ? 'layer' : 'node';
  const known = new Set(source.allNames);
  const seen = new Set<string>();
  for (const name of names) {
    invalidArgument(!seen.has(name), () => `${label}: '${name}' is listed twice; list each ${what} once.`);
    seen.add(name);
    if (!known.has(name)) throw new InvalidArgumentError(`${label}: the ${source.kind} has no ${what} named '${name}'. ${listing(source, name)}`);
    const shape = source.staticShape(name);
    invalidArgument(
      shape === null || accepted.ranks.includes(shape.length),
      () => `${label}: ${what} '${name}' outputs shape ${formatShape(shape ?? [])} (rank ${shape?.length}); ${accepted.expected}. ` +
        `featureLayerNames(model) lists the ${what}s that output feature maps.`,
    );
  }
}

/** All the names when there are few; else the closest few, the count, and where to find the rest. */
function listing(source: CaptureSource, wanted: string): string {
  const quote = (list: readonly string[]) => list.map((name) => `'${name}'`).join(', ');
  const all = source.allNames;
  if (all.length <= 40) return `It has: ${quote(all)}.`;
  const closest = [...all]
    .map((name) => ({ name, distance: closeness(wanted, name) }))
    .sort((a, b) => a.distance - b.distance || a.name.length - b.name.length)
    .slice(0, 8)
    .map((entry) => entry.name);
  return `Closest: ${quote(closest)} (8 of ${all.length}; featureLayerNames(model) lists the ${source.featureNames.length} feature maps).`;
}

/**
 * How far `name` is from what was asked for: 0 when it contains it (a graph node's name is usually asked
 * for by its end), else the edit distance to its last path segments, as many as the request has. Whole
 * names would rank by their long shared prefixes instead.
 */
function closeness(wanted: string, name: string): number {
  if (name.toLowerCase().includes(wanted.toLowerCase())) return 0;
  const segments = wanted.split('/').length;
  return editDistance(wanted, name.split('/').slice(-segments).join('/'));
}

/** Levenshtein distance, two rows: only run to word an error. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The input tensors in the model's input order, each checked against what the model declares. */
function feedsOf(label: string, specs: readonly InputSpec[], input: tf.Tensor | tf.NamedTensorMap): tf.Tensor[] {
  const expected = specs.map((spec) => `'${spec.name}'`).join(', ');
  let feeds: tf.Tensor[];
  if (input instanceof tf.Tensor) {
    invalidArgument(
      specs.length === 1,
      () => `${label}: the model has ${specs.length} inputs (${expected}); pass them by name, { name: tensor }.`,
    );
    feeds = [input];
  } else {
    invalidArgument(
      typeof input === 'object' && input !== null,
      () => `${label}: run() takes a tf.Tensor or { inputName: tf.Tensor }; got ${input === null ? 'null' : typeof input}.`,
    );
    const keys = Object.keys(input);
    feeds = specs.map((spec) => {
      const key = keys.find((k) => k === spec.name || stripIndex(k) === stripIndex(spec.name));
      invalidArgument(key !== undefined, () => `${label}: no tensor for input '${spec.name}'; expected ${expected}, got '${keys.join("', '")}'.`);
      return input[key]!;
    });
    invalidArgument(
      keys.length === specs.length,
      () => `${label}: expected the inputs ${expected}; got ${keys.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
  feeds.forEach((feed, i) => checkFeed(label, specs[i]!, feed));
  return feeds;
}

function checkFeed(label: string, spec: InputSpec, feed: tf.Tensor): void {
  invalidArgument(feed instanceof tf.Tensor, () => `${label}: input '${spec.name}' is not a tf.Tensor.`);
  invalidArgument(!feed.isDisposed, () => `${label}: input '${spec.name}' was already disposed.`);
  const got = `[${feed.shape.join(', ')}]`;
  if (spec.shape !== null) {
    const want = spec.shape;
    const fits = feed.rank === want.length && want.every((dim, axis) => dim === null || dim === feed.shape[axis]);
    invalidArgument(
      fits,
      () => `${label}: input '${spec.name}' must have shape ${formatShape(want)} (? = any size); got ${got}.`,
    );
  }
  invalidArgument(feed.size > 0, () => `${label}: input '${spec.name}' is empty, ${got}; a batch needs at least one image.`);
  invalidArgument(
    spec.dtype === null || spec.dtype === feed.dtype,
    () => `${label}: input '${spec.name}' must be ${spec.dtype}; got ${feed.dtype}. Convert with tf.cast(input, '${spec.dtype}').`,
  );
}

function stripIndex(name: string): string {
  return name.replace(/:0$/, '');
}

function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((dim) => dim ?? '?').join(', ')}]`;
}
