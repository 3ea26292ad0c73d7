// The long-sequence explorer: exact attention over N×N without ever holding it. An overview level is
// built once, progressively; panning and zooming then ask for finer tiles, computed within a per-frame GPU
// budget while frames keep presenting, and kept in a bounded LRU atlas. Every tile is exact (max or mean
// of exact P over its cells); coarser tiles show through until finer ones are ready.
import type { Engine } from '../../core/engine';
import { invalidArgument } from '../../core/errors';
import type { FrameParticipant } from '../../core/frame-loop';
import { Camera } from '../camera';
import { createCanvasSurface } from '../canvas-surface';
import type { ColormapName } from '../colormaps';
import { attachInteraction } from '../interaction';
import { TILE_BYTES, createExplorerPass, type TileInstance } from './explorer-pass';
import { createFrameCostMeter } from './frame-cost-meter';
import { PROFILE_STRIP_PX, createProfilePass, type AxisProfiles } from './profile-pass';
import { TileCache } from './tile-cache';
import type { Pooling, TileProducer } from './tile-producer';
import {
  createPyramid,
  levelForScale,
  tileHasEntries,
  tileRect,
  tilesAcross,
  visibleTiles,
  type TileKey,
} from './tile-pyramid';
import { CostModel, isDone, planFrame, type TileJob } from './tile-scheduler';

/**
 * How far the overview has got. `onProgress` and `view.progress` share one object, updated in place: copy it
 * to keep a snapshot.
 */
export interface ExplorerProgress {
  /** Fraction of the overview computed, 0..1. */
  fraction: number;
  /** Estimated milliseconds until the overview is complete (NaN before the first measurement). */
  etaMs: number;
  cancelled: boolean;
}

/**
 * The exact entry under the pointer: `weight` is P[query, key] of `head`, `score` its pre-softmax score
 * (−Infinity where the weight is 0, i.e. masked).
 */
export interface ExplorerHover {
  head: number;
  query: number;
  key: number;
  weight: number;
  score: number;
}

/** Options for `createExplorerView`. Defaults: head 0, pooling `'max'`, colormap `'viridis'`, scale `'linear'`. */
export interface ExplorerViewOptions {
  canvas: HTMLCanvasElement;
  producer: TileProducer;
  head?: number;
  pooling?: Pooling;
  colormap?: ColormapName;
  scale?: 'linear' | 'log';
  /** GPU milliseconds of tile work per frame (default 8). */
  budgetMs?: number;
  /** Bytes of the tile atlas (default 64 MiB: 256 tiles of 256×256 cells). */
  cacheBytes?: number;
  /** Called after each frame that computed tiles, and by `cancelOverview()`. */
  onProgress?: (progress: ExplorerProgress) => void;
  /**
   * Called with the entry under the pointer once it is read back (a stale read is dropped), or null when the
   * pointer leaves, is off the matrix, or the producer is not ready.
   */
  onHover?: (hover: ExplorerHover | null) => void;
  label?: string;
}

/**
 * An explorer of one attention matrix too large to hold: exact tiles are computed within a per-frame GPU
 * budget and kept in an LRU atlas; coarser tiles show until finer ones are ready. Made by
 * `createExplorerView`; add it to a frame loop, which runs its `compute` and `render`.
 */
export interface ExplorerView extends FrameParticipant {
  readonly camera: Camera;
  /** What the view shows: the producer's matrix, of this head, pooled this way (export reads them). */
  readonly producer: TileProducer;
  readonly head: number;
  readonly pooling: Pooling;
  /** Draws the tiles computed so far into any texture view of the given pixel size and format (export, tests). */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void;
  /** Shows another head and restarts the overview. Throws `InvalidArgumentError` outside 0..producer.heads − 1. */
  setHead(head: number): void;
  /** Changes how a cell pools the entries it covers ('max' or 'mean'), and restarts the overview. */
  setPooling(pooling: Pooling): void;
  /** Switches the colormap from the next frame on. */
  setColormap(name: ColormapName): void;
  /** Colours weights linearly over [0, 1], or by their logarithm over [1e-6, 1]. */
  setScale(scale: 'linear' | 'log'): void;
  /** Centres the view on entry (token, token), zoomed so that single entries are visible. */
  jumpTo(token: number): void;
  /** Stops building the overview; what is on screen is still refined. */
  cancelOverview(): void;
  /** Draws these profiles along the axes (column sums on top, entropy on the left); null removes them. */
  setProfiles(profiles: AxisProfiles | null): void;
  readonly progress: ExplorerProgress;
  /**
   * Removes the listeners and frees the view's GPU resources (a pointer read in flight reports nothing);
   * the producer stays the caller's. A second call does nothing.
   */
  destroy(): void;
}

const LOG_VMIN = 1e-6;
const POOLINGS: readonly Pooling[] = ['max', 'mean'];
const SCALES: readonly ('linear' | 'log')[] = ['linear', 'log'];

function checkedHead(head: number, heads: number): number {
  invalidArgument(Number.isInteger(head) && head >= 0 && head < heads, () => `head must be 0..${heads - 1}; got ${head}.`);
  return head;
}

function checkedChoice<T extends string>(what: string, value: T, choices: readonly T[]): T {
  invalidArgument(choices.includes(value), () => `${what} must be ${choices.map((c) => `'${c}'`).join(' or ')}; got '${String(value)}'.`);
  return value;
}

/**
 * Creates an explorer drawing `options.producer`'s matrix on `options.canvas`. The view does not own the
 * producer. Throws `InvalidArgumentError` for an empty matrix, a head outside the producer's, or an unknown
 * pooling or scale.
 */
export function createExplorerView(engine: Engine, options: ExplorerViewOptions): ExplorerView {
  const { producer } = options;
  const label = options.label ?? 'ExplorerView';
  invalidArgument(producer.rows >= 1 && producer.cols >= 1, () => 'The explorer needs a matrix of at least 1×1.');
  const state = {
    head: checkedHead(options.head ?? 0, producer.heads),
    pooling: checkedChoice('pooling', options.pooling ?? 'max', POOLINGS),
    scale: checkedChoice('scale', options.scale ?? 'linear', SCALES),
  };
  const pyramid = createPyramid(producer.rows, producer.cols);
  // The fitted matrix leaves room for the profile strips along the top and left.
  const camera = new Camera({ maxScale: 48, padding: PROFILE_STRIP_PX });
  camera.setBounds({ x: 0, y: 0, width: producer.cols, height: producer.rows });
  const slotCount = Math.max(16, Math.floor((options.cacheBytes ?? 64 * 2 ** 20) / TILE_BYTES));
  const pass = createExplorerPass(engine, slotCount, label);
  const profilePass = createProfilePass(engine, label);
  const cache = new TileCache(slotCount);
  const cost = new CostModel();
  const meter = createFrameCostMeter(engine, label);
  const jobs = new Map<string, TileJob>();
  const budgetMs = options.budgetMs ?? 8;
  const progress: ExplorerProgress = { fraction: 0, etaMs: NaN, cancelled: false };
  let overviewLevel = 0;
  let overviewStarted: number | null = null;
  let viewVersion = -1;
  const drawList: TileInstance[] = [];

  pass.setColormap(options.colormap ?? 'viridis');
  const surface = createCanvasSurface(engine, options.canvas, (w, h) => {
    camera.setViewport(w, h);
    overviewLevel = levelForScale(pyramid, camera.fitScale());
  });
  let hoverToken = 0;
  let destroyed = false;
  const detach = attachInteraction(options.canvas, camera, {
    hover: (x, y) => void hoverAt(x, y),
    leave: () => {
      hoverToken++;
      options.onHover?.(null);
    },
  });

  const keyOf = (k: TileKey) => `${state.head}/${state.pooling}/${k.level}/${k.tx}/${k.ty}`;

  function jobFor(key: TileKey): TileJob | null {
    const rect = tileRect(pyramid, key);
    if (!tileHasEntries(rect, producer.causal)) return null;
    const id = keyOf(key);
    let job = jobs.get(id);
    // A tile whose slot went to another one (LRU) starts again.
    if (job && job.rowsDone > 0 && !cache.has(id)) job.rowsDone = 0;
    if (!job) {
      job = { id, rect, rowsDone: 0 };
      jobs.set(id, job);
    }
    return job;
  }

  function allTiles(level: number): TileKey[] {
    const across = tilesAcross(pyramid, level);
    const keys: TileKey[] = [];
    for (let ty = 0; ty < across.y; ty++) for (let tx = 0; tx < across.x; tx++) keys.push({ level, tx, ty });
    return keys;
  }

  function visibleRect() {
    const a = camera.pixelToWorld(0, 0);
    const b = camera.pixelToWorld(camera.width, camera.height);
    return { x0: Math.max(0, a.x), y0: Math.max(0, a.y), x1: Math.min(producer.cols, b.x), y1: Math.min(producer.rows, b.y) };
  }

  /** Jobs in priority order: what the screen needs now, then the rest of the overview. */
  function wantedJobs(): TileJob[] {
    const target = levelForScale(pyramid, camera.scale);
    const view = visibleRect();
    const wanted = visibleTiles(pyramid, target, view);
    if (!progress.cancelled) wanted.push(...visibleTiles(pyramid, overviewLevel, view), ...allTiles(overviewLevel));
    const seen = new Set<string>();
    const out: TileJob[] = [];
    for (const key of wanted) {
      const job = jobFor(key);
      if (job && !seen.has(job.id) && !isDone(job)) {
        seen.add(job.id);
        out.push(job);
      }
    }
    return out;
  }

  // Progress of the overview in entries, and an ETA from the wall-clock rate so far.
  function updateProgress(): void {
    let total = 0;
    let done = 0;
    for (const key of allTiles(overviewLevel)) {
      const job = jobFor(key);
      if (!job) continue;
      const entries = (job.rect.rowEnd - job.rect.rowStart) * (job.rect.colEnd - job.rect.colStart);
      total += entries;
      done += (entries * Math.min(job.rowsDone, job.rect.height)) / job.rect.height;
    }
    const now = performance.now();
    if (progress.fraction === 0 || overviewStarted === null) overviewStarted = now;
    progress.fraction = total > 0 ? done / total : 1;
    const elapsed = now - overviewStarted;
    progress.etaMs = progress.fraction > 0 && elapsed > 0 ? (elapsed * (1 - progress.fraction)) / progress.fraction : NaN;
    options.onProgress?.(progress);
  }

  function compute(encoder: GPUCommandEncoder): void {
    if (!producer.isReady(state.head)) return;
    const strips = planFrame(wantedJobs(), budgetMs, cost);
    let entries = 0;
    strips.forEach((strip, index) => {
      const slot = cache.allocate(strip.job.id);
      if (slot === null) return;
      cache.pin(strip.job.id);
      const request = {
        head: state.head, rect: strip.job.rect, pooling: state.pooling,
        cellRowStart: strip.cellRowStart, cellRowEnd: strip.cellRowEnd,
      };
      const timestampWrites = meter.timestampWrites(index, strips.length);
      producer.recordTileStrip(encoder, request, pass.atlas, slot * TILE_BYTES, timestampWrites);
      strip.job.rowsDone = strip.cellRowEnd;
      if (isDone(strip.job)) cache.unpin(strip.job.id);
      entries += strip.entries;
    });
    if (strips.length > 0) {
      meter.record(encoder, entries, (measuredEntries, ms) => cost.observe(measuredEntries, ms));
      updateProgress();
    }
  }

  function buildDrawList(): void {
    drawList.length = 0;
    const target = levelForScale(pyramid, camera.scale);
    const view = visibleRect();
    for (let level = 0; level <= target; level++) {
      for (const key of visibleTiles(pyramid, level, view)) {
        const id = keyOf(key);
        const job = jobs.get(id);
        const slot = job && job.rowsDone > 0 ? cache.get(id) : undefined;
        if (!job || slot === undefined) continue;
        const r = job.rect;
        drawList.push({
          x0: r.colStart, y0: r.rowStart, x1: r.colEnd, y1: r.rowEnd,
          slot, width: r.width, height: r.height, rowsReady: job.rowsDone,
        });
      }
    }
  }

  function syncView(): void {
    if (viewVersion === camera.version) return;
    viewVersion = camera.version;
    const log = state.scale === 'log';
    const [lo, hi] = log ? [Math.log(LOG_VMIN), 0] : [0, 1];
    const camera2d = {
      center_x: camera.centerX, center_y: camera.centerY, scale: camera.scale,
      viewport_w: camera.width, viewport_h: camera.height,
    };
    pass.setView({ ...camera2d, lo, inv_range: 1 / (hi - lo), log_scale: log ? 1 : 0 });
    profilePass.setView({ ...camera2d, nq: producer.rows, nk: producer.cols, head: state.head });
  }

  async function hoverAt(x: number, y: number): Promise<void> {
    const token = ++hoverToken;
    const world = camera.pixelToWorld(x, y);
    const [query, key] = [Math.floor(world.y), Math.floor(world.x)];
    if (query < 0 || key < 0 || query >= producer.rows || key >= producer.cols || !producer.isReady(state.head)) {
      options.onHover?.(null);
      return;
    }
    const entry = await producer.readEntry(state.head, query, key);
    if (token === hoverToken) options.onHover?.({ head: state.head, query, key, ...entry }); // destroy() bumps the token
  }

  // After a change of head or pooling the unfinished tiles of the old one are no longer wanted: their slots
  // must not stay pinned, and the overview starts again for the new one: its progress says so at once, not
  // the old overview's fraction until the next frame.
  function switchTiles(): void {
    for (const job of jobs.values()) if (!isDone(job)) cache.unpin(job.id);
    overviewStarted = null;
    viewVersion = -1;
    progress.fraction = 0;
    progress.etaMs = NaN;
    options.onProgress?.(progress);
  }

  function forgetTiles(): void {
    jobs.clear();
    cache.clear();
  }

  return {
    camera,
    producer,
    get head() {
      return state.head;
    },
    get pooling() {
      return state.pooling;
    },
    progress,
    compute,
    render(encoder) {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      syncView();
      buildDrawList();
      const target = surface.context.getCurrentTexture().createView();
      pass.draw(encoder, target, surface.format, drawList, (renderPass) => profilePass.record(renderPass, surface.format));
    },
    draw(encoder, target, width, height, format = 'rgba8unorm') {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      camera.setViewport(width, height);
      syncView();
      buildDrawList();
      pass.draw(encoder, target, format, drawList, (renderPass) => profilePass.record(renderPass, format));
    },
    setHead(head) {
      state.head = checkedHead(head, producer.heads);
      switchTiles();
    },
    setProfiles: (profiles) => profilePass.setProfiles(profiles),
    setPooling(pooling) {
      state.pooling = checkedChoice('pooling', pooling, POOLINGS);
      switchTiles();
    },
    setColormap: (name) => pass.setColormap(name),
    setScale(scale) {
      state.scale = checkedChoice('scale', scale, SCALES);
      viewVersion = -1;
    },
    jumpTo(token) {
      invalidArgument(Number.isInteger(token) && token >= 0 && token < producer.rows, () => `token must be 0..${producer.rows - 1}; got ${token}.`);
      camera.zoomAt(camera.width / 2, camera.height / 2, 8 / camera.scale);
      camera.pan((camera.centerX - token - 0.5) * camera.scale, (camera.centerY - token - 0.5) * camera.scale);
    },
    cancelOverview() {
      progress.cancelled = true;
      options.onProgress?.(progress);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      hoverToken++; // a pointer read still in flight reports nothing
      detach();
      surface.destroy();
      pass.destroy();
      profilePass.destroy();
      meter.destroy();
      forgetTiles();
    },
  };
}
