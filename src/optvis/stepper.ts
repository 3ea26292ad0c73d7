// The Optimization object behind createOptimization: GPU state, one step, the loss readout and the stop on
// a non-finite loss or gradient. See optimize.ts for the data flow of a step.
import type { Engine } from '../core/engine';
import { InvalidArgumentError, invalidArgument } from '../core/errors';
import { activationShapes, imageGradient } from '../interop/tfjs/optvis-gradient';
import { createTfRotation } from '../interop/tfjs/optvis-transforms';
import type { DifferentiableModel } from '../interop/tfjs/optvis-model';
import { tensorFromTf } from '../interop/tfjs/tensors';
import { createAdamState, createSgdState, type OptimizerState } from '../kernels/optvis-optimizer';
import { createOptvisRegularizers, type RegularizerTerm } from '../kernels/optvis-regularizers';
import { GpuTensor, createTensorBuffer } from '../memory/gpu-tensor';
import { readBufferRange } from '../memory/readback';
import { createFeatureTerms, type FeatureTerms } from './feature-terms';
import type { CompiledObjective, ImageTerm, Objective } from './objectives';
import { learningRateAt, type OptimizerSpec } from './optimizers';
import type { Optimization } from './optimize';
import { createImageParameters, type ParameterizationSpec } from './parameterization';
import { uniformSource } from './random';
import { drawnSize, sampleTransforms, sizeProbes, type Transform, type TransformDraw } from './transforms';

/** One step's loss as read back: the weighted total and every term's own value. */
export interface LossReading {
  /** Σ weight · value over the terms. */
  total: number;
  /** Each term's own (unweighted) value and its weight, in objective.terms order. */
  terms: { name: string; weight: number; value: number }[];
  /** The step these values belong to (the loss of the image that step started from). */
  step: number;
}

export interface StepperConfig {
  objective: Objective;
  compiled: CompiledObjective;
  forward: DifferentiableModel;
  parameterization: ParameterizationSpec;
  transforms: Transform | null;
  optimizer: OptimizerSpec;
  seed: number;
  label: string;
}

/**
 * Forwards at setup: channels in range, a neuron inside its layer, a featureMatch target's shape. Terms that
 * depend on the layer's size are checked at every size the transforms can give the image (scale varies it),
 * so that a step later on cannot fail; the others at one.
 */
function checkTerms(config: StepperConfig, features: FeatureTerms, shapesAfter: (draws: TransformDraw[]) => number[][]): void {
  const { height, width } = config.parameterization;
  const probes = config.transforms ? sizeProbes(config.transforms, height, width) : [[]];
  const sizeDependent = config.compiled.layers.some(({ terms }) =>
    terms.some(({ term }) => term.kind === 'featureMatch' || (term.kind === 'neuron' && term.y !== undefined)));
  for (const draws of sizeDependent ? probes : probes.slice(0, 1)) {
    try {
      features.check(shapesAfter(draws));
    } catch (error) {
      if (!sizeDependent || probes.length === 1 || !(error instanceof InvalidArgumentError)) throw error;
      const size = drawnSize(draws, height, width);
      throw new InvalidArgumentError(`${error.message} (The transforms give the model images of ${probes.length} sizes; ` +
        `this is at ${size.height}×${size.width}.)`);
    }
  }
}

export async function createStepper(engine: Engine, config: StepperConfig): Promise<Optimization> {
  const { objective, compiled, forward, optimizer: spec, seed, label } = config;
  const termCount = objective.terms.length;
  const owned: { destroy(): void }[] = [];
  const own = <T extends { destroy(): void }>(thing: T): T => (owned.push(thing), thing);
  const destroyAll = () => { for (const thing of owned.splice(0).reverse()) thing.destroy(); };
  try {
    const params = own(createImageParameters(engine, config.parameterization, label));
    const { height, width } = config.parameterization;
    const features = own(await createFeatureTerms(engine, compiled, termCount, label));
    const regularizers = own(createOptvisRegularizers(engine, { label: `${label}.regularizers`, valueSlots: termCount }));
    const gradImage = own(tensor(engine, params.image.shape, `${label}.dL/dimage`));
    const rotation = config.transforms && hasRotation(config.transforms) ? own(createTfRotation(engine, label)) : null;
    const gradParams = own(tensor(engine, params.params.shape, `${label}.dL/dparams`));
    const optimizer: OptimizerState = own(spec.kind === 'adam'
      ? createAdamState(engine, params.params, { ...spec, label: `${label}.adam` })
      : createSgdState(engine, params.params, { ...spec, label: `${label}.sgd` }));
    // Every term's value, then the optimizer's status: assembled each step, read in one piece by readLoss.
    const loss = own(engine.createBuffer({ label: `${label}.loss`, size: (termCount + 2) * 4, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }));
    const imageTerms = compiled.image.map(({ index, weight, term }) => ({ valueSlot: index, term: regularizerTerm(term, weight) }));
    const featureSlots = new Set(compiled.layers.flatMap((l) => l.terms.map((t) => t.index)));

    let random = uniformSource(seed ^ 0x5bd1e995);
    let steps = 0;
    let checkedThrough = 0;
    let stopReason: string | null = null;
    const submit = (name: string, record: (encoder: GPUCommandEncoder) => void) => {
      const encoder = engine.device.createCommandEncoder({ label: `${label}.${name}` });
      record(encoder);
      engine.submit([encoder.finish()]);
    };
    const start = () => {
      params.initialize(seed);
      submit('start', (encoder) => {
        params.encodeForward(encoder);
        encoder.clearBuffer(loss);
      });
    };
    start();
    checkTerms(config, features, (draws) => activationShapes(forward, params.image, draws, rotation));

    const stepOnce = () => {
      optimizer.learningRate = learningRateAt(spec, steps);
      const draws = config.transforms ? sampleTransforms(config.transforms, height, width, random) : [];
      const gradTf = imageGradient(engine, forward, {
        image: params.image,
        draws,
        rotation,
        gradients: (layers) => {
          let views: GpuTensor[] = [];
          submit('objectives', (encoder) => { views = features.encode(encoder, layers); });
          return views;
        },
      });
      const gradFromTf = tensorFromTf(engine, gradTf);
      try {
        submit('update', (encoder) => {
          encoder.copyBufferToBuffer(gradFromTf.buffer, 0, gradImage.buffer, 0, gradImage.byteLength);
          regularizers.encodeTerms(encoder, { grad: gradImage, x: params.image }, imageTerms);
          params.encodeBackward(encoder, gradImage, gradParams);
          optimizer.step(encoder, gradParams);
          params.encodeForward(encoder); // the image of the new parameters: what a view draws next
          for (let i = 0; i < termCount; i++) {
            encoder.copyBufferToBuffer(featureSlots.has(i) ? features.values : regularizers.values, i * 4, loss, i * 4, 4);
          }
          encoder.copyBufferToBuffer(optimizer.status, 0, loss, termCount * 4, 8);
        });
      } finally {
        gradFromTf.destroy();
        gradTf.dispose();
      }
      steps += 1;
    };

    const stop = (reason: string) => { stopReason ??= reason; };
    const optimization: Optimization = {
      image: params.image,
      get steps() { return steps; },
      get state() { return stopReason === null ? 'running' : 'stopped'; },
      get stopReason() { return stopReason; },
      step(count = 1) {
        invalidArgument(Number.isInteger(count) && count >= 0, () => `${label}.step: count must be an integer ≥ 0; got ${count}.`);
        for (let i = 0; i < count && stopReason === null; i++) stepOnce();
      },
      stepsDone: () => engine.device.queue.onSubmittedWorkDone(),
      async readLoss() {
        invalidArgument(steps > 0, () => `${label}.readLoss: no step has run yet; call step() first.`);
        const at = steps;
        const bytes = await readBufferRange(engine, loss, 0, (termCount + 2) * 4);
        const values = new Float32Array(bytes, 0, termCount);
        const [skipped, first] = new Uint32Array(bytes, termCount * 4, 2) as unknown as [number, number];
        const terms = objective.terms.map((t, i) => ({ name: t.name, weight: t.weight, value: values[i]! }));
        const total = terms.reduce((sum, t) => sum + t.weight * t.value, 0);
        if (at > checkedThrough) {
          const bad = terms.find((t) => !Number.isFinite(t.value));
          const span = checkedThrough + 1 === at ? `step ${at}` : `steps ${checkedThrough + 1}–${at}`;
          // The read is of step `at`; the term turned non-finite in one of the steps since the last read.
          if (bad) stop(`Stopped in ${span}: the term '${bad.name}' became ${bad.value}; the image keeps the last finite parameters.`);
          else if (skipped > 0) {
            stop(`Stopped in ${span}: ${skipped} parameter update(s) of '${objective.name}' were NaN or ±Inf (first at parameter ` +
              `${first}) although every term's value is finite: the gradient through the model or a regularizer is not finite; ` +
              'those entries kept their last finite values.');
          }
          checkedThrough = at;
        }
        return { total, terms, step: at };
      },
      reset() {
        optimizer.reset();
        random = uniformSource(seed ^ 0x5bd1e995);
        steps = 0;
        checkedThrough = 0;
        stopReason = null;
        start();
      },
      destroy: destroyAll,
    };
    return optimization;
  } catch (error) {
    destroyAll();
    throw error;
  }
}

function hasRotation(transform: Transform): boolean {
  return transform.kind === 'rotate' || (transform.kind === 'compose' && transform.transforms.some(hasRotation));
}

function regularizerTerm(term: ImageTerm, weight: number): RegularizerTerm {
  switch (term.kind) {
    case 'totalVariation': return { kind: 'totalVariation', weight, beta: term.beta };
    case 'alphaNorm': return { kind: 'alphaNorm', weight, alpha: term.alpha };
    case 'l2': return { kind: 'l2', weight };
  }
}

function tensor(engine: Engine, shape: readonly number[], label: string): GpuTensor {
  return new GpuTensor({ engine, buffer: createTensorBuffer(engine, shape, label), shape, layout: 'NHWC' });
}
