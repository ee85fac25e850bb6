// `facet icp`: aligns a source point cloud to a target (point-to-point, point-to-plane or colored
// ICP over a coarse-to-fine schedule), from a given 4x4 initial transform or, without one, from
// the better of identity and a global FPFH + RANSAC registration. Prints fitness, inlier RMSE and
// the transform; writes the aligned source.
#include "geometry/icp.h"

#include <Eigen/Geometry>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/timer.h"
#include "datasets/pcd.h"
#include "datasets/ply.h"
#include "geometry/global_registration.h"
#include "geometry/normals.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct IcpArgs {
  fs::path source;
  fs::path target;
  fs::path output;
  std::string init;  // a 4x4 text file, "identity", or empty (automatic)
  std::string method = "plane";
  std::string kernel = "none";
  double voxel = 0.0;
  double threshold = 0.0;
  int max_iterations = 50;
  double min_fitness = 0.1;
  fs::path transform_out;
  fs::path summary;
};

geometry::PointCloud ReadCloud(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  FACET_CHECK(ext == ".ply" || ext == ".pcd",
              "icp: '{}' is not a point cloud (.ply or .pcd expected)", path.string());
  geometry::PointCloud cloud =
      ext == ".pcd" ? datasets::ReadPcd(path) : datasets::ReadPointCloudPly(path);
  // Organised PCD files mark missing returns as NaN: drop those points (and their attributes).
  std::size_t kept = 0;
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    if (!cloud.points[i].allFinite() || (cloud.HasNormals() && !cloud.normals[i].allFinite())) {
      continue;
    }
    cloud.points[kept] = cloud.points[i];
    if (cloud.HasNormals()) cloud.normals[kept] = cloud.normals[i];
    if (cloud.HasColors()) cloud.colors[kept] = cloud.colors[i];
    ++kept;
  }
  if (kept < cloud.size()) {
    spdlog::warn("icp: '{}': dropped {} point(s) with NaN/Inf coordinates or normals",
                 path.string(), cloud.size() - kept);
    cloud.points.resize(kept);
    if (cloud.HasNormals()) cloud.normals.resize(kept);
    if (cloud.HasColors()) cloud.colors.resize(kept);
  }
  FACET_CHECK(cloud.size() >= 3, "icp: '{}' holds {} point(s); ICP needs at least 3", path.string(),
              cloud.size());
  return cloud;
}

// A 4x4 rigid transform as 16 numbers in row-major order (whitespace separated).
geometry::Rigid3 ReadTransform(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  Eigen::Matrix4d m;
  for (int i = 0; i < 16; ++i) {
    FACET_CHECK(static_cast<bool>(in >> m(i / 4, i % 4)),
                "icp: '{}' must hold a 4x4 matrix (16 numbers, row-major); number {} is missing "
                "or malformed",
                path.string(), i + 1);
  }
  const Eigen::Matrix3d r = m.topLeftCorner<3, 3>();
  FACET_CHECK(m.allFinite() && (r.transpose() * r - Eigen::Matrix3d::Identity()).norm() < 1e-4 &&
                  r.determinant() > 0.0 && m.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1)),
              "icp: the matrix in '{}' is not a rigid transform (rotation and translation, last "
              "row 0 0 0 1)",
              path.string());
  return geometry::Rigid3::FromMatrix(m.topRows<3>());
}

std::string FormatTransform(const geometry::Rigid3& t) {
  const Eigen::Matrix<double, 3, 4> m = t.ToMatrix();
  std::string text;
  for (int r = 0; r < 3; ++r) {
    text += fmt::format("{:.9f} {:.9f} {:.9f} {:.9f}\n", m(r, 0), m(r, 1), m(r, 2), m(r, 3));
  }
  return text + "0 0 0 1\n";
}

geometry::IcpOptions::RobustKernel ParseKernel(const std::string& name) {
  using K = geometry::IcpOptions::RobustKernel;
  if (name == "huber") return K::kHuber;
  if (name == "cauchy") return K::kCauchy;
  if (name == "tukey") return K::kTukey;
  if (name == "gm") return K::kGemanMcClure;
  return K::kNone;
}

// Better: more correspondences, then a smaller RMSE.
bool Better(const geometry::IcpResult& a, const geometry::IcpResult& b) {
  if (a.fitness != b.fitness) return a.fitness > b.fitness;
  return a.inlier_rmse < b.inlier_rmse;
}

void RunIcp(const IcpArgs& args) {
  if (args.voxel < 0.0 || args.threshold < 0.0 || args.max_iterations < 1 ||
      args.min_fitness < 0.0 || args.min_fitness > 1.0) {
    throw UsageError(
        "--voxel and --threshold must be >= 0, --max-iterations >= 1 and "
        "--min-fitness in [0, 1]");
  }
  const Timer timer;
  geometry::PointCloud source = ReadCloud(args.source);
  geometry::PointCloud target = ReadCloud(args.target);
  geometry::IcpOptions options;
  options.method = args.method == "point"   ? geometry::IcpOptions::Method::kPointToPoint
                   : args.method == "color" ? geometry::IcpOptions::Method::kColored
                                            : geometry::IcpOptions::Method::kPointToPlane;
  if (args.method == "color") {
    FACET_CHECK(source.HasColors() && target.HasColors(),
                "icp: colored ICP needs colours on both clouds ('{}' has {}, '{}' has {}); use "
                "--method plane",
                args.source.string(), source.HasColors() ? "colours" : "none", args.target.string(),
                target.HasColors() ? "colours" : "none");
  }
  // The scale of the problem: 1% of the target's extent unless given.
  const double extent = geometry::ComputeBounds(target.points).Extent().norm();
  const double voxel = args.voxel > 0.0 ? args.voxel : 0.01 * extent;
  if (!target.HasNormals() && args.method != "point") {
    spdlog::info("icp: estimating the target's normals");
    geometry::EstimateNormals(target, {.knn = 30});
  }
  options.robust_kernel = ParseKernel(args.kernel);
  options.robust_k = voxel;
  options.max_iterations = args.max_iterations;
  std::vector<geometry::IcpScale> scales = geometry::DefaultIcpScales(voxel);
  if (args.threshold > 0.0) scales.back().max_correspondence_distance = args.threshold;

  geometry::IcpResult best;
  std::string start = "given";
  if (!args.init.empty() && args.init != "identity") {
    best =
        geometry::RegisterIcpMultiScale(source, target, ReadTransform(args.init), scales, options);
  } else {
    best = geometry::RegisterIcpMultiScale(source, target, geometry::Rigid3(), scales, options);
    start = "identity";
    if (args.init.empty()) {
      geometry::GlobalRegistrationOptions global;
      // Features at about a twentieth of the object's size, as the bunny study uses.
      global.voxel_size = 0.03 * extent;
      const geometry::GlobalRegistrationResult coarse =
          geometry::RegisterGlobal(source, target, global);
      if (coarse.success) {
        const geometry::IcpResult refined = geometry::RegisterIcpMultiScale(
            source, target, coarse.target_from_source, scales, options);
        if (Better(refined, best)) {
          best = refined;
          start = "global registration (FPFH + RANSAC)";
        }
      }
    }
  }
  const std::string matrix = FormatTransform(best.target_from_source);
  std::cout << fmt::format("fitness {:.6f}\ninlier_rmse {:.6g}\ntransform (target_from_source)\n{}",
                           best.fitness, best.inlier_rmse, matrix);
  FACET_CHECK(best.fitness >= args.min_fitness,
              "icp: no alignment found: fitness {:.4f} < {} (the clouds do not overlap, or try "
              "--init with a rough transform or a larger --threshold); nothing was written",
              best.fitness, args.min_fitness);
  if (!best.converged) spdlog::warn("icp: stopped after --max-iterations before converging");

  geometry::PointCloud aligned = source;
  const Eigen::Matrix3d rotation = best.target_from_source.rotation.toRotationMatrix();
  for (Eigen::Vector3d& p : aligned.points) p = best.target_from_source * p;
  for (Eigen::Vector3d& n : aligned.normals) n = rotation * n;
  if (args.output.has_parent_path()) fs::create_directories(args.output.parent_path());
  if (args.output.extension() == ".pcd") {
    datasets::WritePcd(args.output, aligned);
  } else {
    datasets::WritePointCloudPly(args.output, aligned);
  }
  if (!args.transform_out.empty()) WriteFileAtomically(args.transform_out, matrix);
  spdlog::info("icp: {} from {}: fitness {:.4f}, RMSE {:.4g}, {} iterations, {:.2f} s; wrote {}",
               args.method, start, best.fitness, best.inlier_rmse, best.iterations,
               timer.ElapsedSeconds(), args.output.string());
  if (!args.summary.empty()) {
    const Eigen::Matrix4d m = best.target_from_source.ToMatrix4();
    std::vector<double> rows(m.data(), m.data() + 16);
    const nlohmann::json summary = {{"fitness", best.fitness},
                                    {"inlier_rmse", best.inlier_rmse},
                                    {"iterations", best.iterations},
                                    {"converged", best.converged},
                                    {"start", start},
                                    {"target_from_source_column_major", rows},
                                    {"seconds", timer.ElapsedSeconds()}};
    WriteFileAtomically(args.summary, summary.dump(2) + "\n");
  }
}

}  // namespace

Subcommand RegisterIcp(CLI::App& app) {
  auto args = std::make_shared<IcpArgs>();
  CLI::App* sub = app.add_subcommand("icp", "Align one point cloud to another (ICP)");
  sub->footer(
      "Without --init, ICP starts both from identity and from a global FPFH + RANSAC "
      "registration and keeps the better (more overlap, then lower RMSE), so scans in any "
      "relative pose align. Prints fitness (share of source points with a target point within "
      "the threshold), inlier RMSE and the 4x4 transform mapping source onto target; fails "
      "without writing when the fitness stays below --min-fitness.\n"
      "Examples:\n"
      "  facet icp scan1.ply scan2.ply -o scan1_aligned.ply\n"
      "  facet icp a.pcd b.pcd --init guess.txt --method color -o a_aligned.pcd");
  sub->add_option("source", args->source, "Point cloud to move (.ply or .pcd)")->required();
  sub->add_option("target", args->target, "Point cloud to align to (.ply or .pcd)")->required();
  sub->add_option("-o,--output", args->output, "The aligned source (.ply or .pcd)")->required();
  sub->add_option("--init", args->init,
                  "Initial transform: a text file with a 4x4 matrix (row-major), or 'identity' "
                  "(default: the better of identity and global registration)");
  sub->add_option("--method", args->method, "ICP error metric")
      ->check(CLI::IsMember({"point", "plane", "color"}))
      ->capture_default_str();
  sub->add_option("--kernel", args->kernel, "Robust kernel")
      ->check(CLI::IsMember({"none", "huber", "cauchy", "tukey", "gm"}))
      ->capture_default_str();
  sub->add_option("--voxel", args->voxel,
                  "Finest voxel of the coarse-to-fine schedule (default: 1% of the target's "
                  "extent)");
  sub->add_option("--threshold", args->threshold,
                  "Correspondence distance at the finest scale (default: from --voxel)");
  sub->add_option("--max-iterations", args->max_iterations, "Iterations per scale")
      ->capture_default_str();
  sub->add_option("--min-fitness", args->min_fitness, "Fail below this fitness")
      ->capture_default_str();
  sub->add_option("--transform-out", args->transform_out, "Also write the 4x4 matrix here");
  sub->add_option("--summary", args->summary, "Write a JSON summary here");
  return {sub, [args](const GlobalOptions&) { RunIcp(*args); }};
}

}  // namespace facet::apps
