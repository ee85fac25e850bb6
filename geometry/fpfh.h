// Fast Point Feature Histograms: a 33-bin descriptor of the local surface shape around each
// point, invariant to rigid motions, for matching points between scans without an initial pose
// (Rusu, Blodow, Beetz, "Fast Point Feature Histograms (FPFH) for 3D Registration", ICRA 2009).
//
// The definition is exactly Open3D 0.16's ComputeFPFHFeature with KDTreeSearchParamHybrid(radius,
// max_nn), so features can be compared with Open3D's (tests/geometry/fpfh_open3d_test.cpp):
// - neighbours of a point: its max_nn nearest points closer than `radius` (strictly), nearest
//   first; the first one is taken to be the point itself and skipped;
// - SPFH(p): for each neighbour q, the pair features of (p, q) (geometry/kernels/fpfh.h) add
//   100 / (neighbours - 1) to one of 11 bins of each of the three features (bins 0-10, 11-21,
//   22-32); a point without neighbours has an all-zero SPFH;
// - FPFH(p) = SPFH(p) + sum_q SPFH(q) / |p - q|^2, the sum over the neighbours at non-zero
//   distance, with each 11-bin part of the sum scaled to total 100 (PCL's normalisation); a point
//   without neighbours has an all-zero FPFH.
#pragma once

#include <Eigen/Core>

#include "geometry/point_cloud.h"

namespace facet::geometry {

inline constexpr int kFpfhBins = 33;

// One feature per column, in the order of the cloud's points.
using FpfhFeatures = Eigen::Matrix<double, kFpfhBins, Eigen::Dynamic>;

struct FpfhOptions {
  // Neighbourhood radius (scene units, > 0): typically 5 times the point spacing, and larger than
  // the radius the normals were estimated with.
  double radius = 0.05;
  // Neighbours per point at most, the point itself included (>= 2).
  int max_nn = 100;

  // Throws facet::Error naming the field out of range.
  void Check() const;
};

// FPFH of every point of `cloud`, which must have unit normals (geometry/normals.h). Both passes
// run in parallel (oneTBB); each column is computed by one task, so the result does not depend on
// the scheduling. Throws facet::Error for a cloud without normals, non-finite points or normals,
// or invalid options. An empty cloud gives an empty matrix.
FpfhFeatures ComputeFpfh(const PointCloud& cloud, const FpfhOptions& options);

}  // namespace facet::geometry
