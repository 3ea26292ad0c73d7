// max-n, full stages (opt-in, VITE_GLASSBOX_MAX_N=full): every stage of the long-sequence pipeline over the
// whole causal matrix at N = 131,072 (d = 64, one head), through the public API a page would use, run once:
//   row-stats:    createLongAttention(...).computeRowStats(), its default chunks (one 64-row block each).
//   screen-tiles: the 1024 × 1024-cell overview (mean of 128 × 128 entries a cell) over those statistics,
//                 submitted as 16 strips of 64 cell rows, as the explorer spreads a screen over frames.
//   profiles:     attention.profiles(), column sums of P and row entropy, its default chunks.
// The peer is tfjs doing the same stage on a materialized matrix at its largest N here: 16,383 for the row
// log-sum-exp and the column sums (at 16,384 its softmax returns zeros, without an error), 15,360 for the
// screen, whose pooling needs N divisible by 1,024. Both sides run once (a
// stage takes tens of minutes of SwiftShader time); times are wall clock, from the first submission to the
// last one's completion, readbacks excluded.
// Checks: our L of rows [0, 16,383) against tfjs's (the causal matrix's top-left block is the same matrix);
// our screen of the top-left 15,360² block against tfjs's; and on the full screen, that every cell was
// written (poisoned with NaN first) and every row of cells sums to 1/128 (each row of P sums to 1:
// Σ_cells mean = 128 rows / 128² entries a cell), reported as screen_row_sum_err.
// The profiles' column sums add up to N (every row of P sums to 1): profile_sum_err is |Σ − N| / N.
// Each stage runs when its row is asked for, after the row statistics every stage needs (computed once), so
// `--filter "stage=profiles slice=all"` measures the profiles without the hour of the screen. ours_bytes is
// what the attention allocated for its statistics plus what the stage itself allocated.
// Progress goes to the console as console.info (bench/run.js prints it).
import * as tf from '@tensorflow/tfjs-core';
import { createLongAttention, type Engine, type LongAttention, type LongAttentionProgress, type TileRequest } from '../../src/index';
import { readBufferRange } from '../../src/memory/readback';
import { maxAbsDiff, tfjsBytesInGpu, trackBufferAllocations, type BenchCase, type CaseResult } from '../harness';
import { causalMask, MAX_N, sharedInputs, TFJS_LARGEST_N, type MaxNParams, type SharedInputs } from './long-attention';

const SCREEN = 1024;
const STRIPS = 16;
/** tfjs's largest N for the screen: ≤ TFJS_LARGEST_N and divisible by SCREEN for its pooling. */
const PEER_SCREEN_N = 15_360;

const fullStages = String(import.meta.env.VITE_GLASSBOX_MAX_N ?? '') === 'full';

type StageRow = Omit<CaseResult, 'name' | 'params' | 'peer'> & Record<string, unknown>;
type PeerRun = Awaited<ReturnType<typeof peerStage>>;

/**
 * What every stage needs, made once for the whole run: the inputs, the long attention and its row statistics
 * (timed: the row-stats stage). Stages run in the order they are asked for, so a filtered run measures one
 * stage after only the statistics it needs. It lives until the page's engine is destroyed at the run's end.
 */
interface Session {
  engine: Engine;
  N: number;
  inputs: SharedInputs;
  attention: LongAttention;
  /** Bytes our side allocated for the attention and its row statistics. */
  bytes: number;
  rowStatsMs: number;
}

let session: Promise<Session> | null = null;

export const maxNFullCase: BenchCase<MaxNParams> = {
  name: 'max-n',
  peer: 'tfjs-webgpu materialized',
  params: fullStages
    ? [
        { N: MAX_N, stage: 'row-stats', slice: 'all', peer_N: TFJS_LARGEST_N },
        { N: MAX_N, stage: 'screen-tiles', slice: 'all: 1024x1024 cells', peer_N: PEER_SCREEN_N },
        { N: MAX_N, stage: 'profiles', slice: 'all', peer_N: TFJS_LARGEST_N },
      ]
    : [],
  warmup: 0,
  samples: 1,
  setup() {
    throw new Error('max-n (full stages) measures itself');
  },
  async measure(engine, params) {
    session ??= openSession(engine, params.N);
    const row = await STAGES[params.stage](await session, params.peer_N);
    return { result: { name: 'max-n', params, peer: this.peer, ...row }, wall: { ours_wall_ms: row.ours_ms, peer_wall_ms: row.peer_ms } };
  },
};

const STAGES: Record<MaxNParams['stage'], (session: Session, peerN: number) => Promise<StageRow>> = {
  async 'row-stats'(session, peerN) {
    const { lse } = await session.attention.rowStats();
    const peer = await peerStage(session, peerN, 'row-stats', (scores) => tf.logSumExp(scores, -1));
    return stageRow(session, session.rowStatsMs, 0, peer, peerN, maxAbsDiff(lse.subarray(0, peerN), peer.values));
  },
  async 'screen-tiles'(session, peerN) {
    const allocations = trackBufferAllocations(session.engine.device);
    const screen = session.engine.createBuffer({ label: 'bench.maxNFull.screen', size: SCREEN * SCREEN * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    try {
      const ms = await timeScreen(session, screen);
      const bytes = allocations.stop();
      const values = new Float32Array(await readBufferRange(session.engine, screen, 0, screen.size));
      const topLeft = await session.attention.tile(overview(peerN));
      const peer = await peerStage(session, peerN, 'screen-tiles', (scores) => pooled(scores, peerN));
      return { ...stageRow(session, ms, bytes, peer, peerN, maxAbsDiff(topLeft, peer.values)), screen_row_sum_err: screenRowSumError(values, session.N) };
    } finally {
      allocations.stop();
      screen.destroy();
    }
  },
  async profiles(session, peerN) {
    const profiles = await timeProfiles(session, peerN);
    const peer = await peerStage(session, peerN, 'profiles', peerProfilesOf);
    // Column sums differ between the two matrices (ours has rows beyond the peer's attending to the same
    // keys), so the check against tfjs is of the other profile, the entropy of the rows both have.
    return {
      ...stageRow(session, profiles.ms, profiles.bytes, peer, peerN, maxAbsDiff(profiles.entropy, peer.values.subarray(peerN))),
      profile_sum_err: Math.abs(profiles.columnSum - session.N) / session.N,
    };
  },
};

async function openSession(engine: Engine, N: number): Promise<Session> {
  const inputs = sharedInputs(engine, N);
  const allocations = trackBufferAllocations(engine.device);
  try {
    const attention = createLongAttention(engine, inputs.q, inputs.k, { causal: true, label: 'bench.maxNFull' });
    const started = performance.now();
    await attention.computeRowStats({ onProgress: progressEvery('row-stats', started) });
    const rowStatsMs = performance.now() - started;
    return { engine, N, inputs, attention, bytes: allocations.stop(), rowStatsMs };
  } finally {
    allocations.stop();
  }
}

/** A stage's row: our time and bytes (the attention's own and the stage's) against the peer's at peerN. */
function stageRow(session: Session, oursMs: number, stageBytes: number, peer: PeerRun, peerN: number, err: number | null): StageRow {
  return {
    ours_ms: oursMs,
    peer_ms: peer.ms,
    ratio: oursMs / peer.ms,
    ours_bytes: session.bytes + stageBytes,
    peer_bytes: peer.bytes,
    max_abs_err: err,
    ours_ns_per_entry: (oursMs * 1e6) / ((session.N * (session.N + 1)) / 2), // the causal half
    peer_ns_per_entry: (peer.ms * 1e6) / peerN ** 2, // tfjs computes every entry, the masked ones too
  };
}

/**
 * profiles() timed, with the bytes it allocated (its two outputs and its own buffers); read back afterwards:
 * the sum of every column sum (float64) and the first `rows` entropies.
 */
async function timeProfiles({ engine, attention }: Session, rows: number) {
  const allocations = trackBufferAllocations(engine.device);
  const started = performance.now();
  const { columnSums, entropy } = await attention.profiles({ onProgress: progressEvery('profiles', started) }).finally(allocations.stop);
  const ms = performance.now() - started;
  try {
    const sums = await columnSums.read();
    return { ms, bytes: allocations.bytes(), columnSum: sums.reduce((total, value) => total + value, 0), entropy: await entropy.readRange(0, rows) };
  } finally {
    columnSums.destroy();
    entropy.destroy();
  }
}

/** An onProgress that logs every 5% of the work. */
function progressEvery(stage: string, started: number): (progress: LongAttentionProgress) => void {
  let reported = 0;
  return ({ fraction }) => {
    if (fraction < reported + 0.05 && fraction < 1) return;
    reported = fraction;
    progress(stage, fraction, started);
  };
}

/** The overview screen in strips of cell rows, each its own submission; every cell poisoned with NaN first. */
async function timeScreen({ engine, attention, N }: Session, screen: GPUBuffer): Promise<number> {
  engine.device.queue.writeBuffer(screen, 0, new Float32Array(SCREEN * SCREEN).fill(NaN));
  await engine.device.queue.onSubmittedWorkDone();
  const request = overview(N);
  const started = performance.now();
  for (let strip = 0; strip < STRIPS; strip++) {
    const cells = { x0: 0, x1: SCREEN, y0: (strip * SCREEN) / STRIPS, y1: ((strip + 1) * SCREEN) / STRIPS };
    await engine.run('bench.maxNFull.strip', (encoder) => attention.recordTile(encoder, { ...request, cells }, screen));
    await engine.device.queue.onSubmittedWorkDone();
    progress('screen-tiles', (strip + 1) / STRIPS, started);
  }
  return performance.now() - started;
}

function overview(n: number): TileRequest {
  return { head: 0, rows: [0, n], cols: [0, n], width: SCREEN, height: SCREEN, reduce: 'mean' };
}

function progress(stage: string, fraction: number, started: number): void {
  const minutes = (performance.now() - started) / 60_000;
  console.info(`max-n ${stage}: ${(fraction * 100).toFixed(0)}% after ${minutes.toFixed(1)} min`);
}

/** Largest |Σ_cells mean − 1/128| · 128 over the rows of cells (Infinity if a cell was left unwritten). */
function screenRowSumError(values: Float32Array, N: number): number {
  const entriesPerCell = (N / SCREEN) ** 2;
  const rowsPerCellRow = N / SCREEN;
  let worst = 0;
  for (let y = 0; y < SCREEN; y++) {
    let sum = 0;
    for (let x = 0; x < SCREEN; x++) sum += values[y * SCREEN + x]!;
    const error = Math.abs((sum * entriesPerCell) / rowsPerCellRow - 1);
    worst = Number.isFinite(error) ? Math.max(worst, error) : Infinity;
  }
  return worst;
}

/** The softmax of [1, n, n] scores, mean-pooled into SCREEN × SCREEN cells. */
function pooled(scores: tf.Tensor, n: number): tf.Tensor {
  const p = tf.reshape(tf.softmax(scores), [1, n, n, 1]) as tf.Tensor4D;
  const cell = n / SCREEN;
  return tf.avgPool(p, cell, cell, 'valid');
}

/** tfjs's profiles of [1, n, n] scores: the column sums of P, then each row's entropy −Σ P log P (nats). */
function peerProfilesOf(scores: tf.Tensor): tf.Tensor {
  const logP = tf.sub(scores, tf.logSumExp(scores, -1, true)); // masked entries: P = 0, so P·log P = 0
  const p = tf.exp(logP);
  return tf.concat([tf.reshape(tf.sum(p, 1), [-1]), tf.reshape(tf.neg(tf.sum(tf.mul(p, logP), -1)), [-1])]);
}

/**
 * Runs a peer stage once on the scaled, causally masked scores of the first n queries and keys (Q, K and
 * the mask made before the clock starts, as in the other max-n rows): wall clock from recording to its
 * output read back (≤ 4 MiB), and the most tfjs's GPU bytes grew while it was recorded.
 */
async function peerStage({ engine, inputs }: Session, n: number, name: string, finish: (scores: tf.Tensor) => tf.Tensor) {
  const q = tf.slice(inputs.qScaled, [0, 0, 0], [1, n, -1]);
  const k = tf.slice(inputs.kTensor, [0, 0, 0], [1, n, -1]);
  const mask = causalMask(0, n, n);
  try {
    engine.flushPendingWork();
    await engine.device.queue.onSubmittedWorkDone();
    const before = tfjsBytesInGpu();
    const started = performance.now();
    let peak = before; // tfjs may submit (and free) part of the work while it is recorded: look twice
    const output = tf.tidy(() => {
      const scores = tf.add(tf.matMul(q, k, false, true), mask);
      peak = Math.max(peak, tfjsBytesInGpu());
      return finish(scores);
    });
    const bytes = Math.max(peak, tfjsBytesInGpu()) - before;
    const values = (await output.data()) as Float32Array;
    const ms = performance.now() - started;
    output.dispose();
    progress(`peer ${name}`, 1, started);
    return { ms, bytes, values };
  } finally {
    tf.dispose([q, k, mask]);
  }
}
