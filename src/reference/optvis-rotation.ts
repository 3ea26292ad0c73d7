// CPU reference of the optvis rotation (shaders/compute/optvis-rotate.wgsl): the bilinear taps of a turn
// about the image centre with zero fill (positions in float64, weights stored as float32), and their
// transpose, as tables. The GPU kernel computes the same taps in float32 on the fly; tests compare the two.

/**
 * Bilinear taps of a rotation by `radians` about the image centre: output pixel p reads Σ_k weight[k·HW + p] ·
 * input[index[k·HW + p]], k = 0 … 3 (flat pixel indices). Taps outside the image get weight 0 (zero fill),
 * index 0. The same taps make the rotation differentiable: its adjoint scatters through them.
 */
export function rotationTaps(height: number, width: number, radians: number): { index: Int32Array; weight: Float32Array } {
  const pixels = height * width;
  const index = new Int32Array(4 * pixels);
  const weight = new Float32Array(4 * pixels);
  const [cy, cx] = [(height - 1) / 2, (width - 1) / 2];
  const [cos, sin] = [Math.cos(radians), Math.sin(radians)];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      // The source of output (y, x): the output position turned back by −radians.
      const sy = cos * (y - cy) - sin * (x - cx) + cy;
      const sx = sin * (y - cy) + cos * (x - cx) + cx;
      const [y0, x0] = [Math.floor(sy), Math.floor(sx)];
      const [fy, fx] = [sy - y0, sx - x0];
      const taps = [[y0, x0, (1 - fy) * (1 - fx)], [y0, x0 + 1, (1 - fy) * fx], [y0 + 1, x0, fy * (1 - fx)], [y0 + 1, x0 + 1, fy * fx]] as const;
      const p = y * width + x;
      taps.forEach(([ty, tx, w], k) => {
        const inside = ty >= 0 && ty < height && tx >= 0 && tx < width;
        index[k * pixels + p] = inside ? ty * width + tx : 0;
        weight[k * pixels + p] = inside ? w : 0;
      });
    }
  return { index, weight };
}

/**
 * The adjoint of a tap table (rotationTaps) as another tap table: input pixel q gathers Σ_j weight[j·P + q] ·
 * dy[index[j·P + q]], j < fanIn, over the output pixels that read it.
 */
export function transposeTaps(taps: { index: Int32Array; weight: Float32Array }, pixels: number): { index: Int32Array; weight: Float32Array; fanIn: number } {
  const count = new Int32Array(pixels);
  for (let e = 0; e < taps.index.length; e++) if (taps.weight[e] !== 0) count[taps.index[e]!]! += 1;
  let fanIn = 1; // a loop, not Math.max(...count): a spread of one argument a pixel overflows the stack past ~10⁵
  for (const c of count) fanIn = Math.max(fanIn, c);
  const index = new Int32Array(fanIn * pixels);
  const weight = new Float32Array(fanIn * pixels);
  count.fill(0);
  for (let e = 0; e < taps.index.length; e++) {
    if (taps.weight[e] === 0) continue;
    const q = taps.index[e]!;
    const slot = count[q]!++;
    index[slot * pixels + q] = e % pixels; // the output pixel of entry e
    weight[slot * pixels + q] = taps.weight[e]!;
  }
  return { index, weight, fanIn };
}
