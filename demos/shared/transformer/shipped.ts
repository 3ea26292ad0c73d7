// The shipped transformer for the browser: vite serves weights.safetensors through a `?url` import (dev,
// build and vitest's browser runs alike), and nothing is fetched from the network.
import weightsUrl from './weights.safetensors?url';
import { loadTransformer, type Transformer } from './model';

/** Fetches and loads the shipped weights on the active tfjs backend. */
export async function loadShippedTransformer(): Promise<Transformer> {
  const response = await fetch(weightsUrl);
  if (!response.ok) throw new Error(`loadShippedTransformer: fetching ${weightsUrl} failed with HTTP ${response.status}.`);
  return loadTransformer(await response.arrayBuffer());
}
