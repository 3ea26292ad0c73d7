// Where the demo's attention comes from: the shipped transformer reading the text (Q, K and P wrapped
// zero-copy from tfjs's own buffers, after one GPU-side stacking over layers), or a dropped file of P per
// layer, or of Q and K per layer (P then computed by attentionWeights on the GPU).
import {
  attentionTensorsFrom,
  attentionWeights,
  attentionWeightsFrom,
  hasAttentionWeights,
  parseNpy,
  parseSafetensors,
  tensorFromArray,
  type Engine,
  type GpuTensor,
  type NamedTensors,
} from '../../src/index';
import { captureAttention } from '../shared/transformer/capture';
import type { Transformer } from '../shared/transformer/model';

export interface AttentionSource {
  /** What it is, for the status line. */
  title: string;
  tokens: string[];
  layers: number;
  heads: number;
  n: number;
  /** [layers, heads, n, n] */
  weights: GpuTensor;
  /** [layers, heads, n, dh], when the source has them (not for a file of P). */
  q: GpuTensor | null;
  k: GpuTensor | null;
  dispose(): void;
}

/** The shipped model on `text` (at most its context; characters outside its vocabulary are an error). */
export function textSource(engine: Engine, transformer: Transformer, text: string): AttentionSource {
  const ids = transformer.encode(text);
  const captured = captureAttention(engine, transformer, ids);
  const [layers, heads, n] = captured.weights.shape as [number, number, number, number];
  return {
    title: `the shipped transformer (${layers} layers × ${heads} heads) on ${n} characters`,
    tokens: captured.tokens,
    layers,
    heads,
    n,
    weights: captured.weights,
    q: captured.q,
    k: captured.k,
    dispose: () => captured.dispose(),
  };
}

/** Dropped `.npy` files (named by file name) or one `.safetensors` file. */
export async function fileSource(engine: Engine, files: readonly File[], causal: boolean): Promise<AttentionSource> {
  const tensors = await namedTensors(files);
  const names = files.map((file) => file.name).join(', ');
  if (hasAttentionWeights(tensors)) {
    const stacked = attentionWeightsFrom(tensors);
    const [layers, heads, n] = stacked.shape;
    const weights = tensorFromArray(engine, stacked.data, stacked.shape, { label: 'TransformerDemo.fileP' });
    return { title: `P from ${names}`, tokens: indexTokens(n), layers, heads, n, weights, q: null, k: null, dispose: () => weights.destroy() };
  }
  return qkSource(engine, tensors, names, causal);
}

async function qkSource(engine: Engine, tensors: NamedTensors, names: string, causal: boolean): Promise<AttentionSource> {
  const found = attentionTensorsFrom(tensors);
  const [heads, n, d] = found[0]!.q.shape;
  const same = found.every(({ q, k }) => q.shape.join() === found[0]!.q.shape.join() && k.shape.join() === q.shape.join());
  if (!same) {
    throw new Error(`${names}: every layer's Q and K must be [heads, N, d] = [${heads}, ${n}, ${d}] (self-attention) for these views.`);
  }
  const stack = (role: 'q' | 'k') => {
    const data = new Float32Array(found.length * heads * n * d);
    found.forEach((layer, l) => data.set(layer[role].data, l * heads * n * d));
    return tensorFromArray(engine, data, [found.length, heads, n, d], { label: `TransformerDemo.file${role.toUpperCase()}` });
  };
  const q = stack('q');
  const k = stack('k');
  try {
    const weights = await attentionWeights(engine, q, k, { causal, label: 'TransformerDemo.fileP' });
    const dispose = () => [q, k, weights].forEach((tensor) => tensor.destroy());
    const title = `Q and K from ${names} (P computed here${causal ? ', causal' : ''})`;
    return { title, tokens: indexTokens(n), layers: found.length, heads, n, weights, q, k, dispose };
  } catch (error) {
    q.destroy();
    k.destroy();
    throw error;
  }
}

async function namedTensors(files: readonly File[]): Promise<NamedTensors> {
  const safetensors = files.find((file) => file.name.toLowerCase().endsWith('.safetensors'));
  if (safetensors) return parseSafetensors(new Uint8Array(await safetensors.arrayBuffer())).tensors;
  const npy = files.filter((file) => file.name.toLowerCase().endsWith('.npy'));
  if (npy.length === 0) {
    throw new Error(`Expected .npy files or a .safetensors file; got ${files.map((file) => file.name).join(', ') || 'nothing'}.`);
  }
  const entries = await Promise.all(npy.map(async (file) => [file.name, parseNpy(new Uint8Array(await file.arrayBuffer()))] as const));
  return new Map(entries.map(([name, array]) => [name, { shape: array.shape, data: array.data }]));
}

/** Files carry no text: tokens are labelled by position. */
function indexTokens(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i));
}
