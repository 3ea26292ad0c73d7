// The head view (BertViz's, drawn by the GPU): tokens in two columns, queries left and keys right, one
// link per (head, query i, key j) with width and opacity from P[h, i, j], heads by colour and toggled.
// A compute pass lists the links that will change a pixel (link-compaction.wgsl), and two indirect draws per
// head make a 1-pixel line of each link at most a pixel wide and a quad of each wider one (pulled by vertex
// index), whose vertex shaders read P from the weights buffer itself (shaders/render/attention-links.wgsl):
// no per-link data on the CPU, no readback. A layer of
// [L, H, n, n] is chosen by an element offset in the uniforms. Hovering a token (its label, or its row on
// the canvas) keeps only its links: a query keeps its row of P, a key its column; so does the keyboard
// (token-keys.ts: arrows, Home/End, Escape) once the canvas has focus.
import type { Engine } from '../../core/engine';
import { invalidArgument } from '../../core/errors';
import type { FrameParticipant } from '../../core/frame-loop';
import type { GpuTensor } from '../../memory/gpu-tensor';
import { createCanvasSurface } from '../canvas-surface';
import { DEFAULT_GUTTER, headColour, headViewLayout, tokenAt, type HeadViewLayout, type TokenSide } from './head-view-layout';
import { checkLinkStyle, linkWeightsShape, type LinkStyle, type LinkWeightsShape, type ResolvedLinkStyle } from './link-options';
import { createLinkPass } from './link-pass';
import { attachTokenKeys } from './token-keys';
import { createTokenLabels, type LabelColumn } from './token-labels';

/** Options for `createHeadView`. The view reads `weights` straight from their buffer but does not own them. */
export interface HeadViewOptions extends LinkStyle {
  canvas: HTMLCanvasElement;
  /** Attention weights P, float32 row-major: [H, n, n], or [L, H, n, n] with `layer` choosing one. */
  weights: GpuTensor;
  /** The layer of [L, H, n, n] to show (default 0). */
  layer?: number;
  /** One string per token (n of them): the labels of both columns. */
  tokens: readonly string[];
  /** RGB in 0..1 per head (default HEAD_PALETTE, a colour-blind-safe set of 12, reused beyond 12 heads). */
  colours?: readonly (readonly [number, number, number])[];
  /** Fraction of the width beside each column for its labels (default 0.25). */
  gutter?: number;
  /** Token labels as DOM text over the canvas (default true; they need the canvas to have a parent). */
  labels?: boolean;
  /** Hovering a label or a row, or the arrow keys, focus a token (default true). */
  interactive?: boolean;
  label?: string;
}

/** A focused token: query `index` (its row of P is kept) or key `index` (its column is kept). */
export interface TokenFocus {
  side: TokenSide;
  index: number;
}

/**
 * BertViz's head view drawn by the GPU: queries left, keys right, one link per (head, query, key) with width
 * and opacity from P, one colour per head. Made by `createHeadView`; add it to a frame loop.
 */
export interface HeadView extends FrameParticipant {
  readonly layers: number;
  readonly heads: number;
  readonly tokens: number;
  readonly layer: number;
  /** The focused token, or null when every link is shown. */
  readonly focus: TokenFocus | null;
  /** The arrangement as last drawn, in target pixels. */
  readonly layout: HeadViewLayout;
  /** The label elements now shown. */
  readonly labels: readonly HTMLElement[];
  /** What the links look like now: for exporting the same picture as SVG (src/export/links-svg.ts). */
  readonly appearance: LinkAppearance;
  /** Draws into the canvas's current texture: the view's part of a frame (`frameLoop.add(view)`). */
  render(encoder: GPUCommandEncoder): void;
  /**
   * Draws into any texture view of the given pixel size and format (tests, export). `scale` (default 1) is
   * target pixels per canvas pixel: line widths are multiplied by it, and `layout` keeps the screen's.
   */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat, scale?: number): void;
  /** Shows another layer of [L, H, n, n] weights. Throws `InvalidArgumentError` outside 0..layers − 1. */
  setLayer(layer: number): void;
  /** Which heads are drawn: one flag per head. */
  setHeads(enabled: readonly boolean[]): void;
  /** New weights of the same [H, n, n] / [L, H, n, n] kind; n must still match the tokens. */
  setWeights(weights: GpuTensor): void;
  /** Keeps only the links of query i (its row) or key j (its column); null shows every link again. */
  focusToken(side: TokenSide, index: number | null): void;
  /** Hides links with P below `threshold`. Throws `InvalidArgumentError` unless it is finite and ≥ 0. */
  setThreshold(threshold: number): void;
  /** Removes the labels and listeners and destroys every buffer the view made (not the weights). */
  destroy(): void;
}

/** The head view's drawing state, in the units of its options (widths in CSS pixels). */
export interface LinkAppearance {
  readonly tokens: readonly string[];
  /** Per head: drawn or toggled off. */
  readonly enabled: readonly boolean[];
  /** Per head, RGB in 0..1. */
  readonly colours: readonly (readonly [number, number, number])[];
  readonly style: Readonly<ResolvedLinkStyle>;
  readonly background: readonly [number, number, number];
}

const DEFAULT_BACKGROUND = [0.12, 0.12, 0.12] as const;

/**
 * Creates a head view of `options.weights` on `options.canvas`. Throws `InvalidArgumentError` when the
 * weights are not [H, n, n] or [L, H, n, n], there is not one token per row, or the layer, gutter or a
 * style value is out of range.
 */
export function createHeadView(engine: Engine, options: HeadViewOptions): HeadView {
  const label = options.label ?? 'HeadView';
  let shape = linkWeightsShape(options.weights, 'HeadView');
  checkTokens(options.tokens, shape.tokens);
  const style = checkLinkStyle(options, 'HeadView');
  const tokens = [...options.tokens];
  const gutter = options.gutter ?? DEFAULT_GUTTER;
  headViewLayout(1, 1, 1, gutter); // validates the gutter before anything is made
  let layer = checkedLayer(options.layer ?? 0, shape);
  const enabled = Array.from({ length: shape.groups }, () => true);
  const colours = options.colours ?? [];
  const background = options.background ?? DEFAULT_BACKGROUND;
  const links = createLinkPass(engine, { label, weights: options.weights, groups: shape.groups, background });
  let layout = headViewLayout(1, 1, shape.tokens, gutter);
  let focus: TokenFocus | null = null;
  let drawScale = 1;
  let destroyed = false;

  const columns: LabelColumn[] = [
    { side: 'query', originX: 0, originY: 0, stepX: 0, stepY: 0, align: 'end' },
    { side: 'key', originX: 0, originY: 0, stepX: 0, stepY: 0, align: 'start' },
  ];
  const labels = options.labels === false ? null : createTokenLabels(options.canvas, label, (side, index) => {
    if (options.interactive === false) return; // labels are shown, but hovering them focuses nothing
    if (side === 'query' || side === 'key') view.focusToken(side, index);
    else if (focus) view.focusToken(focus.side, null);
  });
  const surface = createCanvasSurface(engine, options.canvas, (width, height) => placeLabels(width, height));
  const detach = options.interactive === false ? () => {} : attachHover();

  function writeColours(): void {
    for (let h = 0; h < shape.groups; h++) links.setColour(h, colours[h] ?? headColour(h), enabled[h]!);
  }
  writeColours();
  links.set('colour_stride', 1);
  writeStyle();
  arrange(1, 1, 1);

  function writeStyle(): void {
    const ratio = (window.devicePixelRatio || 1) * drawScale; // widths are CSS pixels
    links.set('threshold', style.threshold);
    links.set('max_width', style.lineWidth * ratio);
    links.set('min_width', style.minLineWidth * ratio);
    links.set('opacity', style.opacity);
  }

  function arrange(width: number, height: number, scale: number): void {
    if (scale !== drawScale) {
      drawScale = scale;
      writeStyle();
    }
    let at = layout;
    if (width !== layout.width || height !== layout.height || layout.tokens !== shape.tokens) {
      at = headViewLayout(width, height, shape.tokens, gutter);
      if (scale === 1) layout = at; // an export's larger layout is not the screen's
    }
    links.set('viewport_w', width);
    links.set('viewport_h', height);
    links.set('a_origin_x', at.queryX);
    links.set('a_origin_y', at.top);
    links.set('a_step_y', at.row);
    links.set('b_origin_x', at.keyX);
    links.set('b_origin_y', at.top);
    links.set('b_step_y', at.row);
    links.set('tokens', shape.tokens);
    links.set('per_group', shape.tokens * shape.tokens);
    links.set('element_offset', layer * shape.groups * shape.tokens * shape.tokens);
  }

  function placeLabels(width: number, height: number): void {
    if (!labels) return;
    const at = headViewLayout(width, height, shape.tokens, gutter);
    const pad = 4 * (window.devicePixelRatio || 1);
    Object.assign(columns[0]!, { originX: at.queryX - pad, originY: at.top, stepY: at.row });
    Object.assign(columns[1]!, { originX: at.keyX + pad, originY: at.top, stepY: at.row });
    labels.update(tokens, columns);
    labels.highlight(focus?.side ?? null, focus?.index ?? null);
  }

  function attachHover(): () => void {
    const canvas = options.canvas;
    const move = (event: PointerEvent) => {
      const rect = canvas.getBoundingClientRect();
      const x = ((event.clientX - rect.left) * canvas.width) / Math.max(rect.width, 1);
      const y = ((event.clientY - rect.top) * canvas.height) / Math.max(rect.height, 1);
      const hit = tokenAt(headViewLayout(canvas.width, canvas.height, shape.tokens, gutter), x, y);
      if (hit) view.focusToken(hit.side, hit.index);
    };
    const leave = () => {
      if (focus) view.focusToken(focus.side, null);
    };
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerleave', leave);
    // The view object is made below this call: reach it lazily.
    const detachKeys = attachTokenKeys(canvas, {
      get tokens() {
        return shape.tokens;
      },
      get focus() {
        return focus;
      },
      focusToken: (side, index) => view.focusToken(side, index),
    });
    return () => {
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerleave', leave);
      detachKeys();
    };
  }

  const view: HeadView = {
    get layers() {
      return shape.layers;
    },
    get heads() {
      return shape.groups;
    },
    get tokens() {
      return shape.tokens;
    },
    get layer() {
      return layer;
    },
    get focus() {
      return focus;
    },
    get layout() {
      return layout;
    },
    get labels() {
      return labels?.shown ?? [];
    },
    get appearance() {
      return {
        tokens,
        enabled: [...enabled],
        colours: enabled.map((_, h) => colours[h] ?? headColour(h)),
        style: { ...style },
        background,
      };
    },
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
    },
    draw(encoder, target, width, height, format = 'rgba8unorm', scale = 1) {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      arrange(width, height, scale);
      links.draw(encoder, target, format, shape.groups);
    },
    setLayer(next) {
      layer = checkedLayer(next, shape);
    },
    setHeads(flags) {
      invalidArgument(
        flags.length === shape.groups,
        () => `HeadView.setHeads: expected one flag per head (${shape.groups}); got ${flags.length}.`,
      );
      flags.forEach((flag, h) => (enabled[h] = flag));
      writeColours();
    },
    setWeights(next) {
      const nextShape = linkWeightsShape(next, 'HeadView');
      checkTokens(tokens, nextShape.tokens);
      invalidArgument(
        nextShape.groups === shape.groups,
        () => `HeadView.setWeights: the weights have ${nextShape.groups} heads; the view was made for ${shape.groups}.`,
      );
      links.setWeights(next);
      shape = nextShape;
      layer = Math.min(layer, shape.layers - 1);
    },
    focusToken(side, index) {
      invalidArgument(side === 'query' || side === 'key', () => `HeadView.focusToken: side is 'query' or 'key'; got '${String(side)}'.`);
      invalidArgument(
        index === null || (Number.isInteger(index) && index >= 0 && index < shape.tokens),
        () => `HeadView.focusToken: index must be a token in [0, ${shape.tokens}) or null; got ${index}.`,
      );
      focus = index === null ? null : { side, index };
      links.set('focus_a', focus?.side === 'query' ? focus.index : -1);
      links.set('focus_b', focus?.side === 'key' ? focus.index : -1);
      labels?.highlight(focus?.side ?? null, focus?.index ?? null);
    },
    setThreshold(threshold) {
      style.threshold = checkLinkStyle({ ...style, threshold }, 'HeadView').threshold;
      writeStyle();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      detach();
      labels?.destroy();
      surface.destroy();
      links.destroy();
    },
  };
  return view;
}

function checkTokens(tokens: readonly string[], n: number): void {
  invalidArgument(
    Array.isArray(tokens) && tokens.length === n,
    () => `HeadView: expected one token per row of P (${n}); got ${Array.isArray(tokens) ? tokens.length : typeof tokens} tokens.`,
  );
}

function checkedLayer(layer: number, shape: LinkWeightsShape): number {
  invalidArgument(
    Number.isInteger(layer) && layer >= 0 && layer < shape.layers,
    () => `HeadView: layer must be an integer in [0, ${shape.layers}) for weights of shape [${shape.shape.join(', ')}]; got ${layer}.`,
  );
  return layer;
}
