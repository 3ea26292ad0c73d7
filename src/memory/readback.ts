// Reading GPU memory back to the CPU: for hovered values, export and tests. Never on the render path.
import type { Engine } from '../core/engine';

/** Copies bytes [offset, offset + byteLength) of `source` into a fresh ArrayBuffer. */
export async function readBufferRange(
  engine: Engine,
  source: GPUBuffer,
  offset: number,
  byteLength: number,
): Promise<ArrayBuffer> {
  // copyBufferToBuffer needs 4-byte aligned offsets and sizes; float32 reads always are.
  const staging = engine.createBuffer({
    label: `${source.label}.readback`,
    size: byteLength,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    await engine.run(`${source.label}.readback`, (encoder) => {
      encoder.copyBufferToBuffer(source, offset, staging, 0, byteLength);
    });
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0);
  } finally {
    staging.destroy();
  }
}
