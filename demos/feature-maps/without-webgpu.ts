// Where the browser has no WebGPU: the model runs on tfjs's CPU backend, its activations are read back,
// and the regl (WebGL2) fallback draws the same grid. Slower, but the page still shows every map.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { createFeatureGridFallback, type CpuFeatureLayer, type FeatureGridFallback } from '../../src/index';
import { configureFallback, type FallbackSettings } from './fallback';

export interface CpuFeatureMaps {
  /** Runs the model on the input canvas and draws its maps; resolves when they are uploaded. */
  update(input: HTMLCanvasElement): Promise<CpuFeatureLayer[]>;
  render(): void;
  configure(settings: FallbackSettings): void;
}

/** Makes tfjs run on the CPU; call before loading the model, whose weights live on the active backend. */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
}

export function cpuFeatureMaps(
  canvas: HTMLCanvasElement,
  model: GraphModel,
  names: readonly string[],
  shortNames: readonly string[],
  settings: FallbackSettings & { columnsFor: (layers: readonly CpuFeatureLayer[]) => number },
): CpuFeatureMaps {
  const { columnsFor, ...look } = settings;
  let grid: FeatureGridFallback | null = null;
  return {
    async update(input) {
      const outputs = tf.tidy(() => {
        const image = tf.expandDims(tf.browser.fromPixels(input), 0);
        const result = model.execute({ 'input:0': image }, [...names]);
        return Array.isArray(result) ? result : [result];
      });
      const data = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      const layers = outputs.map((t, i): CpuFeatureLayer => {
        const [batch, height, width, channels] = t.shape as [number, number, number, number];
        return { name: shortNames[i]!, layout: 'NHWC', batch, height, width, channels, data: data[i]! };
      });
      tf.dispose(outputs);
      if (grid) grid.update(layers);
      else grid = createFeatureGridFallback(canvas, { layers, ...look, columns: columnsFor(layers) });
      return layers;
    },
    render() {
      grid?.render();
    },
    configure(next) {
      if (grid) configureFallback(grid, next);
    },
  };
}
