// The frame loop: each animation frame, every registered participant records its compute and render
// work into one command encoder, and the engine submits it once (after flushing tfjs's pending work).
import type { Engine } from './engine';
import { GpuOperationError } from './errors';

/** Timing passed to every participant; one object, updated in place each frame (copy what you keep). */
export interface FrameInfo {
  /** Milliseconds since the loop started. */
  time: number;
  /** Milliseconds since the previous frame. */
  delta: number;
  /** Frames submitted so far. */
  frame: number;
}

/** Work recorded into each frame's shared encoder; register it with `FrameLoop.add`. */
export interface FrameParticipant {
  /** Compute work first, for every participant; then render work. Either may be left out. */
  compute?(encoder: GPUCommandEncoder, info: FrameInfo): void;
  /** Records render passes into `encoder`; runs after every participant's `compute`. */
  render?(encoder: GPUCommandEncoder, info: FrameInfo): void;
}

/** Records every participant into one encoder per frame and submits it through the engine. */
export interface FrameLoop {
  /** Registers `participant` (in insertion order); returns a function that removes it. */
  add(participant: FrameParticipant): () => void;
  /** Records and submits one frame now (tests and benchmarks drive frames this way). */
  frame(): void;
  /** Runs `frame()` on every animation frame until `stop()`; a no-op while already running. */
  start(): void;
  /** Cancels the pending animation frame; `start()` resumes. */
  stop(): void;
  readonly framesSubmitted: number;
  /** Rejections from error scopes of past frames surface here. */
  onError: (error: Error) => void;
}

/**
 * Creates a frame loop on `engine`; `label` names its encoders and errors. Frames are skipped once the
 * device is lost. WebGPU validation errors arrive asynchronously at `onError` (default: console.error).
 */
export function createFrameLoop(engine: Engine, label = 'FrameLoop'): FrameLoop {
  const participants = new Set<FrameParticipant>();
  const info: FrameInfo = { time: 0, delta: 0, frame: 0 };
  let handle: number | null = null;
  let running = false;
  let started = 0;
  let last = 0;

  const loop: FrameLoop = {
    onError: (error) => console.error(error),
    get framesSubmitted() {
      return info.frame;
    },
    add(participant) {
      participants.add(participant);
      return () => participants.delete(participant);
    },
    frame() {
      if (engine.lostReason !== null) return;
      const now = performance.now();
      if (info.frame === 0) started = last = now;
      info.time = now - started;
      info.delta = now - last;
      last = now;
      engine.device.pushErrorScope('validation');
      try {
        const encoder = engine.device.createCommandEncoder({ label: `${label}.frame` });
        for (const participant of participants) participant.compute?.(encoder, info);
        for (const participant of participants) participant.render?.(encoder, info);
        engine.submit([encoder.finish()]);
        info.frame += 1;
      } finally {
        const frame = info.frame;
        void engine.device.popErrorScope().then((error) => {
          if (error) loop.onError(new GpuOperationError(`${label} frame ${frame}: ${error.message}`));
        });
      }
    },
    start() {
      if (running) return;
      running = true;
      const tick = () => {
        handle = null;
        try {
          loop.frame();
        } catch (error) {
          running = false; // a frame that throws stops the loop; start() resumes it
          throw error;
        }
        // A participant may have stopped the loop (or stopped and started it) during the frame.
        if (running && handle === null) handle = requestAnimationFrame(tick);
      };
      handle = requestAnimationFrame(tick);
    },
    stop() {
      running = false;
      if (handle !== null) cancelAnimationFrame(handle);
      handle = null;
    },
  };
  return loop;
}
