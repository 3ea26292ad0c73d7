// The demo transformer's shape: its hyperparameters and the names and shapes of its weights.

export interface TransformerConfig {
  vocabSize: number;
  /** Longest sequence: the number of learned positions. */
  nCtx: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** MLP hidden width; 0 for an attention-only model. */
  dMlp: number;
  layerNormEpsilon: number;
}

export function headDim(config: TransformerConfig): number {
  return config.dModel / config.nHeads;
}

/** The parameter names and shapes. Matrices are [in, out], applied as x·W. */
export function parameterShapes(config: TransformerConfig): Record<string, number[]> {
  const { vocabSize: v, nCtx, dModel: d, dMlp } = config;
  const shapes: Record<string, number[]> = { 'tok_emb.weight': [v, d], 'pos_emb.weight': [nCtx, d] };
  for (let l = 0; l < config.nLayers; l++) {
    const p = `blocks.${l}.`;
    Object.assign(shapes, { [`${p}ln1.weight`]: [d], [`${p}ln1.bias`]: [d] });
    for (const w of ['w_q', 'w_k', 'w_v', 'w_o']) shapes[`${p}attn.${w}`] = [d, d];
    if (dMlp > 0) {
      Object.assign(shapes, {
        [`${p}ln2.weight`]: [d], [`${p}ln2.bias`]: [d],
        [`${p}mlp.w_in`]: [d, dMlp], [`${p}mlp.b_in`]: [dMlp], [`${p}mlp.w_out`]: [dMlp, d], [`${p}mlp.b_out`]: [d],
      });
    }
  }
  Object.assign(shapes, { 'ln_f.weight': [d], 'ln_f.bias': [d], 'unembed.weight': [d, v], 'unembed.bias': [v] });
  return shapes;
}
