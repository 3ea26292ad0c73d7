// Hover readout: the value under the pointer, read back four bytes at a time. At most one read is in
// flight; while it runs only the latest wanted cell is remembered, and a result whose cell is no longer
// wanted is dropped, so a fast-moving pointer costs one small read per settled cell, not one per event.
import type { GpuTensor } from '../memory/gpu-tensor';
import { cellIndex, type HeatmapCell, type HeatmapLayout } from './heatmap-layout';

/** A hovered heatmap cell and its weight, as read back from the weights buffer. */
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
  const readout = createValueReadout<Wanted>({
    label: 'HeatmapView',
    read: (w) => w.weights.readRange(cellIndex(w.layout, w.cell), 1),
    report: (w, value) => onHover(w === null ? null : { ...w.cell, value: value! }),
    same: (a, b) =>
      a.weights === b.weights && a.layout === b.layout &&
      a.cell.head === b.cell.head && a.cell.query === b.cell.query && a.cell.key === b.cell.key,
  });
  return {
    want: (cell, weights, layout) => readout.want(cell === null ? null : { cell, weights, layout }),
    close: () => readout.close(),
  };
}

export interface ValueReadout<T> {
  /** The target now under the pointer, or null when there is none. */
  want(target: T | null): void;
  /** Stops reporting: results still in flight are dropped. */
  close(): void;
}

export interface ValueReadoutOptions<T> {
  /** Names the view in the warning a failed read logs. */
  label: string;
  /** Reads the target's value back (a few bytes). */
  read(target: T): Promise<Float32Array>;
  /** A settled target and its value; (null) once the pointer left after something was reported. */
  report(target: T | null, value?: number): void;
  same(a: T, b: T): boolean;
}

/** The read-one-value-at-a-time policy above, for any view: the latest wanted target wins. */
export function createValueReadout<T>(options: ValueReadoutOptions<T>): ValueReadout<T> {
  let wanted: T | null = null;
  let done: T | null = null;
  let inFlight = false;
  let reportedSomething = false;
  let closed = false;

  function pump(): void {
    if (closed || inFlight || wanted === null || wanted === done) return;
    const target = wanted;
    inFlight = true;
    options
      .read(target)
      .then((values) => {
        done = target;
        if (closed || target !== wanted) return; // stale: the pointer moved on while we read
        reportedSomething = true;
        options.report(target, values[0]!);
      })
      .catch((error: unknown) => {
        done = target; // not retried until the pointer moves to another target
        // A read can fail when the data is released under the pointer; the view stays usable.
        if (!closed) console.warn(`${options.label} hover readout failed:`, error);
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
        if (reportedSomething && !closed) options.report(null);
        reportedSomething = false;
        return;
      }
      if (wanted !== null && options.same(wanted, target)) return;
      wanted = target;
      pump();
    },
    close() {
      closed = true;
      wanted = done = null;
    },
  };
}
