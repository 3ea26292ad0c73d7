// A canvas configured for WebGPU whose backing store follows its CSS size × devicePixelRatio, so the
// picture is sharp on HiDPI screens (backing-size.ts); the pixel size is reported to `resized`.
import type { Engine } from '../core/engine';
import { WebGpuUnavailableError } from '../core/errors';
import { observeBackingSize } from './backing-size';

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

  const stopObserving = observeBackingSize(canvas, resized);
  resized(canvas.width, canvas.height);

  return {
    context,
    format,
    destroy() {
      stopObserving();
      context.unconfigure();
    },
  };
}
