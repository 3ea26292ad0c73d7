// Neuron view panel: for one layer l, query i and key j, what each head h computes on the way to P[l,h,i,:].
//
// Inputs:  q, k [L, H, n, dh] and p [L, H, n, n], float32, row-major; each bound as layer l's window only
//          (q_base, k_base, p_base: element index of the layer's first value inside its binding).
// Output:  panel, three regions (src/kernels/neuron-panel.ts neuronPanelLayout writes the same offsets):
//            raw     [H, R]   R = 3·dh + 2·n: q_i (dh), k_j (dh), q_i ⊙ k_j (dh), s_i (n), P[l,h,i,:] (n)
//            display [H, R]   the same row for colouring: q and k divided by max(|q_i|, |k_j|) (one scale, so
//                             they stay comparable), q⊙k by its own max |·|, s_i by its max finite |·|, all in
//                             [−1, 1]; P as is in [0, 1]. A zero maximum leaves zeros, never 0/0.
//            stats   [H, 5]   s_ij = scale · Σ q⊙k, P_ij, and the three maxima above.
// Masks:   s_it is −inf (raw and display) where P[l,h,i,t] == 0: the key was masked (or its weight underflowed)
//          and the softmax never saw a finite score there.
// Cost:    one workgroup per head; 2·n·dh multiply-adds for the score row, a few 64-wide reductions.

struct Params {
  heads: u32,
  n: u32,
  dh: u32,
  query: u32,
  key: u32,
  scale: f32,
  q_base: u32,
  k_base: u32,
  p_base: u32,
}

@group(0) @binding(0) var<storage, read_write> panel: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> p: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const THREADS: u32 = 64u;
const STATS: u32 = 5u;
// A private var, not a const: a constant expression that evaluates to −inf is a shader-creation error.
var<private> neg_inf_bits: u32 = 0xff800000u;

var<workgroup> partial: array<f32, 64>;

// Reduces `value` over the workgroup with max (is_max) or +; every thread gets the result. Called in uniform
// control flow only: every thread of the workgroup reaches each barrier.
fn reduce(t: u32, value: f32, is_max: bool) -> f32 {
  workgroupBarrier();
  partial[t] = value;
  for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (t < stride) {
      partial[t] = select(partial[t] + partial[t + stride], max(partial[t], partial[t + stride]), is_max);
    }
  }
  workgroupBarrier();
  return partial[0];
}

// x / m, or 0 when m is 0 (every value was 0).
fn normalized(x: f32, m: f32) -> f32 {
  return select(x / m, 0.0, m == 0.0);
}

fn masked(weight: f32) -> bool {
  return weight == 0.0;
}

@compute @workgroup_size(64)
fn neuron_panel(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let h = group.x;
  let n = params.n;
  let dh = params.dh;
  let row_length = 3u * dh + 2u * n;
  let raw = h * row_length;
  let display = (params.heads + h) * row_length;
  let q_row = params.q_base + (h * n + params.query) * dh;
  let k_row = params.k_base + (h * n + params.key) * dh;
  let k_head = params.k_base + h * n * dh;
  let p_row = params.p_base + (h * n + params.query) * n;

  var sum = 0.0;
  var vector_max = 0.0;
  var product_max = 0.0;
  for (var c = t; c < dh; c += THREADS) {
    let qc = q[q_row + c];
    let kc = k[k_row + c];
    let product = qc * kc;
    panel[raw + c] = qc;
    panel[raw + dh + c] = kc;
    panel[raw + 2u * dh + c] = product;
    sum += product;
    vector_max = max(vector_max, max(abs(qc), abs(kc)));
    product_max = max(product_max, abs(product));
  }

  var score_max = 0.0;
  for (var key = t; key < n; key += THREADS) {
    var dot = 0.0;
    for (var c = 0u; c < dh; c++) {
      dot = fma(q[q_row + c], k[k_head + key * dh + c], dot);
    }
    let weight = p[p_row + key];
    let s = select(dot * params.scale, bitcast<f32>(neg_inf_bits), masked(weight));
    panel[raw + 3u * dh + key] = s;
    panel[raw + 3u * dh + n + key] = weight;
    if (!masked(weight)) {
      score_max = max(score_max, abs(s));
    }
  }

  sum = reduce(t, sum, false);
  vector_max = reduce(t, vector_max, true);
  product_max = reduce(t, product_max, true);
  score_max = reduce(t, score_max, true);

  for (var c = t; c < dh; c += THREADS) {
    panel[display + c] = normalized(panel[raw + c], vector_max);
    panel[display + dh + c] = normalized(panel[raw + dh + c], vector_max);
    panel[display + 2u * dh + c] = normalized(panel[raw + 2u * dh + c], product_max);
  }
  for (var key = t; key < n; key += THREADS) {
    let weight = panel[raw + 3u * dh + n + key];
    let s = panel[raw + 3u * dh + key];
    panel[display + 3u * dh + key] = select(normalized(s, score_max), s, masked(weight));
    panel[display + 3u * dh + n + key] = weight;
  }
  if (t == 0u) {
    let stats = 2u * params.heads * row_length + h * STATS;
    panel[stats] = sum * params.scale;
    panel[stats + 1u] = p[p_row + params.key];
    panel[stats + 2u] = vector_max;
    panel[stats + 3u] = product_max;
    panel[stats + 4u] = score_max;
  }
}
