// The feature-objective kernels on a real device: gradients (overwrite, accumulate, value only) and values
// against the float64 reference in both layouts on awkward shapes, gradients against finite differences of
// the GPU's own values, target measurement, and refused input.
import { describe, expect, it } from 'vitest';
import { featureLayer, type FeatureLayout } from '../../src/features/feature-layer';
import { GpuTensor, tensorFromArray } from '../../src/memory/gpu-tensor';
import { readBufferRange } from '../../src/memory/readback';
import {
  createOptvisObjectives,
  featureTarget,
  type FeatureObjective,
  type GradientWrite,
} from '../../src/kernels/optvis-objectives';
import {
  centrePosition,
  referenceChannel,
  referenceDeepDream,
  referenceFeatureMatch,
  referenceNeuron,
  referenceSquaredNorm,
  type ObjectiveResult,
  type ReferenceFeatureShape,
} from '../../src/reference/optvis-objectives';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const GUARD = 64; // floats past the tensor's end, which no kernel may touch
const GUARD_VALUE = 12345.5;

/** A tensor over a buffer GUARD floats longer than it, the guard filled with GUARD_VALUE. */
function guarded(data: Float32Array, shape: number[], label: string, layout: FeatureLayout | 'row-major' = 'row-major'): GpuTensor {
  const buffer = engine().createBuffer({
    label,
    size: (data.length + GUARD) * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const init = new Float32Array(data.length + GUARD).fill(GUARD_VALUE);
  init.set(data);
  engine().device.queue.writeBuffer(buffer, 0, init);
  return new GpuTensor({ engine: engine(), buffer, shape, layout });
}

async function readAll(buffer: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await readBufferRange(engine(), buffer, 0, buffer.size));
}

type Kind = FeatureObjective['kind'];
interface Case {
  shape: ReferenceFeatureShape;
  kind: Kind;
  write: GradientWrite;
  weight: number;
  seed: number;
}

const SHAPES: ReferenceFeatureShape[] = [
  { batch: 1, height: 5, width: 7, channels: 3, layout: 'NHWC' },
  { batch: 2, height: 3, width: 4, channels: 5, layout: 'NCHW' },
  { batch: 3, height: 1, width: 6, channels: 2, layout: 'NHWC' },
  { batch: 1, height: 1, width: 1, channels: 1, layout: 'NHWC' },
  { batch: 1, height: 13, width: 11, channels: 17, layout: 'NHWC' },
  { batch: 2, height: 9, width: 10, channels: 33, layout: 'NCHW' },
];
const KINDS: Kind[] = ['featureMatch', 'channel', 'neuron', 'deepDream'];
const WRITES: GradientWrite[] = ['overwrite', 'accumulate', 'none'];
const CASES: Case[] = SHAPES.flatMap((shape, s) =>
  KINDS.flatMap((kind, k) => WRITES.map((write, w) => ({ shape, kind, write, weight: w === 1 ? -1.3 : 0.7, seed: 500 + 20 * s + 4 * k + w }))));

const dims = (s: ReferenceFeatureShape) =>
  s.layout === 'NHWC' ? [s.batch, s.height, s.width, s.channels] : [s.batch, s.channels, s.height, s.width];

/** The objective as the kernel sees it, and the reference result on h (and on |h|: the size of the sum's terms). */
function setUp(c: Case, h: Float32Array, target: Float32Array | null, targetTensor: GpuTensor | null) {
  const s = c.shape;
  const channel = s.channels - 1;
  const { y, x } = c.kind === 'neuron' && c.seed % 2 === 0 ? { y: 0, x: s.width - 1 } : centrePosition(s.height, s.width);
  const magnitude = h.map(Math.abs);
  const reference = (v: ArrayLike<number>): ObjectiveResult => {
    switch (c.kind) {
      case 'featureMatch': return referenceFeatureMatch(v, target!);
      case 'channel': return referenceChannel(v, s, channel);
      case 'neuron': return referenceNeuron(v, s, channel, y, x);
      default: return referenceDeepDream(v);
    }
  };
  const objective: FeatureObjective =
    c.kind === 'featureMatch' ? { kind: c.kind, target: featureTarget(targetTensor!, referenceSquaredNorm(target!)), weight: c.weight }
    : c.kind === 'channel' ? { kind: c.kind, channel, weight: c.weight }
    : c.kind === 'neuron' ? { kind: c.kind, channel, ...(c.seed % 2 === 0 ? { y, x } : {}), weight: c.weight }
    : { kind: c.kind, weight: c.weight };
  const want = reference(h);
  const termSize = c.kind === 'featureMatch' ? want.value : Math.abs(reference(magnitude).value);
  return { objective, want, termSize };
}

// Gradient: |g_gpu − (g0 + λ·dL/dh)| ≤ 1e-6·(|g0| + |λ·dL/dh|), exact where both are 0: one f32 rounding of
// the host's scale, of h − h_t, of the product, and of the sum (≤ 4·2^-24 ≈ 2.4e-7; measured worst 1.5e-7,
// featureMatch).
// Value: ≤ 2e-6 of the sum of |terms| (tree sum of ≤ 6k terms, log2(count)·2^-24 ≈ 7.5e-7; measured 1.4e-7).
const GRADIENT_TOLERANCE = 1e-6;
const VALUE_TOLERANCE = 2e-6;

describe('objective kernels against the float64 reference', () => {
  it.each(CASES)('$kind, $write, λ $weight, on $shape.batch×$shape.height×$shape.width×$shape.channels $shape.layout', async (c) => {
    const n = c.shape.batch * c.shape.height * c.shape.width * c.shape.channels;
    const h0 = randomFloats(n, c.seed, 2);
    const t0 = c.kind === 'featureMatch' ? randomFloats(n, c.seed + 1, 1.5) : null;
    const g0 = c.write === 'overwrite' ? new Float32Array(n).fill(NaN) : randomFloats(n, c.seed + 2, 3);
    const h = guarded(h0, dims(c.shape), 'test.h', c.shape.layout);
    const grad = guarded(g0, dims(c.shape), 'test.grad', c.shape.layout);
    const target = t0 ? guarded(t0, dims(c.shape), 'test.target', c.shape.layout) : null;
    const objectives = createOptvisObjectives(engine(), { valueSlots: 3 });
    try {
      const { objective, want, termSize } = setUp(c, h0, t0, target);
      engine().device.queue.writeBuffer(objectives.values, 0, new Float32Array(3).fill(NaN));
      const layer = featureLayer('test.layer', h, c.shape.layout);
      await engine().run('test.objective', (encoder) => objectives.encode(encoder, { layer, grad }, objective, { write: c.write, valueSlot: 1 }));
      const [got, values, hAfter] = await Promise.all([readAll(grad.buffer), readAll(objectives.values), readAll(h.buffer)]);
      if (c.write === 'none') {
        expect(got.subarray(0, n)).toEqual(g0);
      } else {
        let worst = 0;
        for (let e = 0; e < n; e++) {
          const start = c.write === 'overwrite' ? 0 : g0[e]!;
          const step = c.weight * want.gradient[e]!;
          const error = Math.abs(got[e]! - (start + step));
          const allowed = GRADIENT_TOLERANCE * (Math.abs(start) + Math.abs(step));
          worst = Number.isNaN(error) ? Infinity : Math.max(worst, error === 0 ? 0 : error / allowed);
        }
        expect(worst, 'worst gradient error / tolerance (∞: an element not written, or NaN)').toBeLessThanOrEqual(1);
      }
      expect(got.subarray(n).every((v) => v === GUARD_VALUE), 'grad written past its end').toBe(true);
      expect(hAfter.subarray(0, n)).toEqual(h0);
      expect(Math.abs(values[1]! - want.value), `L ${values[1]} vs ${want.value}`).toBeLessThanOrEqual(VALUE_TOLERANCE * termSize + 1e-30);
      expect(Number.isNaN(values[0]!) && Number.isNaN(values[2]!), 'other value slots touched').toBe(true);
    } finally {
      objectives.destroy();
      for (const t of [h, grad, target]) t?.destroy();
    }
  });

  it('composed objectives on one layer add up: overwrite, then accumulate', async () => {
    const shape: ReferenceFeatureShape = { batch: 2, height: 6, width: 5, channels: 7, layout: 'NHWC' };
    const n = 420;
    const h0 = randomFloats(n, 88, 2);
    const h = tensorFromArray(engine(), h0, dims(shape), { layout: 'NHWC' });
    const grad = tensorFromArray(engine(), new Float32Array(n).fill(NaN), dims(shape));
    const objectives = createOptvisObjectives(engine());
    try {
      const layer = featureLayer('test.composed', h);
      await engine().run('test.composed', (encoder) => {
        objectives.encode(encoder, { layer, grad }, { kind: 'channel', channel: 2, weight: 0.2 }, { write: 'overwrite', valueSlot: 0 });
        objectives.encode(encoder, { layer, grad }, { kind: 'channel', channel: 5, weight: 0.8 }, { valueSlot: 1 });
        objectives.encode(encoder, { layer, grad }, { kind: 'deepDream', weight: 0.5 }, { valueSlot: 2 });
      });
      const parts = [referenceChannel(h0, shape, 2), referenceChannel(h0, shape, 5), referenceDeepDream(h0)];
      const want = h0.map((_, e) => 0.2 * parts[0]!.gradient[e]! + 0.8 * parts[1]!.gradient[e]! + 0.5 * parts[2]!.gradient[e]!);
      const got = await grad.read();
      got.forEach((g, e) => expect(Math.abs(g - want[e]!), `element ${e}`).toBeLessThanOrEqual(1e-6 * Math.abs(want[e]!)));
      const values = await readAll(objectives.values);
      parts.forEach((part, k) => expect(values[k]).toBeCloseTo(part.value, 5));
    } finally {
      objectives.destroy();
      h.destroy();
      grad.destroy();
    }
  });
});

// Finite differences of the GPU value kernel itself (float32): all 2·60 perturbed layers of a 3×4×5 NCHW
// layer in one submit, each copied into h, then a value-only pass into its own slot. Step 1e-2; tolerance
// |FD − g| ≤ 2e-4 (the linear objectives are exact up to the f32 rounding of L (~1e-7·|L|) over 2h;
// featureMatch and deepDream are quadratic, so central differences have no truncation error). Measured
// worst: 1.1e-5 (featureMatch), 2.0e-6 (deepDream), 2.6e-7 (channel), 0 (neuron).
describe('objective gradients against finite differences of the GPU values', () => {
  it.each(KINDS)('%s', async (kind) => {
    const shape: ReferenceFeatureShape = { batch: 1, height: 4, width: 5, channels: 3, layout: 'NCHW' };
    const n = 60;
    const step = 1e-2;
    const h0 = randomFloats(n, 4343, 1);
    const copies = new Float32Array(2 * n * n);
    const taken = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      copies.set(h0, 2 * e * n);
      copies.set(h0, (2 * e + 1) * n);
      copies[2 * e * n + e] = h0[e]! + step;
      copies[(2 * e + 1) * n + e] = h0[e]! - step;
      taken[e] = copies[2 * e * n + e]! - copies[(2 * e + 1) * n + e]!; // the float32 step actually taken
    }
    const perturbed = tensorFromArray(engine(), copies, [2 * n, n]);
    const h = tensorFromArray(engine(), h0, dims(shape), { layout: 'NCHW' });
    const scratch = tensorFromArray(engine(), h0, dims(shape), { layout: 'NCHW' });
    const grad = tensorFromArray(engine(), new Float32Array(n), dims(shape));
    const targetTensor = tensorFromArray(engine(), randomFloats(n, 4344, 1), dims(shape));
    const objectives = createOptvisObjectives(engine(), { valueSlots: 2 * n, uniformSlots: 2 * n + 1 });
    try {
      const target = await objectives.measureTarget(targetTensor);
      const objective: FeatureObjective = kind === 'featureMatch' ? { kind, target }
        : kind === 'deepDream' ? { kind } : kind === 'channel' ? { kind, channel: 1 } : { kind, channel: 2, y: 3, x: 1 };
      await engine().run('test.finiteDifferences', (encoder) => {
        objectives.encode(encoder, { layer: featureLayer('h', h), grad }, objective, { write: 'overwrite' });
        for (let k = 0; k < 2 * n; k++) {
          encoder.copyBufferToBuffer(perturbed.buffer, k * n * 4, scratch.buffer, 0, n * 4);
          objectives.encode(encoder, { layer: featureLayer('h', scratch), grad }, objective, { write: 'none', valueSlot: k });
        }
      });
      const [gradient, values] = await Promise.all([grad.read(), readAll(objectives.values)]);
      let worst = 0;
      for (let e = 0; e < n; e++) {
        const estimate = (values[2 * e]! - values[2 * e + 1]!) / taken[e]!;
        worst = Math.max(worst, Math.abs(estimate - gradient[e]!));
      }
      expect(worst).toBeLessThanOrEqual(2e-4);
      expect(Math.max(...gradient.map(Math.abs)), 'a gradient worth checking').toBeGreaterThan(1e-2);
    } finally {
      for (const t of [perturbed, h, scratch, grad, targetTensor]) t.destroy();
      objectives.destroy();
    }
  });
});

describe('targets and refused input', () => {
  it('measureTarget reads ‖h_t‖² from the GPU; a zero target is a clear error', async () => {
    const data = randomFloats(1000, 99, 2);
    const target = tensorFromArray(engine(), data, [1, 10, 10, 10]);
    const zero = tensorFromArray(engine(), new Float32Array(1000), [1, 10, 10, 10], { label: 'test.zeroTarget' });
    const objectives = createOptvisObjectives(engine(), { valueSlots: 1 });
    try {
      engine().device.queue.writeBuffer(objectives.values, 0, Float32Array.of(-7));
      const measured = await objectives.measureTarget(target);
      expect(Math.abs(measured.normSquared / referenceSquaredNorm(data) - 1)).toBeLessThan(2e-6);
      expect(measured.tensor).toBe(target);
      expect((await readAll(objectives.values))[0], 'the caller’s value slot').toBe(-7);
      await expect(objectives.measureTarget(zero)).rejects.toThrow(/target 'test.zeroTarget' is all zeros \(‖h_t‖² = 0\)/);
      expect(() => featureTarget(target, 0)).toThrow(/all zeros/);
      expect(() => featureTarget(target, NaN)).toThrow(/finite and > 0; got NaN/);
    } finally {
      objectives.destroy();
      target.destroy();
      zero.destroy();
    }
  });

  it('bad objectives and buffers are refused with what was expected', () => {
    const h = tensorFromArray(engine(), randomFloats(60, 1), [1, 4, 5, 3], { layout: 'NHWC' });
    const grad = tensorFromArray(engine(), randomFloats(60, 2), [1, 4, 5, 3]);
    const wrong = tensorFromArray(engine(), randomFloats(60, 3), [1, 5, 4, 3]);
    const nchw = tensorFromArray(engine(), randomFloats(60, 4), [1, 4, 5, 3], { layout: 'NCHW' });
    const objectives = createOptvisObjectives(engine());
    const encoder = engine().device.createCommandEncoder({ label: 'test.unused' });
    const layer = featureLayer('conv2', h);
    const io = { layer, grad };
    try {
      expect(() => objectives.encode(encoder, io, { kind: 'channel', channel: 3 })).toThrow(/Layer 'conv2' has channels 0 … 2; got channel 3/);
      expect(() => objectives.encode(encoder, io, { kind: 'neuron', channel: 0, y: 4, x: 0 })).toThrow(/\(y 4, x 0\) is outside layer 'conv2' of 4×5/);
      expect(() => objectives.encode(encoder, { layer, grad: wrong }, { kind: 'deepDream' })).toThrow(/grad must have the shape of layer 'conv2', \[1, 4, 5, 3\]; got \[1, 5, 4, 3\]/);
      expect(() => objectives.encode(encoder, { layer, grad: h }, { kind: 'deepDream' })).toThrow(/must be different buffers/);
      expect(() => objectives.encode(encoder, io, { kind: 'deepDream' }, { valueSlot: 8 })).toThrow(/valueSlot must be an integer in \[0, 8\); got 8/);
      expect(() => objectives.encode(encoder, io, { kind: 'deepDream', weight: Infinity })).toThrow(/weight must be finite; got Infinity/);
      const shaped = { kind: 'featureMatch' as const, target: featureTarget(wrong, 1) };
      expect(() => objectives.encode(encoder, io, shaped)).toThrow(/target must have the shape of layer 'conv2', \[1, 4, 5, 3\]; got \[1, 5, 4, 3\]/);
      expect(() => objectives.encode(encoder, io, { kind: 'featureMatch', target: { tensor: nchw, normSquared: 1 } })).toThrow(/target is NCHW but layer 'conv2' is NHWC/);
      expect(() => objectives.encode(encoder, io, { kind: 'featureMatch', target: { tensor: grad, normSquared: 0 } })).toThrow(/all zeros/);
      expect(() => objectives.encode(encoder, io, { kind: 'pixel' } as unknown as FeatureObjective)).toThrow(/Unknown objective 'pixel'/);
    } finally {
      objectives.destroy();
      for (const t of [h, grad, wrong, nchw]) t.destroy();
    }
  });
});
