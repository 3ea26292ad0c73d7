// Hover readout for the feature grid: the activation under the pointer, read back four bytes at a time
// with the heatmap's policy (src/render/hover-readout.ts createValueReadout: one read in flight, the latest
// wanted element wins, stale results dropped).
import { featureIndex, type FeatureLayer } from '../../features/feature-layer';
import { createValueReadout, type ValueReadout } from '../hover-readout';

/**
 * The activation under the pointer: layer index and name, channel, batch item, row `y` and column `x`
 * inside the map, and the value read back from the layer's buffer.
 */
export interface FeatureHover {
  layer: number;
  name: string;
  channel: number;
  batch: number;
  y: number;
  x: number;
  value: number;
}

export interface FeatureHoverTarget {
  layer: number;
  channel: number;
  batch: number;
  y: number;
  x: number;
  /** The layer's activations as they are now: new buffers (a live model) mean a new read. */
  source: FeatureLayer;
}

export type FeatureHoverReadout = ValueReadout<FeatureHoverTarget>;

export function createFeatureHoverReadout(onHover: (hover: FeatureHover | null) => void, label: string): FeatureHoverReadout {
  return createValueReadout<FeatureHoverTarget>({
    label,
    read: ({ source, batch, y, x, channel }) => source.tensor.readRange(featureIndex(source, batch, y, x, channel), 1),
    report: (target, value) => {
      if (target === null) return onHover(null);
      const { layer, source, channel, batch, y, x } = target;
      onHover({ layer, name: source.name, channel, batch, y, x, value: value! });
    },
    same: sameTarget,
  });
}

function sameTarget(a: FeatureHoverTarget, b: FeatureHoverTarget): boolean {
  return a.source === b.source && a.layer === b.layer && a.channel === b.channel && a.batch === b.batch &&
    a.y === b.y && a.x === b.x;
}
