// Float64 CPU references of the optvis kernels: the regularizers of shaders/compute/optvis-regularizers.wgsl
// (value R and gradient ∂R/∂x) and the optimizer steps of shaders/compute/optvis-optimizer.wgsl, with the
// same conventions (boundary terms, ε, skipped non-finite entries, clamping). Every parameter is explicit
// here; the defaults live with the kernels (resolveTerm, resolveAdamOptions, resolveSgdOptions).

/** An image batch [N, H, W, C] (NHWC, dense); a rank-3 shape [H, W, C] is one image. */
export interface ImageShape {
  batch: number;
  height: number;
  width: number;
  channels: number;
}

export interface RegularizerResult {
  value: number;
  gradient: Float64Array;
}

export function imageShapeOf(shape: readonly number[]): ImageShape {
  if (shape.length === 3) return { batch: 1, height: shape[0]!, width: shape[1]!, channels: shape[2]! };
  if (shape.length === 4) return { batch: shape[0]!, height: shape[1]!, width: shape[2]!, channels: shape[3]! };
  throw new Error(`An image is [H, W, C] or [N, H, W, C]; got [${shape.join(', ')}].`);
}

/**
 * R = Σ_{n,i,j,c} (a² + b² + ε)^{β/2} with a, b the right and down differences; a difference whose neighbour
 * is outside the image is dropped (0), and the last pixel of each image has no term. A term whose base is
 * exactly 0 counts 0, with derivative 0.
 */
export function referenceTotalVariation(x: ArrayLike<number>, shape: ImageShape, beta: number, epsilon: number): RegularizerResult {
  const { batch, height, width, channels } = shape;
  const gradient = new Float64Array(x.length);
  let value = 0;
  const rowStride = width * channels;
  for (let n = 0; n < batch; n++)
    for (let i = 0; i < height; i++)
      for (let j = 0; j < width; j++) {
        if (i === height - 1 && j === width - 1) continue;
        for (let c = 0; c < channels; c++) {
          const e = ((n * height + i) * width + j) * channels + c;
          const a = j + 1 < width ? x[e + channels]! - x[e]! : 0;
          const b = i + 1 < height ? x[e + rowStride]! - x[e]! : 0;
          const base = a * a + b * b + epsilon;
          if (base === 0) continue;
          value += Math.pow(base, beta / 2);
          const slope = beta * Math.pow(base, beta / 2 - 1); // dT/da = slope · a
          gradient[e] = gradient[e]! - slope * (a + b);
          if (j + 1 < width) gradient[e + channels] = gradient[e + channels]! + slope * a;
          if (i + 1 < height) gradient[e + rowStride] = gradient[e + rowStride]! + slope * b;
        }
      }
  return { value, gradient };
}

/** R = Σ |x|^α, ∂R/∂x = α |x|^{α−1} sign(x) (α ≥ 1). */
export function referenceAlphaNorm(x: ArrayLike<number>, alpha: number): RegularizerResult {
  const gradient = new Float64Array(x.length);
  let value = 0;
  for (let e = 0; e < x.length; e++) {
    const magnitude = Math.abs(x[e]!);
    value += Math.pow(magnitude, alpha);
    gradient[e] = magnitude === 0 ? 0 : alpha * Math.pow(magnitude, alpha - 1) * Math.sign(x[e]!);
  }
  return { value, gradient };
}

/** R = Σ x², ∂R/∂x = 2x. */
export function referenceL2(x: ArrayLike<number>): RegularizerResult {
  const gradient = new Float64Array(x.length);
  let value = 0;
  for (let e = 0; e < x.length; e++) {
    value += x[e]! * x[e]!;
    gradient[e] = 2 * x[e]!;
  }
  return { value, gradient };
}

export interface ReferenceClamp {
  lo: number;
  hi: number;
}

export interface ReferenceAdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** g = scale · grad: 1 minimizes, −1 maximizes. */
  scale: number;
  clamp: ReferenceClamp | null;
}

export interface ReferenceSgdOptions {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  scale: number;
  clamp: ReferenceClamp | null;
}

/** Parameters and moments: m is Adam's first moment or SGD's velocity; v is Adam's second moment. */
export interface ReferenceOptimizerState {
  x: Float64Array;
  m: Float64Array;
  v: Float64Array;
  /** Steps taken so far. */
  t: number;
  /** Entries left unchanged because their gradient or update was not finite, over all steps. */
  skipped: number;
}

export function referenceOptimizerState(x0: ArrayLike<number>): ReferenceOptimizerState {
  const n = x0.length;
  return { x: Float64Array.from(x0), m: new Float64Array(n), v: new Float64Array(n), t: 0, skipped: 0 };
}

/** One Adam step in place (t counts from 1 for the bias corrections). */
export function referenceAdamStep(state: ReferenceOptimizerState, grad: ArrayLike<number>, o: ReferenceAdamOptions): void {
  state.t += 1;
  const c1 = 1 - Math.pow(o.beta1, state.t);
  const c2 = 1 - Math.pow(o.beta2, state.t);
  for (let e = 0; e < state.x.length; e++) {
    const g = o.scale * grad[e]!;
    const m = o.beta1 * state.m[e]! + (1 - o.beta1) * g;
    const v = o.beta2 * state.v[e]! + (1 - o.beta2) * g * g;
    const next = state.x[e]! - (o.learningRate * (m / c1)) / (Math.sqrt(v / c2) + o.epsilon);
    if (![g, m, v, next].every(Number.isFinite)) {
      state.skipped += 1;
      continue;
    }
    state.m[e] = m;
    state.v[e] = v;
    state.x[e] = clampTo(next, o.clamp);
  }
}

/** One SGD-with-momentum step in place: u ← μu + g; x ← x − lr·u (Nesterov: x ← x − lr·(g + μu)). */
export function referenceSgdStep(state: ReferenceOptimizerState, grad: ArrayLike<number>, o: ReferenceSgdOptions): void {
  state.t += 1;
  for (let e = 0; e < state.x.length; e++) {
    const g = o.scale * grad[e]!;
    const u = o.momentum * state.m[e]! + g;
    const direction = o.nesterov ? g + o.momentum * u : u;
    const next = state.x[e]! - o.learningRate * direction;
    if (![g, u, next].every(Number.isFinite)) {
      state.skipped += 1;
      continue;
    }
    state.m[e] = u;
    state.x[e] = clampTo(next, o.clamp);
  }
}

/** Steps from x0 with one gradient per step (a function of the current x, or a fixed list). */
export function referenceAdam(
  x0: ArrayLike<number>,
  grads: readonly ArrayLike<number>[] | { steps: number; gradient: (x: Float64Array) => ArrayLike<number> },
  o: ReferenceAdamOptions,
): ReferenceOptimizerState {
  return run(x0, grads, (state, g) => referenceAdamStep(state, g, o));
}

export function referenceSgd(
  x0: ArrayLike<number>,
  grads: readonly ArrayLike<number>[] | { steps: number; gradient: (x: Float64Array) => ArrayLike<number> },
  o: ReferenceSgdOptions,
): ReferenceOptimizerState {
  return run(x0, grads, (state, g) => referenceSgdStep(state, g, o));
}

function run(
  x0: ArrayLike<number>,
  grads: readonly ArrayLike<number>[] | { steps: number; gradient: (x: Float64Array) => ArrayLike<number> },
  step: (state: ReferenceOptimizerState, grad: ArrayLike<number>) => void,
): ReferenceOptimizerState {
  const state = referenceOptimizerState(x0);
  if (Array.isArray(grads)) for (const g of grads) step(state, g);
  else {
    const schedule = grads as { steps: number; gradient: (x: Float64Array) => ArrayLike<number> };
    for (let k = 0; k < schedule.steps; k++) step(state, schedule.gradient(state.x));
  }
  return state;
}

function clampTo(value: number, clamp: ReferenceClamp | null): number {
  return clamp ? Math.min(Math.max(value, clamp.lo), clamp.hi) : value;
}
