// The on-screen frame-time meter: the median and the slowest of the last 60 frame intervals, refreshed
// twice a second so that reading it does not cost a layout every frame.
export interface FrameMeter {
  frame(): void;
}

export function createFrameMeter(output: HTMLElement, window = 60): FrameMeter {
  const intervals = new Float64Array(window);
  const sorted = new Float64Array(window);
  let count = 0;
  let last = 0;
  let shown = 0;
  return {
    frame() {
      const now = performance.now();
      if (last > 0) intervals[count++ % window] = now - last;
      last = now;
      if (now - shown < 500 || count < 2) return;
      shown = now;
      const n = Math.min(count, window);
      sorted.set(intervals.subarray(0, n));
      const used = sorted.subarray(0, n).sort();
      const median = used[n >> 1]!;
      output.textContent = `${median.toFixed(1)} ms/frame (${(1000 / median).toFixed(0)} fps), slowest ${used[n - 1]!.toFixed(1)} ms`;
    },
  };
}
