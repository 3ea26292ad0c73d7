// Activations from a dropped file (.npy: one layer; .safetensors: one layer per tensor), uploaded once and
// named as FeatureLayers. PyTorch dumps are NCHW and stay so: the kernels and the grid read either layout.
import {
  featureLayer,
  featureTensorsFrom,
  parseNpy,
  parseSafetensors,
  tensorFromArray,
  type Engine,
  type FeatureLayer,
  type NamedTensors,
} from '../../src/index';

export async function fileLayers(engine: Engine, file: File): Promise<FeatureLayer[]> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let named: NamedTensors;
  if (file.name.endsWith('.npy')) named = new Map([[file.name, parseNpy(bytes)]]);
  else if (file.name.endsWith('.safetensors')) {
    named = new Map([...parseSafetensors(bytes).tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
  } else throw new Error(`${file.name}: expected an image, a video, a .npy or a .safetensors file.`);
  return featureTensorsFrom(named).map((array) =>
    featureLayer(array.name, tensorFromArray(engine, array.data, array.shape, { label: `${file.name}:${array.name}`, layout: array.layout }), array.layout),
  );
}
