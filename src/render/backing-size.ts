// Keeps a canvas's backing store at its CSS size × devicePixelRatio, so the picture is sharp on HiDPI
// screens: for WebGPU canvases (canvas-surface.ts) and for the views that draw without WebGPU (the regl
// fallback, the Canvas2D peer). The views read canvas.width/height when they draw.

/** Starts observing; `resized` hears every new pixel size. The function returned stops. */
export function observeBackingSize(canvas: HTMLCanvasElement, resized?: (width: number, height: number) => void): () => void {
  function setBackingSize(width: number, height: number): void {
    // A zero-sized backing store cannot be drawn into; keep at least one pixel.
    const [w, h] = [Math.max(1, Math.round(width)), Math.max(1, Math.round(height))];
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    resized?.(w, h);
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
