// A canvas configured for WebGPU whose backing store follows its CSS size × devicePixelRatio, so the
// picture is sharp on HiDPI screens. A ResizeObserver keeps it so; the pixel size is reported to `resized`.
import type { Engine } from '../core/engine';
import { WebGpuUnavailableError } from '../core/errors';

export interface CanvasSurface {
  readonly context: GPUCanvasContext;
  readonly format: GPUTextureFormat;
  destroy(): void;
}

export function createCanvasSurface(
  engine: Engine,
  canvas: HTMLCanvasElement,
  resized: (width: number, height: number) => void,
): CanvasSurface {
  const context = canvas.getContext('webgpu');
  if (!context) {
    throw new WebGpuUnavailableError(
      'canvas.getContext("webgpu") returned null: the canvas may already have a 2d or WebGL context.',
    );
  }
  const format = navigator.gpu.getPreferredCanvasFormat();
  context.configure({ device: engine.device, format, alphaMode: 'opaque' });

  function setBackingSize(width: number, height: number): void {
    // A zero-sized backing store cannot be drawn into; keep at least one pixel.
    const [w, h] = [Math.max(1, Math.round(width)), Math.max(1, Math.round(height))];
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    resized(w, h);
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
  resized(canvas.width, canvas.height);

  return {
    context,
    format,
    destroy() {
      observer.disconnect();
      context.unconfigure();
    },
  };
}
