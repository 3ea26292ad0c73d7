// Error-free transformations for float32 (Ogita, Rump & Oishi 2005, "Accurate sum and dot product").
// A dot product accumulated as (sum, compensation) is as accurate as one computed in twice the
// working precision, then rounded: large logits keep their low-order bits.

// Veltkamp's split: a = hi + lo exactly, each with at most 12 significant bits, so that products of
// halves are exact. Used instead of fma(a, b, -a*b), which WGSL does not promise to fuse (SwiftShader
// does not, and the product's error then reads as 0).
fn split(a: f32) -> vec2<f32> {
  let c = 4097.0 * a;
  let hi = c - (c - a);
  return vec2<f32>(hi, a - hi);
}

// a * b = p + e exactly, with a = as.x + as.y and b = bs.x + bs.y split as above (Dekker's TwoProduct).
fn two_product(a: f32, b: f32, as_: vec2<f32>, bs: vec2<f32>) -> vec2<f32> {
  let p = a * b;
  return vec2<f32>(p, ((as_.x * bs.x - p) + as_.x * bs.y + as_.y * bs.x) + as_.y * bs.y);
}

// Four running dot products as (sum, compensation) pairs, one per vector lane.
struct Dot2x4 {
  sum: vec4<f32>,
  comp: vec4<f32>,
}

// Adds a * b (a scalar times four lanes) to four running dot products: Dekker's TwoProduct, then
// Knuth's TwoSum, lane by lane (Ogita–Rump–Oishi Dot2). a_split and b_hi/b_lo are Veltkamp splits.
fn dot2_step4(acc: Dot2x4, a: f32, a_split: vec2<f32>, b: vec4<f32>, b_hi: vec4<f32>, b_lo: vec4<f32>) -> Dot2x4 {
  let p = a * b;
  let product_error = ((a_split.x * b_hi - p) + a_split.x * b_lo + a_split.y * b_hi) + a_split.y * b_lo;
  let s = acc.sum + p;
  let z = s - acc.sum;
  let sum_error = (acc.sum - (s - z)) + (p - z);
  return Dot2x4(s, acc.comp + (sum_error + product_error));
}

fn split4_hi(a: vec4<f32>) -> vec4<f32> {
  let c = 4097.0 * a;
  return c - (c - a);
}

// Order-preserving map from f32 to u32, so that atomicMax on u32 computes a float maximum.
fn ordered_bits(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn from_ordered_bits(bits: u32) -> f32 {
  return bitcast<f32>(select(~bits, bits & 0x7fffffffu, (bits & 0x80000000u) != 0u));
}
