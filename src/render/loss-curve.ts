// A live loss plot on a Canvas2D: the total and each term over optimization steps, log-y by default,
// autoscaled, one colour-blind-safe colour per series, a legend. The optimizer reads back one scalar set
// per frame; this keeps at most maxPoints per series by min/max decimation, so a spike is never averaged
// away. The math (series storage, decimation, scales, ticks) is plain code, tested in Node; only draw()
// touches the canvas.
import { invalidArgument } from '../core/errors';
import { observeBackingSize } from './backing-size';

/** Options for `createLossCurve`; `maxPoints` defaults to 2000 and must be an integer ≥ 8. */
export interface LossCurveOptions {
  /** Points kept per series; when full, a series is decimated to about half, keeping each bucket's min and max. */
  maxPoints?: number;
  /** Logarithmic y axis (default true); values ≤ 0 are then left out of the drawing. */
  log?: boolean;
  /** Canvas colours (defaults: white background, dark grey text and total). */
  background?: string;
  foreground?: string;
}

/**
 * A live plot of the loss and its terms over optimization steps on a Canvas2D, autoscaled, log-y by default.
 * Made by `createLossCurve`: `push` values as they arrive and call `draw()` when the canvas should show them.
 */
export interface LossCurve {
  /** Records one step: `values` maps a series name ('total', a term's name) to its value. Non-finite values are skipped. */
  push(step: number, values: Readonly<Record<string, number>>): void;
  /** Redraws the whole plot (grid, series, legend) at the canvas's current backing size. */
  draw(): void;
  /** Forgets every series and draws the empty plot (a paused view would otherwise keep the old curve). */
  clear(): void;
  /** The series as kept (after decimation): for tests and export. */
  readonly series: ReadonlyMap<string, LossSeries>;
  /** Stops following the canvas's CSS size. */
  destroy(): void;
}

/** Okabe & Ito (2008), the colour-blind-safe palette, without black (the total uses the foreground). */
export const LOSS_PALETTE = ['#E69F00', '#56B4E9', '#009E73', '#0072B2', '#D55E00', '#CC79A7', '#F0E442'] as const;

/**
 * Creates a loss plot on `canvas` and keeps its backing store at CSS size × devicePixelRatio until
 * `destroy()`. Throws `InvalidArgumentError` when maxPoints is not an integer ≥ 8 or the canvas gives no 2-D
 * context (it may already hold a WebGPU or WebGL one).
 */
export function createLossCurve(canvas: HTMLCanvasElement, options: LossCurveOptions = {}): LossCurve {
  const maxPoints = options.maxPoints ?? 2000;
  const log = options.log ?? true;
  invalidArgument(
    Number.isInteger(maxPoints) && maxPoints >= 8,
    () => `createLossCurve: expected maxPoints to be an integer ≥ 8; got ${maxPoints}.`,
  );
  const context = canvas.getContext('2d');
  invalidArgument(context, () => 'createLossCurve: expected a canvas that can give a 2d context; got null (it may have a webgpu or webgl context).');
  const series = new Map<string, LossSeries>();
  const stopObserving = observeBackingSize(canvas);
  const colours = { background: options.background ?? '#ffffff', foreground: options.foreground ?? '#333333' };

  return {
    series,
    push(step, values) {
      for (const name in values) {
        const value = values[name]!;
        if (!Number.isFinite(value) || !Number.isFinite(step)) continue;
        let s = series.get(name);
        if (!s) series.set(name, (s = new LossSeries(maxPoints)));
        s.push(step, value);
      }
    },
    draw() {
      drawLossCurve(context, canvas, series, log, colours);
    },
    clear() {
      series.clear();
      drawLossCurve(context, canvas, series, log, colours);
    },
    destroy() {
      stopObserving();
    },
  };
}

/** One series' points in step order, at most `capacity`, kept in preallocated arrays. */
export class LossSeries {
  readonly steps: Float64Array;
  readonly values: Float64Array;
  length = 0;

  constructor(readonly capacity: number) {
    this.steps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  push(step: number, value: number): void {
    if (this.length === this.capacity) {
      this.length = decimateMinMax(this.steps, this.values, this.length, Math.floor(this.capacity / 4));
    }
    this.steps[this.length] = step;
    this.values[this.length] = value;
    this.length += 1;
  }
}

/**
 * Decimates points [0, length) in place: the first and last points are kept (the x extent survives), the
 * ones between are split into `buckets` contiguous buckets, each keeping its minimum and maximum in step
 * order (one point when they coincide). Returns the new length, at most 2 × buckets + 2.
 */
export function decimateMinMax(steps: Float64Array, values: Float64Array, length: number, buckets: number): number {
  const inner = length - 2;
  if (inner <= 2 * buckets) return length;
  let out = 1; // point 0 stays where it is
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    // Buckets average more than two points, so out ≤ start: writing in place never overtakes reading.
    out = keep(steps, values, out, Math.min(lo, hi));
    if (lo !== hi) out = keep(steps, values, out, Math.max(lo, hi));
  }
  return keep(steps, values, out, length - 1);
}

function keep(steps: Float64Array, values: Float64Array, out: number, from: number): number {
  steps[out] = steps[from]!;
  values[out] = values[from]!;
  return out + 1;
}

export interface AxisRange {
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
}

/**
 * The y range shown for data in [min, max]: on a log axis whole decades around the data (values ≤ 0 must
 * have been left out by the caller); on a linear axis the data padded by 5 %. A flat series gets a range
 * around its value, and no data gives [1, 10] or [0, 1].
 */
export function axisRange(min: number, max: number, log: boolean): AxisRange {
  if (!(min <= max) || !Number.isFinite(min) || !Number.isFinite(max)) return log ? { lo: 1, hi: 10, log } : { lo: 0, hi: 1, log };
  if (log) {
    const lo = Math.floor(Math.log10(min));
    const hi = Math.max(Math.ceil(Math.log10(max)), lo + 1);
    return { lo: decade(lo), hi: decade(hi), log };
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return { lo: min - pad, hi: max + pad, log };
  }
  const pad = (max - min) * 0.05;
  return { lo: min - pad, hi: max + pad, log };
}

/** Position of `value` in the range as a fraction: 0 at lo, 1 at hi (log10 on a log axis). */
export function axisFraction(value: number, range: AxisRange): number {
  if (range.log) return (Math.log10(value) - Math.log10(range.lo)) / (Math.log10(range.hi) - Math.log10(range.lo));
  return (value - range.lo) / (range.hi - range.lo);
}

/** Tick values: each decade on a log axis (every k-th when many), 1-2-5 steps on a linear one; about `count`. */
export function axisTicks(range: AxisRange, count = 5): number[] {
  if (range.log) {
    const [lo, hi] = [Math.round(Math.log10(range.lo)), Math.round(Math.log10(range.hi))];
    const every = Math.max(1, Math.ceil((hi - lo) / count));
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e += every) ticks.push(decade(e));
    return ticks;
  }
  const rough = (range.hi - range.lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(range.lo / step) * step; t <= range.hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Extent of every series' drawable points (positive ones on a log axis) in steps and values. */
export function seriesExtent(series: Iterable<LossSeries>, log: boolean): { x0: number; x1: number; y0: number; y1: number } {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const s of series) {
    for (let i = 0; i < s.length; i++) {
      const v = s.values[i]!;
      if (log && v <= 0) continue;
      x0 = Math.min(x0, s.steps[i]!);
      x1 = Math.max(x1, s.steps[i]!);
      y0 = Math.min(y0, v);
      y1 = Math.max(y1, v);
    }
  }
  return { x0, x1, y0, y1 };
}

function drawLossCurve(
  g: CanvasRenderingContext2D,
  canvas: HTMLCanvasElement,
  series: ReadonlyMap<string, LossSeries>,
  log: boolean,
  colours: { background: string; foreground: string },
): void {
  const { width, height } = canvas;
  const dpr = canvas.clientWidth > 0 ? width / canvas.clientWidth : 1; // backing pixels per CSS pixel
  g.fillStyle = colours.background;
  g.fillRect(0, 0, width, height);
  const extent = seriesExtent(series.values(), log);
  const yRange = axisRange(extent.y0, extent.y1, log);
  const [x0, x1] = extent.x0 <= extent.x1 ? [extent.x0, Math.max(extent.x1, extent.x0 + 1)] : [0, 1];
  const plot = { left: 56 * dpr, right: width - 8 * dpr, top: 8 * dpr, bottom: height - 22 * dpr };
  const px = (step: number) => plot.left + ((step - x0) / (x1 - x0)) * (plot.right - plot.left);
  const py = (value: number) => plot.bottom - axisFraction(value, yRange) * (plot.bottom - plot.top);

  g.font = `${11 * dpr}px sans-serif`;
  g.lineWidth = dpr;
  g.strokeStyle = g.fillStyle = colours.foreground;
  g.globalAlpha = 0.25;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const tick of axisTicks(yRange)) {
    const y = py(tick);
    g.globalAlpha = 0.25;
    g.beginPath();
    g.moveTo(plot.left, y);
    g.lineTo(plot.right, y);
    g.stroke();
    g.globalAlpha = 1;
    g.fillText(formatTick(tick), plot.left - 4 * dpr, y);
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  g.fillText(`step ${Math.round(x0)}`, plot.left + 24 * dpr, plot.bottom + 6 * dpr);
  g.fillText(`${Math.round(x1)}`, plot.right - 16 * dpr, plot.bottom + 6 * dpr);

  let index = 0;
  let legendY = plot.top + 8 * dpr;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const [name, s] of series) {
    const colour = name === 'total' ? colours.foreground : LOSS_PALETTE[index++ % LOSS_PALETTE.length]!;
    g.strokeStyle = g.fillStyle = colour;
    g.lineWidth = (name === 'total' ? 2 : 1.25) * dpr;
    g.beginPath();
    let pen = false; // a point left out (≤ 0 on a log axis) breaks the line
    for (let i = 0; i < s.length; i++) {
      const v = s.values[i]!;
      if (log && v <= 0) {
        pen = false;
        continue;
      }
      if (pen) g.lineTo(px(s.steps[i]!), py(v));
      else g.moveTo(px(s.steps[i]!), py(v));
      pen = true;
    }
    g.stroke();
    const last = s.length > 0 ? s.values[s.length - 1]! : NaN;
    g.fillText(`${name} ${formatTick(last)}`, plot.right - 20 * dpr, legendY);
    g.fillRect(plot.right - 16 * dpr, legendY - dpr, 12 * dpr, 2 * dpr);
    legendY += 14 * dpr;
  }
}

function formatTick(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs >= 1e4 || abs < 1e-2) ? value.toExponential(0) : String(Number(value.toPrecision(3)));
}

/** 10^e exactly as written (10 ** -4 is 0.00009999999999999999; the literal 1e-4 is not). */
function decade(e: number): number {
  return Number(`1e${e}`);
}
