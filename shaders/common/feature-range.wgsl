// Normalization of feature-map values against per-channel statistics records.
// A record is two vec4<f32> (see src/reference/channel-stats.ts, the layout's single source of truth):
//   lo4 = (min, max, mean, std), hi4 = (finite count, non-finite count, max |v|, 0).
// Modes (NORMALIZATION_MODES): 0 channel min..max, 1 layer min..max, 2 symmetric ±max|v| of the channel,
// 3 robust mean ± k·std of the channel.

struct StatsRecord {
  lo4: vec4<f32>,
  hi4: vec4<f32>,
}

fn feature_range(mode: u32, channel: StatsRecord, layer: StatsRecord, k: f32) -> vec2<f32> {
  switch mode {
    case 1u: { return layer.lo4.xy; }
    case 2u: { return vec2<f32>(-channel.hi4.z, channel.hi4.z); }
    case 3u: { return vec2<f32>(channel.lo4.z - k * channel.lo4.w, channel.lo4.z + k * channel.lo4.w); }
    default: { return channel.lo4.xy; }
  }
}

// t in [0, 1]; 0.5 when the range is empty (a constant map).
fn feature_normalized(v: f32, range: vec2<f32>) -> f32 {
  if (!(range.y > range.x)) { return 0.5; }
  return clamp((v - range.x) / (range.y - range.x), 0.0, 1.0);
}
