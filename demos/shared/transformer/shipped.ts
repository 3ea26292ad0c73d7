// The shipped transformer for the browser: vite serves weights.safetensors through a `?url` import (dev,
// build and vitest's browser runs alike), and nothing is fetched from the network.
import weightsUrl from './weights.safetensors?url';
import record from './training.json';
import { loadTransformer, type Transformer } from './model';

/** The head training made an induction head (training.json's inductionScore): where the demo opens. */
export const SHIPPED_INDUCTION_HEAD = Object.freeze({
  layer: record.inductionScore.layer,
  head: record.inductionScore.head,
  score: record.inductionScore.score,
});

/** Fetches and loads the shipped weights on the active tfjs backend. */
export async function loadShippedTransformer(): Promise<Transformer> {
  const response = await fetch(weightsUrl);
  if (!response.ok) throw new Error(`loadShippedTransformer: fetching ${weightsUrl} failed with HTTP ${response.status}.`);
  return loadTransformer(await response.arrayBuffer());
}
