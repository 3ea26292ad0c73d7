// Any view, drawn once into an offscreen rgba8unorm texture and read back: what PNG export (and the render
// tests) see. At `scale`× the resolution a view shows the same picture with more pixels, not more of the
// world: a camera's scale is multiplied (and restored after), and views with sizes in pixels (line widths,
// node squares) get `scale` as draw's last argument and multiply them.
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { copyRowsTight, paddedBytesPerRow } from '../memory/readback';
import type { Camera } from '../render/camera';

/**
 * A view that can draw into any target: every Glassbox view. `scale` is target pixels per canvas pixel
 * (export at a larger size); views without sizes in pixels ignore it.
 */
export interface DrawableView {
  /** Records the view's render pass into `encoder`, onto `target` of `width` × `height` pixels in `format`. */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat, scale?: number): void;
  readonly camera?: Camera;
}

/** A view's pixels as {@link viewPixels} read them; `width` and `height` include the export scale. */
export interface ViewPixels {
  width: number;
  height: number;
  /** RGBA8, rows top to bottom, width × 4 bytes each. */
  rgba: Uint8Array<ArrayBuffer>;
}

/** Draws `view` at width × height × scale pixels and reads them back. Everything made here is destroyed. */
export async function viewPixels(engine: Engine, view: DrawableView, width: number, height: number, scale = 1): Promise<ViewPixels> {
  invalidArgument(
    Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1,
    () => `viewPixels: expected a positive integer width and height; got ${width} × ${height}.`,
  );
  invalidArgument(Number.isInteger(scale) && scale >= 1 && scale <= 16, () => `viewPixels: expected an integer scale from 1 to 16; got ${scale}.`);
  const [w, h] = [width * scale, height * scale];
  const max = engine.limits.maxTextureDimension2D;
  invalidArgument(w <= max && h <= max, () => `viewPixels: ${w} × ${h} pixels exceeds this device's ${max}-pixel texture limit; use a smaller scale.`);
  const texture = engine.device.createTexture({
    label: 'viewPixels.target',
    size: [w, h],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = paddedBytesPerRow(w * 4);
  const staging = engine.createBuffer({ label: 'viewPixels.staging', size: bytesPerRow * h, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    await engine.run('viewPixels', (encoder) => {
      withCameraAt(view.camera, scale, w, h, () => view.draw(encoder, texture.createView(), w, h, 'rgba8unorm', scale));
      encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [w, h]);
    });
    await staging.mapAsync(GPUMapMode.READ);
    const rgba = copyRowsTight(new Uint8Array(staging.getMappedRange()), bytesPerRow, w * 4, h);
    staging.unmap();
    return { width: w, height: h, rgba };
  } finally {
    staging.destroy();
    texture.destroy();
  }
}

/**
 * Runs `draw` with the camera showing the same world rectangle on a target `scale`× larger, and restores
 * it after. Scale and viewport are set first, so that the view's own setViewport finds nothing to change:
 * a fitted camera is not refitted, which would keep its padding in pixels and so change the framing.
 */
function withCameraAt(camera: Camera | undefined, scale: number, width: number, height: number, draw: () => void): void {
  if (!camera || scale === 1) return draw();
  camera.setViewport(width / scale, height / scale); // what a screen-sized draw would do first
  const saved = { centerX: camera.centerX, centerY: camera.centerY, scale: camera.scale, width: camera.width, height: camera.height, fitted: camera.fitted };
  Object.assign(camera, { scale: saved.scale * scale, width, height });
  camera.version += 1;
  try {
    draw();
  } finally {
    Object.assign(camera, saved);
    camera.version += 1;
  }
}
