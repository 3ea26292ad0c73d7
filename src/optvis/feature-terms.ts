// The feature half of a compiled objective: per layer, a gradient buffer (grown to the largest activation
// seen: transforms change the layer's size from step to step) and the kernel launches that fill it with
// Σ weight · dL/dh and leave each term's value in its slot.
import type { Engine } from '../core/engine';
import { InvalidArgumentError, invalidArgument } from '../core/errors';
import type { FeatureLayer } from '../features/feature-layer';
import { createOptvisObjectives, featureTarget, type FeatureObjective, type FeatureTarget, type OptvisObjectives } from '../kernels/optvis-objectives';
import { GpuTensor, createTensorBuffer } from '../memory/gpu-tensor';
import { OBJECTIVE_LAYER_RANKS } from '../interop/tfjs/optvis-model';
import type { CompiledObjective, FeatureTerm } from './objectives';

export interface FeatureTerms {
  /** float32 values, one slot per objective term (feature terms' slots only are written). */
  readonly values: GPUBuffer;
  /** Checks every term against the layers' shapes: channel in range, neuron inside, target shape. */
  check(shapes: readonly (readonly number[])[]): void;
  /** Records the terms' passes for this step's activations; returns dL/dh per layer (views, not owned). */
  encode(encoder: GPUCommandEncoder, layers: readonly FeatureLayer[]): GpuTensor[];
  destroy(): void;
}

export async function createFeatureTerms(engine: Engine, compiled: CompiledObjective, slots: number, label: string): Promise<FeatureTerms> {
  const kernel = createOptvisObjectives(engine, { label: `${label}.objectives`, valueSlots: slots, uniformSlots: 64 });
  try {
    const targets = await measureTargets(engine, kernel, compiled);
    return assemble(engine, kernel, compiled, targets, label);
  } catch (error) {
    kernel.destroy();
    throw error;
  }
}

function assemble(engine: Engine, kernel: OptvisObjectives, compiled: CompiledObjective, targets: Map<number, FeatureTarget>, label: string): FeatureTerms {
  const buffers: (GPUBuffer | null)[] = compiled.layers.map(() => null);
  const bufferFor = (i: number, elements: number): GPUBuffer => {
    const existing = buffers[i];
    if (existing && existing.size >= elements * 4) return existing;
    existing?.destroy();
    const buffer = createTensorBuffer(engine, [elements], `${label}.dL/dh[${compiled.layers[i]!.layer}]`);
    buffers[i] = buffer;
    return buffer;
  };
  return {
    values: kernel.values,
    check(shapes) {
      compiled.layers.forEach(({ layer, terms }, i) => {
        const shape = shapes[i]!;
        for (const { term } of terms) checkTerm(layer, shape, term);
      });
    },
    encode(encoder, layers) {
      return layers.map((layer, i) => {
        const shape = layer.tensor.shape;
        const grad = new GpuTensor({ engine, buffer: bufferFor(i, layer.tensor.size), shape, layout: 'NHWC', release: () => {} });
        compiled.layers[i]!.terms.forEach(({ index, weight, term }, k) => {
          const objective = kernelObjective(term, weight, targets.get(index));
          kernel.encode(encoder, { layer, grad }, objective, { write: k === 0 ? 'overwrite' : 'accumulate', valueSlot: index });
        });
        return grad;
      });
    },
    destroy() {
      kernel.destroy();
      for (const buffer of buffers) buffer?.destroy();
      buffers.fill(null);
    },
  };
}

/**
 * ‖target‖² of every featureMatch term, read back once at setup; a target of units [batch, u] is kept as the
 * map [batch, 1, 1, u] the layer's activations are read as (optvis-gradient.ts), a view of its buffer.
 */
async function measureTargets(engine: Engine, kernel: OptvisObjectives, compiled: CompiledObjective): Promise<Map<number, FeatureTarget>> {
  const targets = new Map<number, FeatureTarget>();
  for (const { terms } of compiled.layers)
    for (const { index, term } of terms) {
      if (term.kind !== 'featureMatch') continue;
      invalidArgument(!term.target.destroyed, () => `featureMatch(${term.layer}): the target tensor was destroyed.`);
      const { normSquared } = await kernel.measureTarget(term.target);
      targets.set(index, featureTarget(unitsAsMap(engine, term.target), normSquared));
    }
  return targets;
}

function kernelObjective(term: FeatureTerm, weight: number, target: FeatureTarget | undefined): FeatureObjective {
  switch (term.kind) {
    case 'featureMatch':
      term.target.assertUsable(); // the caller's tensor: a units target's view cannot tell
      return { kind: 'featureMatch', target: target!, weight };
    case 'channel': return { kind: 'channel', channel: term.channel, weight };
    case 'neuron': return { kind: 'neuron', channel: term.channel, y: term.y, x: term.x, weight };
    case 'deepDream': return { kind: 'deepDream', weight };
  }
}

function unitsAsMap(engine: Engine, tensor: GpuTensor): GpuTensor {
  if (tensor.shape.length !== 2) return tensor;
  const [batch, units] = tensor.shape as [number, number];
  return new GpuTensor({ engine, buffer: tensor.buffer, shape: [batch, 1, 1, units], layout: tensor.layout, release: () => {} });
}

function checkTerm(layer: string, shape: readonly number[], term: FeatureTerm): void {
  invalidArgument(shape.length === 4 || shape.length === 2,
    () => `Optimization: '${layer}' outputs shape [${shape.join(', ')}] (rank ${shape.length}); ${OBJECTIVE_LAYER_RANKS.expected}.`);
  const units = shape.length === 2;
  const [, height, width, channels] = (units ? [shape[0], 1, 1, shape[1]] : shape) as [number, number, number, number];
  if (term.kind === 'channel' || term.kind === 'neuron') {
    if (term.channel >= channels) {
      const what = units ? 'units' : 'channels';
      throw new InvalidArgumentError(`${term.kind}: layer '${layer}' has ${what} 0 … ${channels - 1}; got channel ${term.channel}.`);
    }
  }
  if (term.kind === 'neuron' && term.y !== undefined) {
    invalidArgument(!units, () => `neuron: layer '${layer}' outputs units [${shape.join(', ')}], which have no position; ` +
      `got (y ${term.y}, x ${term.x}). Leave y and x out: neuron('${layer}', ${term.channel}) is unit ${term.channel}.`);
    invalidArgument(term.y < height && term.x! < width,
      () => `neuron: position (y ${term.y}, x ${term.x}) is outside layer '${layer}' of ${height}×${width} (y 0 … ${height - 1}, x 0 … ${width - 1}).`);
  }
  if (term.kind === 'featureMatch') {
    const got = term.target.shape;
    const fits = got.length === shape.length && got.every((d, a) => d === shape[a]);
    invalidArgument(fits, () => `featureMatch: the target must have the shape of layer '${layer}' for this image, ` +
      `[${shape.join(', ')}]; got [${got.join(', ')}].`);
  }
}
