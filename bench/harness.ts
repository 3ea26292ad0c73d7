// The benchmark harness: times our side and a tfjs peer on one device, in one page, in the same run.
//
// GPU time: ours from timestamp queries around its compute pass (createGpuTimer); the peer from tf.time(),
// whose kernelMs sums tfjs's own per-kernel timestamp queries on the same device. Wall time (record →
// submit → queue.onSubmittedWorkDone, no timestamps) is taken for both as a cross-check, from
// WALL_SAMPLES runs (from `samples` runs where there are no timestamps and it is the measure). Each figure
// is a median, taken after `warmup` runs of each side beyond the first (which builds pipelines and is
// used to count bytes); ours and the peer alternate so drift hits both.
//
// Bytes: ours = every GPUBuffer created on the device while our side is built and first run (kernel
// uniforms and status included); peer = growth of tfjs's GPU bytes in use (tf.memory().numBytesInGPU)
// right after one run is recorded and before it is submitted, which is when all of its outputs,
// intermediates and uniform buffers are held at once. Shared inputs are counted for neither.
import * as tf from '@tensorflow/tfjs-core';
import { createGpuTimer, type Engine, type GpuTimer } from '../src/index';

export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export interface BenchCase<P extends Params = Params> {
  readonly name: string;
  /** What the peer is, e.g. 'tfjs-webgpu'. */
  readonly peer: string;
  readonly params: readonly P[];
  readonly warmup: number;
  readonly samples: number;
  /** Makes the inputs both sides share; nothing allocated here is counted. */
  setup(engine: Engine, params: P): Promise<CaseSetup> | CaseSetup;
  /**
   * A case that is not "our kernel against a peer's" (frame times against a budget, say) measures itself
   * and returns its rows; setup() is then not called.
   */
  measure?(engine: Engine, params: P, counts: SampleCounts): Promise<{ result: CaseResult; wall: WallTimes }>;
}

export interface CaseSetup {
  /** Builds our side: its pipelines, parameters and output. */
  ours(): OursSide;
  /** Records the peer's work with tfjs ops and returns its output; run inside tf.tidy by the harness. */
  peer(): tf.Tensor;
  /** Frees the shared inputs. */
  dispose(): void;
}

export interface OursSide {
  /**
   * Records our work. `timestampWrites` times it: on its compute pass, or split over several passes
   * (beginning index on the first, end index on the last) so that the whole span is measured.
   */
  record(encoder: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Our output, read back once after timing; compared with the peer's. */
  read(): Promise<Float32Array>;
  dispose(): void;
}

/** One row of bench/results/latest.json. */
export interface CaseResult {
  name: string;
  params: Params;
  ours_ms: number;
  peer: string;
  peer_ms: number;
  ratio: number;
  ours_bytes: number;
  peer_bytes: number;
  max_abs_err: number | null;
}

/** Wall-clock medians, reported beside the GPU times as a cross-check. */
export interface WallTimes {
  ours_wall_ms: number;
  peer_wall_ms: number;
}

/** Runs per side; the case's own unless the runner overrides them (a quick smoke run). */
export interface SampleCounts {
  warmup: number;
  samples: number;
}

/** Wall-clock runs per side when timestamps give the real measure: a cross-check needs only a few. */
const WALL_SAMPLES = 3;

export async function measureCase<P extends Params>(
  engine: Engine,
  benchCase: BenchCase<P>,
  params: P,
  counts: SampleCounts = benchCase,
): Promise<{ result: CaseResult; wall: WallTimes }> {
  const liveBefore = engine.liveBufferCount();
  const timer = createGpuTimer(engine, 1, `bench.${benchCase.name}.timer`);
  try {
    const setup = await benchCase.setup(engine, params);
    try {
      return await measureSetup(engine, benchCase, params, counts, setup, timer);
    } finally {
      setup.dispose();
    }
  } finally {
    timer.destroy();
    await settle(engine);
    const leaked = engine.liveBufferCount() - liveBefore;
    if (leaked !== 0) {
      console.warn(`bench ${benchCase.name}: ${leaked} engine buffer(s) left live: ${engine.liveBufferLabels().join(', ')}`);
    }
  }
}

async function measureSetup<P extends Params>(
  engine: Engine,
  benchCase: BenchCase<P>,
  params: P,
  counts: SampleCounts,
  setup: CaseSetup,
  timer: GpuTimer,
): Promise<{ result: CaseResult; wall: WallTimes }> {
  await settle(engine);
  const { ours, bytes: oursBytes } = await buildOurs(engine, setup);
  try {
    const peerBytes = await peerPeakBytes(engine, setup);
    const sides: Sides = { engine, timer, ours, setup };
    for (let i = 0; i < counts.warmup; i++) {
      await oursWallMs(sides);
      await peerWallMs(sides);
    }
    const samples = { ours: [] as number[], peer: [] as number[], oursWall: [] as number[], peerWall: [] as number[] };
    for (let i = 0; i < counts.samples && timer.available; i++) {
      samples.ours.push(await oursGpuMs(sides));
      samples.peer.push(await peerGpuMs(sides));
    }
    const wallSamples = timer.available ? Math.min(WALL_SAMPLES, counts.samples) : counts.samples;
    for (let i = 0; i < wallSamples; i++) {
      samples.oursWall.push(await oursWallMs(sides));
      samples.peerWall.push(await peerWallMs(sides));
    }
    const wall = { ours_wall_ms: median(samples.oursWall), peer_wall_ms: median(samples.peerWall) };
    const oursMs = timer.available ? median(samples.ours) : wall.ours_wall_ms;
    const peerMs = timer.available ? median(samples.peer) : wall.peer_wall_ms;
    const result: CaseResult = {
      name: benchCase.name,
      params,
      ours_ms: oursMs,
      peer: benchCase.peer,
      peer_ms: peerMs,
      ratio: oursMs / peerMs,
      ours_bytes: oursBytes,
      peer_bytes: peerBytes,
      max_abs_err: await compareOutputs(ours, setup),
    };
    return { result, wall };
  } finally {
    ours.dispose();
  }
}

interface Sides {
  engine: Engine;
  timer: GpuTimer;
  ours: OursSide;
  setup: CaseSetup;
}

/** Builds our side and runs it once (validated), counting the bytes of every buffer created meanwhile. */
async function buildOurs(engine: Engine, setup: CaseSetup): Promise<{ ours: OursSide; bytes: number }> {
  const allocations = trackBufferAllocations(engine.device);
  let ours: OursSide | null = null;
  try {
    ours = await engine.withErrorScope('bench.ours.build', () => setup.ours());
    const built = ours;
    await engine.run('bench.ours.first', (encoder) => built.record(encoder));
    await engine.device.queue.onSubmittedWorkDone();
    return { ours, bytes: allocations.bytes() };
  } catch (error) {
    ours?.dispose();
    throw error;
  } finally {
    allocations.stop();
  }
}

/** tfjs's GPU bytes in use after one peer run is recorded, less those before: its peak for the run. */
async function peerPeakBytes(engine: Engine, setup: CaseSetup): Promise<number> {
  await settle(engine); // releases what tfjs held for earlier, already submitted work
  const before = tfjsBytesInGpu();
  const output = tf.tidy(() => setup.peer());
  const peak = tfjsBytesInGpu();
  output.dispose();
  await settle(engine);
  return peak - before;
}

/** Largest |ours − theirs| over every element; null where a difference is not finite. */
export function maxAbsDiff(mine: ArrayLike<number>, theirs: ArrayLike<number>): number | null {
  if (mine.length !== theirs.length) throw new Error(`ours has ${mine.length} elements, the peer ${theirs.length}.`);
  let worst = 0;
  for (let i = 0; i < mine.length; i++) {
    const difference = Math.abs(mine[i]! - Number(theirs[i]));
    if (!Number.isFinite(difference)) return null;
    worst = Math.max(worst, difference);
  }
  return worst;
}

/** tfjs's GPU bytes in use (tf.memory().numBytesInGPU). */
export function tfjsBytesInGpu(): number {
  const bytes = (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU;
  if (typeof bytes !== 'number') throw new Error(`tf.memory() has no numBytesInGPU on backend '${tf.getBackend()}'.`);
  return bytes;
}

async function oursGpuMs({ engine, timer, ours }: Sides): Promise<number> {
  const encoder = engine.device.createCommandEncoder({ label: 'bench.ours.timed' });
  ours.record(encoder, timer.pass('ours'));
  timer.resolve(encoder);
  engine.submit([encoder.finish()]);
  const ms = (await timer.read()).get('ours');
  if (ms === undefined) throw new Error('The GPU timer returned no time for our pass.');
  return ms;
}

async function oursWallMs({ engine, ours }: Sides): Promise<number> {
  const start = performance.now();
  const encoder = engine.device.createCommandEncoder({ label: 'bench.ours.wall' });
  ours.record(encoder);
  engine.submit([encoder.finish()]);
  await engine.device.queue.onSubmittedWorkDone();
  return performance.now() - start;
}

async function peerGpuMs({ engine, setup }: Sides): Promise<number> {
  const timing = await tf.time(() => tf.tidy(() => void setup.peer()));
  await settle(engine);
  if (typeof timing.kernelMs !== 'number') throw new Error(`tf.time() gave no kernel time: ${timing.kernelMs.error}`);
  return timing.kernelMs;
}

async function peerWallMs({ engine, setup }: Sides): Promise<number> {
  const start = performance.now();
  tf.tidy(() => void setup.peer());
  engine.flushPendingWork();
  await engine.device.queue.onSubmittedWorkDone();
  return performance.now() - start;
}

/** Largest |ours − peer| over every element; null when either holds NaN or ±Inf where the other does not. */
async function compareOutputs(ours: OursSide, setup: CaseSetup): Promise<number | null> {
  const mine = await ours.read();
  const output = tf.tidy(() => setup.peer());
  try {
    return maxAbsDiff(mine, await output.data());
  } finally {
    output.dispose();
  }
}

/** Submits tfjs's batched work and waits until the queue is idle. */
async function settle(engine: Engine): Promise<void> {
  engine.flushPendingWork();
  await engine.device.queue.onSubmittedWorkDone();
}

/** Sums the sizes of buffers created on `device` until stop() (which returns the sum), by wrapping its createBuffer. */
export function trackBufferAllocations(device: GPUDevice): { bytes(): number; stop(): number } {
  const ownProperty = Object.prototype.hasOwnProperty.call(device, 'createBuffer');
  const original = device.createBuffer;
  let bytes = 0;
  device.createBuffer = function createBuffer(this: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = original.call(this, descriptor);
    bytes += buffer.size;
    return buffer;
  };
  return {
    bytes: () => bytes,
    stop: () => {
      if (ownProperty) device.createBuffer = original;
      else delete (device as Partial<GPUDevice>).createBuffer;
      return bytes;
    },
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
