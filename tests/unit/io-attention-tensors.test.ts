// Picking Q and K per layer out of named tensors: the naming convention, shapes, and the messages when
// nothing or only half matches.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import { attentionTensorsFrom, type NamedTensors } from '../../src/io/attention-tensors';
import { parseSafetensors } from '../../src/io/safetensors';
import { writeSafetensors } from '../../src/io/safetensors-writer';
import { randomFloats } from '../../src/reference/random';

function named(entries: Record<string, number[]>): NamedTensors {
  return new Map(
    Object.entries(entries).map(([name, shape], i) => [name, { shape, data: randomFloats(shape.reduce((a, b) => a * b, 1), i + 1) }]),
  );
}

const layersOf = (tensors: NamedTensors) =>
  attentionTensorsFrom(tensors).map(({ layer, q, k }) => [layer, q.name, k.name, q.shape, k.shape]);

describe('attentionTensorsFrom', () => {
  it('reads the canonical names from a safetensors file, sorted by layer, F16 decoded', () => {
    const q0 = randomFloats(2 * 5 * 4, 1);
    const bytes = writeSafetensors({
      'layers.1.q': { data: randomFloats(2 * 5 * 4, 2), shape: [2, 5, 4], dtype: 'BF16' },
      'layers.1.k': { data: randomFloats(2 * 5 * 4, 3), shape: [2, 5, 4], dtype: 'BF16' },
      'layers.0.q': { data: q0, shape: [2, 5, 4], dtype: 'F16' },
      'layers.0.k': { data: randomFloats(2 * 7 * 4, 4), shape: [2, 7, 4] },
      'tokens.ids': { data: new Float32Array(5), shape: [5] },
    });
    const layers = attentionTensorsFrom(parseSafetensors(bytes).tensors);
    expect(layers.map((layer) => layer.layer)).toEqual([0, 1]);
    expect(layers[0]!.q.shape).toEqual([2, 5, 4]);
    expect(layers[0]!.k.shape).toEqual([2, 7, 4]); // N may differ between Q and K
    layers[0]!.q.data.forEach((value, i) => expect(Math.abs(value - q0[i]!)).toBeLessThanOrEqual(Math.abs(q0[i]!) * 2 ** -11 + 2 ** -25));
  });

  it('accepts the documented alternatives, case-insensitively, and .npy file names', () => {
    expect(layersOf(named({ 'layer_3/q': [4, 2], 'layer_3/k': [4, 2] }))).toEqual([[3, 'layer_3/q', 'layer_3/k', [1, 4, 2], [1, 4, 2]]]);
    expect(layersOf(named({ q_2: [1, 3, 4, 2], K_2: [1, 3, 4, 2] }))).toEqual([[2, 'q_2', 'K_2', [3, 4, 2], [3, 4, 2]]]);
    expect(layersOf(named({ '7.query': [3, 2], '7.key': [3, 2] }))[0]![0]).toBe(7);
    expect(layersOf(named({ 'q12.npy': [3, 2], 'k12.npy': [3, 2] }))[0]![0]).toBe(12);
    expect(layersOf(named({ q: [3, 2], k: [3, 2] }))[0]![0]).toBe(0);
    expect(layersOf(named({ 'Layers-4-Q': [3, 2], 'l4.k': [3, 2] }))[0]!.slice(0, 3)).toEqual([4, 'Layers-4-Q', 'l4.k']);
  });

  it('hands back the same data, not a copy', () => {
    const tensors = named({ q: [3, 2], k: [3, 2] });
    expect(attentionTensorsFrom(tensors)[0]!.q.data).toBe(tensors.get('q')!.data);
  });

  it('lists the names it found when none follows the convention', () => {
    const run = () => attentionTensorsFrom(named({ 'model.layers.0.self_attn.q_proj.weight': [4, 4], 'model.layers.0.self_attn.k_proj.weight': [4, 4] }));
    expect(run).toThrow(InvalidArgumentError);
    expect(run).toThrow(/no tensor is named like 'layers\.L\.q' \/ 'layers\.L\.k' .*Found 'model\.layers\.0\.self_attn\.q_proj\.weight', 'model\.layers\.0\.self_attn\.k_proj\.weight'\. Names ending in q_proj\.weight are projection weights/);
    const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`t${i}`, [1]]));
    expect(() => attentionTensorsFrom(named(many))).toThrow(/Found 't0', .*'t19' and 5 more\.$/);
    expect(() => attentionTensorsFrom(new Map())).toThrow(/Found no tensors/);
  });

  it('refuses half a layer, two names for one role, and shapes that are not Q/K', () => {
    expect(() => attentionTensorsFrom(named({ 'layers.0.q': [3, 2], 'layers.0.k': [3, 2], 'layers.1.q': [3, 2] }))).toThrow(/layer 1 has 'layers\.1\.q' but no K/);
    expect(() => attentionTensorsFrom(named({ k_5: [3, 2] }))).toThrow(/layer 5 has 'k_5' but no Q/);
    expect(() => attentionTensorsFrom(named({ 'layers.0.q': [3, 2], q_0: [3, 2], k: [3, 2] }))).toThrow(/both 'layers\.0\.q' and 'q_0' name the Q of layer 0/);
    expect(() => attentionTensorsFrom(named({ q: [2, 3, 4, 5], k: [2, 3, 4, 5] }))).toThrow(/'q' has shape \[2, 3, 4, 5\]; a batch of 2; expected batch 1/);
    expect(() => attentionTensorsFrom(named({ q: [6], k: [6] }))).toThrow(/'q' has shape \[6\]; expected \[N, d\], \[heads, N, d\] or \[1, heads, N, d\]/);
    expect(() => attentionTensorsFrom(named({ q: [0, 4], k: [3, 4] }))).toThrow(/'q' has shape \[0, 4\]; attention needs at least one head/);
    expect(() => attentionTensorsFrom(named({ q: [2, 3, 4], k: [2, 3, 8] }))).toThrow(/Q 'q' is \[2, 3, 4\] and K 'k' is \[2, 3, 8\] as \[heads, N, d\]; they must agree on heads and d/);
  });
});
