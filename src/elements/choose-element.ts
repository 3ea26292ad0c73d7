// Which element shows a file: decided from the tensors' names and shapes alone, so the CLI's viewer and
// anyone dropping a file get the same answer (and a test can check it without a browser).
import { hasQueriesAndKeys, looksLikeQueryOrKey, type NamedTensors } from '../io/attention-tensors';
import { hasAttentionWeights } from '../io/attention-weight-tensors';

/** Q and K longer than this go to the long-sequence explorer: P would be N×N per head. */
export const LONG_SEQUENCE_TOKENS = 2048;

/** The element that should show a file, and why. */
export interface ElementChoice {
  tag: 'glassbox-attention-heatmap' | 'glassbox-long-attention' | 'glassbox-feature-maps';
  /** One line for the page: what the file was read as. */
  reason: string;
}

/**
 * Picks the element for a file from its tensors' names and shapes: attention weights → heatmap; Q and K →
 * heatmap, or the long-sequence explorer beyond `LONG_SEQUENCE_TOKENS` tokens; rank-4 arrays → feature
 * maps; anything else → heatmap of the raw array.
 */
export function chooseElement(tensors: NamedTensors): ElementChoice {
  if (hasAttentionWeights(tensors)) {
    return { tag: 'glassbox-attention-heatmap', reason: 'attention weights P: every layer (rows) and head (columns)' };
  }
  if (hasQueriesAndKeys(tensors)) {
    // Tokens of Q and K only: a file may hold other arrays too (an embedding table's rows are not tokens).
    const qk = [...tensors].filter(([name]) => looksLikeQueryOrKey(name)).map(([, t]) => t.shape[t.shape.length - 2] ?? 0);
    const tokens = Math.max(...qk);
    return tokens > LONG_SEQUENCE_TOKENS
      ? { tag: 'glassbox-long-attention', reason: `Q and K of ${tokens.toLocaleString('en')} tokens: exact attention on demand, never N×N` }
      : { tag: 'glassbox-attention-heatmap', reason: 'Q and K: P computed on the GPU, every layer (rows) and head (columns)' };
  }
  if ([...tensors.values()].some((t) => t.shape.length === 4)) {
    return { tag: 'glassbox-feature-maps', reason: '4-D activations: every channel of every layer as a map' };
  }
  return { tag: 'glassbox-attention-heatmap', reason: 'an array, coloured by its own range' };
}
