// tf.Tensor ↔ GpuTensor without copies: our kernels bind tfjs's own buffers, and tfjs wraps ours.
import * as tf from '@tensorflow/tfjs-core';
import type { Engine } from '../../core/engine';
import { invalidArgument } from '../../core/errors';
import { GpuTensor, type Layout } from '../../memory/gpu-tensor';
import { tfjsBackendOf } from './backend';
import { flushTfjs, missingTfjsInternals, ownBuffer } from './internals';

/**
 * A GpuTensor over the tf.Tensor's own GPUBuffer. The GpuTensor holds a reference to the tensor's data
 * (a clone, which shares it), so tfjs keeps the buffer until the GpuTensor is destroyed. When this tfjs
 * build lacks the internals, it falls back to dataToGPU(), a GPU-side copy.
 */
export function tensorFromTf(engine: Engine, tensor: tf.Tensor, options: { layout?: Layout } = {}): GpuTensor {
  invalidArgument(!tensor.isDisposed, () => 'tensorFromTf: the tf.Tensor was already disposed.');
  invalidArgument(
    tensor.dtype === 'float32',
    () => `tensorFromTf: Glassbox kernels take float32 tensors; got ${tensor.dtype}. Cast with tf.cast(t, 'float32').`,
  );
  const backend = tfjsBackendOf(engine);
  invalidArgument(
    backend !== null && tf.backend() === backend,
    () => `tensorFromTf: the tensor must live on the engine's tfjs 'webgpu' backend; the active backend is '${tf.getBackend()}'.`,
  );
  const layout = options.layout ?? 'row-major';
  const shape = tensor.shape.length === 0 ? [1] : tensor.shape;
  if (missingTfjsInternals(backend).length === 0) {
    const keepAlive = tf.clone(tensor);
    const buffer = ownBuffer(backend, keepAlive);
    if (buffer) {
      flushTfjs(backend); // our next submit must see the values tfjs has recorded into this buffer
      return new GpuTensor({ engine, buffer, shape, layout, release: () => keepAlive.dispose() });
    }
    keepAlive.dispose();
  }
  const copy = tensor.dataToGPU();
  return new GpuTensor({ engine, buffer: copy.buffer as GPUBuffer, shape, layout, release: () => copy.tensorRef.dispose() });
}

function tfjsRequiredUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
}

/**
 * A tf.Tensor that reads the GpuTensor's buffer directly (tfjs's zero-copy route). The tf.Tensor does not
 * own the buffer: keep the GpuTensor alive while the tf.Tensor is in use, and dispose the tf.Tensor first.
 */
export function tensorToTf(tensor: GpuTensor): tf.Tensor {
  tensor.assertUsable();
  invalidArgument(
    (tensor.buffer.usage & tfjsRequiredUsage()) === tfjsRequiredUsage(),
    () => `tensorToTf: tfjs needs a buffer with STORAGE | COPY_SRC usage; '${tensor.buffer.label}' has 0x${tensor.buffer.usage.toString(16)}.`,
  );
  invalidArgument(
    tfjsBackendOf(tensor.engine) !== null,
    () => 'tensorToTf: this engine was created with { tfjs: false }.',
  );
  return tf.tensor({ buffer: tensor.buffer, zeroCopy: true }, [...tensor.shape], 'float32');
}
