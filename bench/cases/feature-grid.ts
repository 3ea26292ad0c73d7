// Frame time of the feature-map grid: K maps of 56×56 from one activation buffer [1, 56, 56, K] (NHWC),
// drawn every frame with fresh statistics, on three canvases of the same size (512×512) showing the same
// grid (ceil(√K) columns, fitted to the canvas).
//   ours:          createFeatureStats + createFeatureGridView, one encoder, one submit; the view reads
//                  the activation buffer itself. ours_ms: GPU time from timestamps (empty compute passes
//                  before and after bracket the stats pass and the render pass); ours wall: record →
//                  submit → onSubmittedWorkDone.
//   regl:          the WebGL2 fallback, fed from a CPU copy of the activations: CPU statistics, one
//                  texture upload of all K maps, one draw, a 1-pixel readPixels to wait for the GL.
//   regl-readback: the same, with the activations read back from the GPU buffer every frame first (how
//                  the fallback is fed when the values live on the GPU).
//   canvas2d:      CPU statistics, colormap on the CPU, putImageData per map, drawImage per map, and a
//                  1-pixel getImageData to wait for the canvas.
// Peers are wall-clock per frame, upload included. ratio = ours_ms / peer_ms (below 1: ours is faster);
// the fps ratio ours/peer is its inverse. max_abs_err: the largest difference of a colour byte between
// ours and the peer at every map's centre pixel (the two should agree; 0..255).
import {
  createCanvas2dGrid,
  createFeatureGridFallback,
  createFeatureGridView,
  createFeatureStats,
  createGpuTimer,
  featureLayer,
  mapRect,
  randomFloats,
  tensorFromArray,
  type Camera,
  type Canvas2dGrid,
  type CpuFeatureLayer,
  type Engine,
  type FeatureGridFallback,
  type FeatureGridLayout,
  type FeatureGridView,
  type FeatureLayer,
  type FeatureStats,
} from '../../src/index';
import { trackBufferAllocations, type BenchCase, type SampleCounts } from '../harness';
import { renderPeerCase, type RenderMeasured } from '../render-peers';

type GridPeer = 'regl' | 'regl-readback' | 'canvas2d';
type FeatureGridParams = { K: number; peer: GridPeer };

export const MAP_SIZE = 56;
export const CANVAS_SIZE = 512;
/** The peers that read back or colormap on the CPU take seconds per frame on SwiftShader at large K. */
const SLOW_PEER_SAMPLES_AT_4096 = 5;

interface Measured extends RenderMeasured<GridPeer> {
  centreError: Record<GridPeer, number>;
}

export const featureGridCase: BenchCase<FeatureGridParams> = {
  name: 'feature-grid',
  peer: 'regl / canvas2d',
  params: [256, 1024, 4096].flatMap((K) => (['regl', 'regl-readback', 'canvas2d'] as const).map((peer) => ({ K, peer }))),
  warmup: 2,
  samples: 10,
  setup() {
    throw new Error('feature-grid measures itself');
  },
  // Every row of one K comes from one run.
  measure: renderPeerCase('feature-grid', (p: FeatureGridParams) => p.K, measureAll, (m: Measured, p) => ({ max_abs_err: m.centreError[p.peer] })),
};

async function measureAll(engine: Engine, K: number, counts: SampleCounts): Promise<Measured> {
  const values = randomFloats(MAP_SIZE * MAP_SIZE * K, 4242 + K, 3);
  const shape = { name: 'act', batch: 1, height: MAP_SIZE, width: MAP_SIZE, channels: K };
  const cpuLayers: CpuFeatureLayer[] = [{ ...shape, layout: 'NHWC', data: values }];
  const tensor = tensorFromArray(engine, values, [1, MAP_SIZE, MAP_SIZE, K], { label: 'bench.featureGrid.act', layout: 'NHWC' });
  const columns = Math.ceil(Math.sqrt(K));
  const slow = K >= 4096 ? Math.min(counts.samples, SLOW_PEER_SAMPLES_AT_4096) : counts.samples;
  const ours = await buildOurs(engine, featureLayer('act', tensor, 'NHWC'), columns);
  const regl = createFeatureGridFallback(benchCanvas(), { layers: cpuLayers, columns, interactive: false, autoSize: false });
  const canvas2dCanvas = benchCanvas();
  const canvas2d = createCanvas2dGrid(canvas2dCanvas, { layers: cpuLayers, columns, interactive: false, autoSize: false });
  const canvas2dContext = canvas2dCanvas.getContext('2d')!; // the grid's own context
  const peerFrames: Record<GridPeer, () => Promise<number>> = {
    regl: async () => reglFrame(regl, cpuLayers),
    'regl-readback': async () => {
      const started = performance.now();
      const data = await tensor.read(); // the honest feed of a fallback whose values live on the GPU
      reglFrame(regl, [{ ...shape, layout: 'NHWC', data }]);
      return performance.now() - started;
    },
    canvas2d: async () => canvas2dFrame(canvas2d, canvas2dContext, cpuLayers),
  };
  try {
    const m: Measured = {
      oursGpu: [],
      oursWall: [],
      peers: { regl: [], 'regl-readback': [], canvas2d: [] },
      oursBytes: ours.bytes,
      peerBytes: {
        // What each peer allocates for the grid, from the sizes it asks for: the activation texture
        // (atlas), vertex data and colormap for regl; the atlas canvas and one ImageData for Canvas2D.
        regl: K * MAP_SIZE * MAP_SIZE * 4 + K * 6 * 5 * 4 + 1024,
        'regl-readback': 2 * K * MAP_SIZE * MAP_SIZE * 4 + K * 6 * 5 * 4 + 1024,
        canvas2d: Math.ceil(Math.sqrt(K)) ** 2 * MAP_SIZE * MAP_SIZE * 4 + MAP_SIZE * MAP_SIZE * 4,
      },
      centreError: { regl: 0, 'regl-readback': 0, canvas2d: 0 },
    };
    for (let i = 0; i < counts.warmup; i++) {
      await ours.frame(false);
      for (const peer of Object.values(peerFrames)) await peer();
    }
    // Alternate the sides so drift hits all of them.
    for (let i = 0; i < counts.samples; i++) {
      m.oursWall.push((await ours.frame(false))!);
      const gpu = await ours.frame(true);
      if (gpu !== null) m.oursGpu.push(gpu);
      for (const [name, frame] of Object.entries(peerFrames) as [GridPeer, () => Promise<number>][]) {
        if (name === 'regl' || i < slow) m.peers[name].push(await frame());
      }
    }
    const oursPixels = await ours.pixels();
    regl.render(); // its drawing buffer is not preserved across tasks: draw again, read in the same task
    const reglPixels = regl.readPixels();
    const canvasPixels = canvas2dPixels(canvas2dContext);
    const layout = ours.view.layout;
    m.centreError.regl = centreError(oursPixels, reglPixels, ours.view.camera, layout);
    m.centreError['regl-readback'] = m.centreError.regl;
    m.centreError.canvas2d = centreError(oursPixels, canvasPixels, ours.view.camera, layout);
    return m;
  } finally {
    ours.destroy();
    regl.destroy();
    canvas2d.destroy();
    tensor.destroy();
    for (const canvas of document.querySelectorAll('canvas[data-bench="feature-grid"]')) canvas.remove();
  }
}

export function benchCanvas(): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = CANVAS_SIZE;
  canvas.height = CANVAS_SIZE;
  canvas.style.cssText = `width: ${CANVAS_SIZE}px; height: ${CANVAS_SIZE}px; display: block`;
  canvas.dataset['bench'] = 'feature-grid';
  document.body.append(canvas);
  return canvas;
}

interface OursGrid {
  view: FeatureGridView;
  stats: FeatureStats;
  bytes: number;
  /** One frame; with `timed`, its GPU milliseconds (null without timestamps), else its wall milliseconds. */
  frame(timed: boolean): Promise<number | null>;
  /** The grid drawn into a 512×512 rgba8unorm texture, read back (after timing only). */
  pixels(): Promise<Uint8Array>;
  destroy(): void;
}

async function buildOurs(engine: Engine, layer: FeatureLayer, columns: number): Promise<OursGrid> {
  const device = engine.device;
  const allocations = trackBufferAllocations(device);
  const layers = [layer];
  const stats = createFeatureStats(engine, layers, { label: 'bench.featureGrid.stats' });
  const view = createFeatureGridView(engine, {
    canvas: benchCanvas(), layers, stats, columns, labels: null, label: 'bench.featureGrid.view',
  });
  const timer = createGpuTimer(engine, 1, 'bench.featureGrid.timer');
  const bracket: [GPUComputePassDescriptor, GPUComputePassDescriptor] = [{ label: 'bench.featureGrid.begin' }, { label: 'bench.featureGrid.end' }];
  const record = (encoder: GPUCommandEncoder) => {
    stats.compute(encoder, layers);
    view.render(encoder);
  };
  await engine.run('bench.featureGrid.first', record);
  await device.queue.onSubmittedWorkDone();
  const bytes = allocations.stop();
  return {
    view,
    stats,
    bytes,
    async frame(timed) {
      const started = performance.now();
      const encoder = device.createCommandEncoder({ label: 'bench.featureGrid.frame' });
      const writes = timed ? timer.pass('ours') : undefined;
      if (writes) {
        bracket[0].timestampWrites = { querySet: writes.querySet, beginningOfPassWriteIndex: writes.beginningOfPassWriteIndex! };
        bracket[1].timestampWrites = { querySet: writes.querySet, endOfPassWriteIndex: writes.endOfPassWriteIndex! };
        encoder.beginComputePass(bracket[0]).end();
      }
      record(encoder);
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
    async pixels() {
      return drawToPixels(engine, (encoder, target) => {
        stats.compute(encoder, layers);
        view.draw(encoder, target, CANVAS_SIZE, CANVAS_SIZE, 'rgba8unorm');
      });
    },
    destroy() {
      timer.destroy();
      view.destroy();
      stats.destroy();
    },
  };
}

function reglFrame(regl: FeatureGridFallback, layers: CpuFeatureLayer[]): number {
  const started = performance.now();
  regl.update(layers);
  regl.render();
  regl.finish();
  return performance.now() - started;
}

function canvas2dFrame(grid: Canvas2dGrid, context: CanvasRenderingContext2D, layers: CpuFeatureLayer[]): number {
  const started = performance.now();
  grid.update(layers);
  grid.render();
  context.getImageData(0, 0, 1, 1); // waits for the canvas to finish drawing
  return performance.now() - started;
}

function canvas2dPixels(context: CanvasRenderingContext2D): Uint8Array {
  const data = context.getImageData(0, 0, CANVAS_SIZE, CANVAS_SIZE).data;
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Largest colour-byte difference at the centre pixel of every map, both grids fitted by the same camera.
 * Maps here are smaller than 56 pixels, so each pixel shows one of several texels: a pixel whose centre
 * lies within 0.05 pixel of a texel edge is skipped, since the rasterizers' float32 positions differ by
 * up to ~0.03 pixel (measured on SwiftShader) and either neighbour may be picked.
 */
function centreError(a: Uint8Array, b: Uint8Array, camera: Camera, layout: FeatureGridLayout): number {
  let worst = 0;
  const texel = (t: number) => t * MAP_SIZE;
  for (const section of layout.sections) {
    for (let c = 0; c < section.channels; c++) {
      const rect = mapRect(layout, section, c);
      const p = camera.worldToPixel(rect.x + rect.width / 2, rect.y + rect.height / 2);
      const [x, y] = [Math.floor(p.x), Math.floor(p.y)];
      if (x < 0 || y < 0 || x >= CANVAS_SIZE || y >= CANVAS_SIZE) continue;
      const centre = camera.pixelToWorld(x + 0.5, y + 0.5);
      const margin = (0.05 * MAP_SIZE) / (rect.width * camera.scale); // 0.05 pixel in texels
      const ambiguous = (q: number) => Math.abs(q - Math.round(q)) < margin;
      if (ambiguous(texel((centre.x - rect.x) / rect.width)) || ambiguous(texel((centre.y - rect.y) / rect.height))) continue;
      for (let k = 0; k < 3; k++) {
        const i = (y * CANVAS_SIZE + x) * 4 + k;
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      }
    }
  }
  return worst;
}

/** Records `draw` into a fresh rgba8unorm target of the canvas size and returns its pixels, tightly packed. */
export async function drawToPixels(engine: Engine, draw: (encoder: GPUCommandEncoder, target: GPUTextureView) => void): Promise<Uint8Array> {
  const device = engine.device;
  const texture = device.createTexture({
    label: 'bench.featureGrid.target',
    size: [CANVAS_SIZE, CANVAS_SIZE],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = CANVAS_SIZE * 4; // 2048: already a multiple of 256
  const staging = engine.createBuffer({
    label: 'bench.featureGrid.pixels',
    size: bytesPerRow * CANVAS_SIZE,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  try {
    await engine.run('bench.featureGrid.pixels', (encoder) => {
      draw(encoder, texture.createView({ label: 'bench.featureGrid.targetView' }));
      encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [CANVAS_SIZE, CANVAS_SIZE]);
    });
    await staging.mapAsync(GPUMapMode.READ);
    const pixels = new Uint8Array(staging.getMappedRange()).slice();
    staging.unmap();
    return pixels;
  } finally {
    staging.destroy();
    texture.destroy();
  }
}
