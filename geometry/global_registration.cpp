#include "geometry/global_registration.h"

#include <Eigen/Cholesky>
#include <Eigen/Geometry>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "geometry/detail/twist.h"
#include "geometry/fpfh.h"
#include "geometry/icp.h"
#include "geometry/kernels/icp.h"
#include "geometry/knn_index.h"
#include "geometry/normals.h"

namespace facet::geometry {

void GlobalRegistrationOptions::Check() const {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "global registration voxel_size must be > 0 and finite (got {})", voxel_size);
  FACET_CHECK(std::isfinite(normal_radius), "normal_radius must be finite (got {})", normal_radius);
  FACET_CHECK(normal_max_nn >= 3, "normal_max_nn must be >= 3 (got {})", normal_max_nn);
  FACET_CHECK(std::isfinite(feature_radius), "feature_radius must be finite (got {})",
              feature_radius);
  FACET_CHECK(feature_max_nn >= 2, "feature_max_nn must be >= 2 (got {})", feature_max_nn);
  FACET_CHECK(std::isfinite(max_correspondence_distance),
              "max_correspondence_distance must be finite (got {})", max_correspondence_distance);
  FACET_CHECK(ransac_n >= 3, "ransac_n must be >= 3 (got {})", ransac_n);
  FACET_CHECK(edge_length_similarity >= 0.0 && edge_length_similarity < 1.0,
              "edge_length_similarity must be in [0, 1) (got {})", edge_length_similarity);
  FACET_CHECK(max_iterations >= 1, "max_iterations must be >= 1 (got {})", max_iterations);
  FACET_CHECK(confidence >= 0.0 && confidence < 1.0, "confidence must be in [0, 1) (got {})",
              confidence);
  FACET_CHECK(fgr_tuple_scale > 0.0 && fgr_tuple_scale < 1.0,
              "fgr_tuple_scale must be in (0, 1) (got {})", fgr_tuple_scale);
  FACET_CHECK(fgr_max_tuples >= 1, "fgr_max_tuples must be >= 1 (got {})", fgr_max_tuples);
  FACET_CHECK(std::isfinite(fgr_division_factor) && fgr_division_factor > 1.0,
              "fgr_division_factor must be > 1 and finite (got {})", fgr_division_factor);
  FACET_CHECK(fgr_iterations >= 1, "fgr_iterations must be >= 1 (got {})", fgr_iterations);
  FACET_CHECK(min_fitness >= 0.0 && min_fitness <= 1.0, "min_fitness must be in [0, 1] (got {})",
              min_fitness);
  FACET_CHECK(min_inliers >= ransac_n, "min_inliers must be >= ransac_n = {} (got {})", ransac_n,
              min_inliers);
  FACET_CHECK(std::isfinite(refine_max_correspondence_distance),
              "refine_max_correspondence_distance must be finite (got {})",
              refine_max_correspondence_distance);
  FACET_CHECK(refine_max_iterations >= 1, "refine_max_iterations must be >= 1 (got {})",
              refine_max_iterations);
}

namespace {

void CheckInput(const PointCloud& cloud, const char* what) {
  cloud.Check();
  FACET_CHECK(cloud.size() >= 3, "global registration needs at least 3 {} points (got {})", what,
              cloud.size());
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    FACET_CHECK(cloud.points[i].allFinite(),
                "global registration: {} point {} is not finite; drop NaN/Inf points first", what,
                i);
  }
}

// Downsampled cloud with unit normals whose signs do not depend on the pose (see the header).
PointCloud Prepare(const PointCloud& input, const char* what,
                   const GlobalRegistrationOptions& options) {
  PointCloud cloud = VoxelDownsample(input, options.voxel_size);
  FACET_CHECK(cloud.size() >= 3,
              "global registration: the {} has {} point(s) after downsampling to voxel_size {}; "
              "use a smaller voxel_size",
              what, cloud.size(), options.voxel_size);
  bool estimate = !cloud.HasNormals();
  for (const Eigen::Vector3d& n : cloud.normals) estimate = estimate || !(n.norm() > 0.5);
  if (estimate) {
    cloud.normals.clear();
    EstimateNormals(cloud, {.knn = options.normal_max_nn, .radius = options.NormalRadius()});
    OrientNormalsConsistently(cloud);
    Eigen::Vector3d centroid = Eigen::Vector3d::Zero();
    for (const Eigen::Vector3d& p : cloud.points) centroid += p;
    centroid /= static_cast<double>(cloud.size());
    double outward = 0.0;
    for (std::size_t i = 0; i < cloud.size(); ++i) {
      outward += cloud.normals[i].dot(cloud.points[i] - centroid);
    }
    if (outward < 0.0) {
      for (Eigen::Vector3d& n : cloud.normals) n = -n;
    }
  } else {
    for (Eigen::Vector3d& n : cloud.normals) n.normalize();
  }
  return cloud;
}

struct Nearest {
  double d2 = std::numeric_limits<double>::infinity();
  std::uint32_t index = 0;
  // Smaller distance first, then smaller index: the same answer whatever the blocking.
  void Offer(double candidate_d2, std::uint32_t candidate) {
    if (candidate_d2 < d2 || (candidate_d2 == d2 && candidate < index)) {
      d2 = candidate_d2;
      index = candidate;
    }
  }
};

// Nearest features in both directions by brute force, |a|^2 + |b|^2 - 2 a.b in blocks of
// source features (a matrix product per block: faster than a KD-tree in 33 dimensions).
void NearestFeatures(const FpfhFeatures& source, const FpfhFeatures& target,
                     std::vector<Nearest>* source_to_target,
                     std::vector<Nearest>* target_to_source) {
  constexpr Eigen::Index kBlock = 256;
  const Eigen::Index ns = source.cols(), nt = target.cols();
  const Eigen::RowVectorXd target_norms = target.colwise().squaredNorm();
  const Eigen::Index blocks = (ns + kBlock - 1) / kBlock;
  source_to_target->assign(static_cast<std::size_t>(ns), Nearest{});
  std::vector<std::vector<Nearest>> block_columns(static_cast<std::size_t>(blocks));
  oneapi::tbb::parallel_for(Eigen::Index{0}, blocks, [&](Eigen::Index block) {
    const Eigen::Index first = block * kBlock, rows = std::min(kBlock, ns - first);
    const auto part = source.middleCols(first, rows);
    Eigen::MatrixXd d2 = -2.0 * (part.transpose() * target);
    d2.colwise() += part.colwise().squaredNorm().transpose();
    d2.rowwise() += target_norms;
    // Eigen's minCoeff returns the first of equal minima: ties go to the smaller index.
    std::vector<Nearest>& columns = block_columns[static_cast<std::size_t>(block)];
    columns.resize(static_cast<std::size_t>(nt));
    for (Eigen::Index t = 0; t < nt; ++t) {
      Eigen::Index r = 0;
      columns[static_cast<std::size_t>(t)] = {d2.col(t).minCoeff(&r),
                                              static_cast<std::uint32_t>(first + r)};
    }
    // Row minima column by column (contiguous); strict < keeps the first of equal minima.
    Eigen::VectorXd row_min = d2.col(0);
    Eigen::Matrix<std::uint32_t, Eigen::Dynamic, 1> row_arg =
        Eigen::Matrix<std::uint32_t, Eigen::Dynamic, 1>::Zero(rows);
    for (Eigen::Index t = 1; t < nt; ++t) {
      for (Eigen::Index r = 0; r < rows; ++r) {
        const bool closer = d2(r, t) < row_min[r];
        row_min[r] = closer ? d2(r, t) : row_min[r];
        row_arg[r] = closer ? static_cast<std::uint32_t>(t) : row_arg[r];
      }
    }
    for (Eigen::Index r = 0; r < rows; ++r) {
      (*source_to_target)[static_cast<std::size_t>(first + r)] = {row_min[r], row_arg[r]};
    }
  });
  target_to_source->assign(static_cast<std::size_t>(nt), Nearest{});
  for (const std::vector<Nearest>& columns : block_columns) {
    for (std::size_t t = 0; t < columns.size(); ++t) {
      (*target_to_source)[t].Offer(columns[t].d2, columns[t].index);
    }
  }
}

using Correspondences = std::vector<std::pair<std::uint32_t, std::uint32_t>>;  // (source, target)

Correspondences MatchFeatures(const FpfhFeatures& source, const FpfhFeatures& target,
                              const GlobalRegistrationOptions& options) {
  std::vector<Nearest> source_to_target, target_to_source;
  NearestFeatures(source, target, &source_to_target, &target_to_source);
  Correspondences all, mutual;
  all.reserve(source_to_target.size());
  for (std::size_t i = 0; i < source_to_target.size(); ++i) {
    all.emplace_back(static_cast<std::uint32_t>(i), source_to_target[i].index);
  }
  if (!options.mutual_filter) return all;
  for (const auto& [s, t] : all) {
    if (target_to_source[t].index == s) mutual.emplace_back(s, t);
  }
  // Open3D keeps all pairs when too few are mutual to sample from.
  return static_cast<int>(mutual.size()) >= 3 * options.ransac_n ? mutual : all;
}

struct Evaluation {
  double fitness = 0.0;
  double inlier_rmse = 0.0;
};

// Open3D's EvaluateRegistration: nearest target point of each transformed source point. Gives up
// (fitness -1) as soon as fewer than `at_least` source points could still match.
Evaluation Evaluate(const PointCloud& source, const KnnIndex& target_index,
                    const Rigid3& target_from_source, double max_distance,
                    std::size_t at_least = 0) {
  const Eigen::Matrix3d rotation = target_from_source.rotation.toRotationMatrix();
  const double max_d2 = max_distance * max_distance;
  double sum = 0.0;
  std::size_t count = 0;
  Evaluation e;
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (count + (source.size() - i) < at_least) {
      e.fitness = -1.0;
      return e;
    }
    const Eigen::Vector3d p = rotation * source.points[i] + target_from_source.translation;
    std::uint32_t nearest = 0;
    double d2 = 0.0;
    if (target_index.Search(p, 1, &nearest, &d2) == 1 && d2 < max_d2) {
      sum += d2;
      ++count;
    }
  }
  e.fitness = static_cast<double>(count) / static_cast<double>(source.size());
  e.inlier_rmse = count > 0 ? std::sqrt(sum / static_cast<double>(count)) : 0.0;
  return e;
}

// SplitMix64 (Steele, Lea, Flood 2014): a small generator, one per hypothesis.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t Next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) up to a bias below n / 2^64.
  std::uint32_t Below(std::uint32_t n) { return static_cast<std::uint32_t>(Next() % n); }
};

struct Hypothesis {
  bool valid = false;
  Evaluation evaluation;
  Rigid3 target_from_source;
};

bool Better(const Evaluation& a, const Evaluation& b) {
  return a.fitness > b.fitness || (a.fitness == b.fitness && a.inlier_rmse < b.inlier_rmse);
}

// Hypothesis h; its evaluation stops early (valid = false) when it cannot reach `at_least` matched
// source points (the best of the previous batches: it could not be chosen).
Hypothesis RunHypothesis(std::uint64_t h, const PointCloud& source, const PointCloud& target,
                         const KnnIndex& target_index, const Correspondences& correspondences,
                         std::size_t at_least, const GlobalRegistrationOptions& options) {
  Hypothesis result;
  SplitMix64 rng{options.seed ^ (0xd1b54a32d192ed03ULL * (h + 1))};
  const int n = options.ransac_n;
  const auto count = static_cast<std::uint32_t>(correspondences.size());
  std::vector<std::uint32_t> sample;
  sample.reserve(static_cast<std::size_t>(n));
  while (static_cast<int>(sample.size()) < n) {
    const std::uint32_t c = rng.Below(count);
    if (std::find(sample.begin(), sample.end(), c) == sample.end()) sample.push_back(c);
  }
  Eigen::Matrix3Xd from(3, n), to(3, n);
  for (int j = 0; j < n; ++j) {
    from.col(j) = source.points[correspondences[sample[j]].first];
    to.col(j) = target.points[correspondences[sample[j]].second];
  }
  if (options.edge_length_similarity > 0.0) {
    for (int a = 0; a < n; ++a) {
      for (int b = a + 1; b < n; ++b) {
        const double ls = (from.col(a) - from.col(b)).norm();
        const double lt = (to.col(a) - to.col(b)).norm();
        if (ls < options.edge_length_similarity * lt || lt < options.edge_length_similarity * ls) {
          return result;
        }
      }
    }
  }
  const Eigen::Matrix4d m = Eigen::umeyama(from, to, false);
  if (!m.allFinite()) return result;
  const Rigid3 pose = Rigid3::FromMatrix(m.topRows<3>());
  const double max_distance = options.MaxCorrespondenceDistance();
  if (options.check_distance) {
    for (int j = 0; j < n; ++j) {
      if (!((pose * Eigen::Vector3d(from.col(j)) - to.col(j)).norm() < max_distance)) {
        return result;
      }
    }
  }
  result.target_from_source = pose;
  result.evaluation = Evaluate(source, target_index, pose, max_distance, at_least);
  result.valid = result.evaluation.fitness >= 0.0;
  return result;
}

// FGR's tuple test (Zhou et al. 2016, Sec. 3): triples of pairs whose three edges have lengths
// within a ratio of fgr_tuple_scale in both clouds, drawn 100 times per pair, at most
// fgr_max_tuples triples; their pairs (repeated as drawn) are the ones optimised.
Correspondences TupleTest(const PointCloud& source, const PointCloud& target,
                          const Correspondences& pairs, const GlobalRegistrationOptions& options) {
  Correspondences kept;
  if (pairs.size() < 3) return kept;
  SplitMix64 rng{options.seed ^ 0x5851f42d4c957f2dULL};
  const auto count = static_cast<std::uint32_t>(pairs.size());
  const double scale = options.fgr_tuple_scale;
  int tuples = 0;
  for (std::size_t trial = 0; trial < 100 * pairs.size() && tuples < options.fgr_max_tuples;
       ++trial) {
    const std::uint32_t c[3] = {rng.Below(count), rng.Below(count), rng.Below(count)};
    bool ok = c[0] != c[1] && c[1] != c[2] && c[0] != c[2];
    for (int a = 0; a < 3 && ok; ++a) {
      const int b = (a + 1) % 3;
      const double ls =
          (source.points[pairs[c[a]].first] - source.points[pairs[c[b]].first]).norm();
      const double lt =
          (target.points[pairs[c[a]].second] - target.points[pairs[c[b]].second]).norm();
      ok = ls * scale < lt && lt < ls / scale;
    }
    if (!ok) continue;
    for (const std::uint32_t i : c) kept.push_back(pairs[i]);
    ++tuples;
  }
  return kept;
}

// FGR's graduated non-convexity on the pairs, in coordinates centred on each cloud's centroid.
Rigid3 OptimizeFgr(const PointCloud& source, const PointCloud& target, const Correspondences& pairs,
                   const GlobalRegistrationOptions& options) {
  Eigen::Vector3d source_center = Eigen::Vector3d::Zero(), target_center = Eigen::Vector3d::Zero();
  for (const Eigen::Vector3d& p : source.points) source_center += p;
  for (const Eigen::Vector3d& q : target.points) target_center += q;
  source_center /= static_cast<double>(source.size());
  target_center /= static_cast<double>(target.size());
  double extent2 = 0.0;
  for (const Eigen::Vector3d& p : source.points) {
    extent2 = std::max(extent2, (p - source_center).squaredNorm());
  }
  for (const Eigen::Vector3d& q : target.points) {
    extent2 = std::max(extent2, (q - target_center).squaredNorm());
  }
  const double min_mu = options.MaxCorrespondenceDistance() * options.MaxCorrespondenceDistance();
  double mu = std::max(4.0 * extent2, min_mu);
  Rigid3 centred;  // target_from_source between the centred clouds
  for (int iteration = 0; iteration < options.fgr_iterations; ++iteration) {
    kernels::IcpSums sums;
    for (const auto& [s, t] : pairs) {
      const Eigen::Vector3d p = centred * (source.points[s] - source_center);
      const Eigen::Vector3d q = target.points[t] - target_center;
      // The line process of a pair is the Geman-McClure IRLS weight (mu / (mu + r^2))^2.
      kernels::AddPointToPoint({p.x(), p.y(), p.z()}, {q.x(), q.y(), q.z()},
                               kernels::IcpKernel::kGemanMcClure, std::sqrt(mu), &sums);
    }
    const Eigen::Matrix<double, 6, 6> jtj = detail::SymmetricFromUpper(sums.jtj);
    const Eigen::Matrix<double, 6, 1> jtr = Eigen::Map<const Eigen::Matrix<double, 6, 1>>(sums.jtr);
    const Eigen::LDLT<Eigen::Matrix<double, 6, 6>> ldlt(jtj);
    if (ldlt.info() != Eigen::Success) break;
    const Eigen::Matrix<double, 6, 1> xi = ldlt.solve(-jtr);
    if (!xi.allFinite()) break;
    centred = detail::RigidFromTwist(xi) * centred;
    if (iteration % 4 == 3 && mu > min_mu) mu = std::max(mu / options.fgr_division_factor, min_mu);
  }
  // x_t = target_center + R (x_s - source_center) + t
  return Rigid3(centred.rotation,
                target_center + centred.translation - centred.rotation * source_center);
}

int CountInliers(const PointCloud& source, const PointCloud& target,
                 const Correspondences& correspondences, const Rigid3& target_from_source,
                 double max_distance) {
  int inliers = 0;
  for (const auto& [s, t] : correspondences) {
    if ((target_from_source * source.points[s] - target.points[t]).norm() < max_distance) {
      ++inliers;
    }
  }
  return inliers;
}

// The refinement, the evaluation at the final pose and the success test.
GlobalRegistrationResult Finish(const PointCloud& source, const PointCloud& target,
                                const KnnIndex& target_index,
                                const Correspondences& correspondences, const Hypothesis& best,
                                const GlobalRegistrationOptions& options,
                                GlobalRegistrationResult result) {
  const double max_distance = options.MaxCorrespondenceDistance();
  if (!best.valid) return result;

  result.target_from_source = best.target_from_source;
  Evaluation evaluation = best.evaluation;
  if (options.refine) {
    IcpOptions icp;
    icp.method = IcpOptions::Method::kPointToPlane;
    icp.max_correspondence_distance = options.RefineMaxCorrespondenceDistance();
    icp.max_iterations = options.refine_max_iterations;
    const IcpResult refined = RegisterIcp(source, target, best.target_from_source, icp);
    result.target_from_source = refined.target_from_source;
    evaluation = Evaluate(source, target_index, result.target_from_source, max_distance);
    result.refined = true;
  }
  result.fitness = evaluation.fitness;
  result.inlier_rmse = evaluation.inlier_rmse;
  result.inliers =
      CountInliers(source, target, correspondences, result.target_from_source, max_distance);
  result.success = result.fitness >= options.min_fitness && result.inliers >= options.min_inliers;
  return result;
}

}  // namespace

GlobalRegistrationResult RegisterGlobal(const PointCloud& source_input,
                                        const PointCloud& target_input,
                                        const GlobalRegistrationOptions& options) {
  options.Check();
  CheckInput(source_input, "source");
  CheckInput(target_input, "target");
  const PointCloud source = Prepare(source_input, "source", options);
  const PointCloud target = Prepare(target_input, "target", options);
  GlobalRegistrationResult result;
  result.source_points = static_cast<int>(source.size());
  result.target_points = static_cast<int>(target.size());

  const FpfhOptions fpfh{.radius = options.FeatureRadius(), .max_nn = options.feature_max_nn};
  const Correspondences correspondences =
      MatchFeatures(ComputeFpfh(source, fpfh), ComputeFpfh(target, fpfh), options);
  result.correspondences = static_cast<int>(correspondences.size());
  const KnnIndex target_index(target.points);
  const double max_distance = options.MaxCorrespondenceDistance();

  Hypothesis best;
  if (options.method == GlobalRegistrationOptions::Method::kFastGlobal) {
    const Correspondences tuples = TupleTest(source, target, correspondences, options);
    // Fewer pairs than 10 cannot outvote outliers (Open3D returns the identity then).
    if (tuples.size() >= 10) {
      best.valid = true;
      best.target_from_source = OptimizeFgr(source, target, tuples, options);
      best.evaluation = Evaluate(source, target_index, best.target_from_source, max_distance);
      result.iterations = options.fgr_iterations;
    }
    return Finish(source, target, target_index, correspondences, best, options, result);
  }

  // RANSAC in batches of parallel hypotheses; the best by (fitness, -RMSE, -index).
  constexpr int kBatch = 64;
  int needed =
      static_cast<int>(correspondences.size()) >= options.ransac_n ? options.max_iterations : 0;
  std::vector<Hypothesis> batch(kBatch);
  while (result.iterations < needed) {
    const int size = std::min(kBatch, needed - result.iterations);
    const auto first = static_cast<std::uint64_t>(result.iterations);
    const std::size_t at_least =
        best.valid ? static_cast<std::size_t>(
                         std::llround(best.evaluation.fitness * static_cast<double>(source.size())))
                   : 0;
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<int>(0, size, 4),
                              [&](const oneapi::tbb::blocked_range<int>& range) {
                                for (int b = range.begin(); b != range.end(); ++b) {
                                  batch[b] = RunHypothesis(first + b, source, target, target_index,
                                                           correspondences, at_least, options);
                                }
                              });
    for (int b = 0; b < size; ++b) {
      if (batch[b].valid && (!best.valid || Better(batch[b].evaluation, best.evaluation))) {
        best = batch[b];
      }
    }
    result.iterations += size;
    // The chance that a sample is all inliers, from the share of feature correspondences the best
    // pose explains (Open3D uses the fitness, which overestimates it under partial overlap and
    // stops too early).
    const double inlier_ratio =
        best.valid ? static_cast<double>(CountInliers(source, target, correspondences,
                                                      best.target_from_source, max_distance)) /
                         static_cast<double>(correspondences.size())
                   : 0.0;
    const double inlier_probability = std::pow(inlier_ratio, options.ransac_n);
    if (inlier_probability > 0.0) {
      const double k = inlier_probability >= 1.0
                           ? 0.0
                           : std::log(1.0 - options.confidence) / std::log1p(-inlier_probability);
      if (k < needed) needed = std::max(static_cast<int>(std::ceil(k)), 1);
    }
  }
  return Finish(source, target, target_index, correspondences, best, options, result);
}

}  // namespace facet::geometry
