// How the optimized image reaches the model: which node takes it and in what value range. Plain options,
// checked here; the differentiable forward that uses them is src/interop/tfjs/optvis-model.ts.
import { invalidArgument } from '../core/errors';

/** Where the optimized image enters the model, and the value range it is given in. */
export interface ModelInputOptions {
  /**
   * GraphModel only: the node that receives the float image, by name. Default: the model's input, which
   * must then be float32. An int32 input (MoveNet's) blocks gradients: feed the first float node after its
   * Cast instead (MOVENET_INPUT in presets.ts).
   */
  inputNode?: string;
  /** The image in [0, 1] is mapped linearly onto [lo, hi] before the model; default [0, 1]. */
  inputRange?: readonly [number, number];
}

export interface ResolvedModelInput {
  readonly inputNode: string | null;
  /** x ↦ scale · x + offset. */
  readonly scale: number;
  readonly offset: number;
}

export function resolveModelInput(options: ModelInputOptions = {}): ResolvedModelInput {
  const { inputNode = null, inputRange = [0, 1] } = options;
  invalidArgument(inputNode === null || (typeof inputNode === 'string' && inputNode.length > 0),
    () => `inputNode must be a node name; got ${String(inputNode)}.`);
  invalidArgument(
    Array.isArray(inputRange) && inputRange.length === 2 && inputRange.every(Number.isFinite) && inputRange[0] !== inputRange[1],
    () => `inputRange must be two different finite numbers [lo, hi]; got ${JSON.stringify(inputRange)}.`,
  );
  const [lo, hi] = inputRange;
  return Object.freeze({ inputNode, scale: hi - lo, offset: lo });
}
