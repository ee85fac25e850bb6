#include "geometry/fpfh.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "geometry/kernels/fpfh.h"
#include "geometry/knn_index.h"

namespace facet::geometry {

void FpfhOptions::Check() const {
  FACET_CHECK(std::isfinite(radius) && radius > 0.0, "FPFH radius must be > 0 and finite (got {})",
              radius);
  FACET_CHECK(max_nn >= 2, "FPFH max_nn must be >= 2 (got {})", max_nn);
}

namespace {

kernels::Vec3 ToVec3(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }

}  // namespace

FpfhFeatures ComputeFpfh(const PointCloud& cloud, const FpfhOptions& options) {
  options.Check();
  cloud.Check();
  FACET_CHECK(cloud.empty() || cloud.HasNormals(),
              "FPFH needs normals; run EstimateNormals on the cloud first");
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    FACET_CHECK(cloud.points[i].allFinite() && cloud.normals[i].allFinite(),
                "FPFH: point or normal {} is not finite; drop NaN/Inf points first", i);
  }
  const auto n = static_cast<Eigen::Index>(cloud.size());
  FpfhFeatures spfh = FpfhFeatures::Zero(kFpfhBins, n);
  FpfhFeatures fpfh = FpfhFeatures::Zero(kFpfhBins, n);
  if (n == 0) return fpfh;

  const KnnIndex index(cloud.points);
  const int max_nn = options.max_nn;
  const double squared_radius = options.radius * options.radius;
  constexpr double kPi = std::numbers::pi;
  constexpr int kBins = kernels::kFpfhBinsPerFeature;

  // Neighbours of every point (both passes use them): max_nn slots per point, `found` used.
  const auto slots = static_cast<std::size_t>(max_nn);
  std::vector<std::uint32_t> indices(static_cast<std::size_t>(n) * slots);
  std::vector<double> squared_distances(indices.size());
  std::vector<int> found(static_cast<std::size_t>(n));
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<Eigen::Index>(0, n, 64),
      [&](const oneapi::tbb::blocked_range<Eigen::Index>& range) {
        std::vector<std::pair<std::uint32_t, double>> neighbours;
        for (Eigen::Index i = range.begin(); i != range.end(); ++i) {
          const auto u = static_cast<std::size_t>(i);
          // Open3D's hybrid search: the max_nn nearest points strictly within the radius.
          const int count =
              index.RadiusSearch(cloud.points[u], squared_radius, max_nn, &neighbours);
          for (int k = 0; k < count; ++k) {
            indices[u * slots + static_cast<std::size_t>(k)] = neighbours[k].first;
            squared_distances[u * slots + static_cast<std::size_t>(k)] = neighbours[k].second;
          }
          found[u] = count;
          if (count <= 1) continue;
          const double increment = 100.0 / static_cast<double>(count - 1);
          const kernels::Vec3 p1 = ToVec3(cloud.points[u]);
          const kernels::Vec3 n1 = ToVec3(cloud.normals[u]);
          for (int k = 1; k < count; ++k) {
            const std::uint32_t j = indices[u * slots + static_cast<std::size_t>(k)];
            const kernels::PairFeatures pf = kernels::ComputePairFeatures(
                p1, n1, ToVec3(cloud.points[j]), ToVec3(cloud.normals[j]));
            spfh(kernels::FpfhBin(pf.f0, -kPi, kPi), i) += increment;
            spfh(kBins + kernels::FpfhBin(pf.f1, -1.0, 1.0), i) += increment;
            spfh(2 * kBins + kernels::FpfhBin(pf.f2, -1.0, 1.0), i) += increment;
          }
        }
      });

  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<Eigen::Index>(0, n, 64),
                            [&](const oneapi::tbb::blocked_range<Eigen::Index>& range) {
                              for (Eigen::Index i = range.begin(); i != range.end(); ++i) {
                                const auto u = static_cast<std::size_t>(i);
                                if (found[u] <= 1) continue;
                                double sum[3] = {0.0, 0.0, 0.0};
                                for (int k = 1; k < found[u]; ++k) {
                                  const std::size_t slot = u * slots + static_cast<std::size_t>(k);
                                  const double d2 = squared_distances[slot];
                                  if (d2 == 0.0) continue;
                                  for (int j = 0; j < kFpfhBins; ++j) {
                                    const double value = spfh(j, indices[slot]) / d2;
                                    sum[j / kBins] += value;
                                    fpfh(j, i) += value;
                                  }
                                }
                                for (double& s : sum) s = s != 0.0 ? 100.0 / s : s;
                                for (int j = 0; j < kFpfhBins; ++j) {
                                  fpfh(j, i) = fpfh(j, i) * sum[j / kBins] + spfh(j, i);
                                }
                              }
                            });
  return fpfh;
}

}  // namespace facet::geometry
