// Error-free transformations for float32 (Ogita, Rump & Oishi 2005, "Accurate sum and dot product").
// A dot product accumulated as (sum, compensation) is as accurate as one computed in twice the
// working precision, then rounded: large logits keep their low-order bits.

// a + b = s + e exactly, for any finite a and b (Knuth's TwoSum).
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let z = s - a;
  return vec2<f32>(s, (a - (s - z)) + (b - z));
}

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

// Adds a * b to the running (sum, compensation) pair: TwoProduct, then TwoSum (Ogita–Rump–Oishi Dot2).
fn dot2_step(acc: vec2<f32>, a: f32, b: f32, as_: vec2<f32>, bs: vec2<f32>) -> vec2<f32> {
  let product = two_product(a, b, as_, bs);
  let sum = two_sum(acc.x, product.x);
  return vec2<f32>(sum.x, acc.y + (sum.y + product.y));
}

// Order-preserving map from f32 to u32, so that atomicMax on u32 computes a float maximum.
fn ordered_bits(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn from_ordered_bits(bits: u32) -> f32 {
  return bitcast<f32>(select(~bits, bits & 0x7fffffffu, (bits & 0x80000000u) != 0u));
}
