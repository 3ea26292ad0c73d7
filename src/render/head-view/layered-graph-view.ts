// The layered attention graph (Abnar & Zuidema 2020's picture): L + 1 rows of n token nodes, input at the
// bottom, one edge (l + 1, i) → (l, j) per entry of graph[l] (the row-normalized attention graph Â_l) with
// width and opacity from its weight, all L·n² edges drawn through the head view's link pass (two
// indirect draws per layer, 1-pixel lines and quads; attention-links.wgsl, another arrangement in its
// uniforms). Optional node values (flow or rollout
// from a chosen output token, say) colour the nodes through a colormap; a second draw.
import type { Engine } from '../../core/engine';
import { formatCount, invalidArgument } from '../../core/errors';
import type { FrameParticipant } from '../../core/frame-loop';
import type { GpuTensor } from '../../memory/gpu-tensor';
import { createCanvasSurface } from '../canvas-surface';
import { createColormapTexture } from '../colormap-texture';
import type { ColormapName } from '../colormaps';
import { layeredGraphLayout, type LayeredGraphLayout } from './layered-graph-layout';
import { checkLinkStyle, type ResolvedLinkStyle, linkWeightsShape, type LinkStyle, type LinkWeightsShape } from './link-options';
import { linkPipelines } from './link-pipelines';
import { createLinkPass, type NodeDraw } from './link-pass';
import { createTokenLabels, type LabelColumn } from './token-labels';

/**
 * Values that colour the graph's nodes through the colormap (flow or rollout from one output token, say).
 * `offset` defaults to 0; the view reads the tensor but does not own it.
 */
export interface LayeredNodeValues {
  /** Float32 values, read from element `offset` on: a [n] vector, a row of [n, n], or [L + 1, n]. */
  tensor: GpuTensor;
  offset?: number;
  /** 'input' (default): n values colour the bottom row; 'all': (L + 1)·n values colour every row, layer-major. */
  layers?: 'input' | 'all';
}

/**
 * Options for `createLayeredGraphView`. The view reads `graph` and the node values from their buffers but
 * owns neither.
 */
export interface LayeredGraphViewOptions extends LinkStyle {
  canvas: HTMLCanvasElement;
  /** The attention graph [L, n, n]: graph[l][i][j] weights the edge from node (l + 1, i) to node (l, j). */
  graph: GpuTensor;
  tokens: readonly string[];
  nodeValues?: LayeredNodeValues;
  /** Edge colour, RGB in 0..1 (default a light blue). */
  colour?: readonly [number, number, number];
  /** Colormap of the node values (default viridis) and the values at its ends (default 0 and 1). */
  colormap?: ColormapName;
  nodeRange?: { vmin: number; vmax: number };
  /** Colour of nodes without a value (default grey). */
  nodeColour?: readonly [number, number, number];
  /** Token and layer names as DOM text over the canvas (default true). */
  labels?: boolean;
  label?: string;
}

/**
 * The layered attention graph (Abnar & Zuidema 2020): L + 1 rows of n token nodes, input at the bottom, one
 * edge per entry of graph[l] with width and opacity from its weight, nodes optionally coloured by values.
 * Made by `createLayeredGraphView`; add it to a frame loop.
 */
export interface LayeredGraphView extends FrameParticipant {
  readonly layers: number;
  readonly tokens: number;
  /** The arrangement as last drawn, in target pixels. */
  readonly layout: LayeredGraphLayout;
  readonly labels: readonly HTMLElement[];
  /** Draws into the canvas's current texture: the view's part of a frame (`frameLoop.add(view)`). */
  render(encoder: GPUCommandEncoder): void;
  /**
   * Draws into any texture view (tests, export). `scale` (default 1) is target pixels per canvas pixel:
   * widths, node squares and gutters are multiplied by it, and `layout` keeps the screen's.
   */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat, scale?: number): void;
  /** A new graph of the same [L, n, n] shape. */
  setGraph(graph: GpuTensor): void;
  /**
   * Colours the nodes by new values, or all in `nodeColour` for null. Throws `InvalidArgumentError` when
   * the tensor is destroyed, of another engine, or holds too few elements from `offset`.
   */
  setNodeValues(values: LayeredNodeValues | null): void;
  /** Switches the node colormap from the next frame on. */
  setColormap(name: ColormapName): void;
  /** Hides edges with a weight below `threshold`. Throws `InvalidArgumentError` unless it is finite and ≥ 0. */
  setThreshold(threshold: number): void;
  /** What the graph looks like now: for exporting the same picture as SVG (src/export/links-svg.ts). */
  readonly appearance: LayeredGraphAppearance;
  /** Removes the labels and destroys every GPU object the view made (not the graph or the node values). */
  destroy(): void;
}

/** The layered graph's drawing state, in the units of its options (widths in CSS pixels). */
export interface LayeredGraphAppearance {
  readonly tokens: readonly string[];
  readonly layerNames: readonly string[];
  readonly colour: readonly [number, number, number];
  readonly style: Readonly<ResolvedLinkStyle>;
  readonly colormap: ColormapName;
  readonly nodeRange: { readonly vmin: number; readonly vmax: number };
  readonly nodeColour: readonly [number, number, number];
  readonly background: readonly [number, number, number];
}

const WHO = 'LayeredGraphView';
const DEFAULT_COLOUR = [0.55, 0.75, 1] as const;
const DEFAULT_NODE_COLOUR = [0.6, 0.6, 0.6] as const;
const DEFAULT_BACKGROUND = [0.12, 0.12, 0.12] as const;

/**
 * Creates a layered graph view of `options.graph` on `options.canvas`. Throws `InvalidArgumentError` when
 * the graph is not [L, n, n], there is not one token per column, a style value is out of range, nodeRange
 * lacks finite vmin < vmax, or the node values do not fit.
 */
export function createLayeredGraphView(engine: Engine, options: LayeredGraphViewOptions): LayeredGraphView {
  const label = options.label ?? WHO;
  const { device } = engine;
  const shape = linkWeightsShape(options.graph, WHO, false);
  invalidArgument(
    Array.isArray(options.tokens) && options.tokens.length === shape.tokens,
    () => `${WHO}: expected one token per node column (${shape.tokens}); got ${options.tokens?.length} tokens.`,
  );
  const style = checkLinkStyle(options, WHO);
  const range = options.nodeRange ?? { vmin: 0, vmax: 1 };
  invalidArgument(
    Number.isFinite(range.vmin) && Number.isFinite(range.vmax) && range.vmax > range.vmin,
    () => `${WHO}: nodeRange needs finite vmin < vmax; got vmin ${range.vmin}, vmax ${range.vmax}.`,
  );
  if (options.nodeValues) checkNodeValues(engine, options.nodeValues, shape); // before anything is allocated
  const tokens = [...options.tokens];
  const layerNames = Array.from({ length: shape.groups + 1 }, (_, l) => (l === 0 ? 'input' : `layer ${l}`));
  const ratio = window.devicePixelRatio || 1;
  const background = options.background ?? DEFAULT_BACKGROUND;
  const links = createLinkPass(engine, { label, weights: options.graph, groups: 1, background });
  links.setColour(0, options.colour ?? DEFAULT_COLOUR, true);
  let colormapName: ColormapName = options.colormap ?? 'viridis';
  const colormap = createColormapTexture(device, label, colormapName);
  const noValues = engine.createBuffer({ label: `${label}.noValues`, size: 16, usage: GPUBufferUsage.STORAGE });
  const nodes: NodeDraw = { bindGroup: nodeBindGroup(noValues), count: (shape.groups + 1) * shape.tokens };
  let layout = layeredGraphLayout(1, 1, shape.groups, shape.tokens, ratio);
  let drawScale = 1;
  let destroyed = false;

  const columns: LabelColumn[] = [
    { side: 'token', originX: 0, originY: 0, stepX: 0, stepY: 0, align: 'centre' },
    { side: 'layer', texts: layerNames, originX: 0, originY: 0, stepX: 0, stepY: 0, align: 'end' },
  ];
  const labels = options.labels === false ? null : createTokenLabels(options.canvas, label, () => {});
  const surface = createCanvasSurface(engine, options.canvas, placeLabels);

  const nodeColour = options.nodeColour ?? DEFAULT_NODE_COLOUR;
  links.set('node_r', nodeColour[0]);
  links.set('node_g', nodeColour[1]);
  links.set('node_b', nodeColour[2]);
  links.set('node_lo', range.vmin);
  links.set('node_inv_range', 1 / (range.vmax - range.vmin));
  links.set('colour_stride', 0);
  links.set('tokens', shape.tokens);
  links.set('per_group', shape.tokens * shape.tokens);
  writeStyle();
  bindNodeValues(options.nodeValues ?? null);

  function nodeBindGroup(buffer: GPUBuffer): GPUBindGroup {
    return device.createBindGroup({
      label: `${label}.nodeBindGroup`,
      layout: linkPipelines(device).nodeLayout,
      entries: [{ binding: 0, resource: { buffer } }, { binding: 1, resource: colormap.view }],
    });
  }

  function writeStyle(): void {
    links.set('threshold', style.threshold);
    links.set('max_width', style.lineWidth * ratio * drawScale);
    links.set('min_width', style.minLineWidth * ratio * drawScale);
    links.set('opacity', style.opacity);
  }

  function arrange(width: number, height: number, scale: number): void {
    if (scale !== drawScale) {
      drawScale = scale;
      writeStyle();
    }
    let at = layout;
    if (width !== layout.width || height !== layout.height) {
      at = layeredGraphLayout(width, height, shape.groups, shape.tokens, ratio * scale);
      if (scale === 1) layout = at; // an export's larger layout is not the screen's
    }
    links.set('viewport_w', width);
    links.set('viewport_h', height);
    links.set('a_origin_x', at.left);
    links.set('a_origin_y', at.bottom - at.rowGap);
    links.set('a_step_x', at.column);
    links.set('b_origin_x', at.left);
    links.set('b_origin_y', at.bottom);
    links.set('b_step_x', at.column);
    links.set('group_step_y', -at.rowGap);
    links.set('node_size', at.nodeSize);
  }

  function placeLabels(width: number, height: number): void {
    if (!labels) return;
    const at = layeredGraphLayout(width, height, shape.groups, shape.tokens, ratio);
    Object.assign(columns[0]!, { originX: at.left, originY: at.bottom + at.nodeSize / 2 + 9 * ratio, stepX: at.column });
    Object.assign(columns[1]!, { originX: at.left - at.column / 2 - 4 * ratio, originY: at.bottom, stepY: -at.rowGap });
    labels.update(tokens, columns);
  }

  function bindNodeValues(values: LayeredNodeValues | null): void {
    if (!values) {
      nodes.bindGroup = nodeBindGroup(noValues);
      links.set('node_layers', 0);
      return;
    }
    const { tensor, offset, rows } = checkNodeValues(engine, values, shape);
    nodes.bindGroup = nodeBindGroup(tensor.buffer);
    links.set('node_offset', offset);
    links.set('node_layers', rows);
  }

  const view: LayeredGraphView = {
    layers: shape.groups,
    tokens: shape.tokens,
    get layout() {
      return layout;
    },
    get labels() {
      return labels?.shown ?? [];
    },
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
    },
    draw(encoder, target, width, height, format = 'rgba8unorm', scale = 1) {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      arrange(width, height, scale);
      links.draw(encoder, target, format, shape.groups, nodes);
    },
    setGraph(graph) {
      const next: LinkWeightsShape = linkWeightsShape(graph, WHO, false);
      invalidArgument(
        next.groups === shape.groups && next.tokens === shape.tokens,
        () => `${WHO}.setGraph: expected a graph of shape [${shape.shape.join(', ')}]; got [${next.shape.join(', ')}].`,
      );
      links.setWeights(graph);
    },
    setNodeValues: bindNodeValues,
    setColormap(name) {
      colormap.write(name);
      colormapName = name;
    },
    get appearance() {
      return {
        tokens,
        layerNames,
        colour: options.colour ?? DEFAULT_COLOUR,
        style: { ...style },
        colormap: colormapName,
        nodeRange: { ...range },
        nodeColour,
        background,
      };
    },
    setThreshold(threshold) {
      style.threshold = checkLinkStyle({ ...style, threshold }, WHO).threshold;
      writeStyle();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      labels?.destroy();
      surface.destroy();
      links.destroy();
      colormap.destroy();
      noValues.destroy();
    },
  };
  return view;
}

function checkNodeValues(engine: Engine, values: LayeredNodeValues, shape: LinkWeightsShape): { tensor: GpuTensor; offset: number; rows: number } {
  const { tensor } = values;
  const offset = values.offset ?? 0;
  const rows = values.layers === 'all' ? shape.groups + 1 : 1;
  tensor.assertUsable();
  invalidArgument(tensor.engine === engine, () => `${WHO}: the node values belong to another engine.`);
  invalidArgument(
    Number.isInteger(offset) && offset >= 0 && offset + rows * shape.tokens <= tensor.size,
    () => `${WHO}: node values need ${formatCount(rows * shape.tokens)} elements from offset ${offset}; the tensor of ` +
      `shape [${tensor.shape.join(', ')}] holds ${formatCount(tensor.size)}.`,
  );
  return { tensor, offset, rows };
}
