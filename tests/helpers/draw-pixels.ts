// How the render tests see what a view drew: the export path's own offscreen draw and readback
// (src/export/view-pixels.ts), RGBA8 rows top to bottom.
import type { Engine } from '../../src/index';
import { viewPixels, type DrawableView } from '../../src/export/view-pixels';

export async function drawPixels(engine: Engine, view: DrawableView, width: number, height: number): Promise<Uint8Array> {
  return (await viewPixels(engine, view, width, height)).rgba;
}
