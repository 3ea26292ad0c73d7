// Numerics shared by kernels.
// WGSL lets implementations assume floats are finite, so NaN/Inf are detected from the bits, and masked
// entries hold the lowest finite float instead of -inf: exp(MASKED - m) is exactly 0 for any finite m.
const MASKED: f32 = -0x1.fffffep+127f;  // lowest finite f32

fn is_finite_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}
