// Where the neuron view puts things, in target pixels: a gutter on the left for the row labels, then one
// block per head stacked down (a title band and five rows of square cells). shaders/render/neuron-view.wgsl
// computes the same geometry per pixel; this copy places the DOM labels and lets tests find cells.

/** The five rows of a head's block, top to bottom, as the labels name them. */
export const NEURON_ROW_NAMES = ['q', 'k', 'q⊙k', 's', 'P'] as const;
export type NeuronRowIndex = 0 | 1 | 2 | 3 | 4;

export interface NeuronViewGeometry {
  /** Pixels left of the cells (row labels), above each head's rows (its title), per cell, of the key's border. */
  gutter: number;
  title: number;
  cell: number;
  border: number;
}

/** Row labels' width and the title band's height, in CSS pixels (scaled by the device pixel ratio). */
const GUTTER_CSS = 36;
const TITLE_CSS = 16;

/**
 * Fills `out` for a `width`×`height` pixel target (`pixelsPerCss` = devicePixelRatio for the canvas) and says
 * whether anything changed, so labels move only on layout or resize.
 */
export function neuronViewGeometry(
  out: NeuronViewGeometry,
  width: number,
  height: number,
  pixelsPerCss: number,
  shape: { heads: number; n: number; dh: number },
): boolean {
  const gutter = Math.min(GUTTER_CSS * pixelsPerCss, width / 4);
  const perHead = height / shape.heads;
  const title = Math.min(TITLE_CSS * pixelsPerCss, perHead * 0.4);
  const cell = Math.max(Math.min((width - gutter) / Math.max(shape.n, shape.dh), (perHead - title) / NEURON_ROW_NAMES.length), 1e-3);
  const border = Math.max(1, Math.floor(cell * 0.15));
  const changed = out.gutter !== gutter || out.title !== title || out.cell !== cell || out.border !== border;
  // Field by field, not Object.assign({...}): this runs every frame and must not allocate.
  out.gutter = gutter;
  out.title = title;
  out.cell = cell;
  out.border = border;
  return changed;
}

/** Top-left pixel of row `row` of head `head`'s block. */
export function neuronRowOrigin(g: NeuronViewGeometry, head: number, row: NeuronRowIndex): { x: number; y: number } {
  return { x: g.gutter, y: head * (g.title + NEURON_ROW_NAMES.length * g.cell) + g.title + row * g.cell };
}

/** The pixel at the centre of cell `index` in a row (tests). */
export function neuronCellCenter(g: NeuronViewGeometry, head: number, row: NeuronRowIndex, index: number): { x: number; y: number } {
  const origin = neuronRowOrigin(g, head, row);
  return { x: origin.x + (index + 0.5) * g.cell, y: origin.y + 0.5 * g.cell };
}
