// Float64 CPU references of the feature objectives of shaders/compute/optvis-objectives.wgsl: the value L
// and the gradient dL/dh over a layer's activations h, with the kernel's conventions.
//
// Sign convention: every objective is a loss to minimize. Lucid maximizes channel, neuron and deep-dream
// objectives; here they carry a minus sign (L = −mean …), so one optimizer (scale 1) minimizes every
// composed objective and a falling loss curve always means progress.

/** A layer's geometry: dense [N, H, W, C] (NHWC) or [N, C, H, W] (NCHW). */
export interface ReferenceFeatureShape {
  batch: number;
  height: number;
  width: number;
  channels: number;
  layout: 'NHWC' | 'NCHW';
}

export interface ObjectiveResult {
  value: number;
  gradient: Float64Array;
}

/** Element index of (n, y, x, c) in a dense buffer of the given layout. */
export function referenceFeatureIndex(s: ReferenceFeatureShape, n: number, y: number, x: number, c: number): number {
  return s.layout === 'NHWC'
    ? ((n * s.height + y) * s.width + x) * s.channels + c
    : ((n * s.channels + c) * s.height + y) * s.width + x;
}

export function referenceSquaredNorm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let e = 0; e < v.length; e++) sum += v[e]! * v[e]!;
  return sum;
}

/** L = ‖h − h_t‖² / ‖h_t‖², dL/dh = 2(h − h_t) / ‖h_t‖². A target of norm 0 (or not finite) throws. */
export function referenceFeatureMatch(h: ArrayLike<number>, target: ArrayLike<number>): ObjectiveResult {
  if (h.length !== target.length) throw new Error(`featureMatch: target has ${target.length} elements, h has ${h.length}.`);
  const norm = referenceSquaredNorm(target);
  if (!(norm > 0 && Number.isFinite(norm))) throw new Error(`featureMatch: the target's squared norm must be finite and > 0; got ${norm}.`);
  const gradient = new Float64Array(h.length);
  let value = 0;
  for (let e = 0; e < h.length; e++) {
    const d = h[e]! - target[e]!;
    value += d * d;
    gradient[e] = (2 * d) / norm;
  }
  return { value: value / norm, gradient };
}

/** L = −mean over (n, y, x) of h[n, y, x, c]; dL/dh = −1/(N·H·W) at channel c, 0 elsewhere. */
export function referenceChannel(h: ArrayLike<number>, s: ReferenceFeatureShape, c: number): ObjectiveResult {
  const gradient = new Float64Array(h.length);
  const count = s.batch * s.height * s.width;
  let sum = 0;
  for (let n = 0; n < s.batch; n++)
    for (let y = 0; y < s.height; y++)
      for (let x = 0; x < s.width; x++) {
        const e = referenceFeatureIndex(s, n, y, x, c);
        sum += h[e]!;
        gradient[e] = -1 / count;
      }
  return { value: -sum / count, gradient };
}

/** Lucid's default neuron position: the centre, (⌊H/2⌋, ⌊W/2⌋). */
export function centrePosition(height: number, width: number): { y: number; x: number } {
  return { y: Math.floor(height / 2), x: Math.floor(width / 2) };
}

/** L = −mean over the batch of h[n, y, x, c] (Lucid averages over the batch); dL/dh = −1/N there, 0 elsewhere. */
export function referenceNeuron(h: ArrayLike<number>, s: ReferenceFeatureShape, c: number, y: number, x: number): ObjectiveResult {
  const gradient = new Float64Array(h.length);
  let sum = 0;
  for (let n = 0; n < s.batch; n++) {
    const e = referenceFeatureIndex(s, n, y, x, c);
    sum += h[e]!;
    gradient[e] = -1 / s.batch;
  }
  return { value: -sum / s.batch, gradient };
}

/** L = −mean(h²) over every element; dL/dh = −2h / size. */
export function referenceDeepDream(h: ArrayLike<number>): ObjectiveResult {
  const gradient = new Float64Array(h.length);
  for (let e = 0; e < h.length; e++) gradient[e] = (-2 * h[e]!) / h.length;
  return { value: -referenceSquaredNorm(h) / h.length, gradient };
}
