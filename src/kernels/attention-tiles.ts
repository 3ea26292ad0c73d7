// Kernel wrapper for shaders/compute/attention-tiles.wgsl: a grid of cells over a rectangle of one head's
// attention matrix, each the max or mean of the exact P it covers, from cached row statistics.
import tilesWgsl from '../../shaders/compute/attention-tiles.wgsl?raw';
import type { Engine } from '../core/engine';
import { formatBytes, formatCount, invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { uniformLayout } from '../memory/uniforms';
import {
  STATS_BYTES_PER_ROW,
  TILE,
  type LongAttentionParams,
} from './attention-row-stats';
import { UniformRing, paramsEntry, storageEntry } from './kernel-bindings';
import {
  PerHeadBindGroups,
  lazyVariants,
  scoreKernelPipelines,
  scoreUniforms,
  type BindingSource,
} from './long-attention-shared';

/** What to show: a rectangle of one head's matrix as a width × height grid of pooled cells. */
export interface TileRequest {
  head: number;
  /** Matrix rows [start, end) shown (integers). */
  rows: readonly [number, number];
  /** Matrix columns [start, end) shown. */
  cols: readonly [number, number];
  /** Cells across (at most 32,767). */
  width: number;
  /** Cells down (at most 32,767). */
  height: number;
  /** Each cell's max, or mean, of the exact P it covers; masked entries are zeros that count. */
  reduce: 'max' | 'mean';
  /** Only cells [x0, x1) × [y0, y1) of the grid, to spread one screen over frames; default all. */
  cells?: TileCells;
}

/** A sub-rectangle of a tile grid, in cells: x in [x0, x1), y in [y0, y1), integers within the grid. */
export interface TileCells {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface AttentionTilesIo {
  /** [height, width] f32 from element `outOffset`; only the requested cells are written. */
  out: GPUBuffer;
  outOffset?: number;
  /** [heads, nq, d] */
  q: GPUBuffer;
  /** [heads, nk, d] */
  k: GPUBuffer;
  /** [heads, nq] vec4 from attention-row-stats. */
  stats: GPUBuffer;
}

export interface AttentionTilesKernel {
  /** Records one dispatch in its own compute pass. Up to `slots` records may share one submit. */
  record(
    encoder: GPUCommandEncoder,
    io: AttentionTilesIo,
    params: LongAttentionParams,
    request: TileRequest,
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void;
  destroy(): void;
}

/** Largest grid side: keeps the cell arithmetic of the shader within u32. */
export const MAX_TILE_GRID = 32767;
const PARAMS = uniformLayout(tilesWgsl, 'Params');

export function createAttentionTiles(engine: Engine, label = 'AttentionTiles', slots = 256): AttentionTilesKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, slots);
  const groups = new PerHeadBindGroups(engine, label, pipelines.bindGroupLayout, ring);
  return {
    record(encoder, io, p, request, timestampWrites) {
      const sources: BindingSource[] = [
        { buffer: io.out, name: 'out' },
        { buffer: io.q, name: 'q', perHead: p.nq * p.d, bytesPerElement: 4 },
        { buffer: io.k, name: 'k', perHead: p.nk * p.d, bytesPerElement: 4 },
        { buffer: io.stats, name: 'stats', perHead: p.nq, bytesPerElement: STATS_BYTES_PER_ROW },
      ];
      const head = groups.forHead(sources, request.head);
      const cells = request.cells ?? { x0: 0, y0: 0, x1: request.width, y1: request.height };
      const y = planTileAxis(request.rows, request.height, cells.y0, cells.y1);
      const x = planTileAxis(request.cols, request.width, cells.x0, cells.x1);
      const offset = ring.push({
        q_base: head.base.q!,
        k_base: head.base.k!,
        stats_base: head.base.stats!,
        out_base: io.outOffset ?? 0,
        out_stride: request.width,
        ...scoreUniforms(p),
        reduce_max: request.reduce === 'max' ? 1 : 0,
        ...axisUniforms(y, 'row0', 'rows', 'grid_h', 'cell_y0', 'cell_y1', 'src_y0', 'src_y1', 'block_h'),
        ...axisUniforms(x, 'col0', 'cols', 'grid_w', 'cell_x0', 'cell_x1', 'src_x0', 'src_x1', 'block_w'),
      });
      const pass = encoder.beginComputePass({ label: `${label}.pass`, ...(timestampWrites && { timestampWrites }) });
      pass.setPipeline(pipelines.pipeline(p.exact));
      pass.setBindGroup(0, head.group, [offset]);
      pass.dispatchWorkgroups(x.groups, y.groups);
      pass.end();
    },
    destroy() {
      ring.destroy();
    },
  };
}

/**
 * How one axis of a request maps onto workgroups. "Sources" are the cells that own distinct entries:
 * the cells themselves when there are at least as many entries as cells, else the entries (zoomed past
 * 1:1, several cells show one entry). A workgroup owns `block` sources: as many as fit in 64 entries.
 */
export interface TileAxisPlan {
  first: number;
  count: number;
  grid: number;
  cell0: number;
  cell1: number;
  src0: number;
  src1: number;
  block: number;
  groups: number;
}

export function planTileAxis(range: readonly [number, number], grid: number, cell0: number, cell1: number): TileAxisPlan {
  const [first, end] = range;
  const count = end - first;
  const pooled = count >= grid;
  const sourceOf = (cell: number) => (pooled ? cell : Math.floor(((2 * cell + 1) * count) / (2 * grid)));
  const src0 = sourceOf(cell0);
  const src1 = sourceOf(cell1 - 1) + 1;
  const block = pooled ? Math.max(1, Math.floor((TILE * grid) / count)) : TILE;
  return { first, count, grid, cell0, cell1, src0, src1, block, groups: Math.ceil((src1 - src0) / block) };
}

/** Matrix entries a request covers (each computed once): its cost is about 2·d flops per entry. */
export function tileEntries(request: TileRequest): number {
  const cells = request.cells ?? { x0: 0, y0: 0, x1: request.width, y1: request.height };
  const extent = (plan: TileAxisPlan) =>
    plan.count >= plan.grid
      ? Math.floor((plan.src1 * plan.count) / plan.grid) - Math.floor((plan.src0 * plan.count) / plan.grid)
      : plan.src1 - plan.src0;
  return (
    extent(planTileAxis(request.rows, request.height, cells.y0, cells.y1)) *
    extent(planTileAxis(request.cols, request.width, cells.x0, cells.x1))
  );
}

function axisUniforms(plan: TileAxisPlan, ...names: [string, string, string, string, string, string, string, string]) {
  const values = [plan.first, plan.count, plan.grid, plan.cell0, plan.cell1, plan.src0, plan.src1, plan.block];
  return Object.fromEntries(names.map((name, index) => [name, values[index]!]));
}

function buildPipelines(device: GPUDevice) {
  const kernel = scoreKernelPipelines(device, 'AttentionTiles', tilesWgsl, [
    storageEntry(0, 'storage'), // out
    storageEntry(1, 'read-only-storage'), // q
    storageEntry(2, 'read-only-storage'), // k
    storageEntry(3, 'read-only-storage'), // stats
    paramsEntry(4),
  ]);
  return { bindGroupLayout: kernel.bindGroupLayout, pipeline: lazyVariants((exact) => kernel.pipeline('tiles', exact)) };
}

/** Checks a request against the matrix and the output buffer: every message says what was expected. */
export function assertTileRequest(r: TileRequest, p: LongAttentionParams, out: GPUBuffer, outOffset: number): void {
  const isInt = (x: unknown): x is number => Number.isInteger(x);
  const span = (range: readonly [number, number] | undefined, n: number, what: string) =>
    invalidArgument(
      Array.isArray(range) && isInt(range[0]) && isInt(range[1]) && range[0] >= 0 && range[0] < range[1] && range[1] <= n,
      () => `tile: ${what} must be integers [start, end) with 0 ≤ start < end ≤ ${n}; got [${String(range)}].`,
    );
  invalidArgument(isInt(r.head) && r.head >= 0 && r.head < p.heads, () => `tile: head must be in [0, ${p.heads}); got ${r.head}.`);
  span(r.rows, p.nq, 'rows');
  span(r.cols, p.nk, 'cols');
  for (const [name, size] of [['width', r.width], ['height', r.height]] as const) {
    invalidArgument(
      isInt(size) && size >= 1 && size <= MAX_TILE_GRID,
      () => `tile: ${name} must be an integer in [1, ${MAX_TILE_GRID}]; got ${size}.`,
    );
  }
  invalidArgument(r.reduce === 'max' || r.reduce === 'mean', () => `tile: reduce must be 'max' or 'mean'; got '${String(r.reduce)}'.`);
  const c = r.cells;
  invalidArgument(
    c === undefined || ([c.x0, c.y0, c.x1, c.y1].every(isInt) && c.x0 >= 0 && c.y0 >= 0 && c.x0 < c.x1 && c.y0 < c.y1 &&
      c.x1 <= r.width && c.y1 <= r.height),
    () => `tile: cells must be a non-empty [x0, x1) × [y0, y1) within the ${r.width}×${r.height} grid; got ${JSON.stringify(c)}.`,
  );
  const bytes = (outOffset + r.width * r.height) * 4;
  invalidArgument(
    isInt(outOffset) && outOffset >= 0 && out.size >= bytes,
    () => `tile: out '${out.label}' must hold ${formatCount(r.width * r.height)} floats from element ${outOffset} ` +
      `(${formatBytes(bytes)}); it holds ${formatBytes(out.size)}.`,
  );
}
