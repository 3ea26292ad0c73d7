// Attention weights for an element, from whatever named tensors it was given: P itself (per layer and head),
// or Q and K (P then computed by our kernel), or any other 2-D/3-D array shown as it is with its own range.
import { attentionWeights } from '../attention/attention-weights';
import type { Engine } from '../core/engine';
import { InvalidArgumentError } from '../core/errors';
import { attentionTensorsFrom, hasQueriesAndKeys, type NamedTensors } from '../io/attention-tensors';
import { attentionWeightsFrom, hasAttentionWeights } from '../io/attention-weight-tensors';
import { tensorFromArray, type GpuTensor } from '../memory/gpu-tensor';

export interface ElementWeights {
  /** [layers × heads, N, M]: one tile per head, one row of tiles per layer. */
  tensor: GpuTensor;
  layers: number;
  heads: number;
  /** Colour range: [0, 1] for attention weights, the finite data range for anything else. */
  range: { vmin: number; vmax: number };
  /** What the tensors were read as, for the element's caption and errors. */
  kind: 'weights' | 'queries-and-keys' | 'array';
}

export async function elementWeights(engine: Engine, tensors: NamedTensors, causal: boolean, label: string): Promise<ElementWeights> {
  if (hasAttentionWeights(tensors)) {
    const { shape, data } = attentionWeightsFrom(tensors);
    const [layers, heads, n] = shape;
    const tensor = tensorFromArray(engine, data, [layers * heads, n, n], { label: `${label}.P` });
    return { tensor, layers, heads, range: { vmin: 0, vmax: 1 }, kind: 'weights' };
  }
  if (hasQueriesAndKeys(tensors)) return weightsFromQueriesAndKeys(engine, tensors, causal, label);
  return plainArray(engine, tensors, label);
}

/** Every layer's P by the attention-weights kernel, stacked layer after layer. */
async function weightsFromQueriesAndKeys(engine: Engine, tensors: NamedTensors, causal: boolean, label: string): Promise<ElementWeights> {
  const layers = attentionTensorsFrom(tensors);
  const parts: GpuTensor[] = [];
  try {
    for (const { q, k } of layers) {
      const [gq, gk] = [tensorFromArray(engine, q.data, q.shape), tensorFromArray(engine, k.data, k.shape)];
      try {
        parts.push(await attentionWeights(engine, gq, gk, { causal, label: `${label}.P` }));
      } finally {
        gq.destroy();
        gk.destroy();
      }
    }
    const [heads, n, m] = parts[0]!.shape as [number, number, number];
    const tensor = parts.length === 1 ? parts.pop()! : await stack(engine, parts, [layers.length * heads, n, m], label);
    return { tensor, layers: layers.length, heads, range: { vmin: 0, vmax: 1 }, kind: 'queries-and-keys' };
  } finally {
    for (const part of parts) part.destroy();
  }
}

async function stack(engine: Engine, parts: GpuTensor[], shape: number[], label: string): Promise<GpuTensor> {
  const out = tensorFromArray(engine, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { label: `${label}.P` });
  await engine.run(`${label}.stack`, (encoder) => {
    let offset = 0;
    for (const part of parts) {
      encoder.copyBufferToBuffer(part.buffer, 0, out.buffer, offset, part.size * 4);
      offset += part.size * 4;
    }
  });
  return out;
}

/** The one tensor of a file that is neither P nor Q/K: [N, M] or [tiles, N, M], coloured by its own range. */
function plainArray(engine: Engine, tensors: NamedTensors, label: string): ElementWeights {
  const candidates = [...tensors].filter(([, t]) => t.shape.length === 2 || t.shape.length === 3);
  if (candidates.length !== 1) {
    const found = [...tensors].map(([name, t]) => `'${name}' [${t.shape.join(', ')}]`).join(', ') || 'no tensors';
    throw new InvalidArgumentError(
      `${label}: expected attention weights ('attentions.L', 'p', …), Q and K ('layers.L.q' / 'layers.L.k', …), ` +
        `or exactly one 2-D or 3-D array; found ${found}.`,
    );
  }
  const [name, array] = candidates[0]!;
  const shape = array.shape.length === 2 ? [1, ...array.shape] : [...array.shape];
  let [vmin, vmax] = [Infinity, -Infinity];
  for (const v of array.data) if (Number.isFinite(v)) [vmin, vmax] = [Math.min(vmin, v), Math.max(vmax, v)];
  if (!(vmin < vmax)) throw new InvalidArgumentError(`${label}: '${name}' has no two different finite values to colour.`);
  return { tensor: tensorFromArray(engine, array.data, shape, { label: `${label}.values` }), layers: 1, heads: shape[0]!, range: { vmin, vmax }, kind: 'array' };
}
