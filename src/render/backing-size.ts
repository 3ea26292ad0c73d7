// Keeps a canvas's backing store at its CSS size × devicePixelRatio, so the picture is sharp on HiDPI
// screens: for WebGPU canvases (canvas-surface.ts) and for the views that draw without WebGPU (the regl
// fallback, the Canvas2D peer). The views read canvas.width/height when they draw.

/**
 * Starts observing; `resized` hears every new pixel size the observer reports. The canvas gets its size
 * at once too, from its layout box (without a call to `resized`: callers read canvas.width/height when
 * they start): the observer's first report comes only at the next rendering opportunity, which under
 * load can be after the first frame was drawn, or after an element said it was ready, at the canvas's
 * default 300×150.
 * The function returned stops.
 */
export function observeBackingSize(canvas: HTMLCanvasElement, resized?: (width: number, height: number) => void): () => void {
  function applySize(width: number, height: number): [number, number] {
    // A zero-sized backing store cannot be drawn into; keep at least one pixel.
    const [w, h] = [Math.max(1, Math.round(width)), Math.max(1, Math.round(height))];
    if (canvas.width !== w) canvas.width = w; // assigning even the same size would clear a 2D canvas
    if (canvas.height !== h) canvas.height = h;
    return [w, h];
  }
  function setBackingSize(width: number, height: number): void {
    const [w, h] = applySize(width, height); // not inside resized?.(…): without `resized` it would not run
    resized?.(w, h);
  }
  // A canvas not laid out yet (detached, display: none) has an empty box: it keeps its size until the
  // observer reports one.
  const box = canvas.getBoundingClientRect();
  if (box.width > 0 && box.height > 0) {
    const dpr = window.devicePixelRatio || 1;
    applySize(box.width * dpr, box.height * dpr);
  }
  const observer = new ResizeObserver((entries) => {
    const entry = entries[entries.length - 1];
    if (!entry) return;
    // device-pixel-content-box is exact (no rounding of CSS × dpr); where missing, multiply ourselves.
    const exact = entry.devicePixelContentBoxSize?.[0];
    if (exact) setBackingSize(exact.inlineSize, exact.blockSize);
    else {
      const box = entry.contentBoxSize[0];
      const dpr = window.devicePixelRatio || 1;
      if (box) setBackingSize(box.inlineSize * dpr, box.blockSize * dpr);
    }
  });
  try {
    observer.observe(canvas, { box: 'device-pixel-content-box' });
  } catch {
    observer.observe(canvas, { box: 'content-box' }); // Safari before 17 lacks device-pixel-content-box
  }
  return () => observer.disconnect();
}
