// Hover readout for the feature grid: the activation under the pointer, read back four bytes at a time,
// as src/render/hover-readout.ts does for the heatmap. At most one read is in flight; while it runs only
// the latest wanted element is remembered, and a result for an element no longer wanted is dropped.
import { featureIndex, type FeatureLayer } from '../../features/feature-layer';

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

export interface FeatureHoverReadout {
  want(target: FeatureHoverTarget | null): void;
  close(): void;
}

export function createFeatureHoverReadout(onHover: (hover: FeatureHover | null) => void, label: string): FeatureHoverReadout {
  let wanted: FeatureHoverTarget | null = null;
  let done: FeatureHoverTarget | null = null;
  let inFlight = false;
  let reportedSomething = false;
  let closed = false;

  function pump(): void {
    if (closed || inFlight || wanted === null || wanted === done) return;
    const target = wanted;
    const { source } = target;
    inFlight = true;
    source.tensor
      .readRange(featureIndex(source, target.batch, target.y, target.x, target.channel), 1)
      .then((values) => {
        done = target;
        if (closed || target !== wanted) return; // stale: the pointer moved on while we read
        reportedSomething = true;
        const { layer, channel, batch, y, x } = target;
        onHover({ layer, name: source.name, channel, batch, y, x, value: values[0]! });
      })
      .catch((error: unknown) => {
        done = target; // not retried until the pointer moves to another element
        // A read fails when the activations are released under the pointer; the view stays usable.
        if (!closed) console.warn(`${label} hover readout failed:`, error);
      })
      .finally(() => {
        inFlight = false;
        pump();
      });
  }

  return {
    want(target) {
      if (target === null) {
        wanted = done = null;
        if (reportedSomething && !closed) onHover(null);
        reportedSomething = false;
        return;
      }
      if (wanted !== null && sameTarget(wanted, target)) return;
      wanted = target;
      pump();
    },
    close() {
      closed = true;
      wanted = done = null;
    },
  };
}

function sameTarget(a: FeatureHoverTarget, b: FeatureHoverTarget): boolean {
  return a.source === b.source && a.layer === b.layer && a.channel === b.channel && a.batch === b.batch &&
    a.y === b.y && a.x === b.x;
}
