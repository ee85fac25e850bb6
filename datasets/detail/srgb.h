// The sRGB transfer function (IEC 61966-2-1), used at the file boundary: point-cloud formats
// (PLY, PCD) store display-encoded 8-bit colours, geometry::PointCloud holds linear RGB.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace facet::datasets::detail {

// Display value in [0, 1] to linear light; values outside [0, 1] are extended (linear part below
// 0, power law above 1) rather than clamped, so nothing becomes NaN except NaN itself.
inline float SrgbToLinear(float encoded) {
  return encoded <= 0.04045f ? encoded / 12.92f : std::pow((encoded + 0.055f) / 1.055f, 2.4f);
}

inline float LinearToSrgb(float linear) {
  return linear <= 0.0031308f ? linear * 12.92f : 1.055f * std::pow(linear, 1.0f / 2.4f) - 0.055f;
}

// Linear colour channel to the nearest 8-bit sRGB code (clamped to [0, 255]; NaN gives 0).
inline std::uint8_t LinearToSrgb8(float linear) {
  const float scaled = LinearToSrgb(linear) * 255.0f;
  if (!(scaled > 0.0f)) return 0;
  return static_cast<std::uint8_t>(std::lround(std::min(scaled, 255.0f)));
}

inline float Srgb8ToLinear(std::uint8_t encoded) { return SrgbToLinear(encoded / 255.0f); }

}  // namespace facet::datasets::detail
