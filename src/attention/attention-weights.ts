// attentionWeights(engine, q, k): P = softmax(Q Kᵀ · scale + mask) as a GpuTensor, computed in place.
import type { Engine } from '../core/engine';
import { NonFiniteError, formatCount, invalidArgument } from '../core/errors';
import {
  createAttentionWeightsKernel,
  type AttentionWeightsKernel,
  type AttentionWeightsParams,
} from '../kernels/attention-weights';
import { assertShapeBindable } from '../kernels/kernel-bindings';
import { GpuTensor, createTensorBuffer, sizeOf } from '../memory/gpu-tensor';
import { readBufferRange } from '../memory/readback';

/** Options for {@link attentionWeights}; `label` names GPU objects and errors. */
export interface AttentionWeightsOptions {
  /** Multiplies QKᵀ; default 1/√d. */
  scale?: number;
  /** Query i sees keys j ≤ i only. */
  causal?: boolean;
  /** Keys at index ≥ keyLength are padding and get weight 0; default: all keys. */
  keyLength?: number;
  /**
   * What a NaN or ±Inf score (from NaN/Inf in Q or K, or q·k overflowing) does: `'throw'` (default) rejects
   * with a NonFiniteError that says where; `'mask'` gives it weight 0 like a masked key.
   */
  nonFinite?: 'throw' | 'mask';
  /**
   * Compensated dot products (default true): P within ~1e-6 of a float64 reference even for logits of
   * 1e4. false: plain float32 accumulation, about 2× faster, errors growing with |logit|·1e-7.
   */
  exact?: boolean;
  /** Write P into this tensor (shape [...batch, nq, nk]) instead of a new one: live views reuse one buffer. */
  out?: GpuTensor;
  label?: string;
}

/**
 * Attention weights of every head. q: [...batch, nq, d], k: [...batch, nk, d] (batch = heads, or layers ×
 * heads) → P: [...batch, nq, nk], rows summing to 1 (rows with every key masked are 0).
 * Resolves once the GPU has finished, so that errors are reported here; the caller owns P.
 * On any error, nothing is left allocated and a caller's `out` is left to the caller.
 */
export async function attentionWeights(
  engine: Engine,
  q: GpuTensor,
  k: GpuTensor,
  options: AttentionWeightsOptions = {},
): Promise<GpuTensor> {
  const label = options.label ?? 'attentionWeights';
  const params = attentionParams(q, k, options);
  const outShape = [...q.shape.slice(0, -1), params.nk];
  const hint = 'Use fewer heads or tokens per call (or the long-sequence explorer, which never holds N×N).';
  assertShapeBindable(label, 'P', outShape, engine.limits, hint);
  assertShapeBindable(label, 'Q', q.shape, engine.limits, hint);
  assertShapeBindable(label, 'K', k.shape, engine.limits, hint);

  if (options.out) assertOutShape(options.out, outShape);
  const out = options.out ?? new GpuTensor({ engine, buffer: createTensorBuffer(engine, outShape, `${label}.P`), shape: outShape });
  const owned: { kernel?: AttentionWeightsKernel } = {};
  try {
    // Assigned inside the scope, so that a kernel whose creation reports an error is still destroyed.
    const built = await engine.withErrorScope(label, () => (owned.kernel = createAttentionWeightsKernel(engine, label)));
    const io = { out: out.buffer, q: q.buffer, k: k.buffer };
    await engine.run(label, (encoder) => built.record(encoder, io, params));
    const [count = 0, first = 0] = new Uint32Array(await readBufferRange(engine, built.status, 0, 8));
    if (count > 0 && options.nonFinite !== 'mask') throw nonFiniteError(label, count, first, params);
  } catch (error) {
    if (out !== options.out) out.destroy();
    throw error;
  } finally {
    owned.kernel?.destroy();
  }
  return out;
}

function assertOutShape(out: GpuTensor, shape: readonly number[]): void {
  out.assertUsable();
  invalidArgument(
    out.shape.length === shape.length && out.shape.every((dim, axis) => dim === shape[axis]),
    () => `out must have shape [${shape.join(', ')}] for these Q and K; got [${out.shape.join(', ')}].`,
  );
}

/** Checks shapes and options and resolves defaults; shared by every attention entry point. */
export function attentionParams(q: GpuTensor, k: GpuTensor, options: AttentionWeightsOptions): AttentionWeightsParams {
  q.assertUsable();
  k.assertUsable();
  invalidArgument(
    q.shape.length >= 3 && q.shape.length === k.shape.length,
    () => `Q and K must both be [...batch, n, d] with the same rank ≥ 3 (e.g. [heads, n, d]); got Q [${q.shape}] and K [${k.shape}].`,
  );
  const rank = q.shape.length;
  const batchShape = q.shape.slice(0, rank - 2);
  invalidArgument(
    batchShape.every((dim, axis) => dim === k.shape[axis]),
    () => `Q and K must have the same leading (batch/head) dimensions; got Q [${q.shape}] and K [${k.shape}].`,
  );
  const d = q.shape[rank - 1]!;
  invalidArgument(
    k.shape[rank - 1] === d,
    () => `Q and K must have the same head dimension d; got ${d} for Q [${q.shape}] and ${k.shape[rank - 1]} for K [${k.shape}].`,
  );
  const nq = q.shape[rank - 2]!;
  const nk = k.shape[rank - 2]!;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  invalidArgument(Number.isFinite(scale), () => `scale must be a finite number; got ${scale}.`);
  const keyLength = options.keyLength ?? nk;
  invalidArgument(
    Number.isInteger(keyLength) && keyLength >= 0 && keyLength <= nk,
    () => `keyLength must be an integer from 0 to the number of keys (${nk}); got ${keyLength}.`,
  );
  return {
    batch: sizeOf(batchShape),
    nq,
    nk,
    d,
    scale,
    causal: options.causal ?? false,
    keyLength,
    exact: options.exact ?? true,
  };
}


function nonFiniteError(label: string, count: number, first: number, p: AttentionWeightsParams): NonFiniteError {
  const key = first % p.nk;
  const query = Math.floor(first / p.nk) % p.nq;
  const batch = Math.floor(first / (p.nk * p.nq));
  return new NonFiniteError(
    `${label}: ${formatCount(count)} of ${formatCount(p.batch * p.nq * p.nk)} attention scores were NaN or ±Inf ` +
      `(first at head ${batch}, query ${query}, key ${key}). Q or K holds NaN/Inf, or q·k overflows float32. ` +
      "Expected finite inputs; pass { nonFinite: 'mask' } to give such scores weight 0 instead.",
  );
}
