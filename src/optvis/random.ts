// Seeded draws for optvis (initial parameters, transform offsets): mulberry32, with Box–Muller normals.
// Kept here rather than borrowed from src/reference, which sits below the capabilities in the layout.

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function uniformSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` normal draws of standard deviation `sd` (Lucid initializes its parameters with sd 0.01). */
export function normalFloats(length: number, seed: number, sd: number): Float32Array<ArrayBuffer> {
  const uniform = uniformSource(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - uniform())) * sd; // 1 − u ∈ (0, 1]: log stays finite
    const angle = 2 * Math.PI * uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < length) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}
