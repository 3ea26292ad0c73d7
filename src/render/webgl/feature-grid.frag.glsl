#version 300 es
// Feature-map grid, WebGL2 fallback: the fragment half of shaders/render/feature-grid.wgsl, same colour for
// the same value. Activations come from an RGBA8 texture that holds the float32 bytes of one batch item
// as they lie in memory (src/render/webgl/float-atlas.ts), indexed with the layer's element strides.
// Colour = colormap[floor(t·256)], t = clamp((v − lo)/(hi − lo)) (0.5 when hi ≤ lo); non-finite values
// get non_finite. Cost per pixel: one texel fetch (nearest) or four (bilinear), one colormap fetch.
precision highp float;
precision highp int;
precision highp sampler2D;

uniform sampler2D activations;
uniform int atlas_width;
uniform int map_width;
uniform int map_height;
uniform int stride_y;
uniform int stride_x;
uniform int stride_channel;
uniform int bilinear;
uniform sampler2D colormap;
uniform vec3 non_finite;

in vec2 uv;
flat in int map_channel;
flat in vec2 map_range;

out vec4 colour_out;

uint activation_bits(int y, int x) {
  int index = y * stride_y + x * stride_x + map_channel * stride_channel;
  uvec4 b = uvec4(texelFetch(activations, ivec2(index % atlas_width, index / atlas_width), 0) * 255.0 + 0.5);
  return b.r | (b.g << 8) | (b.b << 16) | (b.a << 24);
}

// All exponent bits set: ±Inf or NaN. Tested on the bits, so no compiler's fast-math can fold it away.
bool finite_bits(uint bits) {
  return (bits & 0x7f800000u) != 0x7f800000u;
}

// The four texels around p weighted by distance; non-finite ones get weight 0 and the rest are
// renormalized (as the WGSL's bilinear()).
float bilinear_value(vec2 p) {
  vec2 q = p - 0.5;
  vec2 base = floor(q);
  vec2 f = q - base;
  ivec2 last = ivec2(map_width - 1, map_height - 1);
  float sum = 0.0;
  float weight = 0.0;
  for (int k = 0; k < 4; k++) {
    ivec2 offset = ivec2(k & 1, k >> 1);
    ivec2 texel = clamp(ivec2(base) + offset, ivec2(0), last);
    uint bits = activation_bits(texel.y, texel.x);
    float w = (offset.x == 1 ? f.x : 1.0 - f.x) * (offset.y == 1 ? f.y : 1.0 - f.y);
    if (finite_bits(bits)) {
      sum += w * uintBitsToFloat(bits);
      weight += w;
    }
  }
  return sum / weight; // weight > 0: the nearest texel is finite
}

void main() {
  vec2 p = uv * vec2(float(map_width), float(map_height));
  // min() guards against uv rounding up to exactly 1 at the far edge.
  ivec2 nearest = min(ivec2(p), ivec2(map_width - 1, map_height - 1));
  uint bits = activation_bits(nearest.y, nearest.x);
  vec3 colour;
  if (!finite_bits(bits)) {
    colour = non_finite;
  } else {
    float value = bilinear != 0 ? bilinear_value(p) : uintBitsToFloat(bits);
    float lo = map_range.x;
    float hi = map_range.y;
    float t = hi > lo ? clamp((value - lo) / (hi - lo), 0.0, 1.0) : 0.5;
    int entry = min(int(floor(t * 256.0)), 255);
    colour = texelFetch(colormap, ivec2(entry, 0), 0).rgb;
  }
  colour_out = vec4(colour, 1.0);
}
