// Float32 activations in an RGBA8 texture, bit for bit: each texel holds one float's four bytes and the
// fragment shader reassembles them (feature-grid.frag.glsl, activation_bits). regl 2 speaks WebGL1's texture
// vocabulary and cannot make an R32F texture, and WebGL2 has no OES_texture_float to give it one; RGBA8
// works everywhere, keeps NaN and ±Inf exactly, and uploads the same 4 bytes per value an R32F would.
//
// The texture holds one batch item of a layer as it lies in memory (NHWC or NCHW), row-major over texels,
// so an upload is the caller's Float32Array itself (no reordering on the CPU) and the shader indexes it
// with the layer's element strides, as the WebGPU grid indexes its storage buffer.
import type { Regl, Texture2D } from 'regl';
import { DeviceLimitError, InvalidArgumentError, formatCount } from '../../core/errors';

export interface FloatAtlasShape {
  /** Texels per row and rows. */
  width: number;
  height: number;
  /** True when width·height equals the element count, so the caller's array uploads without a copy. */
  exact: boolean;
}

/**
 * A width that divides the element count (no padding, no staging copy) with both sides within maxSize,
 * or else maxSize-wide rows with the last one padded.
 */
export function floatAtlasShape(elements: number, maxSize: number, name: string): FloatAtlasShape {
  const narrowest = Math.ceil(elements / maxSize);
  for (let width = Math.min(maxSize, elements); width >= narrowest; width--) {
    if (elements % width === 0) return { width, height: elements / width, exact: true };
  }
  const width = Math.min(maxSize, elements);
  const height = Math.ceil(elements / width);
  if (height > maxSize) {
    throw new DeviceLimitError(
      `FeatureGridFallback: one batch item of layer '${name}' has ${formatCount(elements)} values, more than a ` +
        `${maxSize}×${maxSize} texture (this context's MAX_TEXTURE_SIZE) holds; capture a smaller input or fewer channels.`,
    );
  }
  return { width, height, exact: false };
}

export interface FloatAtlas {
  readonly texture: Texture2D;
  readonly shape: FloatAtlasShape;
  /** Uploads `values` (exactly the element count the atlas was made for). */
  upload(values: Float32Array): void;
  destroy(): void;
}

export function createFloatAtlas(regl: Regl, elements: number, name: string): FloatAtlas {
  const shape = floatAtlasShape(elements, regl.limits.maxTextureSize, name);
  const texture = regl.texture({
    width: shape.width,
    height: shape.height,
    format: 'rgba',
    type: 'uint8',
    min: 'nearest',
    mag: 'nearest',
    wrap: 'clamp',
  });
  // Only a padded atlas needs a staging copy; it is made once.
  const staging = shape.exact ? null : new Float32Array(shape.width * shape.height);
  let lastValues: Float32Array | null = null;
  let lastBytes: Uint8Array | null = null;
  return {
    texture,
    shape,
    upload(values) {
      if (values.length !== elements) {
        throw new InvalidArgumentError(`FloatAtlas('${name}'): expected ${elements} values; got ${values.length}.`);
      }
      let source = values;
      if (staging) {
        staging.set(values);
        source = staging;
      }
      // The byte view is remade only when the array changes, so a steady frame allocates nothing.
      if (source !== lastValues) {
        lastBytes = new Uint8Array(source.buffer, source.byteOffset, source.length * 4);
        lastValues = source;
      }
      texture.subimage(lastBytes!);
    },
    destroy() {
      texture.destroy();
    },
  };
}
