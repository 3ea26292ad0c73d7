// Which bytes of a layer's activation buffer the grid binds. A buffer within the device's
// maxStorageBufferBindingSize is bound whole and the batch item is picked by an element offset. A larger
// one (a big batch of large maps) is paged: only the batch item's bytes are bound, from an offset aligned
// down to minStorageBufferOffsetAlignment, and what the alignment left over travels as an element offset.
// So no map is ever dropped; only a single batch item too large to bind is an error. Pure math: unit-tested.
import { DeviceLimitError, formatBytes } from '../../core/errors';

const BYTES_PER_FLOAT = 4;

export interface LayerBindingRange {
  /** Byte offset of the bound range in the buffer (a multiple of the alignment). */
  offset: number;
  /** Bytes bound. */
  size: number;
  /** The batch item's first element, counted from the start of the bound range. */
  elementOffset: number;
}

export interface LayerBindingInput {
  /** Bytes of the tensor in the buffer (the buffer may be larger). */
  byteLength: number;
  /** Elements per batch item. */
  batchStride: number;
  batchItem: number;
  /** maxStorageBufferBindingSize, or less. */
  limit: number;
  /** minStorageBufferOffsetAlignment. */
  alignment: number;
  /** Names the layer in the error. */
  name: string;
}

export function layerBindingRange(input: LayerBindingInput, out: LayerBindingRange = { offset: 0, size: 0, elementOffset: 0 }): LayerBindingRange {
  const { byteLength, batchStride, batchItem, limit, alignment } = input;
  const start = batchItem * batchStride * BYTES_PER_FLOAT;
  if (byteLength <= limit) {
    out.offset = 0;
    out.size = byteLength;
    out.elementOffset = batchItem * batchStride;
    return out;
  }
  const offset = Math.floor(start / alignment) * alignment;
  const size = start - offset + batchStride * BYTES_PER_FLOAT;
  if (size > limit) {
    const itemBytes = batchStride * BYTES_PER_FLOAT;
    throw new DeviceLimitError(
      `FeatureGridView: one batch item of layer '${input.name}' takes ${formatBytes(itemBytes)}` +
        (itemBytes <= limit ? ` (${formatBytes(size)} from the nearest ${alignment}-byte-aligned offset)` : '') +
        `, more than this device's maxStorageBufferBindingSize of ${formatBytes(limit)}; a map this large cannot be ` +
        'bound for drawing. Capture a smaller input or fewer channels per layer.',
    );
  }
  out.offset = offset;
  out.size = size;
  out.elementOffset = (start - offset) / BYTES_PER_FLOAT;
  return out;
}
