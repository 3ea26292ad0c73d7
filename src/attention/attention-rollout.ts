// attentionRollout(engine, P): attention rollout across layers (Abnar & Zuidema 2020) on the GPU.
//   Ā_l = fuse_h P_l,h (mean / max / min), then per row: discard the smallest entries, Â_l = rownorm(Ā_l + I);
//   R_l = Â_l · Â_{l-1} ··· Â_0, so R_{L-1} is the full rollout.
import type { Engine } from '../core/engine';
import { NonFiniteError, formatCount, invalidArgument } from '../core/errors';
import {
  createAttentionRolloutKernel,
  type AttentionRolloutKernel,
  type AttentionRolloutParams,
  type HeadFusion,
} from '../kernels/attention-rollout';
import { assertShapeBindable } from '../kernels/kernel-bindings';
import { GpuTensor, createTensorBuffer } from '../memory/gpu-tensor';
import { readBufferRange } from '../memory/readback';

export type { HeadFusion } from '../kernels/attention-rollout';

/** Options for {@link attentionRollout}; `label` names GPU objects and errors. */
export interface AttentionRolloutOptions {
  /** How the heads of a layer are fused, elementwise; default 'mean'. */
  fusion?: HeadFusion;
  /**
   * In [0, 1), default 0 (keep everything). Per ROW of the fused matrix (popular scripts do it over the
   * flattened matrix instead), entries strictly smaller than the row's (k+1)-th smallest value are set to
   * 0, with k = floor(ratio · n): at most k entries go, ties at the threshold stay, and the diagonal is
   * never discarded. Zeros (masked keys) count among the smallest.
   */
  discardRatio?: number;
  label?: string;
  /** Write into these [layers, n, n] tensors instead of new ones: live views reuse their buffers. */
  out?: { graph: GpuTensor; rollout: GpuTensor };
}

/** What {@link attentionRollout} returns: the caller's `out` tensors, or new ones the caller owns and destroys. */
export interface AttentionRolloutResult {
  /** Â_l stacked: [layers, n, n], rows summing to 1. */
  graph: GpuTensor;
  /** R_l = Â_l ··· Â_0 stacked: [layers, n, n], rows summing to 1; row i = what output token i draws on. */
  rollout: GpuTensor;
}

const FUSIONS: readonly HeadFusion[] = ['mean', 'max', 'min'];

/**
 * Rollout of attention weights P: [layers, heads, n, n] (or [heads, n, n], one layer), rows summing to 1.
 * Resolves once the GPU has finished, so that errors are reported here; the caller owns both outputs.
 * On any error nothing is left allocated, and a caller's `out` is left to the caller.
 */
export async function attentionRollout(
  engine: Engine,
  weights: GpuTensor,
  options: AttentionRolloutOptions = {},
): Promise<AttentionRolloutResult> {
  const label = options.label ?? 'attentionRollout';
  const params = rolloutParams(weights, options);
  const outShape = [params.layers, params.n, params.n];
  const hint = 'Roll out fewer layers or tokens per call.';
  assertShapeBindable(label, 'P', weights.shape, engine.limits, hint);
  assertShapeBindable(label, 'the graph and the rollout each', outShape, engine.limits, hint);
  if (options.out) assertOut(options.out, weights, outShape);

  const created: GpuTensor[] = [];
  const make = (what: string) => {
    const tensor = new GpuTensor({ engine, buffer: createTensorBuffer(engine, outShape, `${label}.${what}`), shape: outShape });
    created.push(tensor);
    return tensor;
  };
  const owned: { kernel?: AttentionRolloutKernel } = {};
  try {
    const out = options.out ?? { graph: make('graph'), rollout: make('rollout') };
    // Assigned inside the scope, so that a kernel whose creation reports an error is still destroyed.
    const built = await engine.withErrorScope(label, () => (owned.kernel = createAttentionRolloutKernel(engine, label)));
    const io = { graph: out.graph.buffer, rollout: out.rollout.buffer, weights: weights.buffer };
    await engine.run(label, (encoder) => built.record(encoder, io, params));
    const [count = 0, first = 0] = new Uint32Array(await readBufferRange(engine, built.status, 0, 8));
    if (count > 0) throw nonFiniteError(label, count, first, params);
    return out;
  } catch (error) {
    for (const tensor of created) tensor.destroy();
    throw error;
  } finally {
    owned.kernel?.destroy();
  }
}

/** Checks the shape of P and the options; resolves defaults. */
function rolloutParams(weights: GpuTensor, options: AttentionRolloutOptions): AttentionRolloutParams {
  weights.assertUsable();
  const shape = weights.shape;
  invalidArgument(
    shape.length === 3 || shape.length === 4,
    () => `attention weights must be [layers, heads, n, n] (or [heads, n, n] for one layer); got [${shape.join(', ')}].`,
  );
  const [layers, heads, rows, n] = shape.length === 4 ? shape : [1, ...shape];
  invalidArgument(
    rows === n,
    () => `attention weights must be square in their last two axes (queries × keys of one sequence); got ` +
      `[${shape.join(', ')}] with ${rows} queries and ${n} keys.`,
  );
  const fusion = options.fusion ?? 'mean';
  invalidArgument(FUSIONS.includes(fusion), () => `fusion must be one of ${FUSIONS.join(', ')}; got '${String(fusion)}'.`);
  const discardRatio = options.discardRatio ?? 0;
  invalidArgument(
    typeof discardRatio === 'number' && discardRatio >= 0 && discardRatio < 1,
    () => `discardRatio must be a number in [0, 1); got ${String(discardRatio)}.`,
  );
  return { layers: layers!, heads: heads!, n: n!, fusion, discardRatio };
}

function assertOut(out: { graph: GpuTensor; rollout: GpuTensor }, weights: GpuTensor, shape: readonly number[]): void {
  for (const [name, tensor] of [['graph', out.graph], ['rollout', out.rollout]] as const) {
    tensor.assertUsable();
    invalidArgument(
      tensor.shape.length === shape.length && tensor.shape.every((dim, axis) => dim === shape[axis]),
      () => `out.${name} must have shape [${shape.join(', ')}] for these weights; got [${tensor.shape.join(', ')}].`,
    );
    invalidArgument(tensor.buffer !== weights.buffer, () => `out.${name} must not share its buffer with the weights.`);
  }
  invalidArgument(out.graph.buffer !== out.rollout.buffer, () => 'out.graph and out.rollout must be different buffers.');
}


function nonFiniteError(label: string, count: number, first: number, p: AttentionRolloutParams): NonFiniteError {
  const col = first % p.n;
  const row = Math.floor(first / p.n) % p.n;
  const head = Math.floor(first / (p.n * p.n)) % p.heads;
  const layer = Math.floor(first / (p.n * p.n * p.heads));
  return new NonFiniteError(
    `${label}: ${formatCount(count)} of ${formatCount(p.layers * p.heads * p.n * p.n)} attention weights were NaN ` +
      `or ±Inf (first at layer ${layer}, head ${head}, row ${row}, col ${col}). Expected finite weights ` +
      '(softmax rows).',
  );
}
