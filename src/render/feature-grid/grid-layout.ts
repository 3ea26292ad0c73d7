// Where every feature map lies in world space. Layers are stacked top to bottom as sections; a section
// starts with a header band (its DOM label sits there) and then holds one cell per channel, row by row in
// a fixed number of columns, so sections line up. Every cell is one world unit square; a map keeps its
// aspect ratio inside its cell, centred. Pure math: the WebGPU grid, the regl fallback and hit-testing
// all read the same layout.
import { invalidArgument } from '../../core/errors';
import type { Point, WorldRect } from '../camera';

/** What the layout needs of a layer: its name (the section label) and its maps' size and count. */
export interface GridLayerShape {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface GridLayoutOptions {
  /** Cells per row in every section (default 32). */
  columns?: number;
}

/** One layer's section of the grid, in world units: a header band, then one cell per channel, row by row. */
export interface GridSection {
  readonly layer: number;
  readonly name: string;
  /** World y of the header band's top; the first row of cells starts HEADER_HEIGHT below. */
  readonly top: number;
  readonly rows: number;
  readonly channels: number;
  /** The map's size inside its unit cell (the longer side is MAP_EXTENT). */
  readonly mapWidth: number;
  readonly mapHeight: number;
  /** The whole section, header included. */
  readonly bounds: WorldRect;
}

/**
 * Where every feature map lies in world space: one section per layer, stacked top to bottom, `columns`
 * unit cells per row. Made by `featureGridLayout`.
 */
export interface FeatureGridLayout {
  readonly columns: number;
  readonly sections: readonly GridSection[];
  readonly mapCount: number;
  readonly bounds: WorldRect;
}

/** The map under a world point: its layer and channel, and the position inside it. */
export interface GridHit {
  layer: number;
  channel: number;
  /** Position inside the map in [0, 1) along x and y (multiply by the map's width and height). */
  u: number;
  v: number;
}

/** World units per cell pitch: a unit cell plus the gap after it. */
export const CELL_PITCH = 1.12;
/** The map's longer side inside its cell. */
export const MAP_EXTENT = 1;
/** Header band above each section's cells, in world units. */
export const HEADER_HEIGHT = 1.6;
/** Space after a section, before the next header. */
export const SECTION_GAP = 0.8;

/**
 * Lays `layers` out as sections of `options.columns` cells per row (default 32). Throws
 * `InvalidArgumentError` when there are no layers, columns is not a positive integer, or a map is empty.
 */
export function featureGridLayout(layers: readonly GridLayerShape[], options: GridLayoutOptions = {}): FeatureGridLayout {
  const columns = options.columns ?? 32;
  invalidArgument(
    Number.isInteger(columns) && columns >= 1,
    () => `featureGridLayout: columns must be a positive integer; got ${columns}.`,
  );
  invalidArgument(layers.length > 0, () => 'featureGridLayout: no layers to lay out.');
  const sections: GridSection[] = [];
  let top = 0;
  let mapCount = 0;
  layers.forEach((layer, index) => {
    invalidArgument(
      layer.height >= 1 && layer.width >= 1 && layer.channels >= 1,
      () => `featureGridLayout: layer '${layer.name}' has an empty map (${layer.height}×${layer.width}×${layer.channels}).`,
    );
    const rows = Math.ceil(layer.channels / columns);
    const longer = Math.max(layer.height, layer.width);
    const height = HEADER_HEIGHT + rows * CELL_PITCH;
    sections.push({
      layer: index,
      name: layer.name,
      top,
      rows,
      channels: layer.channels,
      mapWidth: (MAP_EXTENT * layer.width) / longer,
      mapHeight: (MAP_EXTENT * layer.height) / longer,
      bounds: { x: 0, y: top, width: columns * CELL_PITCH, height },
    });
    mapCount += layer.channels;
    top += height + SECTION_GAP;
  });
  return {
    columns,
    sections,
    mapCount,
    bounds: { x: 0, y: 0, width: columns * CELL_PITCH, height: top - SECTION_GAP },
  };
}

/** The world rectangle of channel c's map in a section (its cell, shrunk to the map's aspect). */
export function mapRect(layout: FeatureGridLayout, section: GridSection, channel: number): WorldRect {
  const column = channel % layout.columns;
  const row = Math.floor(channel / layout.columns);
  const cellX = column * CELL_PITCH;
  const cellY = section.top + HEADER_HEIGHT + row * CELL_PITCH;
  return {
    x: cellX + (MAP_EXTENT - section.mapWidth) / 2,
    y: cellY + (MAP_EXTENT - section.mapHeight) / 2,
    width: section.mapWidth,
    height: section.mapHeight,
  };
}

/** The map and the position inside it under a world point, or null over gaps and headers. */
export function mapAt(layout: FeatureGridLayout, point: Point): GridHit | null {
  const section = layout.sections.find((s) => point.y >= s.bounds.y && point.y < s.bounds.y + s.bounds.height);
  if (!section || point.x < 0) return null;
  const column = Math.floor(point.x / CELL_PITCH);
  const row = Math.floor((point.y - section.top - HEADER_HEIGHT) / CELL_PITCH);
  if (column >= layout.columns || row < 0) return null;
  const channel = row * layout.columns + column;
  if (channel >= section.channels) return null;
  const rect = mapRect(layout, section, channel);
  const u = (point.x - rect.x) / rect.width;
  const v = (point.y - rect.y) / rect.height;
  if (u < 0 || u >= 1 || v < 0 || v >= 1) return null;
  return { layer: section.layer, channel, u, v };
}

/** Sections that overlap a world rectangle: the ones whose DOM labels are shown. */
export function visibleSections(layout: FeatureGridLayout, view: WorldRect): GridSection[] {
  return layout.sections.filter(
    (s) => s.bounds.y < view.y + view.height && s.bounds.y + s.bounds.height > view.y,
  );
}

/** Channels [first, first + count) of a section: whole rows, as an instanced draw takes them. */
export interface ChannelRange {
  first: number;
  count: number;
}

/**
 * The channels of a section whose rows overlap a world rectangle, as one contiguous range (whole rows):
 * what an instanced draw needs as firstInstance and instanceCount. count is 0 when none is visible.
 * Writes into `out` so the per-frame cull allocates nothing.
 */
export function visibleChannels(
  layout: FeatureGridLayout,
  section: GridSection,
  view: WorldRect,
  out: ChannelRange = { first: 0, count: 0 },
): ChannelRange {
  out.first = 0;
  out.count = 0;
  const cellsTop = section.top + HEADER_HEIGHT;
  const overlapsX = view.x < layout.columns * CELL_PITCH && view.x + view.width > 0;
  if (!overlapsX || view.y >= cellsTop + section.rows * CELL_PITCH || view.y + view.height <= cellsTop) return out;
  const firstRow = Math.max(0, Math.floor((view.y - cellsTop) / CELL_PITCH));
  const lastRow = Math.min(section.rows - 1, Math.floor((view.y + view.height - cellsTop) / CELL_PITCH));
  out.first = firstRow * layout.columns;
  out.count = Math.min(section.channels, (lastRow + 1) * layout.columns) - out.first;
  return out;
}
