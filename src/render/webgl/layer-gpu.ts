// One layer of the regl fallback on the GPU: its activation texture, its quads and per-vertex ranges,
// and the props of its draw; plus the one draw command every layer shares (compiled once per grid).
import type { Buffer, DrawCommand, Regl, Texture2D } from 'regl';
import { CELL_PITCH } from '../feature-grid/grid-layout';
import type { CpuFeatureLayer } from './cpu-feature-stats';
import { CpuLayerStats, type FeatureSampling } from './cpu-grid-state';
import { createFloatAtlas, type FloatAtlas } from './float-atlas';
import fragmentSource from './feature-grid.frag.glsl?raw';
import vertexSource from './feature-grid.vert.glsl?raw';
import { gridQuads } from './grid-quads';

export interface LayerGpu {
  stats: CpuLayerStats;
  atlas: FloatAtlas;
  corners: Buffer;
  channels: Buffer;
  ranges: Buffer;
  vertexRanges: Float32Array;
  props: DrawProps;
}

export interface DrawProps {
  corners: Buffer;
  channels: Buffer;
  ranges: Buffer;
  activations: Texture2D;
  atlasWidth: number;
  firstXY: [number, number];
  mapSize: [number, number];
  mapWidth: number;
  mapHeight: number;
  strides: [number, number, number];
  columns: number;
  /** The camera, shared by every layer's props. */
  center: [number, number];
  scale: number;
  viewport: [number, number];
  offset: number;
  count: number;
}

// The atlas holds one batch item, so the strides are those within an item.
export function makeLayerGpu(regl: Regl, layer: CpuFeatureLayer): LayerGpu {
  const quads = gridQuads(layer.channels);
  const vertexRanges = new Float32Array(quads.corners.length);
  const corners = regl.buffer({ data: quads.corners, usage: 'static' });
  const channels = regl.buffer({ data: quads.channels, usage: 'static' });
  const ranges = regl.buffer({ data: vertexRanges, usage: 'dynamic' });
  const atlas = createFloatAtlas(regl, layer.height * layer.width * layer.channels, layer.name);
  const strides: [number, number, number] = layer.layout === 'NHWC'
    ? [layer.width * layer.channels, layer.channels, 1]
    : [layer.width, 1, layer.height * layer.width];
  return {
    stats: new CpuLayerStats(layer),
    atlas,
    corners,
    channels,
    ranges,
    vertexRanges,
    props: {
      corners,
      channels,
      ranges,
      activations: atlas.texture,
      atlasWidth: atlas.shape.width,
      firstXY: [0, 0],
      mapSize: [1, 1],
      mapWidth: layer.width,
      mapHeight: layer.height,
      strides,
      columns: 1,
      center: [0, 0],
      scale: 1,
      viewport: [1, 1],
      offset: 0,
      count: 0,
    },
  };
}

export function destroyLayerGpu(g: LayerGpu): void {
  g.atlas.destroy();
  g.corners.destroy();
  g.channels.destroy();
  g.ranges.destroy();
}

export function makeDrawCommand(
  regl: Regl,
  colormap: Texture2D,
  settings: { sampling: FeatureSampling; nonFiniteColor: readonly [number, number, number] },
): DrawCommand {
  const prop = <K extends keyof DrawProps>(key: K) => regl.prop<DrawProps, K>(key);
  return regl({
    vert: vertexSource,
    frag: fragmentSource,
    attributes: { corner: prop('corners'), channel: prop('channels'), range: prop('ranges') },
    uniforms: {
      first_xy: prop('firstXY'),
      map_size: prop('mapSize'),
      pitch: CELL_PITCH,
      columns: prop('columns'),
      center: prop('center'),
      scale: prop('scale'),
      viewport: prop('viewport'),
      activations: prop('activations'),
      atlas_width: prop('atlasWidth'),
      map_width: prop('mapWidth'),
      map_height: prop('mapHeight'),
      stride_y: (_context: unknown, props: DrawProps) => props.strides[0],
      stride_x: (_context: unknown, props: DrawProps) => props.strides[1],
      stride_channel: (_context: unknown, props: DrawProps) => props.strides[2],
      bilinear: () => (settings.sampling === 'bilinear' ? 1 : 0),
      colormap,
      non_finite: () => settings.nonFiniteColor,
    },
    offset: prop('offset'),
    count: prop('count'),
    primitive: 'triangles',
    depth: { enable: false },
  }) as DrawCommand;
}
