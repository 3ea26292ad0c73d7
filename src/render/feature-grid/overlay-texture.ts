// The input image blended over every map. Uploaded with copyExternalImageToTexture only when the caller
// sets or updates it (never per frame on its own); the texture is remade only when the image's size
// changes, and `version` tells the view to rebuild the one bind group that samples it.
import { invalidArgument } from '../../core/errors';

/**
 * An image the feature grid can blend over its maps (copied with `copyExternalImageToTexture`); neither side
 * may exceed the device's `maxTextureDimension2D`.
 */
export type OverlaySource = ImageBitmap | HTMLCanvasElement | HTMLVideoElement | OffscreenCanvas | HTMLImageElement;

export interface OverlayTexture {
  readonly view: GPUTextureView;
  readonly sampler: GPUSampler;
  /** Increments whenever `view` is a new texture view. */
  readonly version: number;
  /** True once an image has been uploaded (the first texture is a blank 1×1 until then). */
  readonly hasPicture: boolean;
  /** Uploads the image; false when it has no pixels yet (a video still loading): the last image stays. */
  upload(source: OverlaySource): boolean;
  destroy(): void;
}

const OVERLAY_FORMAT: GPUTextureFormat = 'rgba8unorm';

export function createOverlayTexture(device: GPUDevice, label: string): OverlayTexture {
  const sampler = device.createSampler({ label: `${label}.sampler`, magFilter: 'linear', minFilter: 'linear' });
  let texture = makeTexture(1, 1);
  let view = texture.createView({ label: `${label}.view` });
  let version = 0;
  let hasPicture = false;

  function makeTexture(width: number, height: number): GPUTexture {
    return device.createTexture({
      label,
      size: [width, height],
      format: OVERLAY_FORMAT,
      // copyExternalImageToTexture needs RENDER_ATTACHMENT on its destination.
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
    });
  }

  return {
    get view() {
      return view;
    },
    sampler,
    get version() {
      return version;
    },
    get hasPicture() {
      return hasPicture;
    },
    upload(source) {
      const [width, height] = sizeOf(source);
      if (width === 0 || height === 0) return false;
      const max = device.limits.maxTextureDimension2D;
      invalidArgument(
        width <= max && height <= max,
        () => `FeatureGridView overlay: an image of ${width}×${height} exceeds this device's ${max}-pixel texture limit.`,
      );
      if (texture.width !== width || texture.height !== height) {
        texture.destroy();
        texture = makeTexture(width, height);
        view = texture.createView({ label: `${label}.view` });
        version++;
      }
      device.queue.copyExternalImageToTexture({ source }, { texture }, [width, height]);
      hasPicture = true;
      return true;
    },
    destroy() {
      texture.destroy();
    },
  };
}

function sizeOf(source: OverlaySource): [number, number] {
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    return [source.videoWidth, source.videoHeight];
  }
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    return [source.naturalWidth, source.naturalHeight];
  }
  return [source.width, source.height];
}
