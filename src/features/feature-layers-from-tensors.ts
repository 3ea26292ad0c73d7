// Activations read from files (named float32 arrays) → FeatureLayers on the GPU, one per rank-3/4 tensor, in
// the layout the file has (NCHW from PyTorch stays NCHW: the kernels and the grid read either).
import type { Engine } from '../core/engine';
import type { NamedTensors } from '../io/attention-tensors';
import { featureTensorsFrom, type FeatureTensorsOptions } from '../io/feature-tensors';
import { tensorFromArray } from '../memory/gpu-tensor';
import { featureLayer, type FeatureLayer } from './feature-layer';

/** Uploads every feature map of `tensors`; the caller destroys the layers' tensors. */
export function featureLayersFromTensors(engine: Engine, tensors: NamedTensors, label: string, options: FeatureTensorsOptions = {}): FeatureLayer[] {
  const layers: FeatureLayer[] = [];
  try {
    for (const array of featureTensorsFrom(tensors, options)) {
      const tensor = tensorFromArray(engine, array.data, array.shape, { label: `${label}:${array.name}`, layout: array.layout });
      layers.push(featureLayer(array.name, tensor, array.layout));
    }
  } catch (error) {
    for (const layer of layers) layer.tensor.destroy();
    throw error;
  }
  return layers;
}
