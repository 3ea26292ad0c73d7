// What the activation capture needs from a model, whichever kind it is: the names it can fetch, the inputs
// it expects, and one forward pass that returns the fetched tensors. LayersModel and GraphModel are told
// apart by shape (duck typing), so that this file needs neither package at run time.
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';

/** A tfjs model activations can be captured from: a LayersModel (layer names) or a GraphModel (node names). */
export type CapturableModel = LayersModel | GraphModel;

/** One input the model expects; `null` dimensions take any size (the batch, usually). */
export interface InputSpec {
  readonly name: string;
  readonly shape: readonly (number | null)[] | null;
  readonly dtype: string | null;
}

export interface CaptureSource {
  readonly kind: 'LayersModel' | 'GraphModel';
  /** Every name that can be fetched, in model order. */
  readonly allNames: readonly string[];
  /** The names whose output is a feature map (see featureLayerNames in capture.ts for the rule). */
  readonly featureNames: readonly string[];
  readonly inputs: readonly InputSpec[];
  /** The output shape known before running (LayersModel), or null (GraphModel: only a run tells). */
  staticShape(name: string): readonly (number | null)[] | null;
  /**
   * Prepares a forward pass that fetches `names` (resolved once, here): it runs in inference mode on feeds
   * in `inputs` order and returns one tensor per name.
   */
  fetcher(names: readonly string[]): (feeds: readonly tf.Tensor[]) => tf.Tensor[];
}

export function isLayersModel(model: CapturableModel): model is LayersModel {
  return Array.isArray((model as Partial<LayersModel>).layers);
}

export function captureSourceOf(model: CapturableModel): CaptureSource {
  return isLayersModel(model) ? layersSource(model) : graphSource(model);
}

// LayersModel: layer names, resolved to their output SymbolicTensors.

function layersSource(model: LayersModel): CaptureSource {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  // A layer with several outputs is captured through its first (outputNameOf), and has a list of shapes.
  const shapeOf = (name: string): (number | null)[] => {
    const shape = model.getLayer(name).outputShape;
    return (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
  };
  return {
    kind: 'LayersModel',
    allNames: layers.map((layer) => layer.name),
    featureNames: layers.filter((layer) => shapeOf(layer.name).length === 4).map((layer) => layer.name),
    inputs: model.inputs.map((input, i) => ({ name: model.inputNames[i] ?? input.name, shape: input.shape, dtype: input.dtype })),
    staticShape: shapeOf,
    // execute() feeds the whole batch through once; predict() would slice the input into batches of 32
    // and concatenate the outputs, which copies them.
    fetcher: (names) => {
      const symbolic = names.map((name) => outputNameOf(model, name));
      return (feeds) => model.execute([...feeds], symbolic) as tf.Tensor[];
    },
  };
}

function outputNameOf(model: LayersModel, layerName: string): string {
  const output = model.getLayer(layerName).output;
  return (Array.isArray(output) ? output[0]! : output).name;
}

// GraphModel: node names of the serialized graph.

/** Ops whose output is always [N, H, W, C] in a TensorFlow graph. */
const MAP_OPS = new Set([
  'Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'Conv2DBackpropInput',
  'MaxPool', 'AvgPool', 'MaxPoolWithArgmax', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3',
  'ResizeBilinear', 'ResizeNearestNeighbor', 'Dilation2D', 'DepthToSpace', 'SpaceToDepth',
]);

/**
 * Element-wise, activation and concatenation ops: their output has the rank of their highest-rank input, so
 * they yield a map when one of their inputs is a map. Identity and Cast are left out on purpose: they
 * repeat the map they receive.
 */
const MAP_PRESERVING_OPS = new Set([
  'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'RealDiv', 'Div', 'Maximum', 'Minimum', 'SquaredDifference', 'BiasAdd',
  'Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh', 'Softplus', 'Swish', 'HardSwish',
  'Neg', 'Abs', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'ClipByValue', 'ConcatV2', 'Concat', 'Pad', 'PadV2', 'MirrorPad',
]);

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

interface GraphModelInternals {
  /** The model.json as loaded; GraphModel.save() writes it back out, so it keeps the serialized format. */
  artifacts?: { modelTopology?: { node?: GraphNode[] } };
}

function graphNodes(model: GraphModel): GraphNode[] {
  const nodes = (model as unknown as GraphModelInternals).artifacts?.modelTopology?.node;
  if (!Array.isArray(nodes)) {
    throw new Error('GraphModel: this tfjs-converter build keeps no model topology (artifacts.modelTopology.node).');
  }
  return nodes;
}

function graphSource(model: GraphModel): CaptureSource {
  const nodes = graphNodes(model);
  const maps = mapNodes(nodes);
  const fetchable = nodes.filter((node) => node.op !== 'Const' && node.op !== 'Placeholder');
  return {
    kind: 'GraphModel',
    allNames: fetchable.map((node) => node.name),
    featureNames: fetchable.filter((node) => maps.has(node.name)).map((node) => node.name),
    inputs: model.inputs.map((info) => ({
      name: info.name,
      shape: info.shape ? info.shape.map((dim) => (dim < 0 ? null : dim)) : null,
      dtype: info.dtype ?? null,
    })),
    staticShape: () => null,
    fetcher: (names) => {
      const outputs = [...names];
      const inputNames = model.inputs.map((info) => info.name);
      return (feeds) => {
        const map: tf.NamedTensorMap = {};
        inputNames.forEach((name, i) => { map[name] = feeds[i]!; });
        // execute() returns a lone tensor, not a list of one, when one output is asked for.
        const result = model.execute(map, outputs);
        return Array.isArray(result) ? result : [result];
      };
    },
  };
}

/**
 * The names of the nodes that yield feature maps, found by propagating from the MAP_OPS through the
 * MAP_PRESERVING_OPS until nothing changes. Serialized graphs are almost always in topological order, so
 * this settles in two passes; any order settles eventually, because the set only grows.
 */
function mapNodes(nodes: readonly GraphNode[]): Set<string> {
  const maps = new Set(nodes.filter((node) => MAP_OPS.has(node.op)).map((node) => node.name));
  const candidates = nodes.filter((node) => MAP_PRESERVING_OPS.has(node.op));
  for (let changed = true; changed;) {
    changed = false;
    for (const node of candidates) {
      if (!maps.has(node.name) && dataInputs(node).some((input) => maps.has(input))) {
        maps.add(node.name);
        changed = true;
      }
    }
  }
  return maps;
}

/** A node's data inputs by node name: control inputs (^name) dropped, output indices (:1) stripped. */
function dataInputs(node: GraphNode): string[] {
  return (node.input ?? []).filter((input) => !input.startsWith('^')).map((input) => input.replace(/:\d+$/, ''));
}
