// Frame time of the head view with every link of 12 heads drawn, at n = 128 and 512 tokens (12·n² links:
// 196,608 and 3,145,728), on two 512×512 canvases and a 512×512 SVG in one page, from the same P: random
// causal softmax rows (seeded; above the diagonal exactly 0), line width max(1, 4·p) pixels, opacity p.
//   ours: createHeadView: a compute pass lists the links that change a pixel (P > 0 and at least half a
//         byte step of opacity), then two indirect draws per head, 1-pixel lines for links at most a pixel
//         wide and quads for the rest, whose vertex shaders read P from its GPU buffer (no upload, no
//         readback). ours_ms: GPU time from timestamps (empty compute passes before and
//         after bracket both passes); ours wall: record → submit → onSubmittedWorkDone. ours_bytes: the
//         list of drawn links (4 bytes a link) and the view's uniforms.
//   regl: createReglLinks (WebGL2), fed from the CPU as WebGL must be: P uploaded as a texture every
//         frame; per head, 2 vertices per link as LINES (the hairlines) and 6 as TRIANGLES (the wider
//         links), the other kind moved off screen; a 1-pixel readPixels to wait for the GL. Wall clock.
//   svg:  the BertViz way: one <line> per nonzero link (the zeros above the diagonal are left out, which
//         favours SVG: BertViz draws them at opacity 0), stroke-width and stroke-opacity set per line from
//         P each frame (alternating between two P so that every frame changes), then two
//         requestAnimationFrame round trips: the second callback runs only after Chromium has done the
//         style, layout and paint recording of the frame holding the change (svg_main_ms). The rest of
//         the frame, rasterizing the lines and compositing, runs on other threads where no page clock
//         sees it: a screen capture of the SVG (bench/run.js, Page.captureScreenshot) returns only once
//         it is done, and that capture's time less the median of 3 captures with nothing changed
//         (svg_capture_ms: encoding, round trip) is svg_raster_ms. peer_ms = main + raster per frame.
//         The SVG is on screen at the window's top left: Chromium rasterizes nothing off screen, which
//         is how the SVG's time was once a main-thread-only lower bound. Without bench/run.js (no
//         captures) it still is, and svg_raster_ms is null. Building the lines and their first raster
//         (once) is reported separately as svg_build_ms.
// ratio = ours_ms / peer_ms (below 1: ours is faster); ours_fps_over_peer_wall = peer_ms / ours wall ms.
// max_abs_err: for regl, the largest colour-byte difference between ours and regl over the pixels both
// draw away from line edges (see imageError); null for svg (Chromium antialiases its lines).
import {
  createGpuTimer,
  createHeadView,
  createReglLinks,
  headColour,
  headViewLayout,
  seededRandom,
  tensorFromArray,
  type Engine,
} from '../../src/index';
import { median, trackBufferAllocations, type BenchCase, type SampleCounts } from '../harness';
import { renderPeerCase, type RenderMeasured } from '../render-peers';
import { benchCanvas, CANVAS_SIZE, drawToPixels } from './feature-grid';

type LinkPeer = 'regl' | 'svg';
type HeadViewParams = { n: number; peer: LinkPeer };

const HEADS = 12;
const LINE_WIDTH = 4;
/** SVG frames of 1.5 M lines take seconds here: fewer samples at n = 512. */
const SVG_SAMPLES_AT_512 = 3;

interface Measured extends RenderMeasured<LinkPeer> {
  reglError: number;
  svgLines: number;
  svgBuildMs: number;
  /** The SVG's frames up to the end of the main thread's part (style, layout, paint recording). */
  svgMain: number[];
  /** The rest of each of those frames: raster and composite, from a screen capture (empty without captures). */
  svgRaster: number[];
  /** What a capture of the SVG costs with nothing changed (subtracted from each capture); null without. */
  captureMs: number | null;
}

export const headViewCase: BenchCase<HeadViewParams> = {
  name: 'head-view',
  peer: 'regl / svg',
  params: [128, 512].flatMap((n) => (['regl', 'svg'] as const).map((peer) => ({ n, peer }))),
  warmup: 2,
  samples: 10,
  setup() {
    throw new Error('head-view measures itself');
  },
  // Both peers' rows of one n come from one run.
  measure: renderPeerCase('head-view', (p: HeadViewParams) => p.n, measureAll, (m: Measured, p) => ({
    max_abs_err: p.peer === 'regl' ? m.reglError : null,
    links: HEADS * p.n * p.n,
    ...(p.peer === 'svg' ? svgColumns(m) : {}),
  })),
};

/** The SVG's frame in its two parts; its raster is null (and the frame a lower bound) without captures. */
function svgColumns(m: Measured): Record<string, unknown> {
  return {
    svg_main_ms: median(m.svgMain),
    svg_raster_ms: m.svgRaster.length > 0 ? median(m.svgRaster) : null,
    svg_capture_ms: m.captureMs,
    svg_lines: m.svgLines,
    svg_build_ms: m.svgBuildMs,
  };
}

/** [HEADS, n, n]: row i is a softmax of seeded logits in [-4, 4) over keys j ≤ i, and 0 for j > i. */
export function causalSoftmax(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const p = new Float32Array(HEADS * n * n);
  const row = new Float64Array(n);
  for (let h = 0; h < HEADS; h++)
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += row[j] = Math.exp((random() * 2 - 1) * 4);
      for (let j = 0; j <= i; j++) p[(h * n + i) * n + j] = row[j]! / sum;
    }
  return p;
}

async function measureAll(engine: Engine, n: number, counts: SampleCounts): Promise<Measured> {
  const p = causalSoftmax(n, 6060 + n);
  const other = causalSoftmax(n, 7070 + n); // the SVG's alternate frame
  const weights = tensorFromArray(engine, p, [HEADS, n, n], { label: 'bench.headView.P' });
  const tokens = Array.from({ length: n }, (_, i) => `t${i}`);
  const ours = await buildOurs(engine, weights, tokens);
  const reglCanvas = benchCanvas();
  const regl = createReglLinks(reglCanvas, { heads: HEADS, tokens: n, lineWidth: LINE_WIDTH });
  const capture = screenCapture();
  const heapBefore = jsHeapBytes();
  const buildStarted = performance.now();
  const svg = buildSvg(p, n);
  await animationFrames(2);
  if (capture) await capture(svg.element); // the first raster of every line: part of building them
  const svgBuildMs = performance.now() - buildStarted;
  const heapGrowth = jsHeapBytes() - heapBefore;
  const svgBytes = heapGrowth >= 0 ? heapGrowth : NaN; // a collection during the build hides the growth
  const svgSamples = n >= 512 ? Math.min(counts.samples, SVG_SAMPLES_AT_512) : counts.samples;
  let flip = false;
  const peerFrames: Record<LinkPeer, () => Promise<number>> = {
    regl: async () => {
      const started = performance.now();
      regl.upload(p);
      regl.render();
      regl.finish();
      return performance.now() - started;
    },
    // Up to the end of the main thread's part of the changed frame (style, layout, paint recording).
    svg: async () => {
      flip = !flip;
      const started = performance.now();
      svg.update(flip ? other : p);
      await animationFrames(2);
      return performance.now() - started;
    },
  };
  try {
    const m: Measured = {
      oursGpu: [], oursWall: [], peers: { regl: [], svg: [] },
      oursBytes: ours.bytes,
      // regl: the P texture, its vertex-index buffer (6 floats per link of one chunk of ≤ 2^21 links)
      // and the palette; svg: JS heap growth while the lines were built (NaN where performance.memory is
      // missing or a collection ran meanwhile; DOM memory outside the JS heap is not counted).
      peerBytes: { regl: HEADS * n * n * 4 + Math.min(HEADS * n * n, 1 << 21) * 6 * 4 + HEADS * 4, svg: svgBytes },
      reglError: 0,
      svgLines: svg.lines,
      svgBuildMs,
      svgMain: [],
      svgRaster: [],
      captureMs: null,
    };
    for (let i = 0; i < counts.warmup; i++) {
      await ours.frame(false);
      await peerFrames.regl();
      if (i === 0) await peerFrames.svg();
    }
    if (capture) m.captureMs = await unchangedCaptureMs(capture, svg.element);
    for (let i = 0; i < counts.samples; i++) {
      m.oursWall.push((await ours.frame(false))!);
      const gpu = await ours.frame(true);
      if (gpu !== null) m.oursGpu.push(gpu);
      m.peers.regl.push(await peerFrames.regl());
      if (i >= svgSamples) continue;
      m.svgMain.push(await peerFrames.svg());
      // The rest of the SVG's frame runs on other threads: the capture waits for it.
      if (capture) m.svgRaster.push(Math.max(0, (await capture(svg.element)) - m.captureMs!));
    }
    m.peers.svg = m.svgMain.map((main, i) => main + (m.svgRaster[i] ?? 0));
    const oursPixels = await ours.pixels();
    regl.upload(p);
    regl.render();
    m.reglError = imageError(oursPixels, regl.readPixels());
    return m;
  } finally {
    svg.destroy();
    regl.destroy();
    ours.destroy();
    weights.destroy();
    for (const canvas of document.querySelectorAll('canvas[data-bench="feature-grid"]')) canvas.remove();
  }
}

/** ms a screen capture of `element`'s rectangle takes (bench/run.js's window.glassboxCaptureScreen). */
type Capture = (element: Element) => Promise<number>;

const CAPTURE_BASELINE_SAMPLES = 3;

/** null where the page runs without bench/run.js, which provides the captures. */
function screenCapture(): Capture | null {
  const captureScreen = window.glassboxCaptureScreen;
  if (!captureScreen) return null;
  return async (element) => {
    const { left, top, width, height } = element.getBoundingClientRect();
    const started = performance.now();
    await captureScreen({ x: left, y: top, width, height });
    return performance.now() - started;
  };
}

/** Median ms of captures of `element` with nothing changed: the capture's own cost (encode, round trip). */
async function unchangedCaptureMs(capture: Capture, element: Element): Promise<number> {
  await capture(element); // waits for any raster still running, which the baseline must not count
  const times: number[] = [];
  for (let i = 0; i < CAPTURE_BASELINE_SAMPLES; i++) times.push(await capture(element));
  return median(times);
}

interface OursLinks {
  canvas: HTMLCanvasElement;
  bytes: number;
  frame(timed: boolean): Promise<number | null>;
  pixels(): Promise<Uint8Array>;
  destroy(): void;
}

async function buildOurs(engine: Engine, weights: ReturnType<typeof tensorFromArray>, tokens: string[]): Promise<OursLinks> {
  const device = engine.device;
  const allocations = trackBufferAllocations(device);
  const canvas = benchCanvas();
  const view = createHeadView(engine, {
    canvas, weights, tokens, labels: false, interactive: false, lineWidth: LINE_WIDTH, label: 'bench.headView.view',
  });
  await engine.run('bench.headView.first', (encoder) => view.render(encoder));
  const bytes = allocations.stop(); // the view's Links uniforms and head colours (P is the caller's)
  const timer = createGpuTimer(engine, 1, 'bench.headView.timer');
  const bracket: [GPUComputePassDescriptor, GPUComputePassDescriptor] = [{ label: 'bench.headView.begin' }, { label: 'bench.headView.end' }];
  return {
    canvas,
    bytes,
    async frame(timed) {
      const started = performance.now();
      const encoder = device.createCommandEncoder({ label: 'bench.headView.frame' });
      const writes = timed ? timer.pass('ours') : undefined;
      if (writes) {
        bracket[0].timestampWrites = { querySet: writes.querySet, beginningOfPassWriteIndex: writes.beginningOfPassWriteIndex! };
        bracket[1].timestampWrites = { querySet: writes.querySet, endOfPassWriteIndex: writes.endOfPassWriteIndex! };
        encoder.beginComputePass(bracket[0]).end();
      }
      view.render(encoder);
      if (writes) {
        encoder.beginComputePass(bracket[1]).end();
        timer.resolve(encoder);
      }
      engine.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      const wall = performance.now() - started;
      if (!timed) return wall;
      return writes ? ((await timer.read()).get('ours') ?? null) : null;
    },
    pixels: () => drawToPixels(engine, (encoder, target) => view.draw(encoder, target, CANVAS_SIZE, CANVAS_SIZE, 'rgba8unorm')),
    destroy() {
      timer.destroy();
      view.destroy();
    },
  };
}

/** One SVG <line> per nonzero link, placed as the head view places its links; update() restyles them all. */
function buildSvg(p: Float32Array, n: number): { element: SVGSVGElement; lines: number; update(values: Float32Array): void; destroy(): void } {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(CANVAS_SIZE));
  svg.setAttribute('height', String(CANVAS_SIZE));
  // On screen, at the top left of the window (over the canvases): Chromium rasterizes only what is on screen,
  // and captures of a rectangle inside the default 800×600 window reuse its raster (in a larger viewport
  // every capture rasterized the whole SVG again).
  svg.style.cssText = `display:block;background:#1f1f1f;width:${CANVAS_SIZE}px;height:${CANVAS_SIZE}px;` +
    'position:fixed;left:0;top:0;z-index:1';
  const layout = headViewLayout(CANVAS_SIZE, CANVAS_SIZE, n);
  const elements: SVGLineElement[] = [];
  const index: number[] = [];
  for (let h = 0; h < HEADS; h++) {
    const group = document.createElementNS(ns, 'g');
    const [r, g, b] = headColour(h).map((c) => Math.round(c * 255));
    group.setAttribute('stroke', `rgb(${r},${g},${b})`);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const k = (h * n + i) * n + j;
        if (!(p[k]! > 0)) continue;
        const line = document.createElementNS(ns, 'line');
        line.setAttribute('x1', String(layout.queryX));
        line.setAttribute('y1', String(layout.top + i * layout.row));
        line.setAttribute('x2', String(layout.keyX));
        line.setAttribute('y2', String(layout.top + j * layout.row));
        group.append(line);
        elements.push(line);
        index.push(k);
      }
    svg.append(group);
  }
  const update = (values: Float32Array) => {
    for (let e = 0; e < elements.length; e++) {
      const value = values[index[e]!]!;
      elements[e]!.setAttribute('stroke-width', String(Math.max(1, LINE_WIDTH * value)));
      elements[e]!.setAttribute('stroke-opacity', String(value));
    }
  };
  update(p);
  document.body.append(svg);
  return { element: svg, lines: elements.length, update, destroy: () => svg.remove() };
}

function animationFrames(count: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : requestAnimationFrame(() => step(left - 1)));
    step(count);
  });
}

function jsHeapBytes(): number {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : NaN;
}

/**
 * Largest colour-byte difference between ours and regl over the pixels whose 3×3 neighbourhood is uniform
 * in both pictures: there both rasterizers agree which links cover the pixel, so only the blending
 * arithmetic can differ (edges, where float32 positions may tip a pixel either way, are left out).
 */
function imageError(a: Uint8Array, b: Uint8Array): number {
  let worst = 0;
  const size = CANVAS_SIZE;
  const flat = (img: Uint8Array, x: number, y: number) => {
    const centre = (y * size + x) * 4;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const at = ((y + dy) * size + x + dx) * 4;
        for (let c = 0; c < 3; c++) if (img[at + c] !== img[centre + c]) return false;
      }
    return true;
  };
  for (let y = 1; y < size - 1; y++)
    for (let x = 1; x < size - 1; x++) {
      if (!flat(a, x, y) || !flat(b, x, y)) continue;
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a[(y * size + x) * 4 + c]! - b[(y * size + x) * 4 + c]!));
    }
  return worst;
}
