// `facet eval`: accuracy of a sparse model (ours or COLMAP's) against ground-truth cameras: which
// images were registered, camera-centre and rotation errors after a least-squares Sim3 alignment
// of the centres (geometry/pose_metrics.h), the reprojection error recomputed from the model, and
// optionally the focal length against a known K.
#include <Eigen/Core>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/eval_mesh.h"
#include "apps/eval_splats.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "datasets/benchmarks.h"
#include "datasets/colmap_model.h"
#include "datasets/transforms_json.h"
#include "geometry/pose_metrics.h"
#include "sfm/pipeline.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;
using datasets::Scene;

struct EvalArgs {
  fs::path model;
  fs::path ground_truth;
  fs::path json;
  fs::path intrinsics;
  SplatEvalArgs splat;  // with --splats: image quality of a 3DGS scene instead
  MeshEvalArgs mesh;    // with --mesh: also a mesh against a ground-truth surface
};

struct GroundTruth {
  std::string kind;                                 // for the report
  std::map<std::string, geometry::Rigid3> poses{};  // image name -> cam_from_world
};

bool HasCameraFiles(const fs::path& folder) {
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && LowercaseExtension(entry.path()) == ".camera") return true;
  }
  return false;
}

GroundTruth FromScene(std::string kind, const Scene& scene) {
  GroundTruth gt{.kind = std::move(kind)};
  for (const auto& [id, image] : scene.images) {
    if (image.IsRegistered()) gt.poses[image.name] = *image.cam_from_world;
  }
  return gt;
}

// A COLMAP model folder, a folder of Strecha `NNNN.jpg.camera` files, a transforms.json (the
// file, or a folder holding one), or a DTU cameras.txt (IDR/NeuS format).
GroundTruth ReadGroundTruth(const fs::path& path) {
  FACET_CHECK(fs::exists(path), "ground truth '{}' does not exist", path.string());
  if (fs::is_regular_file(path)) {
    if (LowercaseExtension(path) == ".txt") {
      // IDR/NeuS-style DTU cameras ("view i" + P): images are named by the view, 000000.png.
      GroundTruth gt{.kind = "DTU cameras"};
      for (const auto& camera : datasets::ReadDtuCameras(path)) {
        gt.poses[fmt::format("{:06d}.png", camera.view)] = camera.cam_from_world;
      }
      return gt;
    }
    if (LowercaseExtension(path) != ".json") {
      throw UsageError(fmt::format(
          "--ground-truth '{}' is a file but neither a transforms.json nor a DTU cameras.txt",
          path.string()));
    }
    return FromScene("transforms.json", datasets::ReadTransformsJson(path).scene);
  }
  if (datasets::FindColmapModel(path)) {
    return FromScene("COLMAP model", datasets::ReadColmapModel(path));
  }
  if (HasCameraFiles(path)) {
    GroundTruth gt{.kind = "Strecha cameras"};
    for (const auto& [name, camera] : datasets::ReadStrechaCameras(path)) {
      gt.poses[name] = camera.cam_from_world;
    }
    return gt;
  }
  if (fs::is_regular_file(path / "transforms.json")) {
    return FromScene("transforms.json",
                     datasets::ReadTransformsJson(path / "transforms.json").scene);
  }
  throw UsageError(fmt::format(
      "cannot tell what ground truth '{}' holds: give a COLMAP model folder, a folder of Strecha "
      "*.camera files (gt_dense_cameras) or a transforms.json",
      path.string()));
}

// `dir` itself when it holds a model; otherwise the model with most registered images among
// dir/sparse, dir/sparse/*, dir/* (COLMAP's and facet's sparse/0, sparse/1, ...).
std::pair<fs::path, Scene> ReadModel(const fs::path& dir) {
  FACET_CHECK(fs::is_directory(dir), "model folder '{}' does not exist", dir.string());
  if (datasets::FindColmapModel(dir)) return {dir, datasets::ReadColmapModel(dir)};
  std::set<fs::path> candidates;
  for (const fs::path& parent : {dir / "sparse", dir}) {
    if (!fs::is_directory(parent)) continue;
    if (datasets::FindColmapModel(parent)) candidates.insert(parent);
    for (const auto& entry : fs::directory_iterator(parent)) {
      if (entry.is_directory() && datasets::FindColmapModel(entry.path())) {
        candidates.insert(entry.path());
      }
    }
  }
  FACET_CHECK(!candidates.empty(),
              "no COLMAP model in '{}' (looked for cameras, images and points3D .bin or .txt "
              "there, in sparse/, sparse/N/ and N/)",
              dir.string());
  std::optional<std::pair<fs::path, Scene>> best;
  for (const fs::path& folder : candidates) {
    Scene scene = datasets::ReadColmapModel(folder);
    if (!best || scene.NumRegisteredImages() > best->second.NumRegisteredImages()) {
      best.emplace(folder, std::move(scene));
    }
  }
  if (candidates.size() > 1) {
    spdlog::info("eval: {} models under '{}'; using '{}' ({} registered images)", candidates.size(),
                 dir.string(), best->first.string(), best->second.NumRegisteredImages());
  }
  return std::move(*best);
}

// A 3x3 calibration matrix as text (OpenCV's K; only the focal lengths are used, which do not
// depend on the pixel convention).
Eigen::Matrix3d ReadCalibrationMatrix(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path, 1 << 20);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::vector<double> values;
  for (std::string token; in >> token;) {
    char* end = nullptr;
    const double v = std::strtod(token.c_str(), &end);
    FACET_CHECK(end == token.c_str() + token.size() && std::isfinite(v),
                "'{}': '{}' is not a number (expected a 3x3 matrix K)", path.string(), token);
    values.push_back(v);
  }
  FACET_CHECK(values.size() == 9, "'{}' holds {} numbers, not the 9 of a 3x3 matrix K",
              path.string(), values.size());
  Eigen::Matrix3d k;
  for (int i = 0; i < 9; ++i) k(i / 3, i % 3) = values[std::size_t(i)];
  FACET_CHECK(k(0, 0) > 0.0 && k(1, 1) > 0.0 && k(1, 0) == 0.0 && k(2, 0) == 0.0 &&
                  k(2, 1) == 0.0 && std::abs(k(2, 2) - 1.0) < 1e-9,
              "'{}' is not a calibration matrix K = [fx s cx; 0 fy cy; 0 0 1] with positive focal "
              "lengths",
              path.string());
  return k;
}

struct MatchResult {
  std::vector<std::string> names{};  // ground-truth names, matched
  std::vector<geometry::Rigid3> estimated{}, truth{};
  std::vector<std::string> not_registered{};
};

// Ground-truth images matched to registered model images by name, else by file stem when the
// stem is unique on both sides ("0000.jpg" <-> "images/0000.png").
MatchResult MatchImages(const Scene& scene, const GroundTruth& gt) {
  std::map<std::string, const datasets::Image*> by_name;
  std::map<std::string, std::vector<const datasets::Image*>> by_stem;
  for (const auto& [id, image] : scene.images) {
    if (!image.IsRegistered()) continue;
    by_name[image.name] = &image;
    by_stem[fs::path(image.name).stem().string()].push_back(&image);
  }
  std::map<std::string, int> gt_stems;
  for (const auto& [name, pose] : gt.poses) ++gt_stems[fs::path(name).stem().string()];
  MatchResult result;
  for (const auto& [name, pose] : gt.poses) {
    const datasets::Image* image = nullptr;
    if (const auto it = by_name.find(name); it != by_name.end()) {
      image = it->second;
    } else {
      const std::string stem = fs::path(name).stem().string();
      const auto it_stem = by_stem.find(stem);
      if (gt_stems[stem] == 1 && it_stem != by_stem.end() && it_stem->second.size() == 1) {
        image = it_stem->second.front();
      }
    }
    if (image == nullptr) {
      result.not_registered.push_back(name);
      continue;
    }
    result.names.push_back(name);
    result.estimated.push_back(*image->cam_from_world);
    result.truth.push_back(pose);
  }
  return result;
}

nlohmann::ordered_json NumberOrNull(std::optional<double> value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

std::string Joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "(none)" : text;
}

void RunEval(const EvalArgs& args) {
  auto [model_folder, scene] = ReadModel(args.model);
  // Without ground truth only the model's own figures are reported (registered images,
  // reprojection error, points, cameras and, with --intrinsics, the focal error).
  const bool has_gt = !args.ground_truth.empty();
  GroundTruth gt;
  if (has_gt) {
    gt = ReadGroundTruth(args.ground_truth);
    FACET_CHECK(!gt.poses.empty(), "ground truth '{}' has no posed images",
                args.ground_truth.string());
  }
  // The true focal length (mean of fx and fy) when --intrinsics is given.
  std::optional<double> true_focal;
  if (!args.intrinsics.empty()) {
    const Eigen::Matrix3d k = ReadCalibrationMatrix(args.intrinsics);
    true_focal = 0.5 * (k(0, 0) + k(1, 1));
  }

  const MatchResult matched = has_gt ? MatchImages(scene, gt) : MatchResult{};
  const auto errors =
      has_gt ? geometry::ComputeAbsolutePoseErrors(matched.estimated, matched.truth) : std::nullopt;
  const sfm::ModelSummary summary = sfm::Summarize(scene);
  const double mean_track = summary.mean_track_length;

  nlohmann::ordered_json json;
  json["registered"] = has_gt ? matched.names.size() : scene.NumRegisteredImages();
  json["total_gt"] = has_gt ? nlohmann::ordered_json(gt.poses.size()) : nullptr;
  json["not_registered"] = matched.not_registered;
  const auto stat = [&errors](double geometry::AbsolutePoseErrors::*field) {
    return errors ? std::optional<double>((*errors).*field) : std::nullopt;
  };
  json["center_error_mean"] = NumberOrNull(stat(&geometry::AbsolutePoseErrors::center_error_mean));
  json["center_error_max"] = NumberOrNull(stat(&geometry::AbsolutePoseErrors::center_error_max));
  json["rotation_error_mean_deg"] =
      NumberOrNull(stat(&geometry::AbsolutePoseErrors::rotation_error_mean_deg));
  json["rotation_error_max_deg"] =
      NumberOrNull(stat(&geometry::AbsolutePoseErrors::rotation_error_max_deg));
  json["mean_reprojection_error_px"] =
      NumberOrNull(summary.num_observations > 0 ? std::optional(summary.mean_reprojection_error_px)
                                                : std::nullopt);
  json["num_points"] = scene.points3d.size();
  json["mean_track_length"] = mean_track;
  json["cameras"] = nlohmann::ordered_json::array();

  std::string text =
      fmt::format("model          {} ({} registered images, {} cameras)\n", model_folder.string(),
                  scene.NumRegisteredImages(), scene.cameras.size());
  if (has_gt) {
    text += fmt::format(
        "ground truth   {} ({}, {} images)\n"
        "registered     {} / {}\n"
        "not registered {}\n",
        args.ground_truth.string(), gt.kind, gt.poses.size(), matched.names.size(), gt.poses.size(),
        Joined(matched.not_registered));
  }
  if (!has_gt) {
    text += "pose errors    n/a (no --ground-truth)\n";
  } else if (errors) {
    text += fmt::format(
        "centre error   mean {:.6g}, max {:.6g} (ground-truth units, after Sim3 alignment with "
        "scale {:.6g})\n"
        "rotation error mean {:.4f} deg, max {:.4f} deg\n",
        errors->center_error_mean, errors->center_error_max, errors->gt_from_estimated.scale,
        errors->rotation_error_mean_deg, errors->rotation_error_max_deg);
  } else {
    text += "pose errors    n/a (fewer than 3 matched images, or their centres are collinear)\n";
  }
  if (summary.num_observations > 0) {
    text +=
        fmt::format("reprojection   {:.4f} px mean over {} observations{}\n",
                    summary.mean_reprojection_error_px, summary.num_observations,
                    summary.num_behind > 0
                        ? fmt::format(" ({} behind their camera, not counted)", summary.num_behind)
                        : "");
  } else {
    text += "reprojection   n/a (no observed 3D points)\n";
  }
  text += fmt::format("points         {}, mean track length {:.3f}\n", scene.points3d.size(),
                      mean_track);
  for (const auto& [id, camera] : scene.cameras) {
    nlohmann::ordered_json entry{{"model", camera.ModelName()}, {"params", camera.params}};
    text += fmt::format("camera {:<7} {} {:.6g}", id.value, camera.ModelName(),
                        fmt::join(camera.params, " "));
    if (true_focal) {
      const double percent = 100.0 * (camera.MeanFocal() - *true_focal) / *true_focal;
      entry["focal_error_percent"] = percent;
      text += fmt::format(" (focal {:+.2f} % vs {:.6g} px)", percent, *true_focal);
    }
    json["cameras"].push_back(std::move(entry));
    text += "\n";
  }
  if (!args.mesh.mesh.empty()) {
    FACET_CHECK(
        !has_gt || errors,
        "eval --mesh: the model's cameras could not be aligned with the ground truth (fewer "
        "than 3 matched images), so the mesh cannot be brought into its frame");
    json["mesh"] = EvaluateMesh(
        args.mesh, errors ? std::optional(errors->gt_from_estimated) : std::nullopt, &text);
  }
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!args.json.empty()) {
    WriteFileAtomically(args.json, json.dump(2) + "\n");
    spdlog::info("eval: wrote {}", args.json.string());
  }
}

}  // namespace

Subcommand RegisterEval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Measure a sparse model: its cameras against ground truth, reprojection, focal");
  sub->add_option("model", args->model,
                  "COLMAP model folder (.bin or .txt), or a folder holding sparse/N or N/ (the "
                  "model with most registered images is used)")
      ->required();
  sub->add_option(
      "--ground-truth", args->ground_truth,
      "A COLMAP model folder, a folder of Strecha *.camera files, a transforms.json or a "
      "DTU cameras.txt "
      "(without it: the model's own figures only)");
  sub->add_option("--json", args->json, "Also write the results to this JSON file");
  sub->add_option("--intrinsics", args->intrinsics,
                  "A 3x3 K matrix (text) to report each camera's focal length error against");
  sub->add_option("--splats", args->splat.splats,
                  "Evaluate this 3DGS scene (.ply or .splat) at MODEL's views instead (MODEL: a "
                  "workspace, COLMAP model or transforms.json, as for facet splat)");
  sub->add_option("--renders", args->splat.renders,
                  "--splats: folder for the render | photo | error pictures")
      ->capture_default_str();
  sub->add_option("--holdout", args->splat.holdout,
                  "--splats: the held-out views are every Nth by name (as facet splat)")
      ->capture_default_str();
  sub->add_flag("--all-views", args->splat.all_views, "--splats: evaluate every view");
  sub->add_option("--images", args->splat.images, "--splats: the photos' folder");
  sub->add_option("--downscale", args->splat.downscale, "--splats: as trained")
      ->capture_default_str();
  sub->add_option("--max-size", args->splat.max_size, "--splats: as trained")
      ->capture_default_str();
  sub->add_flag("--antialiased", args->splat.antialiased, "--splats: as trained");
  CLI::Option* mesh = sub->add_option(
      "--mesh", args->mesh.mesh,
      "Also compare this mesh (.glb/.ply, in MODEL's frame) with --ground-truth-mesh, after "
      "aligning MODEL's cameras with --ground-truth's");
  sub->add_option("--ground-truth-mesh", args->mesh.ground_truth,
                  "--mesh: the true surface (.ply/.glb, in the ground truth's frame)")
      ->needs(mesh);
  mesh->needs(sub->get_option("--ground-truth-mesh"));
  sub->add_option("--crop", args->mesh.crop,
                  "--mesh: compare only inside this box of the ground truth's frame (MINX MINY "
                  "MINZ MAXX MAXY MAXZ)")
      ->expected(6)
      ->needs(mesh);
  sub->add_option("--crop-file", args->mesh.crop_file,
                  "--mesh: the crop box from a text file (facet synth writes "
                  "ground_truth/crop.txt)")
      ->needs(mesh);
  sub->footer(
      "Images are matched by name, else by file stem (0000.jpg <-> 0000.png). Centre and "
      "rotation errors are measured after aligning the model's camera centres to the true ones "
      "by a least-squares similarity (Umeyama); the reprojection error is recomputed from the "
      "model's points, cameras and keypoints.\nExample: facet eval out/ --ground-truth "
      "strecha-fountain-P11/gt_dense_cameras --json eval.json\nWith --splats: renders the 3DGS "
      "scene at MODEL's held-out views (every 8th by name), reports PSNR and SSIM (11x11 "
      "Gaussian window, zero padding, as Inria's ssim()) and writes render | photo | error "
      "pictures.\nExample: facet eval out/ --splats out/splats.ply --renders out/eval\nWith "
      "--mesh: "
      "Chamfer distance (mean of accuracy and completeness), F-score at 0.5% of the diagonal.\n"
      "Example: facet eval out/ --ground-truth synth/ground_truth/sparse --mesh out/mesh.glb "
      "--ground-truth-mesh synth/ground_truth/mesh.ply --crop-file synth/ground_truth/crop.txt");
  return {sub, [args](const GlobalOptions&) {
            if (args->splat.splats.empty()) return RunEval(*args);
            SplatEvalArgs splat = args->splat;
            splat.model = args->model;
            splat.json = args->json;
            RunSplatEval(splat);
          }};
}

}  // namespace facet::apps
