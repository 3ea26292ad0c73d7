// The feature grid's pure math: where every map lies (sections, cells, aspect), hit-testing back from a
// world point, which sections and rows a view rectangle shows, and the paging of large activation
// buffers into bindable ranges.
import { describe, expect, it } from 'vitest';
import { DeviceLimitError, InvalidArgumentError } from '../../src/core/errors';
import { seededRandom } from '../../src/reference/random';
import {
  CELL_PITCH,
  featureGridLayout,
  HEADER_HEIGHT,
  mapAt,
  mapRect,
  MAP_EXTENT,
  SECTION_GAP,
  visibleChannels,
  visibleSections,
  type FeatureGridLayout,
  type GridLayerShape,
} from '../../src/render/feature-grid/grid-layout';
import { layerBindingRange } from '../../src/render/feature-grid/layer-binding';
import type { WorldRect } from '../../src/render/camera';

// Awkward sizes: tall, wide and square maps; channel counts that leave the last row part-filled.
const LAYERS: GridLayerShape[] = [
  { name: 'conv1', height: 5, width: 3, channels: 13 },
  { name: 'conv2', height: 3, width: 7, channels: 5 },
  { name: 'conv3', height: 4, width: 4, channels: 1 },
  { name: 'conv4', height: 1, width: 1, channels: 24 },
];
const COLUMNS = 6;

function overlaps(a: WorldRect, b: WorldRect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('featureGridLayout', () => {
  const layout = featureGridLayout(LAYERS, { columns: COLUMNS });

  it('stacks sections top to bottom, each a header and whole rows of cells', () => {
    expect(layout.columns).toBe(COLUMNS);
    expect(layout.mapCount).toBe(13 + 5 + 1 + 24);
    expect(layout.sections.map((s) => s.rows)).toEqual([3, 1, 1, 4]);
    let top = 0;
    for (const section of layout.sections) {
      expect(section.top).toBeCloseTo(top, 12);
      expect(section.bounds).toEqual({ x: 0, y: section.top, width: COLUMNS * CELL_PITCH, height: HEADER_HEIGHT + section.rows * CELL_PITCH });
      top += section.bounds.height + SECTION_GAP;
    }
    expect(layout.bounds.height).toBeCloseTo(top - SECTION_GAP, 12);
    expect(layout.bounds.width).toBeCloseTo(COLUMNS * CELL_PITCH, 12);
  });

  it('keeps each map\'s aspect ratio, its longer side MAP_EXTENT, centred in its cell', () => {
    const [tall, wide, square] = layout.sections;
    expect([tall!.mapWidth, tall!.mapHeight]).toEqual([MAP_EXTENT * 3 / 5, MAP_EXTENT]);
    expect([wide!.mapWidth, wide!.mapHeight]).toEqual([MAP_EXTENT, MAP_EXTENT * 3 / 7]);
    expect([square!.mapWidth, square!.mapHeight]).toEqual([MAP_EXTENT, MAP_EXTENT]);
    const rect = mapRect(layout, tall!, 7); // row 1, column 1
    expect(rect.x + rect.width / 2).toBeCloseTo(CELL_PITCH + MAP_EXTENT / 2, 12);
    expect(rect.y + rect.height / 2).toBeCloseTo(HEADER_HEIGHT + CELL_PITCH + MAP_EXTENT / 2, 12);
  });

  it('rejects what cannot be laid out, saying what came', () => {
    expect(() => featureGridLayout(LAYERS, { columns: 0 })).toThrow(InvalidArgumentError);
    expect(() => featureGridLayout(LAYERS, { columns: 0 })).toThrow(/columns must be a positive integer; got 0/);
    expect(() => featureGridLayout(LAYERS, { columns: 2.5 })).toThrow(/got 2.5/);
    expect(() => featureGridLayout([])).toThrow(/no layers/);
    expect(() => featureGridLayout([{ name: 'x', height: 0, width: 3, channels: 2 }])).toThrow(/'x' has an empty map \(0×3×2\)/);
  });
});

describe('mapRect and mapAt', () => {
  const layout = featureGridLayout(LAYERS, { columns: COLUMNS });

  it('round-trip: a point inside channel c\'s rectangle hits channel c at the same (u, v)', () => {
    const random = seededRandom(41);
    for (const section of layout.sections) {
      for (let channel = 0; channel < section.channels; channel++) {
        const rect = mapRect(layout, section, channel);
        for (let k = 0; k < 5; k++) {
          const [u, v] = [random(), random()];
          const hit = mapAt(layout, { x: rect.x + u * rect.width, y: rect.y + v * rect.height });
          expect(hit, `${section.name} channel ${channel} at (${u}, ${v})`).not.toBeNull();
          expect(hit!.layer).toBe(section.layer);
          expect(hit!.channel).toBe(channel);
          expect(hit!.u).toBeCloseTo(u, 9);
          expect(hit!.v).toBeCloseTo(v, 9);
        }
      }
    }
  });

  it('no map under headers, gaps, the letterbox of a non-square map, empty cells or outside', () => {
    const [tall, wide] = layout.sections;
    const misses = [
      { x: 0.5, y: tall!.top + HEADER_HEIGHT / 2 }, // header band
      { x: MAP_EXTENT + (CELL_PITCH - MAP_EXTENT) / 2, y: tall!.top + HEADER_HEIGHT + 0.5 }, // gap between columns
      { x: 0.05, y: tall!.top + HEADER_HEIGHT + 0.5 }, // left of the tall map, inside its cell
      { x: 0.5, y: wide!.top + HEADER_HEIGHT + 0.05 }, // above the wide map, inside its cell
      { x: 1 * CELL_PITCH + 0.5, y: tall!.top + HEADER_HEIGHT + 2 * CELL_PITCH + 0.5 }, // channel 13 of 13: empty cell
      { x: COLUMNS * CELL_PITCH + 0.5, y: tall!.top + HEADER_HEIGHT + 0.5 }, // right of the last column
      { x: -0.5, y: tall!.top + HEADER_HEIGHT + 0.5 },
      { x: 0.5, y: -0.1 },
      { x: 0.5, y: layout.bounds.height + 0.1 },
      { x: 0.5, y: tall!.bounds.y + tall!.bounds.height + SECTION_GAP / 2 }, // between sections
    ];
    for (const point of misses) expect(mapAt(layout, point), JSON.stringify(point)).toBeNull();
    expect(mapAt(layout, { x: 0.5, y: tall!.top + HEADER_HEIGHT + 2 * CELL_PITCH + 0.5 })).toMatchObject({ layer: 0, channel: 12 });
  });
});

describe('visibleSections and visibleChannels', () => {
  const layout = featureGridLayout(LAYERS, { columns: COLUMNS });

  function bruteForce(g: FeatureGridLayout, layer: number, view: WorldRect): number[] {
    const section = g.sections[layer]!;
    const hits: number[] = [];
    for (let c = 0; c < section.channels; c++) if (overlaps(mapRect(g, section, c), view)) hits.push(c);
    return hits;
  }

  it('the whole layout shows every section and every channel', () => {
    expect(visibleSections(layout, layout.bounds).map((s) => s.layer)).toEqual([0, 1, 2, 3]);
    for (const section of layout.sections) {
      expect(visibleChannels(layout, section, layout.bounds)).toEqual({ first: 0, count: section.channels });
    }
  });

  it('a band of the second section shows only it, and only its rows', () => {
    const [, wide] = layout.sections;
    const view = { x: 0, y: wide!.top + 0.1, width: 2, height: 1 };
    expect(visibleSections(layout, view).map((s) => s.name)).toEqual(['conv2']);
    expect(visibleChannels(layout, layout.sections[0]!, view).count).toBe(0);
    expect(visibleChannels(layout, layout.sections[3]!, view).count).toBe(0);
  });

  it('the drawn channel range holds every map that overlaps random views, in whole rows', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const view = {
        x: (random() - 0.2) * layout.bounds.width,
        y: (random() - 0.1) * layout.bounds.height,
        width: random() * 4,
        height: random() * 6,
      };
      for (const section of layout.sections) {
        const range = visibleChannels(layout, section, view);
        const needed = bruteForce(layout, section.layer, view);
        for (const c of needed) {
          expect(c >= range.first && c < range.first + range.count, `channel ${c} of ${section.name} in view ${JSON.stringify(view)}`).toBe(true);
        }
        if (range.count > 0) {
          expect(range.first % COLUMNS).toBe(0);
          // Only rows that the view touches: at most the view's height in rows, plus a partial one each side.
          expect(range.count).toBeLessThanOrEqual((Math.ceil(view.height / CELL_PITCH) + 1) * COLUMNS);
        }
        if (needed.length === 0 && range.count > 0) {
          // A view between the maps of a row (in a gap) may draw that row: never a row it does not touch.
          const rowTop = section.top + HEADER_HEIGHT + (range.first / COLUMNS) * CELL_PITCH;
          expect(rowTop).toBeLessThan(view.y + view.height);
        }
      }
    }
  });

  it('writes into the object it is given', () => {
    const out = { first: -1, count: -1 };
    expect(visibleChannels(layout, layout.sections[3]!, layout.bounds, out)).toBe(out);
    expect(out).toEqual({ first: 0, count: 24 });
  });
});

describe('layerBindingRange', () => {
  const alignment = 256;

  it('binds a buffer within the limit whole and selects the batch item by element offset', () => {
    const range = layerBindingRange({ byteLength: 4 * 3 * 1000, batchStride: 1000, batchItem: 2, limit: 1 << 20, alignment, name: 'a' });
    expect(range).toEqual({ offset: 0, size: 12_000, elementOffset: 2000 });
  });

  it('pages a larger buffer: an aligned range that covers exactly the batch item, for every item', () => {
    const batchStride = 3 * 5 * 7; // 420 bytes per item: never a multiple of the alignment
    const batch = 9;
    const limit = 1024;
    for (let item = 0; item < batch; item++) {
      const range = layerBindingRange({ byteLength: 4 * batchStride * batch, batchStride, batchItem: item, limit, alignment, name: 'a' });
      expect(range.offset % alignment).toBe(0);
      expect(range.size).toBeLessThanOrEqual(limit);
      expect(range.size % 4).toBe(0);
      expect(range.offset + 4 * range.elementOffset).toBe(4 * item * batchStride); // the item's first element
      expect(range.offset + range.size).toBe(4 * (item + 1) * batchStride); // and its last
      expect(4 * range.elementOffset).toBeLessThan(alignment);
    }
  });

  it('refuses only a batch item larger than the limit, naming the layer and the sizes', () => {
    const input = { byteLength: 4 * 2 * 300, batchStride: 300, batchItem: 1, limit: 1024, alignment, name: 'huge' };
    expect(() => layerBindingRange(input)).toThrow(DeviceLimitError);
    expect(() => layerBindingRange(input)).toThrow(/layer 'huge' takes 1.17 KiB \(1,200 bytes\).*maxStorageBufferBindingSize of 1 KiB/);
    expect(() => layerBindingRange({ ...input, limit: 1200, byteLength: 4 * 2 * 300 - 0 })).toThrow(/aligned offset/);
    expect(layerBindingRange({ ...input, batchItem: 0, limit: 1200 })).toEqual({ offset: 0, size: 1200, elementOffset: 0 });
  });
});
