// SVG of the link views (head view, layered graph): the same picture the GPU draws, as vector elements
// for papers and slides. Geometry and appearance follow shaders/render/attention-links.wgsl exactly: a link
// (g, i, j) joins end A (query i / node (l+1, i)) to end B (key j / node (l, j)), is max(min_width,
// min(p, 1)·max_width) wide with opacity clamp(p·opacity, 0, 1), and is left out when p is not finite,
// p ≤ 0, p < threshold, its head is off, or a focused token excludes it. Links too faint to change a pixel
// of an 8-bit target, which the shader skips there, are kept: a vector file may be shown at any depth.
// Coordinates are the view's target pixels (the viewBox); the SVG's width and height are its CSS size, so
// widths match the screen.
import type { HeadView } from '../render/head-view/head-view';
import { tokenY } from '../render/head-view/head-view-layout';
import type { LayeredGraphView } from '../render/head-view/layered-graph-view';
import { nodeCentre } from '../render/head-view/layered-graph-layout';
import type { ResolvedLinkStyle } from '../render/head-view/link-options';
import { colormapRgba } from '../render/colormaps';
import { invalidArgument } from '../core/errors';

type Rgb = readonly [number, number, number];
interface Point {
  x: number;
  y: number;
}

interface LinkSet {
  groups: number;
  tokens: number;
  /** [groups, n, n]: values[(g·n + i)·n + j] weights link (g, i, j). */
  values: ArrayLike<number>;
  colourOf(group: number): Rgb | null;
  endA(group: number, i: number): Point;
  endB(group: number, j: number): Point;
  style: Readonly<ResolvedLinkStyle>;
  focusA: number | null;
  focusB: number | null;
}

const FONT_PX = 12;

/** The head view's shown layer as SVG; `values` is that layer's P, [heads, n, n] (see headViewData). */
export function headViewSvg(view: HeadView, values: ArrayLike<number>, pixelRatio = window.devicePixelRatio || 1): string {
  const { layout, appearance, heads, tokens, focus } = view;
  checkValues(values, heads * tokens * tokens, 'headViewSvg');
  const pad = 4 * pixelRatio;
  const labels = appearance.tokens.flatMap((text, i) => [
    textElement(layout.queryX - pad, tokenY(layout, i), text, 'end', pixelRatio, focus?.side === 'query' && focus.index === i),
    textElement(layout.keyX + pad, tokenY(layout, i), text, 'start', pixelRatio, focus?.side === 'key' && focus.index === i),
  ]);
  const links = linkElements({
    groups: heads,
    tokens,
    values,
    colourOf: (h) => (appearance.enabled[h] ? appearance.colours[h]! : null),
    endA: (_, i) => ({ x: layout.queryX, y: tokenY(layout, i) }),
    endB: (_, j) => ({ x: layout.keyX, y: tokenY(layout, j) }),
    style: scaledStyle(appearance.style, pixelRatio),
    focusA: focus?.side === 'query' ? focus.index : null,
    focusB: focus?.side === 'key' ? focus.index : null,
  });
  const legend = appearance.colours.map((colour, h) =>
    appearance.enabled[h] ? textElement(8 * pixelRatio + h * 56 * pixelRatio, 10 * pixelRatio, `head ${h}`, 'start', pixelRatio, false, colour) : '',
  );
  return svgDocument(layout.width, layout.height, pixelRatio, appearance.background, [...links, ...labels, ...legend]);
}

/**
 * The layered graph (the flow picture) as SVG: `graph` is its [L, n, n] edges, `nodeValues` (optional) the
 * values its nodes are coloured by: n for the input row, or (L + 1)·n for every row, layer-major.
 */
export function layeredGraphSvg(view: LayeredGraphView, graph: ArrayLike<number>, nodeValues: ArrayLike<number> | null = null, pixelRatio = window.devicePixelRatio || 1): string {
  const { layout, appearance, layers, tokens } = view;
  checkValues(graph, layers * tokens * tokens, 'layeredGraphSvg');
  invalidArgument(
    nodeValues === null || nodeValues.length === tokens || nodeValues.length === (layers + 1) * tokens,
    () => `layeredGraphSvg: expected ${tokens} or ${(layers + 1) * tokens} node values; got ${nodeValues?.length}.`,
  );
  const links = linkElements({
    groups: layers,
    tokens,
    values: graph,
    colourOf: () => appearance.colour,
    endA: (l, i) => nodeCentre(layout, l + 1, i),
    endB: (l, j) => nodeCentre(layout, l, j),
    style: scaledStyle(appearance.style, pixelRatio),
    focusA: null,
    focusB: null,
  });
  const ramp = colormapRgba(appearance.colormap);
  const { vmin, vmax } = appearance.nodeRange;
  const nodes: string[] = [];
  for (let l = 0; l <= layers; l++) {
    for (let i = 0; i < tokens; i++) {
      const value = nodeValues && l * tokens + i < nodeValues.length ? nodeValues[l * tokens + i]! : NaN;
      const t = Math.min(Math.max((value - vmin) / (vmax - vmin), 0), 1);
      const at = Math.min(Math.floor(t * 256), 255) * 4;
      const fill = Number.isFinite(value) ? hex([ramp[at]! / 255, ramp[at + 1]! / 255, ramp[at + 2]! / 255]) : hex(appearance.nodeColour);
      const { x, y } = nodeCentre(layout, l, i);
      const half = layout.nodeSize / 2;
      nodes.push(`<rect x="${num(x - half)}" y="${num(y - half)}" width="${num(layout.nodeSize)}" height="${num(layout.nodeSize)}" fill="${fill}"/>`);
    }
  }
  const below = layout.bottom + layout.nodeSize / 2 + FONT_PX * pixelRatio;
  const labels = [
    ...appearance.tokens.map((text, i) => textElement(nodeCentre(layout, 0, i).x, below, text, 'middle', pixelRatio)),
    ...appearance.layerNames.map((text, l) => textElement(layout.left - layout.nodeSize, nodeCentre(layout, l, 0).y, text, 'end', pixelRatio)),
  ];
  return svgDocument(layout.width, layout.height, pixelRatio, appearance.background, [...links, ...nodes, ...labels]);
}

function linkElements(set: LinkSet): string[] {
  const out: string[] = [];
  const { threshold, lineWidth, minLineWidth, opacity } = set.style;
  const n = set.tokens;
  for (let g = 0; g < set.groups; g++) {
    const colour = set.colourOf(g);
    if (!colour) continue;
    const stroke = hex(colour);
    for (let i = 0; i < n; i++) {
      if (set.focusA !== null && set.focusA !== i) continue;
      for (let j = 0; j < n; j++) {
        if (set.focusB !== null && set.focusB !== j) continue;
        const p = Math.fround(set.values[(g * n + i) * n + j]!);
        if (!Number.isFinite(p) || p <= 0 || p < threshold) continue;
        const [a, b] = [set.endA(g, i), set.endB(g, j)];
        const width = Math.max(minLineWidth, Math.min(p, 1) * lineWidth);
        const alpha = Math.min(Math.max(p * opacity, 0), 1);
        out.push(
          `<line x1="${num(a.x)}" y1="${num(a.y)}" x2="${num(b.x)}" y2="${num(b.y)}" stroke="${stroke}" ` +
            `stroke-width="${num(width)}" stroke-opacity="${num(alpha)}" data-link="${g},${i},${j}"/>`,
        );
      }
    }
  }
  return out;
}

/** Widths are CSS pixels in the options, target pixels in the picture. */
function scaledStyle(style: Readonly<ResolvedLinkStyle>, pixelRatio: number): ResolvedLinkStyle {
  return { ...style, lineWidth: style.lineWidth * pixelRatio, minLineWidth: style.minLineWidth * pixelRatio };
}

function textElement(x: number, y: number, text: string, anchor: 'start' | 'end' | 'middle', pixelRatio: number, bold = false, colour: Rgb = [0.91, 0.91, 0.91]): string {
  return (
    `<text x="${num(x)}" y="${num(y)}" text-anchor="${anchor}" dominant-baseline="middle" font-size="${num(FONT_PX * pixelRatio)}"` +
    `${bold ? ' font-weight="bold"' : ''} fill="${hex(colour)}" xml:space="preserve">${escapeXml(text)}</text>`
  );
}

function svgDocument(width: number, height: number, pixelRatio: number, background: Rgb, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width / pixelRatio)}" height="${num(height / pixelRatio)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="${hex(background)}"/>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function checkValues(values: ArrayLike<number>, expected: number, who: string): void {
  invalidArgument(values.length === expected, () => `${who}: the view shows ${expected} weights; got ${values.length} values.`);
}

/** XML text: the five characters that must be escaped, and no control characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function hex(rgb: Rgb): string {
  return `#${rgb.map((v) => Math.round(Math.min(Math.max(v, 0), 1) * 255).toString(16).padStart(2, '0')).join('')}`;
}

/** Short, exact enough numbers: 3 decimals. */
function num(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}
