// The grid's pointer: pan/zoom through interaction.ts, the hover readout of the activation under the
// pointer, and click-to-select. The view supplies hit-testing and the layers as they are now, so a hover
// is re-read when new activations arrive under a still pointer.
import type { FeatureLayer } from '../../features/feature-layer';
import type { Camera } from '../camera';
import { attachInteraction } from '../interaction';
import { attachClickSelect } from './click-select';
import { createFeatureHoverReadout, type FeatureHover } from './feature-hover';
import type { GridHit } from './grid-layout';

export interface GridPointerOptions {
  hitAt(x: number, y: number): GridHit | null;
  layers(): readonly FeatureLayer[];
  batchItem(): number;
  onHover?: ((hover: FeatureHover | null) => void) | undefined;
  onSelect?: ((hit: { layer: number; channel: number }) => void) | undefined;
  label: string;
}

export interface GridPointer {
  /** The activations or the batch item changed under the pointer: read the hovered value again. */
  refresh(): void;
  destroy(): void;
}

export function attachGridPointer(canvas: HTMLCanvasElement, camera: Camera, options: GridPointerOptions): GridPointer {
  const { onHover, onSelect } = options;
  const readout = onHover ? createFeatureHoverReadout(onHover, options.label) : null;
  let pointer: { x: number; y: number } | null = null;

  function refresh(): void {
    if (!readout) return;
    const hit = pointer ? options.hitAt(pointer.x, pointer.y) : null;
    if (!hit) return readout.want(null);
    const source = options.layers()[hit.layer]!;
    // The texel the fragment shader samples for 'nearest': floor(uv · size), kept inside the map.
    const y = Math.min(Math.floor(hit.v * source.height), source.height - 1);
    const x = Math.min(Math.floor(hit.u * source.width), source.width - 1);
    readout.want({ layer: hit.layer, channel: hit.channel, batch: options.batchItem(), y, x, source });
  }

  const detachInteraction = attachInteraction(canvas, camera, {
    hover(x, y) {
      pointer = { x, y };
      refresh();
    },
    leave() {
      pointer = null;
      refresh();
    },
  });
  const detachSelect = onSelect
    ? attachClickSelect(canvas, (x, y) => {
        const hit = options.hitAt(x, y);
        if (hit) onSelect({ layer: hit.layer, channel: hit.channel });
      })
    : () => {};

  return {
    refresh,
    destroy() {
      readout?.close();
      detachInteraction();
      detachSelect();
    },
  };
}
