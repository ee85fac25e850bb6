// Pairwise ICP, facet's RegisterIcp against Open3D's RegistrationICP / RegistrationColoredICP,
// on the same clouds, normals, start, distance and convergence criteria:
//   (a) the scanned room fragments (../shared/data/icp-fragments, cloud_bin_0 onto cloud_bin_1)
//       from a start perturbed by ~6 degrees and 5 cm, point-to-plane and colored;
//   (b) the Stanford bunny upsampled to --bunny-points points (area-uniform samples of the
//       bun_zipper triangles, normals from the faces; source and target are independent
//       samples) under a known motion, point-to-plane.
// Prints the best of --repeat wall times per registration, the ratio Open3D / facet, and both
// fitness and inlier RMSE (and the pose difference between the two); --json FILE also writes them
// (an array "registrations", one object per comparison, times in seconds) for bench/run_all.sh.
//
//   build/release/bench/icp_vs_open3d [--threads 2] [--repeat 5] [--bunny-points 500000]
//                                     [--json FILE]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <oneapi/tbb/global_control.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/pipelines/registration/ColoredICP.h>
#include <open3d/pipelines/registration/Registration.h>
#include <open3d/pipelines/registration/TransformationEstimation.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>

#include "datasets/pcd.h"
#include "datasets/ply.h"
#include "geometry/icp.h"

namespace {

using facet::geometry::IcpOptions;
using facet::geometry::IcpResult;
using facet::geometry::PointCloud;
using facet::geometry::Rigid3;
namespace reg = open3d::pipelines::registration;

open3d::geometry::PointCloud ToOpen3d(const PointCloud& cloud) {
  open3d::geometry::PointCloud out;
  out.points_ = cloud.points;
  out.normals_ = cloud.normals;
  for (const auto& c : cloud.colors) out.colors_.push_back(c.cast<double>());
  return out;
}

double BestOf(int repeat, const std::function<void()>& run) {
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// Prints one line and returns the same figures as JSON.
nlohmann::json Compare(const char* name, const PointCloud& source, const PointCloud& target,
                       const Rigid3& init, const IcpOptions& options, int repeat) {
  const auto source3d = ToOpen3d(source), target3d = ToOpen3d(target);
  const bool colored = options.method == IcpOptions::Method::kColored;
  IcpResult ours;
  const double our_time =
      BestOf(repeat, [&] { ours = facet::geometry::RegisterIcp(source, target, init, options); });
  reg::RegistrationResult theirs;
  const reg::ICPConvergenceCriteria criteria(options.relative_fitness, options.relative_rmse,
                                             options.max_iterations);
  const double their_time = BestOf(repeat, [&] {
    if (colored) {
      theirs = reg::RegistrationColoredICP(
          source3d, target3d, options.max_correspondence_distance, init.ToMatrix4(),
          reg::TransformationEstimationForColoredICP(options.lambda_geometric), criteria);
    } else {
      theirs = reg::RegistrationICP(source3d, target3d, options.max_correspondence_distance,
                                    init.ToMatrix4(), reg::TransformationEstimationPointToPlane(),
                                    criteria);
    }
  });
  const Rigid3 their_pose = Rigid3::FromMatrix(theirs.transformation_.topRows<3>());
  std::printf(
      "%-28s %8zu -> %8zu points  facet %8.2f ms (%2d it, fitness %.6f rmse %.6e)  Open3D %8.2f "
      "ms (fitness %.6f rmse %.6e)  Open3D/facet %.2fx  pose diff %.1e rad %.1e\n",
      name, source.size(), target.size(), 1e3 * our_time, ours.iterations, ours.fitness,
      ours.inlier_rmse, 1e3 * their_time, theirs.fitness_, theirs.inlier_rmse_,
      their_time / our_time, ours.target_from_source.rotation.angularDistance(their_pose.rotation),
      (ours.target_from_source.translation - their_pose.translation).norm());
  return {{"name", name},
          {"source_points", source.size()},
          {"target_points", target.size()},
          {"facet",
           {{"seconds", our_time},
            {"iterations", ours.iterations},
            {"fitness", ours.fitness},
            {"inlier_rmse", ours.inlier_rmse}}},
          {"open3d",
           {{"seconds", their_time},
            {"fitness", theirs.fitness_},
            {"inlier_rmse", theirs.inlier_rmse_}}},
          {"rotation_difference_rad",
           ours.target_from_source.rotation.angularDistance(their_pose.rotation)},
          {"translation_difference",
           (ours.target_from_source.translation - their_pose.translation).norm()}};
}

// `count` points uniformly distributed over the mesh's area, with the faces' normals.
PointCloud SampleMesh(const facet::geometry::TriangleMesh& mesh, std::size_t count, unsigned seed) {
  std::vector<double> cumulative;
  double total = 0.0;
  for (const auto& t : mesh.triangles) {
    const Eigen::Vector3d &a = mesh.vertices[t[0]], &b = mesh.vertices[t[1]],
                          &c = mesh.vertices[t[2]];
    total += 0.5 * (b - a).cross(c - a).norm();
    cumulative.push_back(total);
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  PointCloud cloud;
  cloud.points.reserve(count);
  cloud.normals.reserve(count);
  while (cloud.size() < count) {
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), unit(rng) * total);
    const auto& t = mesh.triangles[static_cast<std::size_t>(std::min<std::ptrdiff_t>(
        it - cumulative.begin(), static_cast<std::ptrdiff_t>(mesh.triangles.size()) - 1))];
    const Eigen::Vector3d &a = mesh.vertices[t[0]], &b = mesh.vertices[t[1]],
                          &c = mesh.vertices[t[2]];
    const Eigen::Vector3d normal = (b - a).cross(c - a);
    if (normal.norm() == 0.0) continue;
    double u = unit(rng), v = unit(rng);
    if (u + v > 1.0) u = 1.0 - u, v = 1.0 - v;
    cloud.points.push_back(a + u * (b - a) + v * (c - a));
    cloud.normals.push_back(normal.normalized());
  }
  return cloud;
}

}  // namespace

int main(int argc, char** argv) {
  // libgomp spin-waiting steals the cores facet's TBB workers need (and vice versa).
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  CLI::App app{"pairwise ICP: facet against Open3D"};
  int threads = 2, repeat = 5;
  std::size_t bunny_points = 500000;
  app.add_option("--threads", threads, "threads for both");
  app.add_option("--repeat", repeat, "registrations per method; the best time is printed");
  app.add_option("--bunny-points", bunny_points, "points sampled on the bunny mesh");
  std::string json_path;
  app.add_option("--json", json_path, "also write the figures here");
  CLI11_PARSE(app, argc, argv);
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
  const oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(threads));
  std::printf("%d threads, best of %d\n", threads, repeat);
  nlohmann::json summary = {{"threads", threads},
                            {"repeat", repeat},
                            {"registrations", nlohmann::json::array()},
                            {"skipped", nlohmann::json::array()}};
  auto& registrations = summary["registrations"];

  const std::filesystem::path data = FACET_SOURCE_DIR "/../shared/data";
  const Rigid3 perturbation(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.1, Eigen::Vector3d(1, -2, 1).normalized())),
      Eigen::Vector3d(0.03, 0.04, -0.02));
  if (std::filesystem::exists(data / "icp-fragments/cloud_bin_1.pcd")) {
    const PointCloud source = facet::datasets::ReadPcd(data / "icp-fragments/cloud_bin_0.pcd");
    const PointCloud target = facet::datasets::ReadPcd(data / "icp-fragments/cloud_bin_1.pcd");
    IcpOptions options;
    options.max_correspondence_distance = 0.05;
    options.max_iterations = 100;  // both converge (criteria 1e-6) well before
    registrations.push_back(
        Compare("fragments point-to-plane", source, target, perturbation, options, repeat));
    options.method = IcpOptions::Method::kColored;
    registrations.push_back(
        Compare("fragments colored", source, target, perturbation, options, repeat));
  } else {
    std::printf("no %s: fragments skipped\n", (data / "icp-fragments").c_str());
    summary["skipped"].push_back("icp-fragments");
  }
  if (std::filesystem::exists(data / "stanford-bunny/bun_zipper.ply")) {
    const auto mesh = facet::datasets::ReadMeshPly(data / "stanford-bunny/bun_zipper.ply");
    const PointCloud target = SampleMesh(mesh, bunny_points, 1);
    PointCloud source = SampleMesh(mesh, bunny_points, 2);
    const double size =
        facet::geometry::ComputeBounds(target.points).Extent().maxCoeff();  // ~0.155 m
    const Rigid3 truth(
        Eigen::Quaterniond(Eigen::AngleAxisd(0.05, Eigen::Vector3d(1, 2, 3).normalized())),
        Eigen::Vector3d(0.01, -0.005, 0.008) * size / 0.155);
    for (auto& p : source.points) p = truth.Inverse() * p;
    IcpOptions options;
    options.max_correspondence_distance = 0.05 * size;
    options.max_iterations = 30;
    registrations.push_back(
        Compare("bunny point-to-plane", source, target, Rigid3(), options, repeat));
  } else {
    std::printf("no %s: bunny skipped\n", (data / "stanford-bunny").c_str());
    summary["skipped"].push_back("stanford-bunny");
  }
  if (!json_path.empty()) std::ofstream(json_path) << summary.dump(2) << "\n";
  return 0;
}
