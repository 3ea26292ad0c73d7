// Reading a WebGL canvas back, for the benchmarks' peers and the tests: finish() waits for the frame with a
// one-pixel read; readPixels() returns the whole picture in top-down rows like the WebGPU readbacks.
// gl directly: regl.read() refuses a default framebuffer without preserveDrawingBuffer, which no view needs.

const onePixel = new Uint8Array(4);

/** Blocks until the GL queue has drawn the frame (a one-pixel read stalls on it). */
export function finishGl(gl: WebGLRenderingContext): void {
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, onePixel);
}

/** The drawing buffer as RGBA8 rows from the top. */
export function readGlPixels(gl: WebGLRenderingContext): Uint8Array {
  const [w, h] = [gl.drawingBufferWidth, gl.drawingBufferHeight];
  const bottomUp = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, bottomUp);
  const rows = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) rows.set(bottomUp.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
  return rows;
}
