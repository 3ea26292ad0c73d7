// Normalization of feature-map values against per-channel statistics records.
// A record is two vec4<f32> (see src/reference/channel-stats.ts, the layout's single source of truth):
//   lo4 = (min, max, mean, std), hi4 = (finite count, non-finite count, max |v|, 0).
// The range each normalization mode maps onto the colormap is taken where it is read (feature-grid.wgsl
// range_of), so that a draw loads only the part of a record its mode needs.

struct StatsRecord {
  lo4: vec4<f32>,
  hi4: vec4<f32>,
}

// t in [0, 1]; 0.5 when the range is empty (a constant map).
fn feature_normalized(v: f32, range: vec2<f32>) -> f32 {
  if (!(range.y > range.x)) { return 0.5; }
  return clamp((v - range.x) / (range.y - range.x), 0.0, 1.0);
}
