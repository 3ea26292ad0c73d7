// Spending a per-frame GPU budget on tiles: each frame takes the most wanted unfinished tiles, in order,
// and plans strips of cell rows whose estimated cost fits what is left of the budget. Costs are learned
// from GPU timestamps (milliseconds per covered entry), so the budget holds on fast and slow devices.
import { tileEntries, type TileRect } from './tile-pyramid';

export interface TileJob {
  readonly id: string;
  readonly rect: TileRect;
  /** Cell rows [0, rowsDone) are computed. */
  rowsDone: number;
}

export interface Strip {
  readonly job: TileJob;
  readonly cellRowStart: number;
  readonly cellRowEnd: number;
  readonly entries: number;
}

/** Milliseconds of GPU time per covered entry, as an exponential moving average of measurements. */
export class CostModel {
  msPerEntry: number;
  readonly #smoothing: number;

  constructor(initialMsPerEntry = 1e-6, smoothing = 0.3) {
    this.msPerEntry = initialMsPerEntry;
    this.#smoothing = smoothing;
  }

  observe(entries: number, ms: number): void {
    if (entries <= 0 || !(ms > 0)) return;
    this.msPerEntry += this.#smoothing * (ms / entries - this.msPerEntry);
  }

  estimate(entries: number): number {
    return entries * this.msPerEntry;
  }
}

export function isDone(job: TileJob): boolean {
  return job.rowsDone >= job.rect.height;
}

/**
 * Strips for this frame, from `jobs` in priority order. The first strip is planned even when it alone
 * exceeds the budget, so that every frame makes progress; strips are whole cell rows.
 */
export function planFrame(jobs: readonly TileJob[], budgetMs: number, model: CostModel): Strip[] {
  const strips: Strip[] = [];
  let remaining = budgetMs;
  for (const job of jobs) {
    if (isDone(job)) continue;
    const entriesPerRow = tileEntries(job.rect) / job.rect.height;
    const rowsLeft = job.rect.height - job.rowsDone;
    const affordable = Math.floor(remaining / Math.max(model.estimate(entriesPerRow), 1e-12));
    const rows = Math.min(rowsLeft, strips.length === 0 ? Math.max(1, affordable) : affordable);
    if (rows <= 0) break;
    const entries = rows * entriesPerRow;
    strips.push({ job, cellRowStart: job.rowsDone, cellRowEnd: job.rowsDone + rows, entries });
    remaining -= model.estimate(entries);
    if (remaining <= 0) break;
  }
  return strips;
}
