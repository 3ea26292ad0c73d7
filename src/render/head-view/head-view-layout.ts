// Where the head view puts things, in target pixels (y down): queries in a column at queryX, keys in a
// column at keyX, token i's row centred at top + i·row. Pure math: the shader's arrangement uniforms, the
// DOM labels, pointer hit-testing and the tests all read the same numbers.
import { invalidArgument } from '../../core/errors';

/** Which column a token is in: `'query'` (left, where links start) or `'key'` (right, where they end). */
export type TokenSide = 'query' | 'key';

/**
 * Where the head view puts its columns and rows, in target pixels (y down): token i's row is centred at
 * top + i·row.
 */
export interface HeadViewLayout {
  readonly width: number;
  readonly height: number;
  readonly tokens: number;
  /** x of the query column (the links' left ends). */
  readonly queryX: number;
  /** x of the key column (the links' right ends). */
  readonly keyX: number;
  /** y of token 0's row centre. */
  readonly top: number;
  /** Pixels from one token's row to the next. */
  readonly row: number;
}

/** Fraction of the width left of the query column (and right of the key column) for the labels. */
export const DEFAULT_GUTTER = 0.25;

/**
 * The layout of `tokens` rows in a target of width × height pixels, with `gutter` of the width beside
 * each column for the labels. Throws `InvalidArgumentError` unless 0 ≤ gutter < 0.5.
 */
export function headViewLayout(width: number, height: number, tokens: number, gutter = DEFAULT_GUTTER): HeadViewLayout {
  invalidArgument(
    gutter >= 0 && gutter < 0.5,
    () => `HeadView: gutter is the fraction of the width beside each token column, in [0, 0.5); got ${gutter}.`,
  );
  const row = height / tokens;
  return { width, height, tokens, queryX: width * gutter, keyX: width * (1 - gutter), top: row / 2, row };
}

/** The row centre of token i. */
export function tokenY(layout: HeadViewLayout, index: number): number {
  return layout.top + index * layout.row;
}

/** The token under pixel (x, y): the left half of the target is the query side, the right half the key side. */
export function tokenAt(layout: HeadViewLayout, x: number, y: number): { side: TokenSide; index: number } | null {
  if (x < 0 || x >= layout.width || y < 0 || y >= layout.height) return null;
  const index = Math.min(layout.tokens - 1, Math.floor(y / layout.row));
  return { side: x < layout.width / 2 ? 'query' : 'key', index };
}

/**
 * The default head colours: Krzywinski's 12-colour palette for colour blindness (mk.bcgsc.ca/colorblind,
 * 2020), ordered so that neighbouring heads differ in lightness too; heads beyond 12 reuse them in turn.
 */
export const HEAD_PALETTE: readonly (readonly [number, number, number])[] = [
  '#008df9', '#ff6e3a', '#009f81', '#ff5aaf', '#ffc33b', '#8400cd',
  '#00fccf', '#e20134', '#00c2f9', '#9f0162', '#ffb2fd', '#a40122',
].map((hex) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255) as unknown as readonly [number, number, number]);

/** The default colour of a head, RGB in 0..1: `HEAD_PALETTE`, reused in turn beyond 12 heads. */
export function headColour(head: number): readonly [number, number, number] {
  return HEAD_PALETTE[head % HEAD_PALETTE.length]!;
}
