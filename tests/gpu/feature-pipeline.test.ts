// The whole live path, as the feature-maps demo runs it each frame: forward pass (tfjs) → activations
// wrapped without copies → per-channel statistics on the GPU → the grid drawn from the same buffers, all
// in one submit. Over 1000 frames the live buffer count and tf.memory() stay flat, and what is drawn
// follows the newest input (checked against the statistics and colours predicted on the CPU).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  colormapIndex,
  colormapRgba,
  createActivationCapture,
  createFeatureGridView,
  createFeatureStats,
  mapRect,
  normalizationRange,
  normalizedValue,
  referenceChannelStats,
  STATS_FIELD,
  STATS_RECORD_FLOATS,
} from '../../src/index';
import { readBufferRange } from '../../src/memory/readback';
import { useEngine } from '../helpers/engine';
import { createTinyCnn, tinyCnnInput } from '../helpers/tiny-cnn';

const engine = useEngine();
const SIZE = 24; // the live frames' target: small, SwiftShader draws it 1000 times
const CHECK = 96; // the final check zooms onto one map at this size

describe('feature maps, live: capture → statistics → grid in one submit', () => {
  it('stays flat over 1000 frames and draws the newest activations', async () => {
    const model = createTinyCnn(3);
    const inputs = [tinyCnnInput(1, 21), tinyCnnInput(1, 22)];
    const capture = createActivationCapture(engine(), model, ['conv1', 'concat']);
    let layers = capture.run(inputs[0]!);
    const stats = createFeatureStats(engine(), layers, { label: 'pipeline.stats' });
    const canvas = Object.assign(document.createElement('canvas'), { width: SIZE, height: SIZE });
    const view = createFeatureGridView(engine(), { canvas, layers, stats, columns: 8, labels: null, label: 'pipeline.grid' });
    const target = engine().device.createTexture({
      label: 'pipeline.target',
      size: [SIZE, SIZE],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    const targetView = target.createView();
    const frame = (input: tf.Tensor) => {
      layers = capture.run(input);
      view.setLayers(layers, stats);
      const encoder = engine().device.createCommandEncoder({ label: 'pipeline.frame' });
      stats.compute(encoder, layers);
      view.draw(encoder, targetView, SIZE, SIZE, 'rgba8unorm');
      engine().submit([encoder.finish()]);
    };

    frame(inputs[0]!);
    const tensorsAfterFirst = tf.memory().numTensors;
    const liveAfterFirst = engine().liveBufferCount();
    for (let i = 1; i < 1000; i++) {
      frame(inputs[i % 2]!);
      if (i % 100 === 0) await engine().device.queue.onSubmittedWorkDone();
    }
    expect(tf.memory().numTensors, 'tf tensors grew over 1000 frames').toBe(tensorsAfterFirst);
    expect(engine().liveBufferCount(), 'GPU buffers grew over 1000 frames').toBe(liveAfterFirst);

    // Frame 999 ran inputs[1]: the first map of conv1 must show its values, normalized per channel.
    const conv1 = layers[0]!;
    const values = await conv1.tensor.read();
    const want = referenceChannelStats({ ...conv1, values });
    const gotStats = new Float32Array(await stats.read());
    const f = STATS_FIELD;
    for (let c = 0; c <= conv1.channels; c++) {
      const got = gotStats.subarray(c * STATS_RECORD_FLOATS, (c + 1) * STATS_RECORD_FLOATS);
      const ref = want.subarray(c * STATS_RECORD_FLOATS, (c + 1) * STATS_RECORD_FLOATS);
      // Extremes and counts are exact; the mean and std are float32 sums of a few hundred values.
      for (const field of [f.min, f.max, f.absMax, f.finiteCount, f.nonFiniteCount]) expect(got[field], `record ${c}, field ${field}`).toBe(ref[field]);
      expect(Math.abs(got[f.mean]! - ref[f.mean]!), `record ${c}, mean`).toBeLessThanOrEqual(1e-5 * ref[f.absMax]!);
      expect(Math.abs(got[f.std]! - ref[f.std]!), `record ${c}, std`).toBeLessThanOrEqual(1e-4 * ref[f.std]! + 1e-6 * ref[f.absMax]!);
    }
    // Zoom onto map 0 so each texel covers several pixels, draw the same buffers once more, and compare.
    view.focusMap(0, 0);
    const check = engine().device.createTexture({
      label: 'pipeline.check',
      size: [CHECK, CHECK],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    const encoder = engine().device.createCommandEncoder({ label: 'pipeline.check' });
    view.draw(encoder, check.createView(), CHECK, CHECK, 'rgba8unorm');
    engine().submit([encoder.finish()]);
    const pixels = await readTexture(check);
    check.destroy();
    const rect = mapRect(view.layout, view.layout.sections[0]!, 0);
    const camera = view.camera;
    const rgba = colormapRgba('viridis');
    let checked = 0;
    for (let y = 0; y < conv1.height; y += 2) {
      for (let x = 0; x < conv1.width; x += 2) {
        const worldX = rect.x + ((x + 0.5) / conv1.width) * rect.width;
        const worldY = rect.y + ((y + 0.5) / conv1.height) * rect.height;
        const px = Math.floor((worldX - camera.centerX) * camera.scale + CHECK / 2);
        const py = Math.floor((worldY - camera.centerY) * camera.scale + CHECK / 2);
        const range = normalizationRange('channel', want.subarray(0, 8), want.subarray(conv1.channels * 8));
        // The entry the value falls in, or its neighbour when float32 statistics put it at a bin edge.
        const t = normalizedValue(values[(y * conv1.width + x) * conv1.channels]!, range);
        const entries = [colormapIndex(t - 1e-4), colormapIndex(t + 1e-4)];
        const at = (py * CHECK + px) * 4;
        const distance = Math.min(...entries.map((entry) => Math.max(...[0, 1, 2].map((k) => Math.abs(pixels[at + k]! - rgba[entry * 4 + k]!)))));
        expect(distance, `map 0 at (${y}, ${x})`).toBeLessThanOrEqual(1);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);

    view.destroy();
    stats.destroy();
    capture.dispose();
    target.destroy();
    tf.dispose(inputs);
    model.dispose();
  }, 300_000); // 1,000 forward passes on SwiftShader: about a minute alone, longer beside other test files
});

async function readTexture(texture: GPUTexture): Promise<Uint8Array> {
  const e = engine();
  const bytesPerRow = Math.ceil((texture.width * 4) / 256) * 256;
  const buffer = e.createBuffer({ label: 'pipeline.readback', size: bytesPerRow * texture.height, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const encoder = e.device.createCommandEncoder();
  encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow }, [texture.width, texture.height]);
  e.submit([encoder.finish()]);
  const bytes = new Uint8Array(await readBufferRange(e, buffer, 0, buffer.size));
  buffer.destroy();
  const packed = new Uint8Array(texture.width * texture.height * 4);
  for (let y = 0; y < texture.height; y++) packed.set(bytes.subarray(y * bytesPerRow, y * bytesPerRow + texture.width * 4), y * texture.width * 4);
  return packed;
}
