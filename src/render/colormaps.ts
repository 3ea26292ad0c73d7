// Colormaps from published tables (see colormap-data.ts for sources), as 256 RGBA8 entries: the form a
// 256×1 lookup texture takes. Index k covers values t in [k/256, (k+1)/256), matplotlib's convention.
import { invalidArgument } from '../core/errors';
import { COLORMAP_HEX } from './colormap-data';

/** The name of a colormap Glassbox ships, such as `'viridis'`; `colormapNames` lists them all. */
export type ColormapName = keyof typeof COLORMAP_HEX;

/** Every colormap Glassbox ships: perceptually uniform sequential maps, grey, and coolwarm (diverging). */
export const colormapNames = Object.freeze(Object.keys(COLORMAP_HEX) as ColormapName[]);

/** Number of entries in every colormap. */
export const COLORMAP_SIZE = 256;

/** A named colormap decoded to a 256-entry RGBA8 lookup table. */
export interface Colormap {
  readonly name: ColormapName;
  /** 256 × RGBA, alpha 255: ready for writeTexture into a 256×1 rgba8unorm texture. */
  readonly rgba: Uint8Array<ArrayBuffer>;
}

/** True when `name` is a string naming a shipped colormap; use it to check user input before `colormap`. */
export function isColormapName(name: unknown): name is ColormapName {
  return typeof name === 'string' && Object.hasOwn(COLORMAP_HEX, name);
}

/** The RGBA8 bytes of a named colormap, freshly decoded (the caller may modify them). */
export function colormapRgba(name: ColormapName): Uint8Array<ArrayBuffer> {
  invalidArgument(
    isColormapName(name),
    () => `Unknown colormap '${String(name)}'; expected one of ${colormapNames.join(', ')}.`,
  );
  const hex = COLORMAP_HEX[name];
  const rgba = new Uint8Array(COLORMAP_SIZE * 4);
  for (let k = 0; k < COLORMAP_SIZE; k++) {
    for (let c = 0; c < 3; c++) rgba[k * 4 + c] = parseInt(hex.slice(k * 6 + c * 2, k * 6 + c * 2 + 2), 16);
    rgba[k * 4 + 3] = 255;
  }
  return rgba;
}

/**
 * The named colormap, decoded afresh, so the caller may modify its bytes.
 * Throws `InvalidArgumentError` for an unknown name.
 */
export function colormap(name: ColormapName): Colormap {
  return { name, rgba: colormapRgba(name) };
}

/**
 * The entry a normalized value t falls in: floor(t·256), clamped to [0, 255] (t = 1 is the last entry).
 * The heatmap shader computes the same index; tests use this to predict pixels.
 */
export function colormapIndex(t: number): number {
  return Math.min(COLORMAP_SIZE - 1, Math.max(0, Math.floor(t * COLORMAP_SIZE)));
}
