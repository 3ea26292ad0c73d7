// The page bench/run.js drives: one engine (tfjs's 'webgpu' backend on the same device), the case
// registry, and `window.glassboxBench` for the runner to call, one case at a time.
import * as tf from '@tensorflow/tfjs-core';
import { WebGpuUnavailableError, createEngine, type Engine } from '../../src/index';
import { benchCases } from '../cases/index';
import { measureCase, type CaseResult, type Params, type SampleCounts, type WallTimes } from '../harness';
import { paramsLabel } from '../report.js';

export interface BenchEnv {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  user_agent: string;
  features: string[];
  timestamps: boolean;
  tfjs_version: string;
  tfjs_backend: string;
}

export type StartResult = { ok: true; env: BenchEnv } | { ok: false; webgpuUnavailable: boolean; message: string };

export interface CaseEntry {
  id: string;
  name: string;
  params: Params;
}

export interface GlassboxBench {
  /** Creates the engine and reports the environment; `webgpuUnavailable` when there is no WebGPU. */
  start(): Promise<StartResult>;
  /** Cases whose name or parameters contain `filter` (case-insensitive); all when it is empty. */
  list(filter: string): CaseEntry[];
  /** Measures one case; `counts` overrides its warm-up and sample counts. */
  run(id: string, counts?: Partial<SampleCounts>): Promise<{ result: CaseResult; wall: WallTimes }>;
  /** Destroys the engine. */
  finish(): void;
}

declare global {
  interface Window {
    glassboxBench: GlassboxBench;
    /** Set by bench/run.js: resolves once a screenshot of the rectangle, rasterized and composited, is taken. */
    glassboxCaptureScreen?: (clip: { x: number; y: number; width: number; height: number }) => Promise<void>;
  }
}

let engine: Engine | null = null;

const entries: CaseEntry[] = benchCases.flatMap((benchCase, caseIndex) =>
  benchCase.params.map((params, paramIndex) => ({ id: `${caseIndex}/${paramIndex}`, name: benchCase.name, params })),
);

async function start(): Promise<StartResult> {
  try {
    engine ??= await createEngine();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, webgpuUnavailable: error instanceof WebGpuUnavailableError || !('gpu' in navigator), message };
  }
  const info = engine.device.adapterInfo ?? (await navigator.gpu.requestAdapter())?.info;
  return {
    ok: true,
    env: {
      adapter: {
        vendor: info?.vendor ?? '',
        architecture: info?.architecture ?? '',
        device: info?.device ?? '',
        description: info?.description ?? '',
      },
      user_agent: navigator.userAgent,
      features: [...engine.device.features].sort(),
      timestamps: engine.features.timestampQuery,
      tfjs_version: tf.version_core,
      tfjs_backend: tf.getBackend(),
    },
  };
}

async function run(id: string, counts: Partial<SampleCounts> = {}) {
  if (!engine) throw new Error('glassboxBench.run() before start().');
  const [caseIndex, paramIndex] = id.split('/').map(Number);
  const benchCase = benchCases[caseIndex ?? -1];
  const params = benchCase?.params[paramIndex ?? -1];
  if (!benchCase || !params) throw new Error(`No benchmark case '${id}'.`);
  const sampleCounts = { warmup: counts.warmup ?? benchCase.warmup, samples: counts.samples ?? benchCase.samples };
  if (benchCase.measure) return benchCase.measure(engine, params, sampleCounts);
  return measureCase(engine, benchCase, params, sampleCounts);
}

window.glassboxBench = {
  start,
  list: (filter) =>
    entries.filter((entry) => `${entry.name} ${paramsLabel(entry.params)}`.toLowerCase().includes(filter.toLowerCase())),
  run,
  finish() {
    engine?.destroy();
    engine = null;
  },
};
