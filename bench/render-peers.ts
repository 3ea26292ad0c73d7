// The shape the render cases share (feature-grid, head-view): one measurement per size gives ours and every
// peer's frame times, and each (size, peer) parameter set becomes one row of the table from it.
import type { Engine } from '../src/index';
import { median, type CaseResult, type Params, type SampleCounts, type WallTimes } from './harness';

export interface RenderMeasured<Peer extends string> {
  /** GPU ms per frame from timestamps (empty without timestamp-query) and wall ms per frame. */
  oursGpu: number[];
  oursWall: number[];
  /** Wall ms per frame of each peer. */
  peers: Record<Peer, number[]>;
  oursBytes: number;
  peerBytes: Record<Peer, number>;
}

/**
 * Measures each size once (memoized: every peer's row of one size comes from the same run) and builds the
 * row of `params.peer`. `extra` adds the case's own columns (max_abs_err among them).
 */
export function renderPeerCase<Peer extends string, M extends RenderMeasured<Peer>, P extends Params & { peer: Peer }>(
  name: string,
  sizeOf: (params: P) => number,
  measureAll: (engine: Engine, size: number, counts: SampleCounts) => Promise<M>,
  extra: (measured: M, params: P) => { max_abs_err: number | null } & Record<string, unknown>,
): (engine: Engine, params: P, counts: SampleCounts) => Promise<{ result: CaseResult; wall: WallTimes }> {
  const measured = new Map<number, Promise<M>>();
  return async (engine, params, counts) => {
    const size = sizeOf(params);
    let run = measured.get(size);
    if (!run) {
      run = measureAll(engine, size, counts);
      measured.set(size, run);
    }
    const m = await run;
    const oursWall = median(m.oursWall);
    const oursMs = m.oursGpu.length > 0 ? median(m.oursGpu) : oursWall;
    const peerMs = median(m.peers[params.peer]);
    const result: CaseResult & Record<string, unknown> = {
      name,
      params,
      ours_ms: oursMs,
      peer: params.peer,
      peer_ms: peerMs,
      ratio: oursMs / peerMs,
      ours_bytes: m.oursBytes,
      peer_bytes: m.peerBytes[params.peer],
      samples: { ours: m.oursWall.length, peer: m.peers[params.peer].length },
      // Like for like (wall clock on both sides): the fps ratio the goals are judged by.
      ours_fps_over_peer_wall: peerMs / oursWall,
      ...extra(m, params),
    };
    return { result, wall: { ours_wall_ms: oursWall, peer_wall_ms: peerMs } };
  };
}
