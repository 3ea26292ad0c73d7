// Capturing activations from tfjs models as FeatureLayers: values against tfjs's own per-layer outputs (and
// a float64 convolution), zero copies shown by buffer identity, NCHW maps from files, the error messages,
// no leaks over 1000 runs, and MoveNet Lightning loaded from the package files.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadMoveNet, moveNetLayerNames, MOVENET_INFO } from '../../demos/shared/pretrained-cnn';
import { InvalidArgumentError } from '../../src/core/errors';
import { featureIndex, featureLayer, type FeatureLayer } from '../../src/features/feature-layer';
import { parseNpy, writeNpy } from '../../src/io/npy';
import { featureTensorsFrom } from '../../src/io/feature-tensors';
import { createActivationCapture, featureLayerNames } from '../../src/interop/tfjs/capture';
import { ownBuffer } from '../../src/interop/tfjs/internals';
import { tensorFromArray } from '../../src/memory/gpu-tensor';
import { maxAbsDifference, seededRandom } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';
import { createTinyCnn, tinyCnnInput, TINY_CNN_INPUT, TINY_CNN_MAPS } from '../helpers/tiny-cnn';

const engine = useEngine();
const backend = () => tf.backend() as WebGPUBackend;
const NAMES = TINY_CNN_MAPS.map((map) => map.name);
let model: tfl.LayersModel;
beforeAll(() => { model = createTinyCnn(7); });
afterAll(() => model.dispose());

/** Every element of the layer, read through its strides, against tfjs's nested [n][y][x][c] array. */
function worstDifference(layer: FeatureLayer, got: Float32Array, want: number[][][][]): number {
  let worst = 0;
  for (let n = 0; n < layer.batch; n++)
    for (let y = 0; y < layer.height; y++)
      for (let x = 0; x < layer.width; x++)
        for (let c = 0; c < layer.channels; c++) {
          const d = Math.abs(got[featureIndex(layer, n, y, x, c)]! - want[n]![y]![x]![c]!);
          worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
        }
  return worst;
}

/** tfjs's conv1 (3×3, same, relu) in float64 from the layer's own weights. */
async function referenceConv1(input: Float32Array, batch: number): Promise<Float64Array> {
  const [kernel, bias] = await Promise.all(model.getLayer('conv1').getWeights().map((w) => w.data()));
  const [h, w, ci] = TINY_CNN_INPUT;
  const co = 8;
  const out = new Float64Array(batch * h * w * co);
  for (let n = 0; n < batch; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let o = 0; o < co; o++) {
          let sum = bias![o]!;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const [sy, sx] = [y + ky - 1, x + kx - 1];
              if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
              for (let i = 0; i < ci; i++) sum += input[((n * h + sy) * w + sx) * ci + i]! * kernel![((ky * 3 + kx) * ci + i) * co + o]!;
            }
          out[((n * h + y) * w + x) * co + o] = Math.max(0, sum);
        }
  return out;
}

describe('activation capture, tiny CNN', () => {
  it('captures every map of a batch of 3 in one pass, equal to per-layer sub-models, over tfjs\'s own buffers', async () => {
    const x = tinyCnnInput(3, 11);
    const capture = createActivationCapture(engine(), model, NAMES, { label: 'Test.capture' });
    const execute = vi.spyOn(model, 'execute');
    const liveBefore = engine().liveBufferCount();
    const layers = capture.run(x);
    expect(engine().liveBufferCount(), 'capture allocated buffers of its own').toBe(liveBefore);
    expect(execute).toHaveBeenCalledTimes(1);
    const outputs = execute.mock.results[0]!.value as tf.Tensor[];
    execute.mockRestore();

    expect(layers.map((l) => [l.name, l.layout, l.batch, l.height, l.width, l.channels])).toEqual(
      TINY_CNN_MAPS.map(({ name, shape }) => [name, 'NHWC', 3, ...shape]),
    );
    for (const [i, layer] of layers.entries()) {
      // Zero copies: the layer binds the very buffer tfjs wrote this output into; the output itself is disposed.
      expect(outputs[i]!.isDisposed).toBe(true);
      expect(layer.tensor.buffer).toBe(ownBuffer(backend(), outputs[i]!));
      const sub = tfl.model({ inputs: model.inputs, outputs: model.getLayer(layer.name).output as tfl.SymbolicTensor });
      const want = sub.predict(x) as tf.Tensor4D;
      const wantArray = await want.array();
      want.dispose();
      const got = await layer.tensor.read();
      expect(got.some((v) => v !== 0) && new Set(got).size > got.length / 4, `${layer.name} is degenerate`).toBe(true);
      expect(worstDifference(layer, got, wantArray), layer.name).toBeLessThanOrEqual(1e-6);
    }
    const conv1 = await referenceConv1(await x.data() as Float32Array, 3);
    const got = await layers[0]!.tensor.read();
    expect(maxAbsDifference(got, conv1)).toBeLessThanOrEqual(1e-5);

    const previous = layers;
    const again = capture.run(x);
    expect(previous.every((l) => l.tensor.destroyed), 'the previous run is released').toBe(true);
    expect(capture.layers).toBe(again);
    capture.dispose();
    expect(again.every((l) => l.tensor.destroyed)).toBe(true);
    x.dispose();
  });

  it('reads an NCHW map from a file exactly as the NHWC capture it came from', async () => {
    const x = tinyCnnInput(2, 12);
    const capture = createActivationCapture(engine(), model, ['conv1']);
    const [nhwc] = capture.run(x);
    const values = await nhwc!.tensor.read();
    const { batch, height, width, channels } = nhwc!;
    const planar = new Float32Array(values.length);
    for (let n = 0; n < batch; n++)
      for (let y = 0; y < height; y++)
        for (let xx = 0; xx < width; xx++)
          for (let c = 0; c < channels; c++) planar[((n * channels + c) * height + y) * width + xx] = values[featureIndex(nhwc!, n, y, xx, c)]!;
    const [file] = featureTensorsFrom(new Map([['conv1', parseNpy(writeNpy(planar, [batch, channels, height, width]))]]));
    expect([file!.layout, file!.layoutGuessed]).toEqual(['NCHW', true]);
    const nchw = featureLayer(file!.name, tensorFromArray(engine(), file!.data, file!.shape, { layout: file!.layout }));
    expect([nchw.layout, nchw.batch, nchw.height, nchw.width, nchw.channels]).toEqual(['NCHW', batch, height, width, channels]);
    const read = await nchw.tensor.read();
    let mismatches = 0;
    for (let n = 0; n < batch; n++)
      for (let y = 0; y < height; y++)
        for (let xx = 0; xx < width; xx++)
          for (let c = 0; c < channels; c++)
            if (read[featureIndex(nchw, n, y, xx, c)] !== values[featureIndex(nhwc!, n, y, xx, c)]) mismatches += 1;
    expect(mismatches).toBe(0);
    nchw.tensor.destroy();
    capture.dispose();
    x.dispose();
  });

  it('lists the rank-4 layers, and says what exists, what is expected and what came', () => {
    expect(featureLayerNames(model)).toEqual(NAMES);
    const create = (names: string[]) => () => createActivationCapture(engine(), model, names, { label: 'Cap' });
    expect(create(['conv1', 'conv9'])).toThrow(InvalidArgumentError);
    expect(create(['conv1', 'conv9'])).toThrow(
      "Cap: the LayersModel has no layer named 'conv9'. It has: 'conv1', 'dw', 'bn', 'pool', 'conv2', 'add', 'conv3', 'concat', 'gap', 'dense'.",
    );
    expect(create(['gap'])).toThrow(/Cap: layer 'gap' outputs shape \[\?, 13\] \(rank 2\); a feature map has rank 4, \[batch, H, W, C\]/);
    expect(create(['bn', 'bn'])).toThrow(/'bn' is listed twice/);
    expect(create([])).toThrow(/no layer names given/);

    const capture = create(['pool', 'concat'])();
    const good = tinyCnnInput(1, 13);
    const kept = capture.run(good);
    const bad: [tf.Tensor, RegExp][] = [
      [tf.zeros([2, 13, 17, 3]), /Cap: input 'image' must have shape \[\?, 17, 13, 3\] \(\? = any size\); got \[2, 13, 17, 3\]\./],
      [tf.zeros([17, 13, 3]), /must have shape \[\?, 17, 13, 3\] \(\? = any size\); got \[17, 13, 3\]/],
      [tf.zeros([1, 17, 13, 3], 'int32'), /input 'image' must be float32; got int32\. Convert with tf\.cast\(input, 'float32'\)/],
    ];
    for (const [input, message] of bad) {
      expect(() => capture.run(input)).toThrow(message);
      input.dispose();
    }
    expect(() => capture.run({ picture: good })).toThrow(/no tensor for input 'image'; expected 'image', got 'picture'/);
    expect(capture.layers, 'a refused input leaves the latest layers alone').toBe(kept);
    expect(kept.some((l) => l.tensor.destroyed)).toBe(false);
    expect(capture.run({ image: good }).map((l) => l.name)).toEqual(['pool', 'concat']);
    capture.dispose();
    expect(() => capture.run(good)).toThrow(/run\(\) after dispose\(\)/);
    good.dispose();
  });

  it('keeps live buffers and tf tensors flat over 1000 runs', async () => {
    const x = tinyCnnInput(1, 14);
    const tensorsBefore = tf.memory().numTensors;
    const liveBefore = engine().liveBufferCount();
    const capture = createActivationCapture(engine(), model, NAMES);
    capture.run(x);
    const tensorsAfterFirst = tf.memory().numTensors;
    const started = performance.now();
    for (let run = 1; run < 1000; run++) {
      const layers = capture.run(x);
      // Wait for the GPU now and then, so the queue does not grow without bound.
      if (run % 100 === 0) await layers[layers.length - 1]!.tensor.readRange(0, 1);
    }
    const perRun = (performance.now() - started) / 999;
    console.log(`tiny CNN capture: ${perRun.toFixed(2)} ms per run (8 layers, batch 1, SwiftShader)`);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(tensorsAfterFirst - tensorsBefore, 'one clone per layer keeps its data').toBe(NAMES.length);
    expect(engine().liveBufferCount()).toBe(liveBefore);
    capture.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    x.dispose();
  });
});

describe('activation capture, MoveNet Lightning (GraphModel)', () => {
  it('captures named nodes equal to model.execute, and its backbone has thousands of channels', async () => {
    const tensorsBefore = tf.memory().numTensors;
    let t = performance.now();
    const movenet = await loadMoveNet();
    const loadMs = performance.now() - t;
    expect(movenet.inputs.map((i) => [i.shape, i.dtype])).toEqual([[[...MOVENET_INFO.inputShape], 'int32']]);
    const random = seededRandom(21);
    const pixels = Int32Array.from({ length: 192 * 192 * 3 }, () => Math.floor(random() * 256));
    const image = tf.tensor4d(pixels, [1, 192, 192, 3], 'int32');

    const prefix = 'StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/';
    const four = ['model/Conv1_relu/Relu6', 'model/block_3_depthwise/depthwise', 'model/block_6_project_BN/FusedBatchNormV3', 'model/block_9_add/add']
      .map((name) => prefix + name);
    t = performance.now();
    const want = movenet.execute(image, four) as tf.Tensor[];
    const wantValues = await Promise.all(want.map((w) => w.data()));
    const executeMs = performance.now() - t;
    const capture = createActivationCapture(engine(), movenet, four);
    const execute = vi.spyOn(movenet, 'execute');
    const layers = capture.run(image);
    const outputs = execute.mock.results[0]!.value as tf.Tensor[];
    execute.mockRestore();
    expect(layers.map((l) => [l.height, l.width, l.channels])).toEqual([[96, 96, 32], [24, 24, 144], [12, 12, 64], [12, 12, 64]]);
    for (const [i, layer] of layers.entries()) {
      expect(layer.tensor.buffer).toBe(ownBuffer(backend(), outputs[i]!));
      expect(want[i]!.shape).toEqual([1, layer.height, layer.width, layer.channels]);
      const got = await layer.tensor.read();
      expect(new Set(got).size, `${layer.name} is degenerate`).toBeGreaterThan(got.length / 20);
      expect(maxAbsDifference(got, wantValues[i]!), layer.name).toBeLessThanOrEqual(1e-6);
    }
    tf.dispose(want);
    capture.dispose();

    expect(() => createActivationCapture(engine(), movenet, ['block_3_depthwise'])).toThrow(
      /has no node named 'block_3_depthwise'\. Closest: .*'StatefulPartitionedCall\/.*block_3_depthwise\/depthwise'.*\(8 of \d+; featureLayerNames\(model\) lists the \d+ feature maps\)/,
    );
    const floats = tf.zeros([1, 192, 192, 3]);
    expect(() => createActivationCapture(engine(), movenet, four).run(floats)).toThrow(/must be int32; got float32/);
    floats.dispose();

    const names = moveNetLayerNames(movenet);
    const all = featureLayerNames(movenet);
    expect(names.length).toBeGreaterThan(60);
    expect(all.length).toBeGreaterThan(names.length);
    expect(names.filter((n) => !all.includes(n))).toEqual([]);
    // Every node the op rule lists really yields a rank-4 float32 map (run() checks each output).
    t = performance.now();
    const everything = createActivationCapture(engine(), movenet, all);
    const maps = everything.run(image).filter((l) => names.includes(l.name));
    await maps[maps.length - 1]!.tensor.readRange(0, 1);
    const captureMs = performance.now() - t;
    const channels = maps.reduce((sum, l) => sum + l.channels, 0);
    const values = maps.reduce((sum, l) => sum + l.batch * l.height * l.width * l.channels, 0);
    everything.dispose();
    const backbone = createActivationCapture(engine(), movenet, names);
    t = performance.now();
    const warm = backbone.run(image);
    await warm[warm.length - 1]!.tensor.readRange(0, 1);
    const warmMs = performance.now() - t;
    backbone.dispose();
    // Shapes of graph nodes are only known by running: a flattened node is refused by run(), with its shape.
    const flat = createActivationCapture(engine(), movenet, ['StatefulPartitionedCall/Reshape_2'], { label: 'Flat' });
    expect(() => flat.run(image)).toThrow(
      "Flat: node 'StatefulPartitionedCall/Reshape_2' outputs shape [1, 2304, 1] (rank 3); a feature map has rank 4, " +
        '[batch, H, W, C]. featureLayerNames(model) lists the nodes that do.',
    );
    expect(flat.layers).toEqual([]);
    flat.dispose();
    console.log(
      `MoveNet: load ${loadMs.toFixed(0)} ms; first execute (4 nodes) ${executeMs.toFixed(0)} ms; capture of all ` +
        `${all.length} feature nodes ${captureMs.toFixed(0)} ms; backbone capture again ${warmMs.toFixed(0)} ms. ` +
        `Backbone + FPN (moveNetLayerNames): ${maps.length} layers, ${channels} channels, ${(values / 1e6).toFixed(2)} M values.`,
    );
    expect(channels).toBeGreaterThan(2000);
    image.dispose();
    movenet.dispose();
    expect(tf.memory().numTensors, 'MoveNet left tensors behind').toBe(tensorsBefore);
  }, 300_000);
});
