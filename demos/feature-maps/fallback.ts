// The WebGL renderer of the demo: the regl fallback fed by readback. It draws on a canvas of its own (a
// canvas keeps the first kind of context it gives out, and the WebGPU grid holds 'webgpu' on #grid).
import {
  createFeatureGridFallback,
  type ColormapName,
  type FeatureGridFallback,
  type FeatureLayer,
  type FeatureNormalization,
} from '../../src/index';

export interface FallbackSettings {
  normalization: FeatureNormalization;
  colormap: ColormapName;
  sampling: 'nearest' | 'bilinear';
}

export interface FallbackRenderer {
  readonly canvas: HTMLCanvasElement;
  /** Reads the activations back and uploads them; resolves when the new values are on their way. */
  update(layers: readonly FeatureLayer[]): Promise<void>;
  render(): void;
  configure(settings: FallbackSettings): void;
  destroy(): void;
}

export function createFallbackRenderer(gpuCanvas: HTMLCanvasElement, settings: FallbackSettings & { columns: number }): FallbackRenderer {
  const canvas = document.createElement('canvas');
  canvas.id = 'grid-webgl';
  canvas.tabIndex = 0;
  canvas.setAttribute('aria-label', gpuCanvas.getAttribute('aria-label') ?? 'Feature maps');
  gpuCanvas.after(canvas);
  gpuCanvas.hidden = true;
  let grid: FeatureGridFallback | null = null;
  let pending = 0;

  return {
    canvas,
    async update(layers) {
      const ticket = ++pending;
      const data = await Promise.all(layers.map((layer) => layer.tensor.read()));
      if (ticket !== pending) return; // a newer update overtook this one
      const cpuLayers = layers.map((layer, i) => ({ ...layer, data: data[i]! }));
      if (grid) grid.update(cpuLayers);
      else grid = createFeatureGridFallback(canvas, { layers: cpuLayers, ...settings });
    },
    render() {
      grid?.render();
    },
    configure(next) {
      if (grid) configureFallback(grid, next);
    },
    destroy() {
      grid?.destroy();
      canvas.remove();
      gpuCanvas.hidden = false;
    },
  };
}

/** Applies the form's look to a fallback grid (this renderer's, or the one drawn without WebGPU). */
export function configureFallback(grid: FeatureGridFallback, settings: FallbackSettings): void {
  grid.setNormalization(settings.normalization);
  grid.setColormap(settings.colormap);
  grid.setSampling(settings.sampling);
}
