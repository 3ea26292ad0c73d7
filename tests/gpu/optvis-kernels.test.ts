// The optvis kernels on a real device: regularizer gradients and values against the float64 reference and
// against finite differences of the GPU's own values; Adam and SGD steps against the reference; clamping;
// non-finite gradients counted and skipped; and the loss falling under 200 Adam steps.
import { describe, expect, it } from 'vitest';
import { GpuTensor, tensorFromArray } from '../../src/memory/gpu-tensor';
import { readBufferRange } from '../../src/memory/readback';
import {
  createAdamState,
  createSgdState,
  resolveAdamOptions,
  resolveSgdOptions,
  zeroGradient,
  type OptimizerState,
} from '../../src/kernels/optvis-optimizer';
import { maxAbsDifference } from '../../src/reference/random';
import { createOptvisRegularizers, resolveTerm, type RegularizerTerm } from '../../src/kernels/optvis-regularizers';
import {
  imageShapeOf,
  referenceAdam,
  referenceAdamStep,
  referenceAlphaNorm,
  referenceL2,
  referenceOptimizerState,
  referenceSgd,
  referenceTotalVariation,
  type RegularizerResult,
} from '../../src/reference/optvis';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const GUARD = 64; // floats past the tensor's end, which no kernel may touch
const GUARD_VALUE = 12345.5;

function referenceOf(term: RegularizerTerm, x: ArrayLike<number>, shape: number[]): RegularizerResult {
  const t = resolveTerm(term);
  if (t.kind === 'totalVariation') return referenceTotalVariation(x, imageShapeOf(shape), t.exponent, t.epsilon);
  return t.kind === 'alphaNorm' ? referenceAlphaNorm(x, t.exponent) : referenceL2(x);
}

/** A tensor over a buffer GUARD floats longer than it, the guard filled with GUARD_VALUE. */
function guarded(data: Float32Array, shape: number[], label: string): GpuTensor {
  const buffer = engine().createBuffer({
    label,
    size: (data.length + GUARD) * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const init = new Float32Array(data.length + GUARD).fill(GUARD_VALUE);
  init.set(data);
  engine().device.queue.writeBuffer(buffer, 0, init);
  return new GpuTensor({ engine: engine(), buffer, shape });
}

async function readAll(buffer: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await readBufferRange(engine(), buffer, 0, buffer.size));
}

const TERMS: RegularizerTerm[] = [
  { kind: 'totalVariation', weight: 0.7 },
  { kind: 'totalVariation', weight: 1.3, beta: 1 },
  { kind: 'totalVariation', weight: 0.5, beta: 3 },
  { kind: 'totalVariation', weight: 2, beta: 1.5, epsilon: 1e-4 },
  { kind: 'alphaNorm', weight: 0.25 },
  { kind: 'alphaNorm', weight: 2, alpha: 2.5 },
  { kind: 'l2', weight: -1.5 },
];
const SHAPES = [[5, 7, 3], [1, 1, 1], [2, 3, 6, 1], [1, 13, 1, 4], [17, 9, 3], [1, 129, 131, 4]];
const CASES = SHAPES.flatMap((shape, s) =>
  TERMS.map((term, t) => ({ shape, term, name: termName(term), seed: 1000 + 10 * s + t })),
);

function termName(term: RegularizerTerm): string {
  const t = resolveTerm(term);
  if (t.kind === 'totalVariation') return `total variation β ${t.exponent}, ε ${t.epsilon}`;
  return t.kind === 'alphaNorm' ? `α-norm α ${t.exponent}` : 'L2';
}

// Gradient: |g_gpu − (g0 + λ∂R)| ≤ 4e-6·max(1, |g0| + |λ∂R|); measured worst 1.2e-6 (TV β 3 and β 1.5 on
// 129×131×4: float32 pow). Value: |R_gpu − R| ≤ 2e-6·R; measured worst 1.8e-7 (tree sums of non-negative
// terms, bounded by log2(count)·2^-24 ≈ 1e-6).
const GRADIENT_TOLERANCE = 4e-6;
const VALUE_TOLERANCE = 2e-6;

describe('regularizer kernels against the float64 reference', () => {
  it.each(CASES)('$name, λ $term.weight, on [$shape]', async ({ shape, term, seed }) => {
    const n = shape.reduce((a, b) => a * b);
    const x0 = randomFloats(n, seed, 1.2);
    const g0 = randomFloats(n, seed + 1, 3);
    const x = guarded(x0, shape, 'test.x');
    const grad = guarded(g0, shape, 'test.grad');
    const regularizers = createOptvisRegularizers(engine(), { valueSlots: 3 });
    try {
      engine().device.queue.writeBuffer(regularizers.values, 0, new Float32Array(3).fill(NaN));
      await engine().run('test.regularizer', (encoder) => regularizers.encode(encoder, { grad, x }, term, 2));
      const [got, values, xAfter] = await Promise.all([readAll(grad.buffer), readAll(regularizers.values), readAll(x.buffer)]);
      const want = referenceOf(term, x0, shape);
      let worst = 0;
      for (let e = 0; e < n; e++) {
        const step = term.weight * want.gradient[e]!;
        const error = Math.abs(got[e]! - (g0[e]! + step)) / Math.max(1, Math.abs(g0[e]!) + Math.abs(step));
        worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
      }
      expect(worst, 'worst relative gradient error').toBeLessThanOrEqual(GRADIENT_TOLERANCE);
      expect(got.subarray(n).every((v) => v === GUARD_VALUE), 'grad written past its end').toBe(true);
      expect(xAfter.subarray(0, n)).toEqual(x0);
      expect(Math.abs(values[2]! - want.value), `R ${values[2]} vs ${want.value}`).toBeLessThanOrEqual(VALUE_TOLERANCE * want.value + 1e-30);
      expect(Number.isNaN(values[0]!) && Number.isNaN(values[1]!), 'other value slots touched').toBe(true);
    } finally {
      regularizers.destroy();
      x.destroy();
      grad.destroy();
    }
  });

  it('weight 0 computes the value only and never writes grad', async () => {
    const shape = [6, 5, 2];
    const x0 = randomFloats(60, 77);
    const g0 = randomFloats(60, 78);
    const x = tensorFromArray(engine(), x0, shape);
    const grad = tensorFromArray(engine(), g0, shape);
    const huge = Float32Array.of(1e30); // |x|^5 overflows: 0 · ∞ would put a NaN into grad if it were written
    const regularizers = createOptvisRegularizers(engine());
    try {
      await engine().run('test.valueOnly', (encoder) => {
        regularizers.encode(encoder, { grad, x }, { kind: 'totalVariation', weight: 0 }, 0);
        regularizers.encode(encoder, { grad, x }, { kind: 'l2', weight: 0 }, 1);
      });
      const values = await readAll(regularizers.values);
      expect(values[0]).toBeCloseTo(referenceTotalVariation(x0, imageShapeOf(shape), 2, 0).value, 4);
      expect(values[1]).toBeCloseTo(referenceL2(x0).value, 5);
      engine().device.queue.writeBuffer(x.buffer, 7 * 4, huge);
      await engine().run('test.valueOnlyOverflow', (encoder) => {
        regularizers.encode(encoder, { grad, x }, { kind: 'alphaNorm', weight: 0 }, 2);
      });
      expect(await grad.read()).toEqual(g0);
      expect((await readAll(regularizers.values))[2]).toBe(Infinity);
    } finally {
      regularizers.destroy();
      x.destroy();
      grad.destroy();
    }
  });

  it('encodeTerms: every term together (a second TV in a second pass), each R in its slot, grad gets their sum', async () => {
    const shape = [2, 13, 11, 3];
    const n = shape.reduce((a, b) => a * b);
    const x0 = randomFloats(n, 4100, 1.2);
    const g0 = randomFloats(n, 4101, 3);
    const x = guarded(x0, shape, 'test.x');
    const grad = guarded(g0, shape, 'test.grad');
    const terms: { term: RegularizerTerm; valueSlot: number }[] = [
      { term: { kind: 'totalVariation', weight: 2, beta: 1.5, epsilon: 1e-4 }, valueSlot: 3 },
      { term: { kind: 'alphaNorm', weight: 0.25 }, valueSlot: 0 },
      { term: { kind: 'l2', weight: -1.5 }, valueSlot: 4 },
      { term: { kind: 'totalVariation', weight: 0.7 }, valueSlot: 1 },
    ];
    const regularizers = createOptvisRegularizers(engine(), { valueSlots: 6 });
    try {
      engine().device.queue.writeBuffer(regularizers.values, 0, new Float32Array(6).fill(NaN));
      await engine().run('test.terms', (encoder) => regularizers.encodeTerms(encoder, { grad, x }, terms));
      const [got, values] = await Promise.all([readAll(grad.buffer), readAll(regularizers.values)]);
      const wants = terms.map(({ term }) => referenceOf(term, x0, shape));
      let worst = 0;
      for (let e = 0; e < n; e++) {
        const steps = terms.map(({ term }, k) => term.weight * wants[k]!.gradient[e]!);
        const sum = steps.reduce((a, b) => a + b, 0);
        const scale = Math.max(1, Math.abs(g0[e]!) + steps.reduce((a, b) => a + Math.abs(b), 0));
        worst = Math.max(worst, Math.abs(got[e]! - (g0[e]! + sum)) / scale);
      }
      expect(worst, 'worst relative gradient error').toBeLessThanOrEqual(GRADIENT_TOLERANCE);
      expect(got.subarray(n).every((v) => v === GUARD_VALUE), 'grad written past its end').toBe(true);
      terms.forEach(({ valueSlot }, k) => {
        const want = wants[k]!.value;
        expect(Math.abs(values[valueSlot]! - want), `slot ${valueSlot}: R ${values[valueSlot]} vs ${want}`).toBeLessThanOrEqual(VALUE_TOLERANCE * want);
      });
      expect(Number.isNaN(values[2]!) && Number.isNaN(values[5]!), 'slots of no term touched').toBe(true);
    } finally {
      regularizers.destroy();
      x.destroy();
      grad.destroy();
    }
  });

  it('encodeTerms: a weight-0 term beside weighted ones adds no 0 · ∞ to grad', async () => {
    const shape = [6, 5, 2];
    const x0 = randomFloats(60, 4200);
    x0[7] = 1e30; // |x|^5 overflows: the α-norm's derivative there is ∞
    const g0 = randomFloats(60, 4201);
    const x = tensorFromArray(engine(), x0, shape);
    const grad = tensorFromArray(engine(), g0, shape);
    const regularizers = createOptvisRegularizers(engine(), { valueSlots: 2 });
    try {
      await engine().run('test.termsValueOnly', (encoder) =>
        regularizers.encodeTerms(encoder, { grad, x }, [
          { term: { kind: 'alphaNorm', weight: 0 }, valueSlot: 0 },
          { term: { kind: 'l2', weight: 0.5 }, valueSlot: 1 },
        ]),
      );
      const got = await grad.read();
      const want = Array.from(g0, (g, e) => g + Math.fround(0.5 * Math.fround(2 * x0[e]!)));
      expect(got.every(Number.isFinite), 'grad is finite').toBe(true);
      expect(maxAbsDifference(got.filter((_, e) => e !== 7), want.filter((_, e) => e !== 7))).toBeLessThanOrEqual(1e-6);
      expect((await readAll(regularizers.values))[0]).toBe(Infinity);
    } finally {
      regularizers.destroy();
      x.destroy();
      grad.destroy();
    }
  });

  it('one object serves images of several sizes (its partials buffer grows, bind groups follow)', async () => {
    const regularizers = createOptvisRegularizers(engine(), { valueSlots: 3 });
    const shapes = [[3, 4, 2], [40, 30, 3], [5, 5, 1]];
    const images = shapes.map((shape, k) => {
      const data = randomFloats(shape.reduce((a, b) => a * b), 90 + k);
      return { data, x: tensorFromArray(engine(), data, shape), grad: tensorFromArray(engine(), new Float32Array(data.length), shape) };
    });
    try {
      for (const [k, image] of images.entries()) {
        await engine().run('test.sizes', (encoder) => regularizers.encode(encoder, image, { kind: 'l2', weight: 1 }, k));
      }
      await engine().run('test.sizesAgain', (encoder) => regularizers.encode(encoder, images[0]!, { kind: 'l2', weight: 1 }, 0));
      const values = await readAll(regularizers.values);
      images.forEach((image, k) => expect(Math.abs(values[k]! / referenceL2(image.data).value - 1)).toBeLessThan(2e-6));
      expect(maxAbsDifference(await images[0]!.grad.read(), referenceL2(images[0]!.data).gradient.map((g) => 2 * g))).toBeLessThan(1e-6);
    } finally {
      regularizers.destroy();
      for (const image of images) {
        image.x.destroy();
        image.grad.destroy();
      }
    }
  });

  it('bad input is refused with what was expected', () => {
    const x = tensorFromArray(engine(), randomFloats(12, 1), [2, 2, 3]);
    const grad = tensorFromArray(engine(), randomFloats(12, 2), [4, 3]);
    const goodGrad = tensorFromArray(engine(), randomFloats(12, 3), [2, 2, 3]);
    const regularizers = createOptvisRegularizers(engine());
    const encoder = engine().device.createCommandEncoder({ label: 'test.unused' });
    try {
      expect(() => regularizers.encode(encoder, { grad, x }, { kind: 'l2', weight: 1 })).toThrow(/grad must have the shape of x, \[2, 2, 3\]; got \[4, 3\]/);
      expect(() => regularizers.encode(encoder, { grad: x, x }, { kind: 'l2', weight: 1 })).toThrow(/different buffers/);
      expect(() => regularizers.encode(encoder, { grad: x, x: grad }, { kind: 'l2', weight: 1 })).toThrow(/\[H, W, C\] or a batch \[N, H, W, C\]; got shape \[4, 3\]/);
      expect(() => regularizers.encode(encoder, { grad: goodGrad, x }, { kind: 'l2', weight: 1 }, 8)).toThrow(/valueSlot must be an integer in \[0, 8\); got 8/);
    } finally {
      regularizers.destroy();
      x.destroy();
      grad.destroy();
      goodGrad.destroy();
    }
  });
});

// Finite differences of the GPU value kernel itself, in float32. All 2·105 perturbed images of a 5×7×3
// image are evaluated in one submit (each copied into x, then a value-only pass into its own slot).
// Step h and tolerance |FD − g| ≤ tol·max(1, |g|) per regularizer, from float32 rounding of R (~1e-6·R)
// divided by 2h, plus the truncation error h²·R'''/6 where R is not quadratic. Measured worst: TV β 2
// 1.1e-4, TV β 1 (ε 1e-2) 2.0e-3, α-norm 6 7.3e-4, L2 2.8e-5.
const FD_CASES: { term: RegularizerTerm; h: number; tolerance: number }[] = ([
  { term: { kind: 'totalVariation', weight: 1 }, h: 0.05, tolerance: 5e-4 },
  { term: { kind: 'totalVariation', weight: 1, beta: 1, epsilon: 1e-2 }, h: 0.01, tolerance: 6e-3 },
  { term: { kind: 'alphaNorm', weight: 1 }, h: 0.01, tolerance: 2e-3 },
  { term: { kind: 'l2', weight: 1 }, h: 0.05, tolerance: 2e-4 },
] as const).map((c) => ({ ...c, name: termName(c.term) }));

describe('regularizer gradients against finite differences of the GPU values', () => {
  it.each(FD_CASES)('$name (h $h, tolerance $tolerance)', async ({ term, h, tolerance }) => {
    const shape = [5, 7, 3];
    const n = 105;
    const x0 = randomFloats(n, 4242, 1);
    const copies = new Float32Array(2 * n * n);
    const stepTaken = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      copies.set(x0, 2 * e * n);
      copies.set(x0, (2 * e + 1) * n);
      copies[2 * e * n + e] = x0[e]! + h;
      copies[(2 * e + 1) * n + e] = x0[e]! - h;
      stepTaken[e] = copies[2 * e * n + e]! - copies[(2 * e + 1) * n + e]!; // the float32 step actually taken
    }
    const perturbed = tensorFromArray(engine(), copies, [2 * n, n]);
    const x = tensorFromArray(engine(), x0, shape);
    const scratchX = tensorFromArray(engine(), x0, shape);
    const grad = tensorFromArray(engine(), new Float32Array(n), shape);
    const regularizers = createOptvisRegularizers(engine(), { valueSlots: 2 * n, uniformSlots: 2 * n + 1 });
    try {
      await engine().run('test.finiteDifferences', (encoder) => {
        regularizers.encode(encoder, { grad, x }, term, 0);
        for (let k = 0; k < 2 * n; k++) {
          encoder.copyBufferToBuffer(perturbed.buffer, k * n * 4, scratchX.buffer, 0, n * 4);
          regularizers.encode(encoder, { grad, x: scratchX }, { ...term, weight: 0 }, k);
        }
      });
      const [gradient, values] = await Promise.all([grad.read(), readAll(regularizers.values)]);
      let worst = 0;
      for (let e = 0; e < n; e++) {
        const estimate = (values[2 * e]! - values[2 * e + 1]!) / stepTaken[e]!;
        worst = Math.max(worst, Math.abs(estimate - gradient[e]!) / Math.max(1, Math.abs(gradient[e]!)));
      }
      expect(worst).toBeLessThanOrEqual(tolerance);
    } finally {
      for (const t of [perturbed, x, scratchX, grad]) t.destroy();
      regularizers.destroy();
    }
  });
});

/** Runs `steps` steps, uploading grads[k] before step k; one submit per step. */
async function runSteps(state: OptimizerState, grads: readonly Float32Array[]): Promise<void> {
  const grad = tensorFromArray(engine(), new Float32Array(grads[0]!.length), state.x.shape);
  try {
    for (const g of grads) {
      engine().device.queue.writeBuffer(grad.buffer, 0, g.buffer, g.byteOffset, g.byteLength);
      await engine().run('test.step', (encoder) => state.step(encoder, grad));
    }
  } finally {
    grad.destroy();
  }
}

function gradientsFor(n: number, steps: number, seed: number): Float32Array[] {
  // Magnitudes from 1e-3 to 3 across elements, signs changing between steps.
  return Array.from({ length: steps }, (_, k) => randomFloats(n, seed + k, 1).map((g, e) => g * 3 ** ((e % 7) - 5)));
}

// x after 20 steps: |x_gpu − x_ref| ≤ 2e-6·max(1, max|x_ref|): float32 rounding of x and of each step, 20
// times (measured worst 1.9e-6 with SGD at |x| up to ~4, 8.9e-7 with Adam); moments ≤ 1e-6·max|moment|
// (measured 3.0e-7).
async function expectState(state: OptimizerState, want: { x: Float64Array; m: Float64Array; v: Float64Array }) {
  const size = want.x.reduce((a, b) => Math.max(a, Math.abs(b)), 1);
  expect(maxAbsDifference(await state.x.read(), want.x), 'x').toBeLessThanOrEqual(2e-6 * size);
  const moments = [want.m, want.v].slice(0, state.moments.length);
  for (const [i, moment] of moments.entries()) {
    const scale = moment.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    expect(maxAbsDifference(await state.moments[i]!.read(), moment), `moment ${i}`).toBeLessThanOrEqual(1e-6 * scale + 1e-12);
  }
}

describe('optimizer steps against the float64 reference', () => {
  it.each([
    { name: 'Adam, lr 0.05', options: {} },
    { name: 'Adam maximizing (scale −1), ε 1e-3', options: { scale: -1, epsilon: 1e-3, learningRate: 0.02 } },
  ])('$name: 20 steps on [3, 37, 3]', async ({ options }) => {
    const shape = [3, 37, 3];
    const x0 = randomFloats(333, 71, 2);
    const grads = gradientsFor(333, 20, 700);
    const x = tensorFromArray(engine(), x0, shape);
    const state = createAdamState(engine(), x, options);
    try {
      await runSteps(state, grads);
      expect(state.steps).toBe(20);
      await expectState(state, referenceAdam(x0, grads, resolveAdamOptions(options)));
      expect(await state.readStatus()).toEqual({ skipped: 0, firstIndex: null });
    } finally {
      state.destroy();
      x.destroy();
    }
  });

  it.each([
    { name: 'SGD momentum 0.9', options: { learningRate: 0.1 } },
    { name: 'SGD Nesterov, maximizing', options: { learningRate: 0.03, momentum: 0.8, nesterov: true, scale: -1 } },
  ])('$name: 20 steps on [7, 11, 2]', async ({ options }) => {
    const x0 = randomFloats(154, 72, 2);
    const grads = gradientsFor(154, 20, 800);
    const x = tensorFromArray(engine(), x0, [7, 11, 2]);
    const state = createSgdState(engine(), x, options);
    try {
      await runSteps(state, grads);
      await expectState(state, { ...referenceSgd(x0, grads, resolveSgdOptions(options)), v: new Float64Array(0) });
    } finally {
      state.destroy();
      x.destroy();
    }
  });

  it('several Adam steps in one submit each see their own bias correction and learning rate', async () => {
    const x0 = randomFloats(300, 73, 1);
    const g = randomFloats(300, 74, 1);
    const x = tensorFromArray(engine(), x0, [300]);
    const grad = tensorFromArray(engine(), g, [300]);
    const state = createAdamState(engine(), x);
    try {
      await engine().run('test.fiveSteps', (encoder) => {
        for (let k = 0; k < 5; k++) state.step(encoder, grad);
        state.learningRate = 0.01;
        state.step(encoder, grad);
      });
      const reference = referenceOptimizerState(x0);
      const o = resolveAdamOptions();
      for (let k = 0; k < 6; k++) referenceAdamStep(reference, g, k < 5 ? o : { ...o, learningRate: 0.01 });
      await expectState(state, reference);
      state.reset();
      const fresh = referenceOptimizerState(await x.read());
      await runSteps(state, [g]);
      expect(state.steps).toBe(1); // t restarts at 1; the learning rate stays as set
      referenceAdamStep(fresh, g, { ...o, learningRate: 0.01 });
      await expectState(state, fresh);
    } finally {
      state.destroy();
      x.destroy();
      grad.destroy();
    }
  });

  it('clamps x to [lo, hi] after each step', async () => {
    const x0 = randomFloats(200, 75, 1);
    const grads = gradientsFor(200, 10, 900);
    const clamp = { lo: -0.25, hi: 0.5 };
    const x = tensorFromArray(engine(), x0, [8, 25]);
    const state = createAdamState(engine(), x, { learningRate: 0.2, clamp });
    try {
      await runSteps(state, grads);
      const got = await x.read();
      expect(got.every((v) => v >= clamp.lo && v <= clamp.hi)).toBe(true);
      expect(got.filter((v) => v === clamp.lo).length, 'entries at lo').toBeGreaterThan(10);
      expect(got.filter((v) => v === clamp.hi).length, 'entries at hi').toBeGreaterThan(10);
      await expectState(state, referenceAdam(x0, grads, resolveAdamOptions({ learningRate: 0.2, clamp })));
    } finally {
      state.destroy();
      x.destroy();
    }
  });
});

describe('non-finite gradients', () => {
  it.each(['adam', 'sgd'] as const)('%s: counted, skipped, and x left at its last finite state', async (kind) => {
    const n = 517;
    const x0 = randomFloats(n, 76, 1);
    const bad = new Map([[3, NaN], [100, Infinity], [101, -Infinity], [516, NaN]]);
    const first = randomFloats(n, 77, 1);
    for (const [e, value] of bad) first[e] = value;
    const second = randomFloats(n, 78, 1);
    second[250] = NaN;
    const x = tensorFromArray(engine(), x0, [11, 47]);
    const state = kind === 'adam' ? createAdamState(engine(), x) : createSgdState(engine(), x);
    try {
      await runSteps(state, [first]);
      const afterFirst = await x.read();
      for (const e of bad.keys()) expect(afterFirst[e], `x[${e}] after a non-finite gradient`).toBe(x0[e]);
      await runSteps(state, [second]);
      const got = await x.read();
      expect(got.every(Number.isFinite), 'x finite everywhere').toBe(true);
      expect(await state.readStatus()).toEqual({ skipped: 5, firstIndex: 3 });
      const want = kind === 'adam'
        ? referenceAdam(x0, [first, second], resolveAdamOptions())
        : referenceSgd(x0, [first, second], resolveSgdOptions());
      expect(want.skipped).toBe(5);
      expect(maxAbsDifference(got, want.x)).toBeLessThanOrEqual(4e-6);
      expect(got[250]).toBe(afterFirst[250]);
      for (const moment of state.moments) expect((await moment.read()).every(Number.isFinite), 'moments finite').toBe(true);
      state.resetStatus();
      expect(await state.readStatus()).toEqual({ skipped: 0, firstIndex: null });
    } finally {
      state.destroy();
      x.destroy();
    }
  });

  it('an update that overflows float32 is skipped too', async () => {
    const x = tensorFromArray(engine(), [1, 2, 3], [3]);
    const state = createAdamState(engine(), x);
    try {
      await runSteps(state, [new Float32Array([0.5, 3e38, -0.5])]); // g² overflows in v
      expect(await state.readStatus()).toEqual({ skipped: 1, firstIndex: 1 });
      const got = await x.read();
      expect(got[1]).toBe(2);
      expect(got[0]).toBeCloseTo(0.95, 6);
    } finally {
      state.destroy();
      x.destroy();
    }
  });

  it('bad arguments are refused with what was expected', () => {
    const x = tensorFromArray(engine(), [1, 2, 3], [3]);
    const grad = tensorFromArray(engine(), [1, 2], [2]);
    const state = createSgdState(engine(), x);
    const encoder = engine().device.createCommandEncoder({ label: 'test.unused' });
    try {
      expect(() => state.step(encoder, grad)).toThrow(/grad must have as many elements as x \[3\]; got \[2\]/);
      expect(() => state.step(encoder, x)).toThrow(/different buffers/);
      expect(() => createAdamState(engine(), x, { beta1: 1.5 })).toThrow(/beta1 must be in \[0, 1\); got 1.5/);
    } finally {
      state.destroy();
      x.destroy();
      grad.destroy();
    }
  });
});

describe('property: Adam on total variation + L2', () => {
  it('200 steps lower R = TV + 0.1·L2 of a random 12×14×3 image at least 10×, as the reference does', async () => {
    const shape = [12, 14, 3];
    const n = 12 * 14 * 3;
    const x0 = randomFloats(n, 79, 1);
    const x = tensorFromArray(engine(), x0, shape);
    const grad = tensorFromArray(engine(), new Float32Array(n), shape);
    const regularizers = createOptvisRegularizers(engine(), { valueSlots: 2 });
    const state = createAdamState(engine(), x, { learningRate: 0.02 });
    const tv: RegularizerTerm = { kind: 'totalVariation', weight: 1 };
    const l2: RegularizerTerm = { kind: 'l2', weight: 0.1 };
    const objective = async () => {
      const [t, l] = await readAll(regularizers.values);
      return t! + 0.1 * l!;
    };
    try {
      const record = (encoder: GPUCommandEncoder, steps: number) => {
        for (let k = 0; k < steps; k++) {
          zeroGradient(encoder, grad);
          regularizers.encode(encoder, { grad, x }, tv, 0);
          regularizers.encode(encoder, { grad, x }, l2, 1);
          state.step(encoder, grad);
        }
      };
      await engine().run('test.firstStep', (encoder) => record(encoder, 1));
      const start = await objective();
      for (let k = 1; k < 200; k += 20) await engine().run('test.steps', (encoder) => record(encoder, Math.min(20, 200 - k)));
      await engine().run('test.finalValue', (encoder) => {
        regularizers.encode(encoder, { grad, x }, { ...tv, weight: 0 }, 0);
        regularizers.encode(encoder, { grad, x }, { ...l2, weight: 0 }, 1);
      });
      const end = await objective();
      expect(state.steps).toBe(200);
      expect(end, `R from ${start} to ${end}`).toBeLessThanOrEqual(start / 10);

      const image = imageShapeOf(shape);
      const loss = (v: ArrayLike<number>) => referenceTotalVariation(v, image, 2, 0).value + 0.1 * referenceL2(v).value;
      const want = referenceAdam(x0, {
        steps: 200,
        gradient: (v) => referenceTotalVariation(v, image, 2, 0).gradient.map((g, e) => g + 0.2 * v[e]!),
      }, resolveAdamOptions({ learningRate: 0.02 }));
      expect(Math.abs(start - loss(x0)) / loss(x0)).toBeLessThan(1e-6);
      expect(Math.abs(end - loss(want.x)) / loss(want.x), `reference R ${loss(want.x)}`).toBeLessThan(1e-4); // measured 3e-6
    } finally {
      state.destroy();
      regularizers.destroy();
      x.destroy();
      grad.destroy();
    }
  });
});
