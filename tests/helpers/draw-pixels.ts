// Draws a view into an offscreen rgba8unorm target and reads the pixels back (tight rows, RGBA8): how the
// render tests see what a view drew.
import type { Engine } from '../../src/index';

type Drawable = { draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void };

export async function drawPixels(engine: Engine, view: Drawable, width: number, height: number): Promise<Uint8Array> {
  const texture = engine.device.createTexture({
    label: 'test.target',
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256; // copies need rows aligned to 256 bytes
  const staging = engine.createBuffer({ label: 'test.pixels', size: bytesPerRow * height, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    await engine.run('test.draw', (encoder) => {
      view.draw(encoder, texture.createView(), width, height, 'rgba8unorm');
      encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [width, height]);
    });
    await staging.mapAsync(GPUMapMode.READ);
    const padded = new Uint8Array(staging.getMappedRange());
    const pixels = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) pixels.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
    return pixels;
  } finally {
    staging.destroy();
    texture.destroy();
  }
}
