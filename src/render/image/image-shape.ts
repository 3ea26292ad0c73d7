// The one shape rule for float images shown or exported: NHWC [1, H, W, C] or [H, W, C], C ∈ {1, 3, 4},
// float32, dense. Shared by the image view and PNG export so both refuse the same inputs the same way.
import { invalidArgument } from '../../core/errors';

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  /** 1 grey, 3 RGB, 4 RGBA. */
  readonly channels: number;
}

/** Checks `shape` (and the layout, when the tensor names one) and returns H, W, C; `who` starts messages. */
export function imageShape(shape: readonly number[], who: string, layout?: string): ImageShape {
  const got = `[${shape.join(', ')}]`;
  invalidArgument(
    (shape.length === 4 && shape[0] === 1) || shape.length === 3,
    () => `${who}: expected an image of shape [1, H, W, C] or [H, W, C] (NHWC, one image); got shape ${got}.`,
  );
  invalidArgument(
    layout === undefined || layout === 'NHWC' || layout === 'row-major',
    () => `${who}: expected an NHWC (or row-major) image; got layout '${layout}' with shape ${got}.`,
  );
  const [height, width, channels] = (shape.length === 4 ? shape.slice(1) : shape) as [number, number, number];
  invalidArgument(
    channels === 1 || channels === 3 || channels === 4,
    () => `${who}: expected 1, 3 or 4 channels (grey, RGB, RGBA) in the last axis; got ${channels} in shape ${got}.`,
  );
  return { height, width, channels };
}
