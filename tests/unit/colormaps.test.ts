// Colormap tables against values published with matplotlib (bids/colormap) and basic properties.
import { describe, expect, it } from 'vitest';
import { colormapIndex, colormapNames, colormapRgba, type ColormapName } from '../../src/render/colormaps';

function entry(name: ColormapName, k: number): number[] {
  return [...colormapRgba(name).subarray(k * 4, k * 4 + 4)];
}

/** Relative luminance (Rec. 709 weights on the encoded values: enough to order a grey ramp). */
function luma([r, g, b]: number[]): number {
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

describe('colormaps', () => {
  it('ships the six maps, each 256 opaque RGBA entries', () => {
    expect([...colormapNames].sort()).toEqual(['cividis', 'coolwarm', 'grey', 'inferno', 'magma', 'viridis']);
    for (const name of colormapNames) {
      const rgba = colormapRgba(name);
      expect(rgba.length).toBe(256 * 4);
      for (let k = 0; k < 256; k++) expect(rgba[k * 4 + 3]).toBe(255);
    }
  });

  it('viridis matches its published hex values at both ends and the middle', () => {
    expect(entry('viridis', 0)).toEqual([0x44, 0x01, 0x54, 255]); // #440154 = (0.267004, 0.004874, 0.329415)
    expect(entry('viridis', 128)).toEqual([0x21, 0x91, 0x8c, 255]); // #21918c = (0.127568, 0.566949, 0.550556)
    expect(entry('viridis', 255)).toEqual([0xfd, 0xe7, 0x25, 255]); // #fde725 = (0.993248, 0.906157, 0.143936)
  });

  it('magma, inferno and cividis match their published endpoints', () => {
    expect(entry('magma', 0)).toEqual([0x00, 0x00, 0x04, 255]);
    expect(entry('magma', 255)).toEqual([0xfc, 0xfd, 0xbf, 255]);
    expect(entry('inferno', 255)).toEqual([0xfc, 0xff, 0xa4, 255]);
    expect(entry('cividis', 0)).toEqual([0x00, 0x22, 0x4e, 255]);
  });

  it('grey is the identity ramp, so its lightness rises monotonically', () => {
    for (let k = 0; k < 256; k++) expect(entry('grey', k)).toEqual([k, k, k, 255]);
  });

  it('the sequential maps get lighter from end to end; coolwarm is dark-blue to dark-red through light grey', () => {
    for (const name of ['viridis', 'magma', 'inferno', 'cividis'] as const) {
      expect(luma(entry(name, 255))).toBeGreaterThan(luma(entry(name, 128)));
      expect(luma(entry(name, 128))).toBeGreaterThan(luma(entry(name, 0)));
    }
    const [low, mid, high] = [entry('coolwarm', 0), entry('coolwarm', 128), entry('coolwarm', 255)];
    expect(low[2]).toBeGreaterThan(low[0]!); // blue end
    expect(high[0]).toBeGreaterThan(high[2]!); // red end
    expect(luma(mid)).toBeGreaterThan(luma(low));
    expect(luma(mid)).toBeGreaterThan(luma(high));
  });

  it('returns a fresh copy each time', () => {
    const a = colormapRgba('viridis');
    a[0] = 0;
    expect(colormapRgba('viridis')[0]).toBe(0x44);
  });

  it('rejects an unknown name, listing the known ones', () => {
    expect(() => colormapRgba('jet' as ColormapName)).toThrow(/Unknown colormap 'jet'.*viridis/);
  });

  it('indexes like matplotlib: floor(t·256), clamped', () => {
    expect(colormapIndex(0)).toBe(0);
    expect(colormapIndex(0.5)).toBe(128);
    expect(colormapIndex(1)).toBe(255);
    expect(colormapIndex(-3)).toBe(0);
    expect(colormapIndex(7)).toBe(255);
    expect(colormapIndex(1 / 256 - 1e-9)).toBe(0);
  });
});
