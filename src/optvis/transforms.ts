// Transforms applied to the image before the model each step (Lucid's transform.py): pad, jitter, scale,
// rotate and compose, as data. Each step draws concrete parameters from a seeded source (sampleTransforms);
// src/interop/tfjs/optvis-transforms.ts applies the draw with differentiable tfjs ops. The sizes and the
// rotation's bilinear taps are computed here, in plain TypeScript, where they can be unit-tested.
import { invalidArgument } from '../core/errors';

/** How `pad` fills the border: with `value`, or mirrored without ('reflect') or with ('symmetric') the edge pixels. */
export type PadMode = 'constant' | 'reflect' | 'symmetric';

/**
 * An image transform applied before the model at every step, as data: made by `pad`, `jitter`, `scale`,
 * `rotate` and `compose`. Its random parameters are drawn anew each step from the optimization's seed.
 */
export type Transform =
  | { readonly kind: 'pad'; readonly size: number; readonly mode: PadMode; readonly value: number }
  | { readonly kind: 'jitter'; readonly distance: number }
  | { readonly kind: 'scale'; readonly factors: readonly number[] }
  | { readonly kind: 'rotate'; readonly degrees: readonly number[] }
  | { readonly kind: 'compose'; readonly transforms: readonly Transform[] };

/** One step's concrete transform: what the tfjs side executes. */
export type TransformDraw =
  | { readonly kind: 'pad'; readonly size: number; readonly mode: PadMode; readonly value: number }
  | { readonly kind: 'crop'; readonly top: number; readonly left: number; readonly height: number; readonly width: number }
  | { readonly kind: 'resize'; readonly height: number; readonly width: number }
  | { readonly kind: 'rotate'; readonly radians: number };

/** Pads every side by `size`; Lucid's default mode is 'reflect', its standard transforms use constant 0.5. */
export function pad(size: number, options: { mode?: PadMode; value?: number } = {}): Transform {
  invalidArgument(Number.isInteger(size) && size >= 0, () => `pad: size must be an integer ≥ 0; got ${size}.`);
  const mode = options.mode ?? 'reflect';
  invalidArgument(['constant', 'reflect', 'symmetric'].includes(mode), () => `pad: mode must be 'constant', 'reflect' or 'symmetric'; got '${mode}'.`);
  const value = options.value ?? 0.5;
  invalidArgument(Number.isFinite(value), () => `pad: value must be finite; got ${value}.`);
  return Object.freeze({ kind: 'pad', size, mode, value });
}

/** A random crop `distance` pixels smaller in each dimension (offsets uniform in 0 … distance). */
export function jitter(distance: number): Transform {
  invalidArgument(Number.isInteger(distance) && distance >= 0, () => `jitter: distance must be an integer ≥ 0; got ${distance}.`);
  return Object.freeze({ kind: 'jitter', distance });
}

/** Bilinear resize by a factor drawn from `factors` (size truncated, as Lucid's cast to int32). */
export function scale(factors: readonly number[]): Transform {
  invalidArgument(Array.isArray(factors) && factors.length > 0, () => 'scale: expected a non-empty list of factors.');
  for (const f of factors) invalidArgument(Number.isFinite(f) && f > 0, () => `scale: factors must be finite and > 0; got ${f}.`);
  return Object.freeze({ kind: 'scale', factors: Object.freeze([...factors]) });
}

/** Rotation about the centre by an angle (degrees) drawn from `degrees`, bilinear, zeros outside. */
export function rotate(degrees: readonly number[]): Transform {
  invalidArgument(Array.isArray(degrees) && degrees.length > 0, () => 'rotate: expected a non-empty list of angles in degrees.');
  for (const d of degrees) invalidArgument(Number.isFinite(d), () => `rotate: angles must be finite; got ${d}.`);
  return Object.freeze({ kind: 'rotate', degrees: Object.freeze([...degrees]) });
}

/** The transforms applied one after the other, as one Transform. */
export function compose(...transforms: Transform[]): Transform {
  for (const t of transforms) invalidArgument(t !== null && typeof t === 'object' && 'kind' in t, () => 'compose: every argument must be a Transform.');
  return Object.freeze({ kind: 'compose', transforms: Object.freeze([...transforms]) });
}

/** Lucid's standard_transforms: pad(12, constant 0.5), jitter(8), scale(0.9 … 1.1), rotate(−10 … 10°, 0 ×6), jitter(4). */
export function standardTransforms(): Transform {
  return compose(
    pad(12, { mode: 'constant', value: 0.5 }),
    jitter(8),
    scale(Array.from({ length: 11 }, (_, i) => 1 + (i - 5) / 50)),
    rotate([...Array.from({ length: 21 }, (_, i) => i - 10), 0, 0, 0, 0, 0]),
    jitter(4),
  );
}

/** This step's draws for an image of height × width, in order; throws when a crop would leave nothing. */
export function sampleTransforms(transform: Transform, height: number, width: number, random: () => number): TransformDraw[] {
  const draws: TransformDraw[] = [];
  let size = { height, width };
  const visit = (t: Transform): void => {
    switch (t.kind) {
      case 'compose':
        t.transforms.forEach(visit);
        return;
      case 'pad':
        if (t.mode !== 'constant') {
          const most = Math.min(size.height, size.width) - (t.mode === 'reflect' ? 1 : 0); // tfjs mirrorPad's limit
          invalidArgument(t.size <= most, () => `pad(${t.size}, '${t.mode}'): a ${size.height}×${size.width} image can be mirrored by at most ${most}.`);
        }
        if (t.size > 0) draws.push({ kind: 'pad', size: t.size, mode: t.mode, value: t.value });
        size = { height: size.height + 2 * t.size, width: size.width + 2 * t.size };
        return;
      case 'jitter': {
        const d = t.distance;
        invalidArgument(size.height > d && size.width > d, () => `jitter(${d}): the image is ${size.height}×${size.width} here; it must be larger than ${d}.`);
        if (d === 0) return;
        size = { height: size.height - d, width: size.width - d };
        draws.push({ kind: 'crop', top: pick(d + 1, random), left: pick(d + 1, random), ...size });
        return;
      }
      case 'scale': {
        const f = t.factors[pick(t.factors.length, random)]!;
        const next = { height: Math.trunc(f * size.height), width: Math.trunc(f * size.width) };
        invalidArgument(next.height >= 1 && next.width >= 1, () => `scale(${f}): a ${size.height}×${size.width} image would vanish.`);
        if (next.height !== size.height || next.width !== size.width) draws.push({ kind: 'resize', ...next });
        size = next;
        return;
      }
      case 'rotate': {
        const degrees = t.degrees[pick(t.degrees.length, random)]!;
        if (degrees !== 0) draws.push({ kind: 'rotate', radians: (degrees * Math.PI) / 180 });
        return;
      }
      default:
        throw new Error(`Unknown transform '${(t as { kind: string }).kind}'.`);
    }
  };
  visit(transform);
  return draws;
}

/**
 * One draw list per distinct size that the transform can give an image of height × width: every scale
 * factor, crops and angles at one choice each (they do not make sizes vary). A setup that runs the model
 * on each knows every layer shape the steps can meet.
 */
export function sizeProbes(transform: Transform, height: number, width: number): TransformDraw[][] {
  type Branch = { draws: TransformDraw[]; height: number; width: number };
  let branches: Branch[] = [{ draws: [], height, width }];
  const visit = (t: Transform): void => {
    if (t.kind === 'compose') return t.transforms.forEach(visit);
    const choices = t.kind === 'scale' ? t.factors.length : 1;
    // Branches of one size have the same futures: keep one per size.
    const bySize = new Map<string, Branch>();
    for (const branch of branches) {
      for (let i = 0; i < choices; i++) {
        const draws = sampleTransforms(t, branch.height, branch.width, () => (i + 0.5) / choices);
        const size = drawnSize(draws, branch.height, branch.width);
        const key = `${size.height}×${size.width}`;
        if (!bySize.has(key)) bySize.set(key, { draws: [...branch.draws, ...draws], ...size });
      }
    }
    branches = [...bySize.values()];
  };
  visit(transform);
  return branches.map((branch) => branch.draws);
}

/** The size an image of height × width has after the draws. */
export function drawnSize(draws: readonly TransformDraw[], height: number, width: number): { height: number; width: number } {
  let size = { height, width };
  for (const d of draws) {
    if (d.kind === 'pad') size = { height: size.height + 2 * d.size, width: size.width + 2 * d.size };
    else if (d.kind === 'crop' || d.kind === 'resize') size = { height: d.height, width: d.width };
  }
  return size;
}

/** The largest size any draw can produce: what gradient buffers are sized for. */
export function largestSize(transform: Transform | null, height: number, width: number): { height: number; width: number } {
  if (!transform) return { height, width };
  const biggest = (t: Transform, s: { height: number; width: number }): { height: number; width: number } => {
    switch (t.kind) {
      case 'compose': return t.transforms.reduce((acc, next) => biggest(next, acc), s);
      case 'pad': return { height: s.height + 2 * t.size, width: s.width + 2 * t.size };
      case 'jitter': return { height: s.height - t.distance, width: s.width - t.distance };
      case 'scale': {
        const f = Math.max(...t.factors);
        return { height: Math.trunc(f * s.height), width: Math.trunc(f * s.width) };
      }
      case 'rotate': return s;
    }
  };
  return biggest(transform, { height, width });
}

function pick(count: number, random: () => number): number {
  return Math.min(count - 1, Math.floor(random() * count));
}
