// The float64 image-parameterization references: the real DFT against a brute-force complex DFT,
// irfft2(rfft2(x)) = x on awkward sizes, Lucid's spectrum scale and colour matrix, the adjoint identity
// ⟨J v, w⟩ = ⟨v, Jᵀ w⟩ of the fft map's linear part, and both backward maps against finite differences.
import { describe, expect, it } from 'vitest';
import {
  decorrelationMatrix,
  referenceFftImage,
  referenceFftImageBackward,
  referenceFftImageLinear,
  referenceFftImageLinearAdjoint,
  referenceIrfft2,
  referencePixelsBackward,
  referencePixelsImage,
  referenceRfft2,
  spectrumColumns,
  spectrumScale,
  type FftImageGeometry,
  type ParameterizationOptions,
} from '../../src/reference/optvis-fft';
import { maxAbsDifference, randomFloats } from '../../src/reference/random';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};
const spectrumSize = (g: FftImageGeometry) => 2 * g.batch * 3 * g.height * spectrumColumns(g.width);

describe('real DFT', () => {
  it.each([[1, 1], [1, 6], [4, 6], [5, 7], [6, 5], [8, 8]])('rfft2 on %i×%i matches a brute-force complex DFT', (height, width) => {
    const x = randomFloats(height * width, 5 + height * width);
    const { re, im } = referenceRfft2(x, height, width);
    const columns = spectrumColumns(width);
    let worst = 0;
    for (let h = 0; h < height; h++)
      for (let k = 0; k < columns; k++) {
        let a = 0;
        let b = 0;
        for (let y = 0; y < height; y++)
          for (let w = 0; w < width; w++) {
            const angle = -2 * Math.PI * (h * y / height + k * w / width);
            a += x[y * width + w]! * Math.cos(angle);
            b += x[y * width + w]! * Math.sin(angle);
          }
        worst = Math.max(worst, Math.abs(a - re[h * columns + k]!), Math.abs(b - im[h * columns + k]!));
      }
    expect(worst).toBeLessThan(1e-12);
  });

  it.each([[1, 1], [3, 1], [1, 4], [4, 6], [5, 7], [7, 4], [16, 16], [45, 37]])('irfft2(rfft2(x)) = x on %i×%i', (height, width) => {
    const x = randomFloats(height * width, 40 + height, 3);
    const { re, im } = referenceRfft2(x, height, width);
    expect(maxAbsDifference(referenceIrfft2(re, im, height, width), x)).toBeLessThan(1e-12);
  });

  it('a unit impulse has a flat spectrum; a constant image only a DC term', () => {
    const impulse = new Float64Array(12);
    impulse[0] = 1;
    const flat = referenceRfft2(impulse, 3, 4);
    expect([...flat.re]).toEqual(new Array(9).fill(1));
    expect(flat.im.every((v) => v === 0)).toBe(true);
    const constant = referenceRfft2(new Float64Array(12).fill(2), 3, 4);
    expect(constant.re[0]).toBeCloseTo(24, 12);
    expect(maxAbsDifference(constant.re.subarray(1), new Float64Array(8))).toBeLessThan(1e-12);
  });
});

describe('Lucid constants', () => {
  it('the spectrum scale is √(HW)/max(f, 1/max(H, W))^decay with |fftfreq| frequencies', () => {
    const scale = spectrumScale(4, 6, 1); // K = 4
    const root = Math.sqrt(24);
    expect(scale[0]).toBeCloseTo(root * 6, 12); // f = 0 → floored to 1/6
    expect(scale[1]).toBeCloseTo(root * 6, 12); // f = 1/6
    expect(scale[3]).toBeCloseTo(root * 2, 12); // Nyquist column f = 1/2
    expect(scale[3 * 4 + 0]).toBeCloseTo(root * 4, 12); // row h = 3 ≡ −1: f = 1/4
    expect(scale[2 * 4 + 2]).toBeCloseTo(root / Math.hypot(2 / 6, 2 / 4), 12);
    expect(spectrumScale(4, 6, 2)[2 * 4 + 2]).toBeCloseTo(root / (Math.hypot(2 / 6, 2 / 4) ** 2), 12);
  });

  it('the colour matrix is Lucid’s over its largest column norm (the first column, norm 1 after)', () => {
    const m = decorrelationMatrix();
    const norms = [0, 1, 2].map((j) => Math.hypot(m[j]!, m[3 + j]!, m[6 + j]!));
    expect(norms[0]).toBeCloseTo(1, 15);
    expect(Math.max(...norms)).toBeCloseTo(1, 15);
    expect(m[1]! / m[0]!).toBeCloseTo(0.09 / 0.26, 15);
  });
});

const GEOMETRIES: FftImageGeometry[] = [
  { batch: 1, height: 5, width: 7 },
  { batch: 2, height: 4, width: 6 },
  { batch: 1, height: 1, width: 1 },
  { batch: 1, height: 9, width: 2 },
];

describe('fft parameterization', () => {
  it.each(GEOMETRIES)('adjoint identity ⟨Jv, w⟩ = ⟨v, Jᵀw⟩ on $batch×$height×$width (decay 1 and 1.5, ± decorrelate)', (g) => {
    const v = randomFloats(spectrumSize(g), 61);
    const w = randomFloats(g.batch * g.height * g.width * 3, 62);
    for (const [decay, decorrelate] of [[1, true], [1.5, false]] as const) {
      const left = dot(referenceFftImageLinear(v, g, decay, decorrelate), w);
      const right = dot(v, referenceFftImageLinearAdjoint(w, g, decay, decorrelate));
      expect(Math.abs(left - right) / Math.abs(left), `${left} vs ${right}`).toBeLessThan(1e-12);
    }
  });

  it('the linear part inverts: an image’s spectrum, unscaled, comes back as the image', () => {
    const g = { batch: 1, height: 6, width: 5 };
    const planes = [0, 1, 2].map((c) => randomFloats(30, 70 + c));
    const scale = spectrumScale(6, 5, 1);
    const spectrum = new Float64Array(spectrumSize(g));
    planes.forEach((plane, c) => {
      const { re, im } = referenceRfft2(plane, 6, 5);
      for (let e = 0; e < scale.length; e++) {
        spectrum[c * 18 + e] = (4 * re[e]!) / scale[e]!;
        spectrum[54 + c * 18 + e] = (4 * im[e]!) / scale[e]!;
      }
    });
    const t = referenceFftImageLinear(spectrum, g, 1, false);
    const interleaved = Float64Array.from({ length: 90 }, (_, e) => planes[e % 3]![Math.floor(e / 3)]!);
    expect(maxAbsDifference(t, interleaved)).toBeLessThan(1e-12);
  });

  it.each(GEOMETRIES.slice(0, 2))('backward matches central differences of the forward on $batch×$height×$width', (g) => {
    const options: ParameterizationOptions = { decorrelate: true, mapping: 'sigmoid' };
    const spectrum = Float64Array.from(randomFloats(spectrumSize(g), 63, 0.05));
    const weights = randomFloats(g.batch * g.height * g.width * 3, 64);
    const loss = (s: Float64Array) => dot(referenceFftImage(s, g, 1, options).image, weights);
    const gradient = referenceFftImageBackward(spectrum, weights, g, 1, options);
    expect(finiteDifferenceWorst(spectrum, loss, gradient, 1e-6)).toBeLessThan(1e-7);
    expect(Math.max(...gradient.map(Math.abs)), 'a gradient worth testing').toBeGreaterThan(1e-2);
  });
});

describe('pixels parameterization', () => {
  it.each([
    { decorrelate: true, mapping: 'sigmoid' },
    { decorrelate: false, mapping: 'sigmoid' },
  ] as ParameterizationOptions[])('backward matches central differences (decorrelate $decorrelate, $mapping)', (options) => {
    const x = Float64Array.from(randomFloats(2 * 3 * 5 * 3, 65, 2));
    const weights = randomFloats(x.length, 66);
    const loss = (v: Float64Array) => dot(referencePixelsImage(v, options).image, weights);
    const gradient = referencePixelsBackward(x, weights, options);
    expect(finiteDifferenceWorst(x, loss, gradient, 1e-6)).toBeLessThan(1e-7);
  });

  // The clamp's backward passes the gradient through (shaders/compute/optvis-fft.wgsl, mapped_slope): it is the
  // adjoint of the unclamped linear map everywhere, and the clamped loss's derivative where the pixel's
  // pre-images t stay inside (0, 1). At t outside, the subgradient would be 0; the straight-through 1 is what
  // lets a pixel the optimizer clamped to an edge move back in.
  it.each([true, false])('clamp passes the gradient through (decorrelate %s)', (decorrelate) => {
    const options: ParameterizationOptions = { decorrelate, mapping: 'clamp' };
    const x = Float64Array.from(randomFloats(2 * 3 * 5 * 3, 65, 2));
    const weights = randomFloats(x.length, 66);
    const gradient = referencePixelsBackward(x, weights, options);
    const { pre } = referencePixelsImage(x, options);
    expect(pre.some((t) => t < 0) && pre.some((t) => t > 1) && pre.some((t) => t > 0 && t < 1), 'all three clamp regions').toBe(true);
    const unclamped = (v: Float64Array) => dot(referencePixelsImage(v, options).pre, weights);
    expect(finiteDifferenceWorst(x, unclamped, gradient, 1e-6)).toBeLessThan(1e-7);
    const clamped = (v: Float64Array) => dot(referencePixelsImage(v, options).image, weights);
    // The pre-images x[e] moves: its pixel's three colours when they are mixed, else its own.
    const moved = (e: number) => (decorrelate ? [0, 1, 2].map((c) => pre[e - (e % 3) + c]!) : [pre[e]!]);
    const inside = (e: number) => moved(e).every((t) => t > 1e-3 && t < 1 - 1e-3);
    const insideCount = x.reduce((count, _, e) => count + (inside(e) ? 1 : 0), 0);
    expect(insideCount, 'elements whose pre-images are inside (0, 1)').toBeGreaterThan(3);
    expect(finiteDifferenceWorst(x, clamped, gradient, 1e-6, inside)).toBeLessThan(1e-7);
    // Outside, the straight-through gradient is not the clamped loss's derivative (0): the check can tell.
    const outside = (e: number) => moved(e).every((t) => t < -1e-3 || t > 1 + 1e-3);
    expect(finiteDifferenceWorst(x, clamped, gradient, 1e-6, outside)).toBeGreaterThan(1e-3);
  });

  it('sigmoid of 0 is grey; clamp keeps [0, 1] and cuts outside', () => {
    expect([...referencePixelsImage([0, 0, 0], { decorrelate: true, mapping: 'sigmoid' }).image]).toEqual([0.5, 0.5, 0.5]);
    expect([...referencePixelsImage([-1, 0.25, 3], { decorrelate: false, mapping: 'clamp' }).image]).toEqual([0, 0.25, 1]);
  });
});

/** Largest |central difference − gradient| / max(1, |gradient|), over the elements `only` keeps (default all). */
function finiteDifferenceWorst(
  x: Float64Array, loss: (x: Float64Array) => number, gradient: ArrayLike<number>, step: number, only: (e: number) => boolean = () => true,
): number {
  let worst = 0;
  for (let e = 0; e < x.length; e++) {
    if (!only(e)) continue;
    const saved = x[e]!;
    x[e] = saved + step;
    const up = loss(x);
    x[e] = saved - step;
    const down = loss(x);
    x[e] = saved;
    worst = Math.max(worst, Math.abs((up - down) / (2 * step) - gradient[e]!) / Math.max(1, Math.abs(gradient[e]!)));
  }
  return worst;
}
