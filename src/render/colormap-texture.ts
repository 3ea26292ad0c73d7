// The 256×1 lookup texture every view colours values with (shaders read it with textureLoad, exact bytes).
import { COLORMAP_SIZE, colormapRgba, type ColormapName } from './colormaps';

export interface ColormapTexture {
  readonly view: GPUTextureView;
  /** Replaces the colours: a named colormap, or 256 RGBA8 entries already decoded. */
  write(colormap: ColormapName | Uint8Array<ArrayBuffer>): void;
  destroy(): void;
}

export function createColormapTexture(device: GPUDevice, label: string, colormap: ColormapName | Uint8Array<ArrayBuffer>): ColormapTexture {
  const texture = device.createTexture({
    label: `${label}.colormap`,
    size: [COLORMAP_SIZE, 1],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  const result: ColormapTexture = {
    view: texture.createView({ label: `${label}.colormapView` }),
    write(next) {
      const rgba = typeof next === 'string' ? colormapRgba(next) : next;
      device.queue.writeTexture({ texture }, rgba, { bytesPerRow: COLORMAP_SIZE * 4 }, [COLORMAP_SIZE, 1]);
    },
    destroy: () => texture.destroy(),
  };
  result.write(colormap);
  return result;
}
