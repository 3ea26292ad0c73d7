// Float64 reference for the neuron view's panel (shaders/compute/neuron-panel.wgsl): per head, q_i, k_j,
// q_i ⊙ k_j, the scaled scores of q_i against every key (−inf where P is 0), the P row, the display values
// (divided by their maxima) and the statistics, laid out as neuronPanelLayout describes.
import { neuronPanelLayout, type NeuronSelection } from '../kernels/neuron-panel';

export interface NeuronPanelInputs extends NeuronSelection {
  /** [layers, heads, n, dh], row-major. */
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  /** [layers, heads, n, n]. */
  p: ArrayLike<number>;
  heads: number;
  n: number;
  dh: number;
  scale: number;
}

/** The whole panel buffer as the kernel writes it, in float64. */
export function referenceNeuronPanel(inputs: NeuronPanelInputs): Float64Array {
  const { heads, n, dh, layer, query, key, scale } = inputs;
  const layout = neuronPanelLayout(heads, n, dh);
  const out = new Float64Array(layout.size);
  const { rows } = layout;
  const divide = (x: number, m: number) => (m === 0 ? 0 : x / m);
  for (let h = 0; h < heads; h++) {
    const head = layer * heads + h;
    const qAt = (token: number, c: number) => inputs.q[(head * n + token) * dh + c]!;
    const kAt = (token: number, c: number) => inputs.k[(head * n + token) * dh + c]!;
    const pAt = (t: number) => inputs.p[(head * n + query) * n + t]!;
    const raw = layout.raw(h);
    let [sum, vectorMax, productMax, scoreMax] = [0, 0, 0, 0];
    for (let c = 0; c < dh; c++) {
      const [qc, kc] = [qAt(query, c), kAt(key, c)];
      out[raw + rows.q + c] = qc;
      out[raw + rows.k + c] = kc;
      out[raw + rows.product + c] = qc * kc;
      sum += qc * kc;
      vectorMax = Math.max(vectorMax, Math.abs(qc), Math.abs(kc));
      productMax = Math.max(productMax, Math.abs(qc * kc));
    }
    for (let t = 0; t < n; t++) {
      let dot = 0;
      for (let c = 0; c < dh; c++) dot += qAt(query, c) * kAt(t, c);
      const masked = pAt(t) === 0;
      out[raw + rows.scores + t] = masked ? -Infinity : dot * scale;
      out[raw + rows.weights + t] = pAt(t);
      if (!masked) scoreMax = Math.max(scoreMax, Math.abs(dot * scale));
    }
    const display = layout.display(h);
    for (let c = 0; c < dh; c++) {
      out[display + rows.q + c] = divide(out[raw + rows.q + c]!, vectorMax);
      out[display + rows.k + c] = divide(out[raw + rows.k + c]!, vectorMax);
      out[display + rows.product + c] = divide(out[raw + rows.product + c]!, productMax);
    }
    for (let t = 0; t < n; t++) {
      const s = out[raw + rows.scores + t]!;
      out[display + rows.scores + t] = s === -Infinity ? s : divide(s, scoreMax);
      out[display + rows.weights + t] = pAt(t);
    }
    out.set([sum * scale, pAt(key), vectorMax, productMax, scoreMax], layout.stats(h));
  }
  return out;
}
