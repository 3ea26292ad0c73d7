// The image parameterizations on a real device: the fft map (Lucid's fft_image + decorrelated sigmoid) and
// its adjoint against the float64 reference on awkward sizes, a spectrum computed on the GPU mapping back
// to its image, the adjoint identity on the GPU, the gradient against finite differences of the GPU
// forward, the pixels mapping, and refused input.
import { describe, expect, it } from 'vitest';
import { createFftImage, createPixelImage, type FftImage, type ImageMappingOptions } from '../../src/kernels/optvis-fft';
import { GpuTensor, tensorFromArray } from '../../src/memory/gpu-tensor';
import { readBufferRange } from '../../src/memory/readback';
import {
  columnWeight,
  referenceFftImage,
  referenceFftImageBackward,
  referencePixelsBackward,
  referencePixelsImage,
  spectrumColumns,
  spectrumScale,
  type FftImageGeometry,
  type ParameterizationOptions,
} from '../../src/reference/optvis-fft';
import { randomFloats } from '../../src/reference/random';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const GUARD = 64;
const GUARD_VALUE = 12345.5;

function guarded(data: Float32Array, shape: readonly number[], label: string): GpuTensor {
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

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};
const maxAbs = (v: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
};
const spectrumSize = (g: FftImageGeometry) => 2 * g.batch * 3 * g.height * spectrumColumns(g.width);
const pixelCount = (g: FftImageGeometry) => g.batch * g.height * g.width * 3;

/** A random spectrum whose DC terms put every channel's pixels near `offset`: t lands where the test wants it. */
function spectrumAround(g: FftImageGeometry, seed: number, amplitude: number, offset: number, decay = 1): Float32Array {
  const s = randomFloats(spectrumSize(g), seed, amplitude);
  const plane = g.height * spectrumColumns(g.width);
  const dcWeight = spectrumScale(g.height, g.width, decay)[0]! / (4 * g.height * g.width);
  for (let image = 0; image < g.batch * 3; image++) s[image * plane] = offset / dcWeight;
  return s;
}

interface ForwardCase {
  geometry: FftImageGeometry;
  options: ParameterizationOptions;
  decay: number;
}
const GEOMETRIES: FftImageGeometry[] = [
  { batch: 1, height: 5, width: 7 },
  { batch: 2, height: 4, width: 6 },
  { batch: 1, height: 1, width: 1 },
  { batch: 1, height: 9, width: 2 },
  { batch: 1, height: 16, width: 16 },
  { batch: 1, height: 45, width: 37 },
];
const FORWARD_CASES: ForwardCase[] = GEOMETRIES.flatMap((geometry) => [
  { geometry, options: { decorrelate: true, mapping: 'sigmoid' }, decay: 1 },
  { geometry, options: { decorrelate: false, mapping: 'clamp' }, decay: 1.5 },
]);

// Image: |y_gpu − y_ref| ≤ 3e-6 absolute (y in [0, 1]; f32 DFT sums of H and 3K terms with exact twiddle
// indices; measured worst 9.2e-7, 45×37 clamp, where t reaches ±1.5 unsquashed). Spectrum gradient:
// ≤ 2e-6 · max|reference| per element (σ′ from the f32 image, two DFT sums; measured worst 2.8e-7).
const IMAGE_TOLERANCE = 3e-6;
const GRADIENT_TOLERANCE = 2e-6;

describe('fft parameterization against the float64 reference', () => {
  it.each(FORWARD_CASES)('$geometry.batch×$geometry.height×$geometry.width, $options.mapping, decorrelate $options.decorrelate, decay $decay',
    async ({ geometry: g, options, decay }) => {
      const spectrum0 = options.mapping === 'clamp' ? spectrumAround(g, 11 + g.height, 0.5, 0.5, decay) : randomFloats(spectrumSize(g), 11 + g.height, 0.5);
      const gradImage0 = randomFloats(pixelCount(g), 12 + g.width, 1);
      const gradStart = randomFloats(spectrumSize(g), 13, 1);
      const plan = createFftImage(engine(), { ...g, decayPower: decay, ...options });
      const spectrum = guarded(spectrum0, plan.spectrumShape, 'test.spectrum');
      const image = guarded(new Float32Array(pixelCount(g)).fill(NaN), plan.imageShape, 'test.image');
      const gradImage = guarded(gradImage0, plan.imageShape, 'test.gradImage');
      const gradSpectrum = guarded(new Float32Array(spectrumSize(g)).fill(NaN), plan.spectrumShape, 'test.gradSpectrum');
      const summed = guarded(gradStart, plan.spectrumShape, 'test.gradSpectrumSum');
      try {
        await engine().run('test.fft', (encoder) => {
          plan.encodeForward(encoder, { image, spectrum });
          plan.encodeBackward(encoder, { gradSpectrum, gradImage, image });
          plan.encodeBackward(encoder, { gradSpectrum: summed, gradImage, image }, { accumulate: true });
        });
        const want = referenceFftImage(spectrum0, g, decay, options);
        if (options.mapping === 'clamp') {
          expect(want.pre.some((t) => t < 0) && want.pre.some((t) => t > 1), 'both clamp edges reached').toBe(g.height * g.width > 1);
        }
        const got = await readAll(image.buffer);
        expect(maxAbsDiff(got.subarray(0, pixelCount(g)), want.image), 'image').toBeLessThanOrEqual(IMAGE_TOLERANCE);
        const wantGrad = referenceFftImageBackward(spectrum0, gradImage0, g, decay, options);
        const scale = maxAbs(wantGrad);
        const [gotGrad, gotSum] = await Promise.all([readAll(gradSpectrum.buffer), readAll(summed.buffer)]);
        expect(maxAbsDiff(gotGrad.subarray(0, wantGrad.length), wantGrad) / scale, 'dL/dS').toBeLessThanOrEqual(GRADIENT_TOLERANCE);
        const wantSum = wantGrad.map((v, e) => v + gradStart[e]!);
        expect(maxAbsDiff(gotSum.subarray(0, wantGrad.length), wantSum) / scale, 'accumulated').toBeLessThanOrEqual(GRADIENT_TOLERANCE);
        for (const [name, v, n] of [['image', got, pixelCount(g)], ['gradSpectrum', gotGrad, wantGrad.length], ['sum', gotSum, wantGrad.length]] as const) {
          expect(v.subarray(n).every((x) => x === GUARD_VALUE), `${name} written past its end`).toBe(true);
        }
        expect(await spectrum.read()).toEqual(spectrum0);
      } finally {
        plan.destroy();
        for (const t of [spectrum, image, gradImage, gradSpectrum, summed]) t.destroy();
      }
    });
});

/** Forward of `spectra` (one after another, each copied in) into rows of one result buffer: one submit. */
async function forwardMany(plan: FftImage, spectra: Float32Array, count: number): Promise<Float32Array> {
  const perSpectrum = spectra.length / count;
  const perImage = plan.imageShape.reduce((a, b) => a * b);
  const all = tensorFromArray(engine(), spectra, [count, perSpectrum]);
  const spectrum = tensorFromArray(engine(), new Float32Array(perSpectrum), plan.spectrumShape);
  const image = tensorFromArray(engine(), new Float32Array(perImage), plan.imageShape);
  const results = tensorFromArray(engine(), new Float32Array(count * perImage), [count, perImage]);
  try {
    await engine().run('test.forwardMany', (encoder) => {
      for (let k = 0; k < count; k++) {
        encoder.copyBufferToBuffer(all.buffer, k * perSpectrum * 4, spectrum.buffer, 0, perSpectrum * 4);
        plan.encodeForward(encoder, { image, spectrum });
        encoder.copyBufferToBuffer(image.buffer, 0, results.buffer, k * perImage * 4, perImage * 4);
      }
    });
    return await results.read();
  } finally {
    for (const t of [all, spectrum, image, results]) t.destroy();
  }
}

describe('fft parameterization: properties on the GPU', () => {
  it.each(GEOMETRIES)('round trip on $batch×$height×$width: the forward of an image’s GPU-computed spectrum is the image', async (g) => {
    // With clamp and no decorrelation the map is linear on (0, 1): the backward at slope 1 is
    // weight ⊙ rfft2, and weight ⊙ rfft2(I) · 16HW / (c_k · scale²) is exactly the spectrum whose forward is I.
    const options: ImageMappingOptions = { decorrelate: false, mapping: 'clamp' };
    const plan = createFftImage(engine(), { ...g, ...options });
    const pixels = randomFloats(pixelCount(g), 21 + g.width, 0.4).map((v) => v + 0.5);
    const image = tensorFromArray(engine(), pixels, plan.imageShape);
    const gradImage = tensorFromArray(engine(), pixels, plan.imageShape);
    const analysis = tensorFromArray(engine(), new Float32Array(spectrumSize(g)).fill(NaN), plan.spectrumShape);
    try {
      await engine().run('test.analysis', (encoder) => plan.encodeBackward(encoder, { gradSpectrum: analysis, gradImage, image }));
      const spectrum = await analysis.read();
      const columns = spectrumColumns(g.width);
      const scale = spectrumScale(g.height, g.width, 1);
      spectrum.forEach((v, e) => {
        const hk = e % (g.height * columns);
        spectrum[e] = (v * 16 * g.height * g.width) / (columnWeight(hk % columns, g.width) * scale[hk]! ** 2);
      });
      const back = await forwardMany(plan, spectrum, 1);
      expect(maxAbsDiff(back, pixels), 'image after analysis and synthesis').toBeLessThanOrEqual(3e-6); // measured 7.6e-7 (45×37)
    } finally {
      plan.destroy();
      for (const t of [image, gradImage, analysis]) t.destroy();
    }
  });

  it.each(GEOMETRIES)('adjoint identity ⟨Jv, w⟩ = ⟨v, Jᵀw⟩ on $batch×$height×$width (decorrelated, t kept inside (0, 1))', async (g) => {
    // Clamp is the identity on (0, 1), so forward = J v there and backward = Jᵀ w: both from the GPU.
    const plan = createFftImage(engine(), { ...g, mapping: 'clamp' });
    const v = spectrumAround(g, 31 + g.height, 0.05, 0.5);
    const w = randomFloats(pixelCount(g), 32 + g.width, 1);
    const gradImage = tensorFromArray(engine(), w, plan.imageShape);
    const spectrum = tensorFromArray(engine(), v, plan.spectrumShape);
    const image = tensorFromArray(engine(), new Float32Array(pixelCount(g)), plan.imageShape);
    const gradSpectrum = tensorFromArray(engine(), new Float32Array(spectrumSize(g)), plan.spectrumShape);
    try {
      await engine().run('test.adjoint', (encoder) => {
        plan.encodeForward(encoder, { image, spectrum });
        plan.encodeBackward(encoder, { gradSpectrum, gradImage, image });
      });
      const [jv, jtw] = await Promise.all([image.read(), gradSpectrum.read()]);
      expect(jv.every((t) => t > 0 && t < 1), 't inside (0, 1)').toBe(true);
      const left = dot(jv, w);
      const right = dot(v, jtw);
      const size = dot(jv.map(Math.abs), w.map(Math.abs));
      expect(Math.abs(left - right) / size, `${left} vs ${right}`).toBeLessThanOrEqual(5e-7); // measured 2.9e-8
    } finally {
      plan.destroy();
      for (const t of [gradImage, spectrum, image, gradSpectrum]) t.destroy();
    }
  });

  it('the gradient matches central differences of the GPU forward (5×4, decorrelated sigmoid, every entry)', async () => {
    const g = { batch: 1, height: 5, width: 4 };
    const n = spectrumSize(g); // 2·3·5·3 = 90
    const step = 1e-2;
    const plan = createFftImage(engine(), g);
    const s0 = randomFloats(n, 41, 0.3);
    const w = randomFloats(pixelCount(g), 42, 1);
    const copies = new Float32Array(2 * n * n);
    const taken = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      copies.set(s0, 2 * e * n);
      copies.set(s0, (2 * e + 1) * n);
      copies[2 * e * n + e] = s0[e]! + step;
      copies[(2 * e + 1) * n + e] = s0[e]! - step;
      taken[e] = copies[2 * e * n + e]! - copies[(2 * e + 1) * n + e]!;
    }
    const spectrum = tensorFromArray(engine(), s0, plan.spectrumShape);
    const image = tensorFromArray(engine(), new Float32Array(pixelCount(g)), plan.imageShape);
    const gradImage = tensorFromArray(engine(), w, plan.imageShape);
    const gradSpectrum = tensorFromArray(engine(), new Float32Array(n), plan.spectrumShape);
    try {
      await engine().run('test.gradient', (encoder) => {
        plan.encodeForward(encoder, { image, spectrum });
        plan.encodeBackward(encoder, { gradSpectrum, gradImage, image });
      });
      const gradient = await gradSpectrum.read();
      const images = await forwardMany(plan, copies, 2 * n);
      const per = pixelCount(g);
      let worst = 0;
      for (let e = 0; e < n; e++) {
        const up = dot(images.subarray(2 * e * per, (2 * e + 1) * per), w);
        const down = dot(images.subarray((2 * e + 1) * per, (2 * e + 2) * per), w);
        worst = Math.max(worst, Math.abs((up - down) / taken[e]! - gradient[e]!));
      }
      // f32 rounding of L (~1e-6) over 2h, plus h²·L‴/6; measured worst 1.6e-5 against gradients up to 0.37.
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(maxAbs(gradient), 'a gradient worth checking').toBeGreaterThan(0.1);
      // The imaginary parts of the DC term (and of the Nyquist column's DC row) move no pixel.
      const plane = n / 2;
      for (let c = 0; c < 3; c++) expect(gradient[plane + c * 15], `Im S[${c}, 0, 0]`).toBe(0);
    } finally {
      plan.destroy();
      for (const t of [spectrum, image, gradImage, gradSpectrum]) t.destroy();
    }
  });
});

describe('pixels parameterization', () => {
  it.each([
    { decorrelate: true, mapping: 'sigmoid' },
    { decorrelate: false, mapping: 'sigmoid' },
    { decorrelate: true, mapping: 'clamp' },
    { decorrelate: false, mapping: 'clamp' },
  ] as ParameterizationOptions[])('forward and backward against the reference (decorrelate $decorrelate, $mapping)', async (options) => {
    const shape = [2, 7, 5, 3];
    const n = 210;
    const x0 = randomFloats(n, 51, 2).map((v) => (options.mapping === 'clamp' ? v * 0.6 + 0.4 : v));
    const g0 = randomFloats(n, 52, 1);
    const start = randomFloats(n, 53, 1);
    const pixels = createPixelImage(engine(), options);
    const x = guarded(x0, shape, 'test.x');
    const image = guarded(new Float32Array(n).fill(NaN), shape, 'test.image');
    const gradImage = guarded(g0, shape, 'test.gradImage');
    const gradX = guarded(new Float32Array(n).fill(NaN), shape, 'test.gradX');
    const summed = guarded(start, shape, 'test.gradXSum');
    try {
      await engine().run('test.pixels', (encoder) => {
        pixels.encodeForward(encoder, { image, x });
        pixels.encodeBackward(encoder, { gradX, gradImage, image });
        pixels.encodeBackward(encoder, { gradX: summed, gradImage, image }, { accumulate: true });
      });
      const want = referencePixelsImage(x0, options);
      const wantGrad = referencePixelsBackward(x0, g0, options);
      const [got, gotGrad, gotSum] = await Promise.all([readAll(image.buffer), readAll(gradX.buffer), readAll(summed.buffer)]);
      expect(maxAbsDiff(got.subarray(0, n), want.image)).toBeLessThanOrEqual(3e-7); // measured 1.0e-7
      expect(maxAbsDiff(gotGrad.subarray(0, n), wantGrad)).toBeLessThanOrEqual(1e-6); // measured 7.9e-8
      expect(maxAbsDiff(gotSum.subarray(0, n), wantGrad.map((v, e) => v + start[e]!))).toBeLessThanOrEqual(1e-6);
      for (const v of [got, gotGrad, gotSum]) expect(v.subarray(n).every((e) => e === GUARD_VALUE), 'written past the end').toBe(true);
      if (options.mapping === 'clamp') expect(got.subarray(0, n).filter((v) => v === 0 || v === 1).length, 'clamped pixels').toBeGreaterThan(10);
    } finally {
      pixels.destroy();
      for (const t of [x, image, gradImage, gradX, summed]) t.destroy();
    }
  });
});

describe('refused input', () => {
  it('wrong shapes, shared buffers and bad options say what was expected', () => {
    const plan = createFftImage(engine(), { height: 5, width: 7 });
    const pixels = createPixelImage(engine());
    const spectrum = tensorFromArray(engine(), new Float32Array(2 * 3 * 5 * 4), [2, 1, 3, 5, 4]);
    const image = tensorFromArray(engine(), new Float32Array(105), [5, 7, 3]);
    const wrong = tensorFromArray(engine(), new Float32Array(120), [2, 3, 5, 4]);
    const gray = tensorFromArray(engine(), new Float32Array(35), [5, 7, 1]);
    const encoder = engine().device.createCommandEncoder({ label: 'test.unused' });
    try {
      expect(plan.spectrumShape).toEqual([2, 1, 3, 5, 4]);
      expect(plan.imageShape).toEqual([1, 5, 7, 3]);
      expect(() => plan.encodeForward(encoder, { image, spectrum: wrong })).toThrow(/spectrum must be \[2, 1, 3, 5, 4\]; got \[2, 3, 5, 4\]/);
      expect(() => plan.encodeForward(encoder, { image: gray, spectrum })).toThrow(/image must be \[1, 5, 7, 3\] or \[5, 7, 3\]; got \[5, 7, 1\]/);
      expect(() => plan.encodeBackward(encoder, { gradSpectrum: spectrum, gradImage: image, image })).toThrow(/gradImage and image must be different buffers/);
      expect(() => createFftImage(engine(), { height: 0, width: 3 })).toThrow(/height must be an integer ≥ 1; got 0/);
      expect(() => createFftImage(engine(), { height: 3, width: 3, decayPower: -1 })).toThrow(/decayPower must be finite and ≥ 0; got -1/);
      expect(() => createPixelImage(engine(), { mapping: 'tanh' as 'clamp' })).toThrow(/mapping must be 'sigmoid' or 'clamp'; got 'tanh'/);
      expect(() => pixels.encodeForward(encoder, { image, x: gray })).toThrow(/x must end in 3 colour channels/);
      expect(() => pixels.encodeForward(encoder, { image, x: image })).toThrow(/x and image must be different buffers/);
    } finally {
      plan.destroy();
      pixels.destroy();
      for (const t of [spectrum, image, wrong, gray]) t.destroy();
    }
  });
});

function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}
