// Options and shape checks the two link views share.
import { invalidArgument } from '../../core/errors';
import type { GpuTensor } from '../../memory/gpu-tensor';

/**
 * How links are drawn, in the head view and the layered graph view. Threshold, widths and opacity must be
 * finite and ≥ 0 (else `InvalidArgumentError`).
 */
export interface LinkStyle {
  /** Links with P below this are not drawn (default 0: every nonzero link). */
  threshold?: number;
  /** Width in CSS pixels of a link with P = 1 (default 4); a link is P · lineWidth wide. */
  lineWidth?: number;
  /** Narrowest a drawn link gets, in CSS pixels (default 1), so faint links stay visible as faint. */
  minLineWidth?: number;
  /** Opacity of a link with P = 1 (default 1); a link's opacity is P · opacity. */
  opacity?: number;
  /** Background RGB in 0..1 (default a dark grey). */
  background?: readonly [number, number, number];
}

export interface ResolvedLinkStyle {
  threshold: number;
  lineWidth: number;
  minLineWidth: number;
  opacity: number;
}

export function checkLinkStyle(style: LinkStyle, who: string): ResolvedLinkStyle {
  const resolved = {
    threshold: style.threshold ?? 0,
    lineWidth: style.lineWidth ?? 4,
    minLineWidth: style.minLineWidth ?? 1,
    opacity: style.opacity ?? 1,
  };
  for (const [name, value] of Object.entries(resolved)) {
    invalidArgument(Number.isFinite(value) && value >= 0, () => `${who}: ${name} must be a finite number ≥ 0; got ${value}.`);
  }
  return resolved;
}

export interface LinkWeightsShape {
  readonly shape: readonly number[];
  /** Leading axis of [L, ...] (1 for a rank-3 tensor). */
  readonly layers: number;
  /** Heads of [L, H, n, n], or the L of a layered graph [L, n, n]. */
  readonly groups: number;
  readonly tokens: number;
}

/** [G, n, n] or [L, G, n, n] (rank 4 only where `allowLayers`), with the last two axes equal. */
export function linkWeightsShape(weights: GpuTensor, who: string, allowLayers = true): LinkWeightsShape {
  const shape = weights.shape;
  const expected = allowLayers ? '[H, n, n] or [L, H, n, n]' : '[L, n, n]';
  invalidArgument(
    (shape.length === 3 || (allowLayers && shape.length === 4)) && shape[shape.length - 1] === shape[shape.length - 2],
    () => `${who}: expected weights of shape ${expected} (square in the last two axes); got [${shape.join(', ')}].`,
  );
  const rank4 = shape.length === 4;
  return { shape, layers: rank4 ? shape[0]! : 1, groups: shape[shape.length - 3]!, tokens: shape[shape.length - 1]! };
}
