// Every benchmark case, in the order they run.
import type { BenchCase, Params } from '../harness';
import { attentionWeightsCase } from './attention-weights';
import { lseThroughputCase, maxNCase, screenTilesAtTfjsLargestCase, screenTilesCase } from './long-attention';
import { maxNFullCase } from './max-n-full';
import { refineFramesCase } from './refine-frames';
import { featureGridCase } from './feature-grid';
import { activationLatencyCase } from './activation-latency';
import { inversionStepsCase } from './inversion-steps';
import { headViewCase } from './head-view';
import { rolloutCase } from './rollout';

export const benchCases: readonly BenchCase<Params>[] = [
  attentionWeightsCase,
  lseThroughputCase,
  screenTilesCase,
  screenTilesAtTfjsLargestCase,
  maxNCase,
  maxNFullCase,
  refineFramesCase,
  featureGridCase,
  activationLatencyCase,
  inversionStepsCase,
  headViewCase,
  rolloutCase,
];
