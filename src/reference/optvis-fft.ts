// Float64 CPU references of the image parameterizations of shaders/compute/optvis-fft.wgsl: Lucid's
// `fft_image` + `to_valid_rgb(decorrelate=True)` and the plain `pixels` mapping, forward and the exact
// adjoint, with real DFTs as direct sums (no FFT: these are the ground truth, not a fast path).
//
// Spectrum layout: [2, N, 3, H, K] float32 planes (plane 0 real, plane 1 imaginary), K = ⌊W/2⌋ + 1 — Lucid's
// `(2, batch, ch) + freqs.shape` variable. Images are NHWC [N, H, W, 3]. Map (per image n, channel c):
//   S̃ = scale ⊙ S,  scale[h, k] = √(H·W) / max(f[h, k], 1/max(H, W))^decay,
//   f[h, k] = √((k/W)² + (min(h, H − h)/H)²)                   (|np.fft.fftfreq| in each axis)
//   p = irfft2(S̃) / 4,   t = D p (3×3 per pixel),   image = σ(t)  (or clamp(t, 0, 1))
// with irfft2 the inverse of an exact length-H × length-W real DFT. Lucid differs for odd W only: it keeps
// ⌊W/2⌋ + 2 columns, inverts at length W + 1 and crops a column; here odd widths invert at length W.

/** Lucid's color_correlation_svd_sqrt (rows: output colour; columns: decorrelated component). */
export const COLOR_CORRELATION_SVD_SQRT: readonly (readonly number[])[] = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];
/** Lucid's fft_image constant: the image is irfft2(·) / 4. */
export const FFT_IMAGE_DIVISOR = 4;

export type ImageMapping = 'sigmoid' | 'clamp';

export interface ParameterizationOptions {
  /** Multiply by COLOR_CORRELATION_SVD_SQRT / (its largest column norm) per pixel; Lucid's default true. */
  decorrelate: boolean;
  mapping: ImageMapping;
}

export interface FftImageGeometry {
  batch: number;
  height: number;
  width: number;
}

export interface ParameterizedImage {
  /** t, before the mapping: NHWC. */
  pre: Float64Array;
  /** σ(t) or clamp(t, 0, 1): NHWC. */
  image: Float64Array;
}

/** Columns of a real spectrum of width W: ⌊W/2⌋ + 1. */
export function spectrumColumns(width: number): number {
  return Math.floor(width / 2) + 1;
}

/** The 3×3 decorrelation matrix D, row-major (D[i·3 + j]): Lucid's matrix over its largest column norm. */
export function decorrelationMatrix(): Float64Array {
  const m = COLOR_CORRELATION_SVD_SQRT;
  let largest = 0;
  for (let j = 0; j < 3; j++) largest = Math.max(largest, Math.hypot(m[0]![j]!, m[1]![j]!, m[2]![j]!));
  return Float64Array.from(m.flat(), (v) => v / largest);
}

/** scale[h·K + k] = √(H·W) / max(f, 1/max(H, W))^decay (Lucid's 1/f spectrum scaling, energy-normalized). */
export function spectrumScale(height: number, width: number, decayPower: number): Float64Array {
  const columns = spectrumColumns(width);
  const scale = new Float64Array(height * columns);
  const floor = 1 / Math.max(height, width);
  for (let h = 0; h < height; h++) {
    const fy = Math.min(h, height - h) / height;
    for (let k = 0; k < columns; k++) {
      const f = Math.hypot(k / width, fy);
      scale[h * columns + k] = Math.sqrt(height * width) / Math.pow(Math.max(f, floor), decayPower);
    }
  }
  return scale;
}

/** cos and sin of 2π·m/n, with m reduced mod n first so large products keep full accuracy. */
function twiddle(m: number, n: number): [number, number] {
  const angle = (2 * Math.PI * (m % n)) / n;
  return [Math.cos(angle), Math.sin(angle)];
}

/** X[h, k] = Σ_{y, x} v[y, x] e^{−2πi(h·y/H + k·x/W)} for k < K: the unnormalized real DFT, [H·K] planes. */
export function referenceRfft2(v: ArrayLike<number>, height: number, width: number): { re: Float64Array; im: Float64Array } {
  const columns = spectrumColumns(width);
  // Along x first: R[y, k] = Σ_x v e^{−2πi k x / W}.
  const rowRe = new Float64Array(height * columns);
  const rowIm = new Float64Array(height * columns);
  for (let y = 0; y < height; y++)
    for (let k = 0; k < columns; k++) {
      let a = 0;
      let b = 0;
      for (let x = 0; x < width; x++) {
        const [c, s] = twiddle(k * x, width);
        a += v[y * width + x]! * c;
        b -= v[y * width + x]! * s;
      }
      rowRe[y * columns + k] = a;
      rowIm[y * columns + k] = b;
    }
  const re = new Float64Array(height * columns);
  const im = new Float64Array(height * columns);
  for (let h = 0; h < height; h++)
    for (let k = 0; k < columns; k++) {
      let sumRe = 0;
      let sumIm = 0;
      for (let y = 0; y < height; y++) {
        const [c, s] = twiddle(h * y, height);
        const a = rowRe[y * columns + k]!;
        const b = rowIm[y * columns + k]!;
        sumRe += a * c + b * s; // (a + ib)(c − is)
        sumIm += b * c - a * s;
      }
      re[h * columns + k] = sumRe;
      im[h * columns + k] = sumIm;
    }
  return { re, im };
}

/**
 * v[y, x] = (1/(H·W)) Σ_{h, k<K} c_k Re(S[h, k] e^{2πi(h·y/H + k·x/W)}), c_k = 1 for k = 0 and k = W/2, else 2:
 * the inverse of referenceRfft2 (numpy's irfft2 with s = (H, W); the imaginary parts that a Hermitian
 * spectrum cannot have are ignored, as there).
 */
export function referenceIrfft2(re: ArrayLike<number>, im: ArrayLike<number>, height: number, width: number): Float64Array {
  const columns = spectrumColumns(width);
  // Along y first (complex): T[y, k] = Σ_h S[h, k] e^{2πi h y / H}.
  const tRe = new Float64Array(height * columns);
  const tIm = new Float64Array(height * columns);
  for (let y = 0; y < height; y++)
    for (let k = 0; k < columns; k++) {
      let sumRe = 0;
      let sumIm = 0;
      for (let h = 0; h < height; h++) {
        const [c, s] = twiddle(h * y, height);
        const a = re[h * columns + k]!;
        const b = im[h * columns + k]!;
        sumRe += a * c - b * s;
        sumIm += a * s + b * c;
      }
      tRe[y * columns + k] = sumRe;
      tIm[y * columns + k] = sumIm;
    }
  const v = new Float64Array(height * width);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < columns; k++) {
        const [c, s] = twiddle(k * x, width);
        sum += columnWeight(k, width) * (tRe[y * columns + k]! * c - tIm[y * columns + k]! * s);
      }
      v[y * width + x] = sum / (height * width);
    }
  return v;
}

/** c_k: the DC column and (even W) the Nyquist column stand for themselves; the others for k and W − k. */
export function columnWeight(k: number, width: number): number {
  return k === 0 || 2 * k === width ? 1 : 2;
}

/** The linear part S ↦ t = D · irfft2(scale ⊙ S) / 4, NHWC. */
export function referenceFftImageLinear(spectrum: ArrayLike<number>, g: FftImageGeometry, decayPower: number, decorrelate: boolean): Float64Array {
  const { batch, height, width } = g;
  const columns = spectrumColumns(width);
  const plane = height * columns;
  const scale = spectrumScale(height, width, decayPower);
  const imaginary = batch * 3 * plane;
  const pixels: Float64Array[] = [];
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * plane;
      const re = new Float64Array(plane);
      const im = new Float64Array(plane);
      for (let e = 0; e < plane; e++) {
        re[e] = scale[e]! * spectrum[base + e]!;
        im[e] = scale[e]! * spectrum[imaginary + base + e]!;
      }
      pixels.push(referenceIrfft2(re, im, height, width).map((v) => v / FFT_IMAGE_DIVISOR));
    }
  return mixColours(pixels, g, decorrelate);
}

/** The adjoint of referenceFftImageLinear: w (NHWC) ↦ Jᵀw, a spectrum [2, N, 3, H, K]. */
export function referenceFftImageLinearAdjoint(w: ArrayLike<number>, g: FftImageGeometry, decayPower: number, decorrelate: boolean): Float64Array {
  const { batch, height, width } = g;
  const columns = spectrumColumns(width);
  const plane = height * columns;
  const scale = spectrumScale(height, width, decayPower);
  const out = new Float64Array(2 * batch * 3 * plane);
  const planes = unmixColours(w, g, decorrelate);
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < 3; c++) {
      // irfft2 is diag(c_k / (H·W)) ∘ conj-DFT on the real pairs (Re, Im), so its adjoint is that diagonal after rfft2.
      const { re, im } = referenceRfft2(planes[n * 3 + c]!, height, width);
      const base = (n * 3 + c) * plane;
      for (let h = 0; h < height; h++)
        for (let k = 0; k < columns; k++) {
          const e = h * columns + k;
          const factor = (scale[e]! * columnWeight(k, width)) / (height * width * FFT_IMAGE_DIVISOR);
          out[base + e] = factor * re[e]!;
          out[batch * 3 * plane + base + e] = factor * im[e]!;
        }
    }
  return out;
}

/** Spectrum → image: the whole fft parameterization. */
export function referenceFftImage(spectrum: ArrayLike<number>, g: FftImageGeometry, decayPower: number, o: ParameterizationOptions): ParameterizedImage {
  const pre = referenceFftImageLinear(spectrum, g, decayPower, o.decorrelate);
  return { pre, image: pre.map((t) => mapped(t, o.mapping)) };
}

/** dL/dimage → dL/dspectrum through the fft parameterization at `spectrum`. */
export function referenceFftImageBackward(
  spectrum: ArrayLike<number>, gradImage: ArrayLike<number>, g: FftImageGeometry, decayPower: number, o: ParameterizationOptions,
): Float64Array {
  const { pre } = referenceFftImage(spectrum, g, decayPower, o);
  const gradPre = pre.map((t, e) => gradImage[e]! * mappedSlope(t, o.mapping));
  return referenceFftImageLinearAdjoint(gradPre, g, decayPower, o.decorrelate);
}

/** Pixels → image: t = D x per pixel (when decorrelating), then the mapping. x and image are NHWC [.., 3]. */
export function referencePixelsImage(x: ArrayLike<number>, o: ParameterizationOptions): ParameterizedImage {
  const pre = mixPixels(x, o.decorrelate ? decorrelationMatrix() : null, false);
  return { pre, image: pre.map((t) => mapped(t, o.mapping)) };
}

/** dL/dimage → dL/dx through the pixels parameterization at x: Dᵀ (g ⊙ mapping′(t)). */
export function referencePixelsBackward(x: ArrayLike<number>, gradImage: ArrayLike<number>, o: ParameterizationOptions): Float64Array {
  const { pre } = referencePixelsImage(x, o);
  const gradPre = pre.map((t, e) => gradImage[e]! * mappedSlope(t, o.mapping));
  return mixPixels(gradPre, o.decorrelate ? decorrelationMatrix() : null, true);
}

export function sigmoid(t: number): number {
  return 1 / (1 + Math.exp(-t));
}

function mapped(t: number, mapping: ImageMapping): number {
  return mapping === 'sigmoid' ? sigmoid(t) : Math.min(Math.max(t, 0), 1);
}

/** σ′(t) = σ(1 − σ); the clamp passes the gradient through, 1 everywhere (shaders/compute/optvis-fft.wgsl, mapped_slope). */
function mappedSlope(t: number, mapping: ImageMapping): number {
  if (mapping === 'clamp') return 1;
  const s = sigmoid(t);
  return s * (1 - s);
}

/** out[pixel, i] = Σ_j M[i][j] v[pixel, j] (or Mᵀ when transposed); M null is the identity. */
function mixPixels(v: ArrayLike<number>, m: Float64Array | null, transposed: boolean): Float64Array {
  const out = Float64Array.from(v);
  if (!m) return out;
  for (let p = 0; p < v.length; p += 3)
    for (let i = 0; i < 3; i++) {
      let sum = 0;
      for (let j = 0; j < 3; j++) sum += (transposed ? m[j * 3 + i]! : m[i * 3 + j]!) * v[p + j]!;
      out[p + i] = sum;
    }
  return out;
}

/** Channel planes [(n, c)] of [H·W] → NHWC, mixed by D. */
function mixColours(planes: Float64Array[], g: FftImageGeometry, decorrelate: boolean): Float64Array {
  const pixels = g.height * g.width;
  const interleaved = new Float64Array(g.batch * pixels * 3);
  for (let n = 0; n < g.batch; n++)
    for (let p = 0; p < pixels; p++)
      for (let c = 0; c < 3; c++) interleaved[(n * pixels + p) * 3 + c] = planes[n * 3 + c]![p]!;
  return mixPixels(interleaved, decorrelate ? decorrelationMatrix() : null, false);
}

/** NHWC → channel planes [(n, c)] of [H·W], after Dᵀ. */
function unmixColours(w: ArrayLike<number>, g: FftImageGeometry, decorrelate: boolean): Float64Array[] {
  const pixels = g.height * g.width;
  const mixed = mixPixels(w, decorrelate ? decorrelationMatrix() : null, true);
  const planes: Float64Array[] = [];
  for (let n = 0; n < g.batch; n++)
    for (let c = 0; c < 3; c++) planes.push(Float64Array.from({ length: pixels }, (_, p) => mixed[(n * pixels + p) * 3 + c]!));
  return planes;
}
