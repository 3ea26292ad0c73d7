// createFeatureStats(engine, layers): one GPU buffer of statistics records for every captured layer — per
// channel min, max, mean, std, counts and max|v| (layout: src/reference/channel-stats.ts), then one record
// per layer — recomputed each frame in one compute pass. Views bind the buffer as read-only storage and
// normalize maps from it on the GPU; reading it back is for tests and for the enlarged map's numbers.
import type { Engine } from '../core/engine';
import { formatCount, invalidArgument } from '../core/errors';
import { STATS_RECORD_BYTES, createChannelStatsKernel, statsRecordsOf } from '../kernels/channel-stats';
import { readBufferRange } from '../memory/readback';
import { STATS_FIELD, STATS_RECORD_FLOATS } from '../reference/channel-stats';
import type { FeatureLayer } from './feature-layer';

/**
 * Statistics records of several feature layers in one GPU buffer it owns: per layer, one record per channel
 * then the layer's, recomputed by each `compute`.
 */
export interface FeatureStats {
  /** STORAGE | COPY_SRC | COPY_DST; recordCount records of STATS_RECORD_FLOATS floats. */
  readonly buffer: GPUBuffer;
  /** The layers' names, in the order of recordOffsets. */
  readonly layerNames: readonly string[];
  /** Record index of channel 0 of each layer; the layer record is at recordOffsets[l] + channels. */
  readonly recordOffsets: readonly number[];
  readonly recordCount: number;
  /**
   * Records the statistics of every layer into one compute pass on `encoder`. `layers` (this frame's
   * activations) must match the layers given at creation in names, layouts and shapes; without it the
   * layers last given are used again.
   */
  compute(encoder: GPUCommandEncoder, layers?: readonly FeatureLayer[]): void;
  /** Every record (tests, export). */
  read(): Promise<Float32Array>;
  /** One record (STATS_RECORD_FLOATS floats): a channel's, or with 'layer' the layer's. */
  readRecord(layer: number, channel: number | 'layer'): Promise<Float32Array>;
  /** NaN and ±Inf activations over all layers in the last computed frame (reads the layer records). */
  nonFiniteTotal(): Promise<number>;
  /** Frees the buffer and the kernel's uniforms. Safe to call twice. */
  destroy(): void;
}

/**
 * Creates the statistics buffer for `layers` (at least one, with unique names), whose shapes and layouts it
 * keeps. Throws `InvalidArgumentError` on an empty list or a repeated name.
 */
export function createFeatureStats(engine: Engine, layers: readonly FeatureLayer[], options: { label?: string } = {}): FeatureStats {
  const label = options.label ?? 'FeatureStats';
  invalidArgument(layers.length > 0, () => `${label}: expected at least one feature layer; got none.`);
  const layerNames = Object.freeze(layers.map((layer) => layer.name));
  const duplicate = layerNames.find((name, index) => layerNames.indexOf(name) !== index);
  invalidArgument(duplicate === undefined, () => `${label}: layer names must be unique; '${duplicate}' comes twice.`);
  const recordOffsets: number[] = [];
  let recordCount = 0;
  for (const layer of layers) {
    recordOffsets.push(recordCount);
    recordCount += statsRecordsOf(layer);
  }
  const shapes = [...layers];
  let current: readonly FeatureLayer[] = shapes;
  const kernel = createChannelStatsKernel(engine, { label: `${label}.kernel` });
  const buffer = engine.createBuffer({
    label: `${label}.buffer`,
    size: recordCount * STATS_RECORD_BYTES,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const passDescriptor: GPUComputePassDescriptor = { label: `${label}.pass` };
  let destroyed = false;
  const assertLive = () => invalidArgument(!destroyed, () => `${label} was used after destroy().`);

  const readRecords = async (first: number, count: number) =>
    new Float32Array(await readBufferRange(engine, buffer, first * STATS_RECORD_BYTES, count * STATS_RECORD_BYTES));

  return {
    buffer,
    layerNames,
    recordOffsets: Object.freeze(recordOffsets),
    recordCount,
    compute(encoder, next) {
      assertLive();
      if (next) {
        assertSameLayers(label, shapes, next);
        current = next;
      }
      const pass = encoder.beginComputePass(passDescriptor);
      for (let l = 0; l < current.length; l++) kernel.encode(pass, current[l]!, buffer, recordOffsets[l]!);
      pass.end();
    },
    async read() {
      assertLive();
      return readRecords(0, recordCount);
    },
    async readRecord(layer, channel) {
      assertLive();
      const shape = shapes[layer];
      invalidArgument(shape !== undefined, () => `${label}.readRecord: layer ${layer} is not one of the ${shapes.length} layers.`);
      const index = channel === 'layer' ? shape.channels : channel;
      invalidArgument(
        Number.isInteger(index) && index >= 0 && index <= shape.channels && (channel === 'layer' || index < shape.channels),
        () => `${label}.readRecord: layer '${shape.name}' has channels 0..${shape.channels - 1} (or 'layer'); got ${channel}.`,
      );
      return readRecords(recordOffsets[layer]! + index, 1);
    },
    async nonFiniteTotal() {
      assertLive();
      const records = await readRecords(0, recordCount);
      let total = 0;
      shapes.forEach((shape, l) => {
        total += records[(recordOffsets[l]! + shape.channels) * STATS_RECORD_FLOATS + STATS_FIELD.nonFiniteCount]!;
      });
      return total;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      kernel.destroy();
      buffer.destroy();
    },
  };
}

/** Per frame: no allocation unless a layer differs, and then an error that says how. */
function assertSameLayers(label: string, expected: readonly FeatureLayer[], got: readonly FeatureLayer[]): void {
  invalidArgument(
    got.length === expected.length,
    () => `${label}.compute: expected the ${formatCount(expected.length)} layers given at creation; got ${formatCount(got.length)}.`,
  );
  for (let l = 0; l < expected.length; l++) {
    const [a, b] = [expected[l]!, got[l]!];
    invalidArgument(
      a.name === b.name && a.layout === b.layout && a.batch === b.batch && a.height === b.height &&
        a.width === b.width && a.channels === b.channels,
      () => `${label}.compute: layer ${l} must be '${a.name}' ${describe(a)} as at creation; got '${b.name}' ${describe(b)}. ` +
        'Create new FeatureStats for layers of another shape.',
    );
  }
}

function describe(layer: FeatureLayer): string {
  return `${layer.layout} [batch ${layer.batch}, H ${layer.height}, W ${layer.width}, C ${layer.channels}]`;
}
