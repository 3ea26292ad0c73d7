#version 300 es
// Feature-map grid, WebGL2 fallback: the vertex half of shaders/render/feature-grid.wgsl.
// Inputs:  per vertex, the quad corner (0..1, y down), the map's channel and its normalization range
//          [lo, hi] (computed on the CPU each frame); uniforms, channel 0's world rectangle, the cell pitch,
//          the column count and the camera. Six vertices per map, one draw per layer.
// Output:  clip position, uv in the map, the channel and the range (flat).
precision highp float;
precision highp int;

in vec2 corner;
in float channel;
in vec2 range;

uniform vec2 first_xy;
uniform vec2 map_size;
uniform float pitch;
uniform int columns;
uniform vec2 center;
uniform float scale;
uniform vec2 viewport;

out vec2 uv;
flat out int map_channel;
flat out vec2 map_range;

void main() {
  int c = int(channel + 0.5);
  vec2 cell = vec2(float(c % columns), float(c / columns));
  vec2 world = first_xy + cell * pitch + corner * map_size;
  vec2 pixel = (world - center) * scale;
  vec2 half_viewport = 0.5 * viewport;
  gl_Position = vec4(pixel.x / half_viewport.x, -pixel.y / half_viewport.y, 0.0, 1.0);
  uv = corner;
  map_channel = c;
  map_range = range;
}
