// Which element shows a file, from its tensors' names and shapes (src/elements/choose-element.ts).
import { describe, expect, it } from 'vitest';
import { chooseElement, LONG_SEQUENCE_TOKENS } from '../../src/elements/choose-element';
import type { NamedTensors } from '../../src/io/attention-tensors';

/** Named tensors of the given shapes, filled with a ramp (the choice reads shapes only). */
function tensors(shapes: Record<string, number[]>): NamedTensors {
  return new Map(
    Object.entries(shapes).map(([name, shape]) => {
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) / 7);
      return [name, { shape, data }];
    }),
  );
}

describe('chooseElement', () => {
  it('sends attention weights to the heatmap', () => {
    expect(chooseElement(tensors({ 'layers.0.attn': [2, 5, 5], 'layers.1.attn': [2, 5, 5] })).tag).toBe('glassbox-attention-heatmap');
  });

  it('sends Q and K to the heatmap up to LONG_SEQUENCE_TOKENS tokens, and to the explorer beyond', () => {
    const at = (n: number) => chooseElement(tensors({ 'layers.0.q': [1, n, 4], 'layers.0.k': [1, n, 4] }));
    expect(at(LONG_SEQUENCE_TOKENS).tag).toBe('glassbox-attention-heatmap');
    const long = at(LONG_SEQUENCE_TOKENS + 1);
    expect(long.tag).toBe('glassbox-long-attention');
    expect(long.reason).toContain((LONG_SEQUENCE_TOKENS + 1).toLocaleString('en'));
  });

  it('counts the tokens of Q and K only, not of other arrays in the same file', () => {
    const choice = chooseElement(tensors({ q: [1, 9, 4], k: [1, 9, 4], embeddings: [LONG_SEQUENCE_TOKENS * 2, 4] }));
    expect(choice.tag).toBe('glassbox-attention-heatmap');
    // Keys longer than queries (cross attention) do count: P has that many columns.
    expect(chooseElement(tensors({ q: [1, 9, 4], k: [1, LONG_SEQUENCE_TOKENS + 3, 4] })).tag).toBe('glassbox-long-attention');
  });

  it('sends rank-4 activations to the feature maps, and any other array to the heatmap', () => {
    expect(chooseElement(tensors({ conv1: [1, 6, 6, 3] })).tag).toBe('glassbox-feature-maps');
    expect(chooseElement(tensors({ table: [3, 8] })).tag).toBe('glassbox-attention-heatmap');
  });
});
