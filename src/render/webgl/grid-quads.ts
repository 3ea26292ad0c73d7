// Vertex data for the fallback's grid: six vertices (two triangles) per map, so one plain drawArrays per
// layer draws every channel without instancing (which regl reaches only through ANGLE_instanced_arrays,
// an extension WebGL2 contexts do not list). Corners and channels are fixed per layer; the [lo, hi] range
// per vertex is rewritten when statistics or the normalization change.

/** Quad corners in the order of shaders/render/feature-grid.wgsl: (0,0) (1,0) (0,1) (0,1) (1,0) (1,1). */
const CORNERS = [0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1] as const;
export const VERTICES_PER_MAP = 6;

export interface GridQuads {
  /** 2 floats per vertex. */
  readonly corners: Float32Array;
  /** 1 float per vertex: the map's channel. */
  readonly channels: Float32Array;
}

export function gridQuads(channels: number): GridQuads {
  const corners = new Float32Array(channels * VERTICES_PER_MAP * 2);
  const channelOf = new Float32Array(channels * VERTICES_PER_MAP);
  for (let c = 0; c < channels; c++) {
    corners.set(CORNERS, c * VERTICES_PER_MAP * 2);
    channelOf.fill(c, c * VERTICES_PER_MAP, (c + 1) * VERTICES_PER_MAP);
  }
  return { corners, channels: channelOf };
}

/** Copies each channel's [lo, hi] (2 floats per channel) to its six vertices. */
export function spreadRanges(ranges: Float32Array, channels: number, out: Float32Array): Float32Array {
  for (let c = 0; c < channels; c++) {
    const [lo, hi] = [ranges[2 * c]!, ranges[2 * c + 1]!];
    const base = c * VERTICES_PER_MAP * 2;
    for (let v = 0; v < VERTICES_PER_MAP; v++) {
      out[base + 2 * v] = lo;
      out[base + 2 * v + 1] = hi;
    }
  }
  return out;
}
