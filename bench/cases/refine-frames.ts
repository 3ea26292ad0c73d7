// Frame times of the long-sequence explorer while it refines after a zoom: every frame records its tile
// work within the GPU budget, so frames keep presenting while the picture sharpens. Measured: wall time
// from the start of a frame's recording to the GPU finishing it (tile strips + drawing), over the frames
// after a 4× zoom into a finished overview. Rows p50 and p95; the "peer" is the budget itself, so
// ratio ≤ 1 means the frames kept to it. The row "idle-p50" is frames with no tile work at all (the
// finished overview, before the zoom): what drawing alone costs on this device.
import {
  createExplorerView,
  createFrameLoop,
  createLongAttention,
  randomFloats,
  tensorFromArray,
  tileProducerFor,
  type Engine,
} from '../../src/index';
import type { BenchCase, CaseResult } from '../harness';

type RefineParams = { N: number; d: number; budget_ms: number; quantile: 'p50' | 'p95' | 'idle-p50' };

const FRAMES_AFTER_ZOOM = 60;
const measured = new Map<string, { refining: number[]; idle: number[] }>(); // all rows from one run

async function frameTimes(engine: Engine, n: number, d: number, budgetMs: number) {
  const key = `${n}/${d}/${budgetMs}`;
  const cached = measured.get(key);
  if (cached) return cached;
  const q = tensorFromArray(engine, randomFloats(n * d, 1, 2), [1, n, d]);
  const k = tensorFromArray(engine, randomFloats(n * d, 2, 2), [1, n, d]);
  const attention = createLongAttention(engine, q, k, { causal: true });
  await attention.computeRowStats();
  const canvas = document.createElement('canvas');
  canvas.style.cssText = 'width: 512px; height: 512px; display: block';
  document.body.append(canvas);
  const view = createExplorerView(engine, { canvas, producer: tileProducerFor(engine, attention), budgetMs });
  const loop = createFrameLoop(engine, 'bench.refineFrames');
  loop.add(view);
  const frame = async () => {
    const started = performance.now();
    loop.frame();
    await engine.device.queue.onSubmittedWorkDone();
    return performance.now() - started;
  };
  for (let i = 0; i < 5000 && view.progress.fraction < 1; i++) await frame();
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) idle.push(await frame());
  view.camera.zoomAt(view.camera.width / 2, view.camera.height / 2, 4);
  const refining: number[] = [];
  for (let i = 0; i < FRAMES_AFTER_ZOOM; i++) refining.push(await frame());
  view.destroy();
  canvas.remove();
  attention.destroy();
  q.destroy();
  k.destroy();
  const times = { refining, idle };
  measured.set(key, times);
  return times;
}

function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export const refineFramesCase: BenchCase<RefineParams> = {
  name: 'refine-frames',
  peer: 'budget',
  params: (['p50', 'p95', 'idle-p50'] as const).map((q) => ({ N: 2048, d: 64, budget_ms: 8, quantile: q })),
  warmup: 0,
  samples: FRAMES_AFTER_ZOOM,
  setup() {
    throw new Error('refine-frames measures itself');
  },
  async measure(engine, params) {
    const times = await frameTimes(engine, params.N, params.d, params.budget_ms);
    const ours =
      params.quantile === 'idle-p50' ? quantile(times.idle, 0.5) : quantile(times.refining, params.quantile === 'p50' ? 0.5 : 0.95);
    const result: CaseResult = {
      name: 'refine-frames',
      params,
      ours_ms: ours,
      peer: 'budget',
      peer_ms: params.budget_ms,
      ratio: ours / params.budget_ms,
      ours_bytes: 0,
      peer_bytes: 0,
      max_abs_err: null,
    };
    return { result, wall: { ours_wall_ms: ours, peer_wall_ms: params.budget_ms } };
  },
};
