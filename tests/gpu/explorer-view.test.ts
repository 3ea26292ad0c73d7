// The long-sequence explorer driven frame by frame on a real canvas: the overview completes within the
// budget's strips, hovering reports the exact weight and score of the entry under the pointer, and
// destroying the view frees everything it made.
import { describe, expect, it } from 'vitest';
import {
  createExplorerView,
  createFrameLoop,
  createLongAttention,
  randomFloats,
  referenceAttentionWeights,
  tensorFromArray,
  tileProducerFor,
  type ExplorerHover,
} from '../../src/index';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

describe('explorer view', () => {
  it('builds the overview over frames and reads exact entries under the pointer', async () => {
    const [heads, n, d] = [2, 300, 16];
    const q = randomFloats(heads * n * d, 71, 2);
    const k = randomFloats(heads * n * d, 72, 2);
    const [qt, kt] = [tensorFromArray(engine(), q, [heads, n, d]), tensorFromArray(engine(), k, [heads, n, d])];
    const attention = createLongAttention(engine(), qt, kt, { causal: true });
    await attention.computeRowStats();
    const live = engine().liveBufferCount();

    const canvas = document.createElement('canvas');
    canvas.style.cssText = 'width: 320px; height: 320px; display: block';
    document.body.append(canvas);
    const hovers: (ExplorerHover | null)[] = [];
    const fractions: number[] = [];
    const view = createExplorerView(engine(), {
      canvas,
      producer: tileProducerFor(engine(), attention),
      budgetMs: 0.001, // tiny: the overview must take many frames of a few cell rows each
      onHover: (hover) => hovers.push(hover),
      onProgress: (p) => fractions.push(p.fraction),
    });
    const loop = createFrameLoop(engine());
    loop.add(view);
    for (let frame = 0; frame < 400 && view.progress.fraction < 1; frame++) {
      loop.frame();
      await engine().device.queue.onSubmittedWorkDone();
    }
    expect(view.progress.fraction).toBe(1);
    expect(fractions.length).toBeGreaterThan(1); // progress was reported as the strips came in
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    // Another pooling is another overview: its progress starts again at once, and completes again.
    fractions.length = 0;
    view.setPooling('mean');
    expect(fractions).toEqual([0]);
    expect(view.progress.fraction).toBe(0);
    for (let frame = 0; frame < 400 && view.progress.fraction < 1; frame++) {
      loop.frame();
      await engine().device.queue.onSubmittedWorkDone();
    }
    expect(view.progress.fraction).toBe(1);
    expect(fractions.length).toBeGreaterThan(2);

    // Hover the middle of the canvas: the entry under it, exactly.
    const rect = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: rect.left + 200, clientY: rect.top + 240, bubbles: true }));
    await expect.poll(() => hovers.find((h) => h !== null), { timeout: 20_000 }).toBeTruthy();
    const hover = hovers.find((h) => h !== null)!;
    const reference = referenceAttentionWeights({ q, k, batch: heads, nq: n, nk: n, d, causal: true });
    const want = reference[(hover.head * n + hover.query) * n + hover.key]!;
    expect(Math.abs(hover.weight - want)).toBeLessThanOrEqual(1e-6);
    if (hover.key <= hover.query) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[(hover.head * n + hover.query) * d + c]! * k[(hover.head * n + hover.key) * d + c]!;
      expect(hover.score).toBeCloseTo(dot / Math.sqrt(d), 4);
    } else {
      expect(hover.weight).toBe(0);
    }

    view.jumpTo(123);
    expect(view.camera.centerX).toBeCloseTo(123.5, 6);
    expect(view.camera.centerY).toBeCloseTo(123.5, 6);
    expect(() => view.setHead(2)).toThrow(/head must be 0\.\.1; got 2/);

    view.destroy();
    canvas.remove();
    expect(engine().liveBufferCount()).toBe(live);
    attention.destroy();
    qt.destroy();
    kt.destroy();
  });

  it('checks its head, pooling and scale, and reports no hover once destroyed', async () => {
    const [heads, n, d] = [2, 40, 8];
    const [qt, kt] = [71, 72].map((seed) => tensorFromArray(engine(), randomFloats(heads * n * d, seed, 2), [heads, n, d]));
    const attention = createLongAttention(engine(), qt!, kt!, {});
    await attention.computeRowStats();
    const canvas = document.createElement('canvas');
    canvas.style.cssText = 'width: 200px; height: 200px; display: block';
    document.body.append(canvas);
    const producer = tileProducerFor(engine(), attention);
    const live = engine().liveBufferCount();
    const make = (options: object) => createExplorerView(engine(), { canvas, producer, ...options });
    expect(() => make({ head: 2 })).toThrow('head must be 0..1; got 2.');
    expect(() => make({ pooling: 'median' })).toThrow("pooling must be 'max' or 'mean'; got 'median'.");
    expect(() => make({ scale: 'sqrt' })).toThrow("scale must be 'linear' or 'log'; got 'sqrt'.");
    expect(engine().liveBufferCount()).toBe(live); // a refused view made nothing

    const hovers: (ExplorerHover | null)[] = [];
    const view = make({ head: 1, onHover: (hover: ExplorerHover | null) => hovers.push(hover) });
    expect(() => view.setPooling('median' as 'max')).toThrow(/pooling must be 'max' or 'mean'/);
    expect(() => view.setScale('sqrt' as 'log')).toThrow(/scale must be 'linear' or 'log'/);
    expect([view.head, view.pooling]).toEqual([1, 'max']); // the last good settings stay
    const withView = engine().liveBufferCount();
    const rect = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: rect.left + 100, clientY: rect.top + 100, bubbles: true }));
    await expect.poll(() => engine().liveBufferCount(), { timeout: 5_000 }).toBeGreaterThan(withView); // the entry's read is under way
    view.destroy();
    view.destroy();
    const encoder = engine().device.createCommandEncoder();
    expect(() => view.render!(encoder, { time: 0, delta: 0, frame: 0 })).toThrow('ExplorerView was used after destroy().');
    encoder.finish();
    await expect.poll(() => engine().liveBufferCount(), { timeout: 20_000 }).toBe(live); // the read landed; the view freed all
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hovers.filter((h) => h !== null)).toEqual([]);
    canvas.remove();
    attention.destroy();
    qt!.destroy();
    kt!.destroy();
  });
});
