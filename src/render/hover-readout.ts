// Hover readout: the value under the pointer, read back four bytes at a time. At most one read is in
// flight; while it runs only the latest wanted cell is remembered, and a result whose cell is no longer
// wanted is dropped, so a fast-moving pointer costs one small read per settled cell, not one per event.
import type { GpuTensor } from '../memory/gpu-tensor';
import { cellIndex, type HeatmapCell, type HeatmapLayout } from './heatmap-layout';

export interface HeatmapHover extends HeatmapCell {
  value: number;
}

export interface HoverReadout {
  /** The cell now under the pointer, or null when there is none. */
  want(cell: HeatmapCell | null, weights: GpuTensor, layout: HeatmapLayout): void;
  /** Stops reporting: results still in flight are dropped. */
  close(): void;
}

interface Wanted {
  cell: HeatmapCell;
  weights: GpuTensor;
  layout: HeatmapLayout;
}

export function createHoverReadout(onHover: (hover: HeatmapHover | null) => void): HoverReadout {
  let wanted: Wanted | null = null;
  let done: Wanted | null = null;
  let inFlight = false;
  let reportedSomething = false;
  let closed = false;

  function pump(): void {
    if (closed || inFlight || wanted === null || wanted === done) return;
    const target = wanted;
    inFlight = true;
    target.weights
      .readRange(cellIndex(target.layout, target.cell), 1)
      .then((values) => {
        done = target;
        if (closed || target !== wanted) return; // stale: the pointer moved on while we read
        reportedSomething = true;
        onHover({ ...target.cell, value: values[0]! });
      })
      .catch((error: unknown) => {
        done = target; // not retried until the pointer moves to another cell
        // A read can fail when the weights are destroyed under the pointer; the view stays usable.
        if (!closed) console.warn('HeatmapView hover readout failed:', error);
      })
      .finally(() => {
        inFlight = false;
        pump();
      });
  }

  return {
    want(cell, weights, layout) {
      if (cell === null) {
        wanted = done = null;
        if (reportedSomething && !closed) onHover(null);
        reportedSomething = false;
        return;
      }
      const same =
        wanted !== null && wanted.weights === weights && wanted.layout === layout &&
        wanted.cell.head === cell.head && wanted.cell.query === cell.query && wanted.cell.key === cell.key;
      if (same) return;
      wanted = { cell, weights, layout };
      pump();
    },
    close() {
      closed = true;
      wanted = done = null;
    },
  };
}
