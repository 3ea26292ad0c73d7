// Every benchmark case, in the order they run.
import type { BenchCase, Params } from '../harness';
import { attentionWeightsCase } from './attention-weights';

export const benchCases: readonly BenchCase<Params>[] = [attentionWeightsCase];
