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

/** Texture-to-buffer copies need each row padded to a multiple of 256 bytes. */
export function paddedBytesPerRow(tightBytes: number): number {
  return Math.ceil(tightBytes / 256) * 256;
}

/** Drops the padding of `rows` rows of `paddedRow` bytes, keeping `tightRow` bytes of each. */
export function copyRowsTight(padded: Uint8Array, paddedRow: number, tightRow: number, rows: number): Uint8Array<ArrayBuffer> {
  const tight = new Uint8Array(tightRow * rows);
  for (let y = 0; y < rows; y++) tight.set(padded.subarray(y * paddedRow, y * paddedRow + tightRow), y * tightRow);
  return tight;
}
