#include "splatting/gaussians.h"

#include <nanoflann.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet::splatting {
namespace {

constexpr std::array<const char*, Gaussians::kNumGroups> kGroupNames = {
    "means", "log_scales", "quats", "opacities", "sh_dc", "sh_rest"};

void CheckDegree(int degree, const char* what) {
  FACET_CHECK(degree >= 0 && degree <= kernels::kMaxShDegree,
              "{} must be an SH degree in 0-{} (got {})", what, kernels::kMaxShDegree, degree);
}

std::vector<float>& GroupVector(Gaussians& g, Gaussians::Group group) {
  switch (group) {
    case Gaussians::kMeans:
      return g.means;
    case Gaussians::kLogScales:
      return g.log_scales;
    case Gaussians::kQuats:
      return g.quats;
    case Gaussians::kOpacities:
      return g.opacities;
    case Gaussians::kShDc:
      return g.sh_dc;
    case Gaussians::kShRest:
      return g.sh_rest;
    case Gaussians::kNumGroups:
      break;
  }
  FACET_THROW("Gaussians: invalid parameter group {}", static_cast<int>(group));
}

const std::vector<float>& GroupVector(const Gaussians& g, Gaussians::Group group) {
  return GroupVector(const_cast<Gaussians&>(g), group);
}

// nanoflann's dataset interface over a span of points.
struct PointSpanAdaptor {
  std::span<const Eigen::Vector3f> points;

  std::size_t kdtree_get_point_count() const { return points.size(); }
  float kdtree_get_pt(std::size_t i, std::size_t dim) const {
    return points[i][static_cast<Eigen::Index>(dim)];
  }
  template <typename Box>
  bool kdtree_get_bbox(Box& /*box*/) const {
    return false;  // let nanoflann compute it
  }
};

using KdTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<float, PointSpanAdaptor>,
                                        PointSpanAdaptor, 3, std::uint32_t>;

// Mean squared distance from each point to its `k` nearest other points (fewer when the cloud
// has fewer than k + 1 points; 0 when it has a single point, so that the caller's floor applies).
std::vector<double> MeanSquaredNeighborDistances(std::span<const Eigen::Vector3f> points, int k) {
  const auto n = static_cast<std::int64_t>(points.size());
  std::vector<double> result(points.size(), 0.0);
  if (n < 2) return result;
  const PointSpanAdaptor adaptor{points};
  const KdTree tree(3, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(16));
  // k + 1 results: the query point itself is among them (distance 0), unless more than k other
  // points coincide with it, in which case any k of those are its neighbours anyway.
  const auto wanted = static_cast<std::uint32_t>(std::min<std::int64_t>(k + 1, n));
  ParallelFor(
      n,
      [&](std::int64_t i) {
        std::array<std::uint32_t, 64> fixed_indices{};
        std::array<float, 64> fixed_distances{};
        std::vector<std::uint32_t> heap_indices;
        std::vector<float> heap_distances;
        std::uint32_t* indices = fixed_indices.data();
        float* distances = fixed_distances.data();
        if (wanted > fixed_indices.size()) {
          heap_indices.resize(wanted);
          heap_distances.resize(wanted);
          indices = heap_indices.data();
          distances = heap_distances.data();
        }
        const std::size_t found =
            tree.knnSearch(points[static_cast<std::size_t>(i)].data(), wanted, indices, distances);
        double sum = 0.0;
        int used = 0;
        for (std::size_t j = 0; j < found && static_cast<std::uint32_t>(used) + 1 < wanted; ++j) {
          if (indices[j] == static_cast<std::uint32_t>(i)) continue;
          sum += distances[j];
          ++used;
        }
        result[static_cast<std::size_t>(i)] = used > 0 ? sum / used : 0.0;
      },
      /*grain=*/256);
  return result;
}

}  // namespace

Gaussians::Gaussians(std::int64_t count, int max_sh_degree_in) : max_sh_degree(max_sh_degree_in) {
  CheckDegree(max_sh_degree, "Gaussians: max_sh_degree");
  FACET_CHECK(count >= 0, "Gaussians: the count must be non-negative (got {})", count);
  Resize(count);
}

int Gaussians::Width(Group g) const {
  switch (g) {
    case kMeans:
      return 3;
    case kLogScales:
      return 3;
    case kQuats:
      return 4;
    case kOpacities:
      return 1;
    case kShDc:
      return 3;
    case kShRest:
      return ShRestStride();
    case kNumGroups:
      break;
  }
  FACET_THROW("Gaussians: invalid parameter group {}", static_cast<int>(g));
}

std::span<float> Gaussians::Data(Group g) { return GroupVector(*this, g); }
std::span<const float> Gaussians::Data(Group g) const { return GroupVector(*this, g); }

GaussiansView<float> Gaussians::View() const {
  return {means.data(), log_scales.data(), quats.data(), opacities.data(),
          sh_dc.data(), sh_rest.data(),    size(),       ShRestStride()};
}

GaussiansMutableView<float> Gaussians::MutableView() {
  return {means.data(), log_scales.data(), quats.data(), opacities.data(),
          sh_dc.data(), sh_rest.data(),    size(),       ShRestStride()};
}

void Gaussians::Resize(std::int64_t count) {
  FACET_CHECK(count >= 0, "Gaussians::Resize: the count must be non-negative (got {})", count);
  CheckDegree(max_sh_degree, "Gaussians: max_sh_degree");
  for (int g = 0; g < kNumGroups; ++g) {
    const auto group = static_cast<Group>(g);
    GroupVector(*this, group).resize(static_cast<std::size_t>(count * Width(group)), 0.0f);
  }
}

void Gaussians::SetZero() {
  for (int g = 0; g < kNumGroups; ++g) {
    auto& v = GroupVector(*this, static_cast<Group>(g));
    std::fill(v.begin(), v.end(), 0.0f);
  }
}

void Gaussians::Compact(std::span<const bool> keep) {
  const std::int64_t n = size();
  FACET_CHECK(static_cast<std::int64_t>(keep.size()) == n,
              "Gaussians::Compact: {} keep flags for {} Gaussians", keep.size(), n);
  for (int g = 0; g < kNumGroups; ++g) {
    const auto group = static_cast<Group>(g);
    auto& v = GroupVector(*this, group);
    const auto width = static_cast<std::size_t>(Width(group));
    FACET_CHECK(v.size() == static_cast<std::size_t>(n) * width,
                "Gaussians::Compact: {} holds {} floats, expected {} x {}", kGroupNames[g],
                v.size(), n, width);
    std::size_t out = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      if (!keep[i]) continue;
      if (out != i) std::copy_n(v.begin() + i * width, width, v.begin() + out * width);
      ++out;
    }
    v.resize(out * width);
  }
}

void Gaussians::AppendCopies(std::span<const std::int64_t> indices) {
  const std::int64_t n = size();
  for (const std::int64_t index : indices) {
    FACET_CHECK(index >= 0 && index < n,
                "Gaussians::AppendCopies: index {} is outside the {} Gaussians", index, n);
  }
  for (int g = 0; g < kNumGroups; ++g) {
    const auto group = static_cast<Group>(g);
    auto& v = GroupVector(*this, group);
    const auto width = static_cast<std::size_t>(Width(group));
    FACET_CHECK(v.size() == static_cast<std::size_t>(n) * width,
                "Gaussians::AppendCopies: {} holds {} floats, expected {} x {}", kGroupNames[g],
                v.size(), n, width);
    // Resize first, then copy by offset: the sources stay valid after a reallocation.
    v.resize((static_cast<std::size_t>(n) + indices.size()) * width);
    for (std::size_t j = 0; j < indices.size(); ++j) {
      std::copy_n(v.begin() + static_cast<std::size_t>(indices[j]) * width, width,
                  v.begin() + (static_cast<std::size_t>(n) + j) * width);
    }
  }
}

void Gaussians::Append(const Gaussians& other) {
  FACET_CHECK(other.max_sh_degree == max_sh_degree,
              "Gaussians::Append: SH degree {} differs from this model's {}", other.max_sh_degree,
              max_sh_degree);
  if (&other == this) {
    const Gaussians copy = other;
    Append(copy);
    return;
  }
  for (int g = 0; g < kNumGroups; ++g) {
    const auto group = static_cast<Group>(g);
    auto& v = GroupVector(*this, group);
    const auto& w = GroupVector(other, group);
    v.insert(v.end(), w.begin(), w.end());
  }
}

void Gaussians::Check() const {
  CheckDegree(max_sh_degree, "Gaussians: max_sh_degree");
  const std::int64_t n = size();
  for (int g = 0; g < kNumGroups; ++g) {
    const auto group = static_cast<Group>(g);
    const auto& v = GroupVector(*this, group);
    const auto width = static_cast<std::size_t>(Width(group));
    FACET_CHECK(v.size() == static_cast<std::size_t>(n) * width,
                "Gaussians: {} holds {} floats, expected {} per Gaussian for {} Gaussians",
                kGroupNames[g], v.size(), width, n);
    for (std::size_t i = 0; i < v.size(); ++i) {
      FACET_CHECK(std::isfinite(v[i]), "Gaussians: {} of Gaussian {} is not finite ({})",
                  kGroupNames[g], i / width, v[i]);
    }
  }
}

Gaussians FromSplats(const datasets::GaussianSplats& splats, int max_sh_degree) {
  splats.Check();
  const int degree = max_sh_degree < 0 ? splats.sh_degree : max_sh_degree;
  CheckDegree(degree, "FromSplats: max_sh_degree");
  const auto n = static_cast<std::int64_t>(splats.size());
  Gaussians out(n, degree);
  // Rest coefficients present in both layouts; the others stay zero (or are dropped).
  const int file_coeffs = splats.NumShRest() / 3;
  const int model_coeffs = out.ShRestStride() / 3;
  const int common = std::min(file_coeffs, model_coeffs);
  const int stride = out.ShRestStride();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto s = static_cast<std::size_t>(i);
    for (int d = 0; d < 3; ++d) {
      out.means[3 * s + d] = splats.positions[s][d];
      out.log_scales[3 * s + d] = splats.log_scales[s][d];
      out.sh_dc[3 * s + d] = splats.sh_dc[s][d];
    }
    for (int d = 0; d < 4; ++d) out.quats[4 * s + d] = splats.rotations[s][d];
    out.opacities[s] = splats.opacities[s];
    for (int k = 0; k < common; ++k) {
      for (int c = 0; c < 3; ++c) out.sh_rest[s * stride + 3 * k + c] = splats.ShRest(s, c, k);
    }
  }
  return out;
}

datasets::GaussianSplats ToSplats(const Gaussians& gaussians, int sh_degree) {
  gaussians.Check();
  const int degree = sh_degree < 0 ? gaussians.max_sh_degree : sh_degree;
  CheckDegree(degree, "ToSplats: sh_degree");
  const auto n = static_cast<std::size_t>(gaussians.size());
  datasets::GaussianSplats out;
  out.sh_degree = degree;
  out.positions.resize(n);
  out.normals.assign(n, Eigen::Vector3f::Zero());
  out.sh_dc.resize(n);
  out.sh_rest.assign(n * static_cast<std::size_t>(out.NumShRest()), 0.0f);
  out.opacities.resize(n);
  out.log_scales.resize(n);
  out.rotations.resize(n);
  // Bands above the model's degree are written as zeros.
  const int stride = gaussians.ShRestStride();
  const int common = std::min(out.NumShRest(), stride) / 3;
  for (std::size_t i = 0; i < n; ++i) {
    for (int d = 0; d < 3; ++d) {
      out.positions[i][d] = gaussians.means[3 * i + d];
      out.log_scales[i][d] = gaussians.log_scales[3 * i + d];
      out.sh_dc[i][d] = gaussians.sh_dc[3 * i + d];
    }
    for (int d = 0; d < 4; ++d) out.rotations[i][d] = gaussians.quats[4 * i + d];
    out.opacities[i] = gaussians.opacities[i];
    for (int k = 0; k < common; ++k) {
      for (int c = 0; c < 3; ++c) out.ShRest(i, c, k) = gaussians.sh_rest[i * stride + 3 * k + c];
    }
  }
  return out;
}

void InitOptions::Check() const {
  CheckDegree(max_sh_degree, "InitOptions::max_sh_degree");
  FACET_CHECK(initial_opacity > 0.0f && initial_opacity < 1.0f,
              "InitOptions::initial_opacity must be in (0, 1) (got {})", initial_opacity);
  FACET_CHECK(num_neighbors >= 1 && num_neighbors <= 1024,
              "InitOptions::num_neighbors must be in 1-1024 (got {})", num_neighbors);
  FACET_CHECK(std::isfinite(min_squared_distance) && min_squared_distance > 0.0f,
              "InitOptions::min_squared_distance must be positive and finite (got {})",
              min_squared_distance);
  FACET_CHECK(random_count >= 1, "InitOptions::random_count must be positive (got {})",
              random_count);
}

// A point with no other point to measure against (a one-point cloud) gets the floor
// min_squared_distance as its mean squared distance, as Inria's clamp would give a point whose
// neighbours all coincide with it: a small, isotropic Gaussian that densification can grow.
Gaussians InitFromPoints(std::span<const Eigen::Vector3f> points,
                         std::span<const Eigen::Vector3f> colors, const InitOptions& options) {
  options.Check();
  FACET_CHECK(!points.empty(), "InitFromPoints: the point cloud is empty");
  FACET_CHECK(colors.size() == points.size(), "InitFromPoints: {} colours for {} points",
              colors.size(), points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    FACET_CHECK(points[i].allFinite(), "InitFromPoints: point {} is not finite", i);
    FACET_CHECK(colors[i].allFinite(), "InitFromPoints: the colour of point {} is not finite", i);
  }
  const auto n = static_cast<std::int64_t>(points.size());
  Gaussians out(n, options.max_sh_degree);
  const std::vector<double> mean_sq = MeanSquaredNeighborDistances(points, options.num_neighbors);
  const double o = options.initial_opacity;
  const auto opacity_logit = static_cast<float>(std::log(o / (1.0 - o)));
  ParallelFor(
      n,
      [&](std::int64_t i) {
        const auto s = static_cast<std::size_t>(i);
        const double d2 = std::max(mean_sq[s], static_cast<double>(options.min_squared_distance));
        const auto log_scale = static_cast<float>(0.5 * std::log(d2));  // log(sqrt(d2))
        for (int d = 0; d < 3; ++d) {
          out.means[3 * s + d] = points[s][d];
          out.log_scales[3 * s + d] = log_scale;
          // Inria's RGB2SH: the band-0 colour is 0.5 + C0 * dc.
          out.sh_dc[3 * s + d] = static_cast<float>((colors[s][d] - 0.5) / kernels::kShC0);
        }
        out.quats[4 * s] = 1.0f;  // identity (w, x, y, z)
        out.opacities[s] = opacity_logit;
      },
      /*grain=*/1024);
  return out;
}

Gaussians InitFromScene(const datasets::Scene& scene, const InitOptions& options) {
  FACET_CHECK(!scene.points3d.empty(),
              "the scene has no 3D points to initialise Gaussians from (run structure from "
              "motion first, or use a random initialisation)");
  std::vector<Eigen::Vector3f> points;
  std::vector<Eigen::Vector3f> colors;
  points.reserve(scene.points3d.size());
  colors.reserve(scene.points3d.size());
  for (const auto& [id, point] : scene.points3d) {
    points.push_back(point.xyz.cast<float>());
    colors.push_back(point.color.cast<float>() / 255.0f);
  }
  return InitFromPoints(points, colors, options);
}

Gaussians InitRandom(const Eigen::Vector3f& box_min, const Eigen::Vector3f& box_max,
                     const InitOptions& options) {
  options.Check();
  FACET_CHECK(box_min.allFinite() && box_max.allFinite(),
              "InitRandom: the box corners must be finite");
  FACET_CHECK((box_min.array() <= box_max.array()).all(),
              "InitRandom: box_min ({}, {}, {}) must not exceed box_max ({}, {}, {})", box_min.x(),
              box_min.y(), box_min.z(), box_max.x(), box_max.y(), box_max.z());
  std::mt19937_64 rng(options.seed);
  // 53 random bits -> [0, 1) by hand, so that the sequence does not depend on the standard
  // library's uniform_real_distribution.
  const auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const auto n = static_cast<std::size_t>(options.random_count);
  std::vector<Eigen::Vector3f> points(n);
  std::vector<Eigen::Vector3f> colors(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (int d = 0; d < 3; ++d) {
      const double t = uniform();
      // Clamped: rounding to float must not leave the box.
      points[i][d] = std::clamp(
          static_cast<float>(box_min[d] + t * (static_cast<double>(box_max[d]) - box_min[d])),
          box_min[d], box_max[d]);
    }
    for (int d = 0; d < 3; ++d) colors[i][d] = static_cast<float>(uniform());
  }
  return InitFromPoints(points, colors, options);
}

}  // namespace facet::splatting
