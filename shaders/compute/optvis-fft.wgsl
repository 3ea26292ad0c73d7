// Image parameterizations for activation maximization: Lucid's `fft_image` + `to_valid_rgb(decorrelate)`
// and the plain `pixels` mapping, forward and exact adjoint (backward).
//
// fft (per image n, colour component c; K = ⌊W/2⌋ + 1 spectrum columns):
//   T[n,c,y,k] = Σ_h weight[h,k] · S[n,c,h,k] · e^{+2πi h y / H}               inverse_columns
//   p[n,c,y,x] = Σ_k Re(T[n,c,y,k] · e^{+2πi k x / W})                         inverse_rows (fused:)
//   t[n,y,x,i] = Σ_j D[i][j] p[n,j,y,x],   image = σ(t) or clamp(t, 0, 1)
// with weight[h,k] = c_k · scale[h,k] / (4·H·W) from the host in float64 (c_k = 1 for the DC and Nyquist
// columns, else 2; scale = Lucid's √(HW)/max(f, 1/max(H,W))^decay; /4 Lucid's constant), so p is exactly
// Lucid's irfft2(scale ⊙ S) / 4. The adjoint runs the same steps transposed:
//   dt = dL/dimage ⊙ mapping′ (from the forward image: σ′ = y(1 − y); clamp′ = 1, see mapped_slope), dp = Dᵀ dt,
//   U[n,j,y,k] = Σ_x dp[n,j,y,x] · e^{−2πi k x / W}                             adjoint_rows
//   dS[n,c,h,k] = weight[h,k] · Σ_y U[n,c,y,k] · e^{−2πi h y / H}               adjoint_columns
//
// Layouts: S and dS [2, N, 3, H, K] float32 (plane 0 real, plane 1 imaginary: Lucid's variable); image and
// dL/dimage NHWC [N, H, W, 3]; the scratch T / U [N, 3, H, K] vec2 (re, im); constants = twiddles
// (cos, sin)(2π m / H) for m < H, then (cos, sin)(2π m / W) for m < W, then weight [H, K]. Twiddle indices
// are products reduced mod H or W, so angles stay exact however large the image.
// Cost: a DFT as a matrix product, not an FFT: 3N·H·K·(H + W) complex multiply-adds each way (3N·H·K
// threads of H steps, then N·H·W threads of 3K steps; the adjoint the reverse). 224×224: 34 M each way.
// Any H, W ≥ 1 (no power-of-two restriction).
//
// pixels: image = mapping(D x) per pixel (D = identity without decorrelation); dx = Dᵀ(dL/dimage ⊙
// mapping′), x and image NHWC [..., 3]. One thread per pixel.
//
// Outputs are written by exactly one thread per element; dS and dx are overwritten, or added to when
// params.accumulate is 1.

struct Params {
  batch: u32,
  height: u32,
  width: u32,
  columns: u32,     // K = ⌊W/2⌋ + 1
  pixels: u32,      // pixels entry points: pixels in x (N·H·W of any shape ending in 3)
  mapping: u32,     // 0 sigmoid, 1 clamp to [0, 1]
  accumulate: u32,
  d00: f32, d01: f32, d02: f32,   // D row-major: t_i = Σ_j D[i][j] p_j
  d10: f32, d11: f32, d12: f32,
  d20: f32, d21: f32, d22: f32,
}

@group(0) @binding(0) var<storage, read_write> output: array<f32>;       // image, dS or dx
@group(0) @binding(1) var<storage, read_write> scratch: array<vec2<f32>>; // T (forward) or U (backward)
@group(0) @binding(2) var<storage, read> input: array<f32>;              // S, dL/dimage, or x
@group(0) @binding(3) var<storage, read> image: array<f32>;              // the forward image (backward only)
@group(0) @binding(4) var<storage, read> constants: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const WORKGROUP_SIZE: u32 = 64u;
const MAPPING_CLAMP: u32 = 1u;

fn thread_index(group: vec3<u32>, groups: vec3<u32>, local_index: u32) -> u32 {
  return (group.y * groups.x + group.x) * WORKGROUP_SIZE + local_index;
}

fn decorrelation() -> mat3x3<f32> {
  // WGSL matrices are built from columns: column j holds D[·][j].
  return mat3x3<f32>(
    vec3<f32>(params.d00, params.d10, params.d20),
    vec3<f32>(params.d01, params.d11, params.d21),
    vec3<f32>(params.d02, params.d12, params.d22),
  );
}

fn twiddle_h(m: u32) -> vec2<f32> {
  return vec2<f32>(constants[2u * m], constants[2u * m + 1u]);
}

fn twiddle_w(m: u32) -> vec2<f32> {
  let base = 2u * params.height;
  return vec2<f32>(constants[base + 2u * m], constants[base + 2u * m + 1u]);
}

fn spectrum_weight(h: u32, k: u32) -> f32 {
  return constants[2u * (params.height + params.width) + h * params.columns + k];
}

fn mapped(t: vec3<f32>) -> vec3<f32> {
  if (params.mapping == MAPPING_CLAMP) {
    return clamp(t, vec3<f32>(0.0), vec3<f32>(1.0));
  }
  return 1.0 / (1.0 + exp(-t));
}

// The mapping's slope at t, read from its output y: σ′ = y(1 − y). The clamp passes the gradient through
// (slope 1): it is paired with the optimizer's clamp to [0, 1], which keeps t there, and at t = 0 or 1 the
// slope 1 is the projected gradient. The subgradient 0 at the edges froze every pixel the optimizer had
// clamped there: no gradient ever moved it back. Where t leaves [0, 1] (no optimizer clamp, or colours
// decorrelated), this is the straight-through estimator, not the subgradient 0.
fn mapped_slope(y: vec3<f32>) -> vec3<f32> {
  if (params.mapping == MAPPING_CLAMP) {
    return vec3<f32>(1.0);
  }
  return y * (1.0 - y);
}

// Two loaders, not one with a flag: a forward entry point must not touch `image` even statically, since
// its bind group layout leaves binding 3 out (the image is its output).
fn input3(e: u32) -> vec3<f32> {
  return vec3<f32>(input[e], input[e + 1u], input[e + 2u]);
}

fn image3(e: u32) -> vec3<f32> {
  return vec3<f32>(image[e], image[e + 1u], image[e + 2u]);
}

fn store(e: u32, value: f32) {
  if (params.accumulate != 0u) {
    output[e] += value;
  } else {
    output[e] = value;
  }
}

// One thread per (n, c, y, k): T = Σ_h weight · S · e^{+iψ}, ψ = 2π h y / H.
@compute @workgroup_size(64)
fn inverse_columns(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_index) local_index: u32) {
  let i = thread_index(group, groups, local_index);
  let K = params.columns;
  let H = params.height;
  let plane = params.batch * 3u * H * K;
  if (i >= plane) {
    return;
  }
  let k = i % K;
  let y = (i / K) % H;
  let image_base = (i / (K * H)) * H * K;  // (n, c)'s first spectrum element
  var sum = vec2<f32>(0.0);
  var m = 0u;  // h · y mod H, stepped without multiplying
  for (var h = 0u; h < H; h++) {
    let s = image_base + h * K + k;
    let value = spectrum_weight(h, k) * vec2<f32>(input[s], input[plane + s]);
    let w = twiddle_h(m);
    sum += vec2<f32>(value.x * w.x - value.y * w.y, value.x * w.y + value.y * w.x);
    m += y;
    if (m >= H) {
      m -= H;
    }
  }
  scratch[i] = sum;
}

// One thread per pixel (n, y, x): p_c = Σ_k Re(T · e^{+iφ}), φ = 2π k x / W, then colour and mapping.
@compute @workgroup_size(64)
fn inverse_rows(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_index) local_index: u32) {
  let i = thread_index(group, groups, local_index);
  let H = params.height;
  let W = params.width;
  let K = params.columns;
  if (i >= params.batch * H * W) {
    return;
  }
  let x = i % W;
  let y = (i / W) % H;
  let n = i / (W * H);
  var p = vec3<f32>(0.0);
  for (var c = 0u; c < 3u; c++) {
    let row = ((n * 3u + c) * H + y) * K;
    var sum = 0.0;
    var m = 0u;  // k · x mod W
    for (var k = 0u; k < K; k++) {
      let t = scratch[row + k];
      let w = twiddle_w(m);
      sum += t.x * w.x - t.y * w.y;
      m += x;
      if (m >= W) {
        m -= W;
      }
    }
    p[c] = sum;
  }
  let rgb = mapped(decorrelation() * p);
  for (var c = 0u; c < 3u; c++) {
    output[3u * i + c] = rgb[c];
  }
}

// One thread per (n, y, k), all three components: U_j = Σ_x dp_j · e^{−iφ}, dp = Dᵀ(dL/dimage ⊙ mapping′).
@compute @workgroup_size(64)
fn adjoint_rows(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                @builtin(local_invocation_index) local_index: u32) {
  let i = thread_index(group, groups, local_index);
  let H = params.height;
  let W = params.width;
  let K = params.columns;
  if (i >= params.batch * H * K) {
    return;
  }
  let k = i % K;
  let y = (i / K) % H;
  let n = i / (K * H);
  let d_transposed = transpose(decorrelation());
  var re = vec3<f32>(0.0);
  var im = vec3<f32>(0.0);
  var m = 0u;  // k · x mod W
  for (var x = 0u; x < W; x++) {
    let pixel = 3u * ((n * H + y) * W + x);
    let dp = d_transposed * (input3(pixel) * mapped_slope(image3(pixel)));
    let w = twiddle_w(m);
    re += dp * w.x;
    im -= dp * w.y;
    m += k;
    if (m >= W) {
      m -= W;
    }
  }
  for (var j = 0u; j < 3u; j++) {
    scratch[((n * 3u + j) * H + y) * K + k] = vec2<f32>(re[j], im[j]);
  }
}

// One thread per (n, c, h, k): dS = weight · Σ_y U · e^{−iψ}, ψ = 2π h y / H.
@compute @workgroup_size(64)
fn adjoint_columns(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_index) local_index: u32) {
  let i = thread_index(group, groups, local_index);
  let K = params.columns;
  let H = params.height;
  let plane = params.batch * 3u * H * K;
  if (i >= plane) {
    return;
  }
  let k = i % K;
  let h = (i / K) % H;
  let image_base = (i / (K * H)) * H * K;
  var sum = vec2<f32>(0.0);
  var m = 0u;  // h · y mod H
  for (var y = 0u; y < H; y++) {
    let u = scratch[image_base + y * K + k];
    let w = twiddle_h(m);
    sum += vec2<f32>(u.x * w.x + u.y * w.y, u.y * w.x - u.x * w.y);
    m += h;
    if (m >= H) {
      m -= H;
    }
  }
  let weight = spectrum_weight(h, k);
  store(i, weight * sum.x);
  store(plane + i, weight * sum.y);
}

@compute @workgroup_size(64)
fn pixels_forward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                  @builtin(local_invocation_index) local_index: u32) {
  let i = thread_index(group, groups, local_index);
  if (i >= params.pixels) {
    return;
  }
  let rgb = mapped(decorrelation() * input3(3u * i));
  for (var c = 0u; c < 3u; c++) {
    output[3u * i + c] = rgb[c];
  }
}

@compute @workgroup_size(64)
fn pixels_backward(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
                   @builtin(local_invocation_index) local_index: u32) {
  let i = thread_index(group, groups, local_index);
  if (i >= params.pixels) {
    return;
  }
  let dx = transpose(decorrelation()) * (input3(3u * i) * mapped_slope(image3(3u * i)));
  for (var c = 0u; c < 3u; c++) {
    store(3u * i + c, dx[c]);
  }
}
