// The head view's links through regl on WebGL2: the benchmark's WebGL peer, and what a fallback would do.
// WebGL cannot bind a GPU buffer from WebGPU, so P travels from the CPU: one upload per frame of every
// float32 of [H, n, n], bit for bit in an RGBA8 texture (float-atlas.ts explains why not R32F). Each head's
// links are two plain draws, as the WebGPU head view draws them: 2 vertices per link as LINES, where links
// at most a pixel wide are 1-pixel lines, then 6 per link as TRIANGLES, where wider links are quads; each
// draw moves the other kind's links off screen in its vertex shader (WebGL has no GPU-side compaction).
// regl 2 instances only through ANGLE_instanced_arrays, which WebGL2 does not list, and regl's checks
// refuse gl_VertexID (it is reported as an attribute it was not given), so each vertex carries its index as
// a float attribute (exact below 2^24: links are drawn in chunks of at most 2^21, one static index buffer
// reused by every chunk); the vertex shader derives (h, i, j) and the corner from it, reads P with
// texelFetch, and places the line exactly as shaders/render/attention-links.wgsl does (same layout, widths,
// opacity, hairlines and premultiplied blending, a later head over an earlier one), so the two pictures
// can be compared pixel by pixel.
import createREGL from 'regl';
import type { DrawCommand, Regl } from 'regl';
import { GlassboxError, invalidArgument } from '../../core/errors';
import { headColour, headViewLayout, DEFAULT_GUTTER } from '../head-view/head-view-layout';
import { createFloatAtlas } from './float-atlas';
import { finishGl, readGlPixels } from './read-pixels';

/**
 * Options for `createReglLinks`: the size of P [heads, tokens, tokens] and the look of the links. Widths are
 * in drawing-buffer pixels; `gutter` is as in the head view (default 0.25), `background` RGB in 0..1.
 */
export interface ReglLinksOptions {
  heads: number;
  tokens: number;
  /** Width in pixels of a link with P = 1 (default 4) and the narrowest drawn link (default 1). */
  lineWidth?: number;
  minLineWidth?: number;
  gutter?: number;
  background?: readonly [number, number, number];
}

/**
 * The head view's links drawn through regl on WebGL2 from P uploaded by the CPU: the benchmarks' WebGL
 * peer of `createHeadView`. Every link of every head is drawn in the default head colours. Not a frame
 * participant: `upload` P, then call `render()`.
 */
export interface ReglLinks {
  /** Uploads P [H, n, n] (float32, row-major) as a texture: the per-frame cost of feeding WebGL from the CPU. */
  upload(weights: Float32Array): void;
  /** Clears and draws every link into the canvas's drawing buffer. */
  render(): void;
  /** Waits for the GL (a one-pixel readPixels). */
  finish(): void;
  /** The drawing buffer as RGBA rows, top row first; call in the same task as render(). */
  readPixels(): Uint8Array;
  /** Releases every GL object regl made; the canvas and its context stay. */
  destroy(): void;
}

const VERTEX = `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D weights;
uniform sampler2D colours;
uniform int atlas_width;
uniform int tokens;
uniform vec2 viewport;
uniform vec4 columns; // query x, key x, top, row
uniform vec2 widths;  // min, max
uniform int first_link;
uniform int per_link; // 2: this draw makes the hairlines (LINES); 6: the wider links' quads (TRIANGLES)
in float vertex;
flat out vec4 colour;
const int CORNER[6] = int[6](0, 1, 2, 1, 3, 2);
void main() {
  int v = int(vertex + 0.5);
  int link = first_link + v / per_link;
  int corner = per_link == 2 ? 2 * (v & 1) : CORNER[v - (v / 6) * 6];
  int per_head = tokens * tokens;
  int h = link / per_head;
  int within = link - h * per_head;
  int i = within / tokens;
  int j = within - i * tokens;
  uvec4 b = uvec4(texelFetch(weights, ivec2(link % atlas_width, link / atlas_width), 0) * 255.0 + 0.5);
  float p = uintBitsToFloat(b.r | (b.g << 8) | (b.b << 16) | (b.a << 24));
  vec4 c = texelFetch(colours, ivec2(h, 0), 0);
  float alpha = clamp(p, 0.0, 1.0) * c.a;
  // As attention-links.wgsl: a link under half a step of the 8-bit drawing buffer changes no pixel.
  float width = max(widths.x, min(p, 1.0) * widths.y);
  bool hairline = width <= 1.0;
  if (!(p > 0.0) || alpha < 0.5 / 255.0 || hairline != (per_link == 2)) { gl_Position = vec4(2.0, 2.0, 0.0, 1.0); colour = vec4(0.0); return; }
  vec2 a = vec2(columns.x, columns.z + float(i) * columns.w);
  vec2 e = vec2(columns.y, columns.z + float(j) * columns.w);
  vec2 along = e - a;
  vec2 normal = vec2(-along.y, along.x) / max(length(along), 1e-6);
  vec2 side = hairline ? vec2(0.0) : ((corner & 1) == 1 ? 0.5 : -0.5) * width * normal;
  vec2 pixel = (corner >= 2 ? e : a) + side;
  vec2 ndc = pixel / viewport * 2.0 - 1.0;
  gl_Position = vec4(ndc.x, -ndc.y, 0.0, 1.0);
  colour = vec4(c.rgb * alpha, alpha);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
flat in vec4 colour;
out vec4 colour_out;
void main() { colour_out = colour; }`;

/** Links per draw: 6 vertex indices each stay below 2^24, where float32 stops counting exactly. */
const CHUNK_LINKS = 1 << 21;

/**
 * Creates the WebGL2 links for P of [heads, tokens, tokens] on `canvas`. Throws `InvalidArgumentError`
 * unless heads and tokens are positive integers, and `GlassboxError` when the canvas gives no WebGL2 context.
 */
export function createReglLinks(canvas: HTMLCanvasElement, options: ReglLinksOptions): ReglLinks {
  const { heads, tokens } = options;
  invalidArgument(
    Number.isInteger(heads) && heads >= 1 && Number.isInteger(tokens) && tokens >= 1,
    () => `createReglLinks: heads and tokens are positive integers; got ${heads} and ${tokens}.`,
  );
  const gl = canvas.getContext('webgl2', { antialias: false, alpha: false, depth: false, stencil: false });
  if (!gl) throw new GlassboxError(`createReglLinks: canvas.getContext('webgl2') returned null.`);
  const regl: Regl = createREGL({ gl: gl as unknown as WebGLRenderingContext });
  const links = heads * tokens * tokens;
  const atlas = createFloatAtlas(regl, links, 'attention weights');
  const palette = new Uint8Array(heads * 4);
  for (let h = 0; h < heads; h++) palette.set([...headColour(h).map((c) => Math.round(c * 255)), 255], h * 4);
  const colours = regl.texture({ width: heads, height: 1, format: 'rgba', type: 'uint8', data: palette, min: 'nearest', mag: 'nearest' });
  const background = options.background ?? [0.12, 0.12, 0.12];
  const clear = { color: [background[0], background[1], background[2], 1] as [number, number, number, number] };
  const props = { viewport: [1, 1], columns: [0, 0, 0, 0], widths: [options.minLineWidth ?? 1, options.lineWidth ?? 4] };
  const gutter = options.gutter ?? DEFAULT_GUTTER;
  const perHead = tokens * tokens;
  const chunk = Math.min(perHead, CHUNK_LINKS);
  const vertexIndex = regl.buffer({ data: Float32Array.from({ length: chunk * 6 }, (_, v) => v), usage: 'static' });
  const chunkProps = { first: 0, count: 0 };
  const drawKind = (perLink: 2 | 6) => regl({
    vert: VERTEX,
    frag: FRAGMENT,
    uniforms: {
      weights: atlas.texture,
      colours,
      atlas_width: atlas.shape.width,
      tokens,
      viewport: () => props.viewport,
      columns: () => props.columns,
      widths: () => props.widths,
      first_link: () => chunkProps.first,
      per_link: perLink,
    },
    attributes: { vertex: vertexIndex },
    count: () => chunkProps.count * perLink,
    primitive: perLink === 2 ? 'lines' : 'triangles',
    depth: { enable: false },
    blend: { enable: true, func: { src: 'one', dst: 'one minus src alpha' } },
  }) as DrawCommand;
  const draws = [drawKind(2), drawKind(6)]; // hairlines, then quads: "over" of one head's colour commutes

  return {
    upload(weights) {
      atlas.upload(weights);
    },
    render() {
      regl.poll();
      const layout = headViewLayout(gl.drawingBufferWidth, gl.drawingBufferHeight, tokens, gutter);
      props.viewport[0] = layout.width;
      props.viewport[1] = layout.height;
      props.columns[0] = layout.queryX;
      props.columns[1] = layout.keyX;
      props.columns[2] = layout.top;
      props.columns[3] = layout.row;
      regl.clear(clear);
      for (let h = 0; h < heads; h++)
        for (const draw of draws)
          for (let first = h * perHead; first < (h + 1) * perHead; first += chunk) {
            chunkProps.first = first;
            chunkProps.count = Math.min(chunk, (h + 1) * perHead - first);
            draw();
          }
    },
    finish: () => finishGl(gl),
    readPixels: () => readGlPixels(gl),
    destroy() {
      regl.destroy();
    },
  };
}
