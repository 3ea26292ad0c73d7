// The rotation kernel (shaders/compute/optvis-rotate.wgsl) against the CPU reference's taps, accumulated in
// float64: the forward on awkward sizes and channel counts, the adjoint against the reference's transpose,
// and ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ on the GPU's own values (a tap the adjoint's window missed would break it).
// Outputs are poisoned first, with guard values past their end.
import { describe, expect, it } from 'vitest';
import { createRotationKernel, type RotationShape } from '../../src/kernels/optvis-rotate';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { randomFloats } from '../../src/reference/random';
import { rotationTaps } from '../../src/reference/optvis-rotation';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const GUARD = 16;
const GUARD_VALUE = 4321.5;

/** out[p, c] = Σ_k w[k, p] · x[index[k, p], c], accumulated in float64. */
function referenceForward(x: ArrayLike<number>, s: RotationShape): Float64Array {
  const pixels = s.height * s.width;
  const taps = rotationTaps(s.height, s.width, s.radians);
  const out = new Float64Array(pixels * s.channels);
  for (let k = 0; k < 4; k++)
    for (let p = 0; p < pixels; p++)
      for (let c = 0; c < s.channels; c++) out[p * s.channels + c]! += taps.weight[k * pixels + p]! * x[taps.index[k * pixels + p]! * s.channels + c]!;
  return out;
}

/** The transpose: grad_in[index[k, p], c] += w[k, p] · grad_out[p, c]. */
function referenceAdjoint(g: ArrayLike<number>, s: RotationShape): Float64Array {
  const pixels = s.height * s.width;
  const taps = rotationTaps(s.height, s.width, s.radians);
  const out = new Float64Array(pixels * s.channels);
  for (let k = 0; k < 4; k++)
    for (let p = 0; p < pixels; p++)
      for (let c = 0; c < s.channels; c++) out[taps.index[k * pixels + p]! * s.channels + c]! += taps.weight[k * pixels + p]! * g[p * s.channels + c]!;
  return out;
}

function guarded(values: Float32Array, label: string): GpuTensor {
  const data = new Float32Array(values.length + GUARD).fill(GUARD_VALUE);
  data.set(values);
  return tensorFromArray(engine(), data, [data.length], { label });
}

const SHAPES: RotationShape[] = [
  { height: 7, width: 5, channels: 3, radians: 0.3 },
  { height: 13, width: 17, channels: 1, radians: -0.17 },
  { height: 6, width: 6, channels: 2, radians: Math.PI / 2 },
  { height: 70, width: 41, channels: 3, radians: (10 * Math.PI) / 180 }, // > 64 pixels a workgroup; Lucid's largest turn
  { height: 9, width: 13, channels: 4, radians: -2.5 },
];

describe('rotation kernel', () => {
  it.each(SHAPES)('$height×$width×$channels by $radians rad: forward and adjoint match the reference, every element written', async (s) => {
    const size = s.height * s.width * s.channels;
    const x = randomFloats(size, 71 + s.height, 1);
    const g = randomFloats(size, 72 + s.width, 1);
    const kernel = createRotationKernel(engine(), 'test.rotate');
    const [input, gradOutput] = [guarded(x, 'test.x'), guarded(g, 'test.g')];
    const [output, gradInput] = [guarded(new Float32Array(size).fill(Number.NaN), 'test.out'), guarded(new Float32Array(size).fill(Number.NaN), 'test.gradIn')];
    try {
      await engine().run('test.rotate', (encoder) => {
        kernel.encodeForward(encoder, { input: input.buffer, output: output.buffer }, s);
        kernel.encodeAdjoint(encoder, { gradOutput: gradOutput.buffer, gradInput: gradInput.buffer }, s);
      });
      const [rx, rty] = await Promise.all([output.read(), gradInput.read()]);
      for (const [name, got, want] of [['forward', rx, referenceForward(x, s)], ['adjoint', rty, referenceAdjoint(g, s)]] as const) {
        let worst = 0;
        for (let e = 0; e < size; e++) worst = Number.isFinite(got[e]!) ? Math.max(worst, Math.abs(got[e]! - want[e]!)) : Infinity;
        // float32 sample positions against float64 ones: weights within ~1e-6, summed over ≤ 9 taps.
        expect(worst, `${name}: largest |GPU − reference|`).toBeLessThan(2e-5);
        expect(Array.from(got.subarray(size)), `${name} written past its end`).toEqual(new Array(GUARD).fill(GUARD_VALUE));
      }
      // The adjoint identity on the GPU's own values.
      let [left, right, scale] = [0, 0, 0];
      for (let e = 0; e < size; e++) {
        left += rx[e]! * g[e]!;
        right += x[e]! * rty[e]!;
        scale += Math.abs(rx[e]! * g[e]!);
      }
      expect(Math.abs(left - right) / scale, `⟨Rx, y⟩ ${left} vs ⟨x, Rᵀy⟩ ${right}`).toBeLessThan(1e-6);
    } finally {
      kernel.destroy();
      for (const t of [input, gradOutput, output, gradInput]) t.destroy();
    }
  });

  it('refuses a shared buffer, a buffer too small and a bad shape, saying what came', () => {
    const kernel = createRotationKernel(engine(), 'test.rotate');
    const a = tensorFromArray(engine(), new Float32Array(12), [12]);
    const b = tensorFromArray(engine(), new Float32Array(6), [6]);
    const encoder = engine().device.createCommandEncoder({ label: 'test.unused' });
    try {
      const shape = { height: 2, width: 2, channels: 3, radians: 0.1 };
      expect(() => kernel.encodeForward(encoder, { input: a.buffer, output: a.buffer }, shape)).toThrow(/different buffers; got the same one twice/);
      expect(() => kernel.encodeForward(encoder, { input: a.buffer, output: b.buffer }, shape)).toThrow(/output holds 24 bytes; a 2×2×3 image needs 48/);
      expect(() => kernel.encodeAdjoint(encoder, { gradOutput: a.buffer, gradInput: b.buffer }, { ...shape, radians: Number.NaN })).toThrow(/finite angle; got 2×2×3, NaN rad/);
    } finally {
      kernel.destroy();
      a.destroy();
      b.destroy();
    }
  });
});
