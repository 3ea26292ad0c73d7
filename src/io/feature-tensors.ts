// Activation maps out of a file of named tensors (a parsed .safetensors file, or .npy files by name), ready
// to be uploaded with tensorFromArray and named with featureLayer. The data stays as stored: NCHW maps are
// not transposed, because every feature kernel and view reads either layout through strides.
//
// Layout: PyTorch dumps are [N, C, H, W]; tfjs and NumPy-from-TF dumps are [N, H, W, C]. Without an explicit
// `layout`, it is guessed once for the whole file, since one file comes from one framework: each map votes
// for the layout whose spatial axes are closer to square, |log(H/W)| being compared for the two readings,
// [a, b] (NHWC) and [b, c] (NCHW) of [N, a, b, c]. [1, 64, 56, 56] votes NCHW, [1, 56, 56, 64] NHWC,
// [1, 3, 224, 224] NCHW, [1, 7, 7, 512] NHWC. Equal readings abstain; a tie, or no vote at all, means NCHW,
// what files of activations usually hold. Maps like [1, 48, 64, 64] (NHWC, H ≠ W, W = C) fool it: pass
// `layout` when you know it.
import { InvalidArgumentError, invalidArgument } from '../core/errors';
import type { Layout } from '../memory/gpu-tensor';
import type { NamedTensors } from './attention-tensors';

/** Axis order of a rank-4 activation map: [N, H, W, C] (tfjs) or [N, C, H, W] (PyTorch). */
export type FeatureArrayLayout = Extract<Layout, 'NHWC' | 'NCHW'>;

/** One activation map from {@link featureTensorsFrom}; `data` is the input's array, not a copy. */
export interface FeatureArray {
  /** The name it had in the file. */
  name: string;
  /** Rank 4 as stored: [N, H, W, C] or [N, C, H, W]. A rank-3 map (one image) gets N = 1. */
  shape: [number, number, number, number];
  layout: FeatureArrayLayout;
  /** Whether `layout` was guessed (no `layout` option) rather than given. */
  layoutGuessed: boolean;
  data: Float32Array;
}

/** Options for {@link featureTensorsFrom}. */
export interface FeatureTensorsOptions {
  /** The layout of every map; guessed from the shapes when left out (see the rule above). */
  layout?: FeatureArrayLayout;
  /** Which tensors to take, in this order; default every tensor, in the file's order. */
  names?: readonly string[];
}

/**
 * The activation maps in `tensors`. Throws InvalidArgumentError when there are none, when a named tensor
 * is missing (the message lists those present), or when a tensor is not rank 4 ([N, C, H, W] / [N, H, W, C])
 * or rank 3 (one image), or has an empty axis; pass `names` to pick the maps out of a file that holds
 * other tensors too.
 */
export function featureTensorsFrom(tensors: NamedTensors, options: FeatureTensorsOptions = {}): FeatureArray[] {
  invalidArgument(
    options.layout === undefined || options.layout === 'NHWC' || options.layout === 'NCHW',
    () => `featureTensorsFrom: layout is 'NHWC' or 'NCHW' (or left out to guess); got ${String(options.layout)}.`,
  );
  const names = options.names ?? [...tensors.keys()];
  invalidArgument(names.length > 0, () => 'featureTensorsFrom: the file holds no tensors.');
  const picked = names.map((name) => {
    const tensor = tensors.get(name);
    if (!tensor) {
      throw new InvalidArgumentError(`featureTensorsFrom: no tensor named '${name}'; the file holds ${listNames([...tensors.keys()])}.`);
    }
    return { name, shape: mapShape(name, tensor.shape), data: tensor.data };
  });
  const layout = options.layout ?? guessFeatureLayout(picked.map((entry) => entry.shape));
  return picked.map(({ name, shape, data }) => ({ name, shape, layout, layoutGuessed: options.layout === undefined, data }));
}

/** The layout the rule above guesses for maps of these shapes (rank 4, or rank 3 for one image). */
export function guessFeatureLayout(shapes: readonly (readonly number[])[]): FeatureArrayLayout {
  let votes = 0; // > 0: NCHW
  for (const shape of shapes) {
    const [a, b, c] = shape.slice(-3) as [number, number, number];
    const nhwc = Math.abs(Math.log(a / b));
    const nchw = Math.abs(Math.log(b / c));
    votes += Math.sign(nhwc - nchw);
  }
  return votes >= 0 ? 'NCHW' : 'NHWC';
}

// Implementation.

function mapShape(name: string, shape: readonly number[]): [number, number, number, number] {
  const got = `[${shape.join(', ')}] (rank ${shape.length})`;
  invalidArgument(
    shape.length === 4 || shape.length === 3,
    () => `featureTensorsFrom: '${name}' has shape ${got}; expected an activation map of rank 4, [N, C, H, W] ` +
      `or [N, H, W, C], or rank 3 for one image. Pass { names } to pick the maps out of a file with other tensors.`,
  );
  invalidArgument(shape.every((dim) => dim >= 1), () => `featureTensorsFrom: '${name}' has shape ${got}, with an empty axis.`);
  return (shape.length === 3 ? [1, ...shape] : [...shape]) as [number, number, number, number];
}

function listNames(names: string[]): string {
  if (names.length === 0) return 'no tensors';
  const listed = names.slice(0, 20).map((name) => `'${name}'`).join(', ');
  return names.length > 20 ? `${listed} and ${names.length - 20} more` : listed;
}
