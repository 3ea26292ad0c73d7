// The tfjs side of optvis transforms: one step's draws (src/optvis/transforms.ts) applied with ops that
// tfjs can differentiate, so the gradient reaches the untransformed image. Rotation runs on our kernels
// (shaders/compute/optvis-rotate.wgsl), forward and exact adjoint, as a tfjs op with a custom gradient:
// tf.image.transform has no gradient, and bilinear sampling by tf.gather took ~25 tfjs ops and tap tables
// built on the CPU and uploaded every step (10–15 ms of CPU a step at 88×88 here), with a scatter-add as
// the gather's own gradient.
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../../core/engine';
import { GrowingBuffer } from '../../kernels/kernel-bindings';
import { createRotationKernel } from '../../kernels/optvis-rotate';
import { tensorFromBuffer } from '../../memory/gpu-tensor';
import type { TransformDraw } from '../../optvis/transforms';
import { tensorFromTf, tensorToTf } from './tensors';

/**
 * Rotations for `applyTransformDraws`: each of a step's rotate draws writes its output, and later its
 * gradient, into buffers of its own kept here (grown to the largest image), wrapped for tfjs without
 * copies. A buffer is written again only in a later step, after tensorFromTf has flushed the tfjs work
 * that read it, so the queue runs the reads first.
 */
export interface TfRotation {
  /** R_θ(x) for a [1, H, W, C] image: the `slot`-th rotate draw of this step. */
  rotate(x: tf.Tensor4D, radians: number, slot: number): tf.Tensor4D;
  destroy(): void;
}

export function createTfRotation(engine: Engine, label: string): TfRotation {
  const kernel = createRotationKernel(engine, `${label}.rotate`);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const slots: { forward: GrowingBuffer; adjoint: GrowingBuffer }[] = [];
  const slotBuffers = (slot: number) => (slots[slot] ??= {
    forward: new GrowingBuffer(engine, `${label}.rotated[${slot}]`, usage),
    adjoint: new GrowingBuffer(engine, `${label}.rotatedGradient[${slot}]`, usage),
  });
  // Runs one kernel from a tfjs tensor into `into` and hands the result back to tfjs, zero-copy both ways.
  const run = (from: tf.Tensor, into: GrowingBuffer, record: (encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer) => void) => {
    const input = tensorFromTf(engine, from); // flushes tfjs: its writes to `from` come first
    try {
      const output = into.atLeast(from.size * 4);
      const encoder = engine.device.createCommandEncoder({ label: `${label}.rotate` });
      record(encoder, input.buffer, output);
      engine.submit([encoder.finish()]);
      return tensorToTf(tensorFromBuffer(engine, output, from.shape)) as tf.Tensor4D;
    } finally {
      input.destroy();
    }
  };
  return {
    rotate(x, radians, slot) {
      const [batch, height, width, channels] = x.shape;
      if (batch !== 1) throw new Error(`${label}: rotation takes one image, [1, H, W, C]; got [${x.shape.join(', ')}].`);
      const shape = { height, width, channels, radians };
      const buffers = slotBuffers(slot);
      const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
        value: run(args[0] as tf.Tensor, buffers.forward, (encoder, input, output) => kernel.encodeForward(encoder, { input, output }, shape)),
        gradFunc: (dy: tf.Tensor) =>
          run(dy, buffers.adjoint, (encoder, gradOutput, gradInput) => kernel.encodeAdjoint(encoder, { gradOutput, gradInput }, shape)),
      }));
      return op(x) as tf.Tensor4D;
    },
    destroy() {
      kernel.destroy();
      for (const { forward, adjoint } of slots.splice(0)) {
        forward.destroy();
        adjoint.destroy();
      }
    },
  };
}

/**
 * Applies the draws in order to a [1, H, W, C] image. Call inside tf.tidy (or tf.grad); allocates per call.
 * `rotation` runs the rotate draws (required when there are any).
 */
export function applyTransformDraws(image: tf.Tensor4D, draws: readonly TransformDraw[], rotation: TfRotation | null): tf.Tensor4D {
  let x = image;
  let rotations = 0;
  for (const draw of draws) {
    if (draw.kind !== 'rotate') x = applyDraw(x, draw);
    else if (!rotation) throw new Error('applyTransformDraws: a rotate draw needs a TfRotation (createTfRotation).');
    else x = rotation.rotate(x, draw.radians, rotations++);
  }
  return x;
}

function applyDraw(x: tf.Tensor4D, draw: Exclude<TransformDraw, { kind: 'rotate' }>): tf.Tensor4D {
  switch (draw.kind) {
    case 'pad': {
      const p: [number, number][] = [[0, 0], [draw.size, draw.size], [draw.size, draw.size], [0, 0]];
      return draw.mode === 'constant' ? tf.pad(x, p, draw.value) : tf.mirrorPad(x, p, draw.mode);
    }
    case 'crop':
      return tf.slice(x, [0, draw.top, draw.left, 0], [-1, draw.height, draw.width, -1]);
    case 'resize':
      // Lucid's tf.image.resize_bilinear (TF1): corners not aligned, no half-pixel centres.
      return tf.image.resizeBilinear(x, [draw.height, draw.width], false, false);
  }
}
