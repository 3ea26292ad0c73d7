// Activations from a dropped file (.npy: one layer; .safetensors: one layer per tensor), uploaded once.
import { featureLayersFromTensors, namedTensorsFromFile, type Engine, type FeatureLayer } from '../../src/index';

export async function fileLayers(engine: Engine, file: File): Promise<FeatureLayer[]> {
  return featureLayersFromTensors(engine, namedTensorsFromFile(file.name, new Uint8Array(await file.arrayBuffer())), file.name);
}
