// A pretrained CNN that works offline: MoveNet SinglePose Lightning, as shipped in the @vladmandic/human
// package (a devDependency). Its files are imported with `?url`, so vite serves them in dev, copies them
// into the build, and vitest's browser runs load them the same way; nothing is fetched from the network.
// The package's exports map hides models/, hence the path through node_modules.
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import modelUrl from '../../node_modules/@vladmandic/human/models/movenet-lightning.json?url';
import weightsUrl from '../../node_modules/@vladmandic/human/models/movenet-lightning.bin?url';
import { featureLayerNames } from '../../src/index';

export const MOVENET_INFO = Object.freeze({
  name: 'MoveNet SinglePose Lightning v4',
  source: 'https://tfhub.dev/google/movenet/singlepose/lightning/4',
  files: '@vladmandic/human 3.3.6, models/movenet-lightning.json + .bin (tfjs GraphModel)',
  licence: 'Apache-2.0',
  /** One line of attribution, for a status bar. */
  credit: 'Model: MoveNet SinglePose Lightning v4 by Google (TF Hub), Apache-2.0, via @vladmandic/human.',
  architecture: 'MobileNetV2 backbone with an FPN, CenterNet keypoint head',
  /** The graph's input: RGB values 0..255 as int32, [1, 192, 192, 3]; the graph rescales them itself. */
  inputName: 'input:0',
  inputSize: 192,
  inputShape: Object.freeze([1, 192, 192, 3]),
  inputDtype: 'int32',
  /** Its output: 17 keypoints as (y, x, score), y and x in [0, 1]. */
  outputShape: Object.freeze([1, 1, 17, 3]),
});

/** Loads MoveNet Lightning from the package's files (4.6 MB of weights), on the active tfjs backend. */
export async function loadMoveNet(): Promise<GraphModel> {
  // The manifest names its weights file relatively; point it at the URL vite gave the file.
  return loadGraphModel(modelUrl, { weightUrlConverter: async () => weightsUrl });
}

/** The backbone and FPN part of the graph (the keypoint heads come after it). */
const FEATURE_EXTRACTOR = 'center_net_mobile_net_v2fpn_feature_extractor/';

/**
 * The feature maps of MoveNet's backbone in graph order: every MobileNetV2 block's expansion (…_expand_relu),
 * depthwise and projection outputs and its residual add, Conv1 and out_relu, then the FPN's lateral convs,
 * merges, separable convs and ReLUs. The FPN's bilinear upsamplings are left out: each is its input, four
 * times larger. The keypoint heads are left out too.
 */
export function moveNetLayerNames(model: GraphModel): string[] {
  return featureLayerNames(model).filter((name) => name.includes(FEATURE_EXTRACTOR) && !name.includes('/resize/'));
}
