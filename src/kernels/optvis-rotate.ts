// Kernel wrapper for shaders/compute/optvis-rotate.wgsl: an image turned about its centre (bilinear, zero
// fill) and the exact adjoint of that map, each one dispatch recorded into the caller's encoder.
import rotateWgsl from '../../shaders/compute/optvis-rotate.wgsl?raw';
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { uniformLayout } from '../memory/uniforms';
import { UniformRing, assertBindingFits, grid2d, paramsEntry, storageEntry } from './kernel-bindings';

/** One image [height, width, channels] (NHWC, batch 1) and the angle it is turned by, in radians. */
export interface RotationShape {
  height: number;
  width: number;
  channels: number;
  radians: number;
}

/** Rotation and its adjoint on the GPU; made by `createRotationKernel`. */
export interface RotationKernel {
  /** output = R_θ(input): `output` must not be `input`. */
  encodeForward(encoder: GPUCommandEncoder, io: { input: GPUBuffer; output: GPUBuffer }, shape: RotationShape): void;
  /** gradInput = R_θᵀ(gradOutput), overwritten: what R_θ's output gradient gives its input. */
  encodeAdjoint(encoder: GPUCommandEncoder, io: { gradOutput: GPUBuffer; gradInput: GPUBuffer }, shape: RotationShape): void;
  destroy(): void;
}

const WORKGROUP = 64;
const PARAMS = uniformLayout(rotateWgsl, 'Params');

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'OptvisRotate.module', [rotateWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'OptvisRotate.bindGroupLayout',
    entries: [storageEntry(0, 'read-only-storage'), storageEntry(1, 'storage'), paramsEntry(2)],
  });
  const layout = device.createPipelineLayout({ label: 'OptvisRotate.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipeline = (entryPoint: string) => device.createComputePipeline({ label: `OptvisRotate.${entryPoint}`, layout, compute: { module, entryPoint } });
  return { bindGroupLayout, forward: pipeline('rotate_forward'), adjoint: pipeline('rotate_adjoint') };
}

/** `uniformSlots` (default 16) bounds the dispatches recorded between two submits. */
export function createRotationKernel(engine: Engine, label = 'OptvisRotate', uniformSlots = 16): RotationKernel {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const ring = new UniformRing(engine, PARAMS, `${label}.params`, uniformSlots);

  function encode(encoder: GPUCommandEncoder, which: 'forward' | 'adjoint', from: GPUBuffer, to: GPUBuffer, shape: RotationShape): void {
    const { height, width, channels, radians } = shape;
    invalidArgument(
      [height, width, channels].every((d) => Number.isInteger(d) && d >= 1) && Number.isFinite(radians),
      () => `${label}: expected an image of integer height, width and channels ≥ 1 and a finite angle; got ${height}×${width}×${channels}, ${radians} rad.`,
    );
    invalidArgument(from !== to, () => `${label}: the ${which} reads and writes different buffers; got the same one twice.`);
    const bytes = height * width * channels * 4;
    for (const [what, buffer] of [['input', from], ['output', to]] as const) {
      invalidArgument(buffer.size >= bytes, () => `${label}: the ${which}'s ${what} holds ${buffer.size} bytes; a ${height}×${width}×${channels} image needs ${bytes}.`);
      assertBindingFits(label, `the ${which}'s ${what}`, bytes, engine.limits);
    }
    const offset = ring.push({ height, width, channels, cos_theta: Math.cos(radians), sin_theta: Math.sin(radians) });
    const group = engine.device.createBindGroup({
      label: `${label}.bindGroup`,
      layout: pipelines.bindGroupLayout,
      entries: [
        { binding: 0, resource: { buffer: from, size: bytes } },
        { binding: 1, resource: { buffer: to, size: bytes } },
        { binding: 2, resource: { buffer: ring.buffer, size: ring.bindingSize } },
      ],
    });
    const pass = encoder.beginComputePass({ label: `${label}.${which}.pass` });
    pass.setPipeline(pipelines[which]);
    pass.setBindGroup(0, group, [offset]);
    pass.dispatchWorkgroups(...grid2d(Math.ceil((height * width) / WORKGROUP)));
    pass.end();
  }

  return {
    encodeForward: (encoder, io, shape) => encode(encoder, 'forward', io.input, io.output, shape),
    encodeAdjoint: (encoder, io, shape) => encode(encoder, 'adjoint', io.gradOutput, io.gradInput, shape),
    destroy: () => ring.destroy(),
  };
}
