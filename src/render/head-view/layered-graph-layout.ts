// Where the layered graph puts things, in target pixels (y down): L + 1 rows of n token nodes, layer 0 (the
// input) at the bottom, token i in column i; edges of graph[l] run from node (l + 1, i) down to node (l, j).
// Pure math shared by the arrangement uniforms, the labels and the tests.

/**
 * Where the layered graph puts its nodes, in target pixels (y down): L + 1 rows of n nodes, layer 0 (the
 * input) at the bottom, token i in column i.
 */
export interface LayeredGraphLayout {
  readonly width: number;
  readonly height: number;
  /** L: the graph's layers; there are L + 1 rows of nodes. */
  readonly layers: number;
  readonly tokens: number;
  /** x of token 0's column and the step to the next column. */
  readonly left: number;
  readonly column: number;
  /** y of layer 0's row (the bottom one) and the step up to the next row. */
  readonly bottom: number;
  readonly rowGap: number;
  /** Side of a node's square, in pixels. */
  readonly nodeSize: number;
}

/** Fraction of the width left of token 0's column for the layer names. */
const LEFT_GUTTER = 0.14;
/** CSS pixels below the input row for the token labels, and above the top row. */
const BOTTOM_GUTTER_PX = 22;
const TOP_GUTTER_PX = 10;
const MAX_NODE_PX = 14;

/**
 * The layout of `layers` + 1 rows of `tokens` nodes in a target of width × height pixels; `pixelRatio`
 * (target pixels per CSS pixel) scales the fixed gutters and the largest node size.
 */
export function layeredGraphLayout(width: number, height: number, layers: number, tokens: number, pixelRatio = 1): LayeredGraphLayout {
  const gutter = width * LEFT_GUTTER;
  const column = (width - gutter) / tokens;
  const bottom = height - BOTTOM_GUTTER_PX * pixelRatio;
  const rowGap = Math.max(bottom - TOP_GUTTER_PX * pixelRatio, 1) / layers;
  const nodeSize = Math.max(2, Math.min(column * 0.4, rowGap * 0.4, MAX_NODE_PX * pixelRatio));
  return { width, height, layers, tokens, left: gutter + column / 2, column, bottom, rowGap, nodeSize };
}

/** The centre of node (layer, token) in target pixels; layer 0 is the input row at the bottom. */
export function nodeCentre(layout: LayeredGraphLayout, layer: number, token: number): { x: number; y: number } {
  return { x: layout.left + token * layout.column, y: layout.bottom - layer * layout.rowGap };
}
