// Per-pair math of Fast Point Feature Histograms (geometry/fpfh.h), shared by the CPU path and
// CUDA kernels that want it: the Darboux-frame pair features and their histogram bins. Plain
// structs and FACET_HOST_DEVICE functions, no Eigen or CUDA types.
//
// The definition is Open3D 0.16's (pipelines/registration/Feature.cpp), itself PCL's: for points
// p1, p2 with unit normals n1, n2 and d = |p2 - p1|, the source of the frame is the point whose
// normal makes the smaller angle with the line p1 p2 (the pair is swapped otherwise), u = n1,
// v = (p2 - p1) x u / |.|, w = u x v, and
//   f0 = atan2(w . n2, u . n2)   in [-pi, pi]
//   f1 = v . n2                  in [-1, 1]
//   f2 = u . (p2 - p1) / d       in [-1, 1] (negated with the swap)
// (Rusu, Blodow, Beetz, "Fast Point Feature Histograms (FPFH) for 3D Registration", ICRA 2009).
#pragma once

#include <cmath>

#include "core/host_device.h"
#include "geometry/kernels/triangle_queries.h"

namespace facet::geometry::kernels {

// Bins per angular feature; the histogram has three such parts.
inline constexpr int kFpfhBinsPerFeature = 11;

struct PairFeatures {
  double f0 = 0.0, f1 = 0.0, f2 = 0.0;
  bool valid = false;  // false for coincident points or p2 - p1 parallel to the frame's normal
};

FACET_HOST_DEVICE inline PairFeatures ComputePairFeatures(const Vec3& p1, const Vec3& n1,
                                                          const Vec3& p2, const Vec3& n2) {
  PairFeatures result;
  Vec3 dp2p1 = p2 - p1;
  const double d = std::sqrt(Dot(dp2p1, dp2p1));
  if (d == 0.0) return result;
  Vec3 u = n1, other = n2;
  const double angle1 = Dot(n1, dp2p1) / d;
  const double angle2 = Dot(n2, dp2p1) / d;
  if (std::acos(std::fabs(angle1)) > std::acos(std::fabs(angle2))) {
    u = n2;
    other = n1;
    dp2p1 = -1.0 * dp2p1;
    result.f2 = -angle2;
  } else {
    result.f2 = angle1;
  }
  Vec3 v = Cross(dp2p1, u);
  const double v_norm = std::sqrt(Dot(v, v));
  if (v_norm == 0.0) {
    result.f2 = 0.0;
    return result;
  }
  v = (1.0 / v_norm) * v;
  const Vec3 w = Cross(u, v);
  result.f1 = Dot(v, other);
  result.f0 = std::atan2(Dot(w, other), Dot(u, other));
  result.valid = true;
  return result;
}

// The bin (0 .. kFpfhBinsPerFeature - 1) of a value in [lo, hi], clamped at both ends.
FACET_HOST_DEVICE inline int FpfhBin(double value, double lo, double hi) {
  const int bin = static_cast<int>(std::floor(kFpfhBinsPerFeature * (value - lo) / (hi - lo)));
  return bin < 0 ? 0 : (bin >= kFpfhBinsPerFeature ? kFpfhBinsPerFeature - 1 : bin);
}

}  // namespace facet::geometry::kernels
