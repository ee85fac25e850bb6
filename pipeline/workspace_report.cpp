#include "pipeline/workspace_report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/colmap_model.h"
#include "datasets/gltf.h"
#include "geometry/mesh_processing.h"
#include "pipeline/mesh_thumbnail.h"

namespace facet::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path, 1 << 28);
  return json::parse(bytes.begin(), bytes.end());
}

// Runs one part of the collection; a failure becomes a warning instead of failing the report.
void Try(ReportData& data, const std::string& what, const std::function<void()>& part) {
  try {
    part();
  } catch (const std::exception& e) {
    data.warnings.push_back(fmt::format("{}: {}", what, e.what()));
  }
}

std::string StatusText(StageStatus status) {
  switch (status) {
    case StageStatus::kDone:
      return "done";
    case StageStatus::kSkipped:
      return "skipped (resumed)";
    case StageStatus::kFailed:
      return "failed";
    case StageStatus::kInterrupted:
      return "interrupted (--resume continues it)";
    case StageStatus::kRunning:
      return "not finished (the process was stopped)";
  }
  return "unknown";
}

void CollectStages(const Workspace& workspace, const WorkspaceReportInfo& info, ReportData& data,
                   double* total_seconds) {
  const StageLog log = StageLog::Load(workspace.Stages());
  for (const std::string& name : info.stage_names) {
    const StageRecord* record = nullptr;
    for (const StageRecord& r : info.history) {
      if (r.name == name) record = &r;
    }
    if (record == nullptr) record = log.Find(name);
    if (record == nullptr) {
      data.stages.push_back({.name = name, .status = "not run", .detail = {}});
      continue;
    }
    const bool ended_badly =
        record->status == StageStatus::kFailed || record->status == StageStatus::kInterrupted;
    data.stages.push_back({.name = name,
                           .status = StatusText(record->status),
                           .seconds = record->seconds,
                           .peak_memory_mib = record->peak_memory_bytes / 1048576.0,
                           .detail = ended_badly ? record->message : record->command});
    *total_seconds += record->seconds;
  }
}

void CollectSfm(const Workspace& workspace, ReportData& data) {
  if (!fs::exists(workspace.SfmSummary())) return;
  const json summary = ReadJson(workspace.SfmSummary());
  const json* best = nullptr;
  for (const json& model : summary.at("models")) {
    if (best == nullptr || model.at("registered_images") > best->at("registered_images")) {
      best = &model;
    }
  }
  const auto total = summary.at("images").get<std::int64_t>();
  if (best == nullptr) {
    data.summary.push_back({"Images registered", fmt::format("0 / {}", total)});
    return;
  }
  data.summary.push_back(
      {"Images registered",
       fmt::format("{} / {}", best->at("registered_images").get<std::int64_t>(), total)});
  data.summary.push_back({"Sparse points", FormatCount(best->at("points").get<std::int64_t>())});
  data.summary.push_back(
      {"Reprojection error",
       fmt::format("{:.2f} px", best->at("mean_reprojection_error_px").get<double>())});
  if (summary.at("models").size() > 1) {
    data.warnings.push_back(fmt::format(
        "The photos form {} separate models; the largest one was used.", summary["models"].size()));
  }
  const json& missing = summary.value("not_registered", json::array());
  if (!missing.empty()) {
    data.warnings.push_back(fmt::format("{} photos could not be registered (see {}).",
                                        missing.size(), workspace.SfmSummary().string()));
  }
}

void CollectScene(const Workspace& workspace, ReportData& data) {
  const fs::path model =
      fs::exists(workspace.Model()) ? workspace.Model() : workspace.DistortedModel();
  if (!fs::exists(model)) return;
  const datasets::Scene scene = datasets::ReadColmapModel(model);
  for (const auto& [id, point] : scene.points3d) {
    data.scene.points.push_back(point.xyz);
    data.scene.point_colours.push_back({point.color[0], point.color[1], point.color[2]});
  }
  for (const auto& [id, image] : scene.images) {
    if (image.cam_from_world) data.scene.cam_from_world.push_back(*image.cam_from_world);
  }
}

// The held-out pictures `facet splat --eval` writes are render | photo | error side by side.
void ReadHeldOutView(const fs::path& picture, const json& view, ReportData& data) {
  const ImageU8 side = ReadImage<std::uint8_t>(picture, {.channels = 3});
  FACET_CHECK(side.width() % 3 == 0, "'{}' is not a render | photo | error picture",
              picture.string());
  const int width = side.width() / 3;
  ReportView out{.name = view.at("name").get<std::string>(),
                 .render = ImageU8(width, side.height(), 3),
                 .photo = ImageU8(width, side.height(), 3),
                 .psnr = view.at("psnr").get<double>(),
                 .ssim = view.at("ssim").get<double>()};
  for (int y = 0; y < side.height(); ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        out.render(x, y, c) = side(x, y, c);
        out.photo(x, y, c) = side(x + width, y, c);
      }
    }
  }
  data.held_out.push_back(std::move(out));
}

void CollectSplats(const Workspace& workspace, ReportData& data) {
  if (!fs::exists(workspace.SplatsSummary())) return;
  const json summary = ReadJson(workspace.SplatsSummary());
  data.summary.push_back({"Gaussians", FormatCount(summary.at("gaussians").get<std::int64_t>())});
  data.summary.push_back(
      {"Training iterations", FormatCount(summary.at("iterations").get<std::int64_t>())});
  if (summary.contains("eval")) {
    const json& eval = summary["eval"];
    data.summary.push_back(
        {"Held-out PSNR / SSIM",
         fmt::format("{:.2f} dB / {:.3f} ({} views)", eval.at("mean_psnr").get<double>(),
                     eval.at("mean_ssim").get<double>(), eval["views"].size())});
    for (const json& view : eval.at("views")) {
      std::string flat = view.at("name").get<std::string>();
      std::replace(flat.begin(), flat.end(), '/', '_');
      const fs::path picture = (workspace.Renders() / flat).replace_extension(".png");
      Try(data, "held-out view " + flat, [&] { ReadHeldOutView(picture, view, data); });
    }
  }
  std::vector<std::pair<double, double>> loss, psnr, gaussians;
  for (const json& point : summary.value("curve", json::array())) {
    const double iteration = point.at("iteration").get<double>();
    loss.emplace_back(iteration, point.at("loss").get<double>());
    psnr.emplace_back(iteration, point.at("psnr").get<double>());
    gaussians.emplace_back(iteration, point.at("gaussians").get<double>());
  }
  if (loss.empty()) return;
  data.curves.push_back({.title = "Training loss (L1 + D-SSIM)",
                         .x_label = "iteration",
                         .y_label = "loss",
                         .series = {{"loss", loss}},
                         .log_y = true});
  data.curves.push_back({.title = "Training PSNR",
                         .x_label = "iteration",
                         .y_label = "dB",
                         .series = {{"training views", psnr}}});
  data.curves.push_back({.title = "Gaussians",
                         .x_label = "iteration",
                         .y_label = "count",
                         .series = {{"Gaussians", gaussians}}});
}

// The region the cameras look at: the point nearest to their optical axes, and 0.6 times their
// mean distance to it around it. A mesh of a whole scene is closed around the cameras, so the
// thumbnails show this region rather than the outside of the enclosure.
geometry::Bounds3 FocusBox(const std::vector<geometry::Rigid3>& cameras,
                           const geometry::Bounds3& mesh_bounds) {
  const std::optional<Eigen::Vector3d> centre = geometry::PointNearestToOpticalAxes(cameras);
  if (!centre) return mesh_bounds;
  double distance = 0.0;
  for (const geometry::Rigid3& pose : cameras) {
    distance += (geometry::CameraCenter(pose) - *centre).norm();
  }
  const double half = 0.6 * distance / double(cameras.size());
  geometry::Bounds3 box;
  box.Extend(*centre - Eigen::Vector3d::Constant(half));
  box.Extend(*centre + Eigen::Vector3d::Constant(half));
  return box;
}

void CollectMesh(const Workspace& workspace, ReportData& data) {
  if (!fs::exists(workspace.MeshSummary()) || !fs::exists(workspace.Mesh())) return;
  const json summary = ReadJson(workspace.MeshSummary());
  data.summary.push_back({"Mesh faces", FormatCount(summary.at("triangles").get<std::int64_t>())});
  const bool watertight = summary.at("watertight").get<bool>();
  const auto components = summary.value("components", std::int64_t{0});
  data.summary.push_back({"Watertight", watertight
                                            ? fmt::format("yes ({} component{}, genus {})",
                                                          components, components == 1 ? "" : "s",
                                                          summary.value("genus", std::int64_t{0}))
                                            : "no: " + summary.value("reason", std::string())});
  // Pictures the Vulkan viewer rendered (`facet view --offscreen`), when it could.
  for (int k = 0;; ++k) {
    const fs::path picture = workspace.Thumbnails() / fmt::format("mesh_{}.png", k);
    if (!fs::exists(picture)) break;
    data.mesh_thumbnails.emplace_back(
        fmt::format("mesh.glb from a photo's camera ({} of 3, facet view)", k + 1),
        ReadImage<std::uint8_t>(picture, {.channels = 3}));
  }
  if (!data.mesh_thumbnails.empty()) return;
  // Otherwise the CPU rasteriser, around the region the cameras look at.
  const geometry::TriangleMesh mesh = datasets::ReadGlb(workspace.Mesh());
  const geometry::TriangleMesh focus = geometry::CropMesh(
      mesh, FocusBox(data.scene.cam_from_world, geometry::ComputeBounds(mesh.vertices)));
  const geometry::TriangleMesh& shown = focus.triangles.empty() ? mesh : focus;
  const Eigen::Vector3d up = geometry::UpFromCameras(data.scene.cam_from_world);
  // Looking down at 30 degrees from three sides 120 degrees apart.
  const Eigen::Vector3d side = up.unitOrthogonal();
  const Eigen::Vector3d other = up.cross(side);
  for (int k = 0; k < 3; ++k) {
    const double angle = 2.0 * M_PI * k / 3.0;
    const Eigen::Vector3d around = std::cos(angle) * side + std::sin(angle) * other;
    const Eigen::Vector3d direction = -std::cos(M_PI / 6) * around - std::sin(M_PI / 6) * up;
    data.mesh_thumbnails.emplace_back(
        fmt::format("mesh.glb{}, view {} of 3", &shown == &focus ? " (around the subject)" : "",
                    k + 1),
        RenderMeshThumbnail(shown, direction, 400, 300, up));
  }
}

void CollectNerf(const Workspace& workspace, ReportData& data) {
  if (!fs::exists(workspace.NerfSummary())) return;
  const json summary = ReadJson(workspace.NerfSummary());
  data.summary.push_back(
      {"NeRF held-out PSNR",
       fmt::format("{:.2f} dB after {} steps", summary.at("held_out_psnr").get<double>(),
                   summary.at("steps").get<std::int64_t>())});
  std::vector<std::pair<double, double>> curve;
  for (const json& point : summary.value("psnr_curve", json::array())) {
    curve.emplace_back(point.at("seconds").get<double>(), point.at("psnr").get<double>());
  }
  if (!curve.empty()) {
    data.curves.push_back({.title = "NeRF held-out PSNR",
                           .x_label = "training time (s)",
                           .y_label = "dB",
                           .series = {{"held-out views", curve}}});
  }
}

}  // namespace

ReportData CollectWorkspaceReport(const Workspace& workspace, const WorkspaceReportInfo& info) {
  ReportData data;
  data.title = "facet reconstruction";
  data.subtitle = fmt::format("{} → {} · preset {} · {} · {}", info.photos, workspace.root.string(),
                              info.preset, info.device, UtcTimestamp());
  double total_seconds = 0.0;
  Try(data, "stages", [&] { CollectStages(workspace, info, data, &total_seconds); });
  Try(data, "structure from motion", [&] { CollectSfm(workspace, data); });
  Try(data, "sparse model", [&] { CollectScene(workspace, data); });
  Try(data, "splats", [&] { CollectSplats(workspace, data); });
  Try(data, "mesh", [&] { CollectMesh(workspace, data); });
  Try(data, "NeRF", [&] { CollectNerf(workspace, data); });
  data.summary.push_back({"Time", FormatDuration(total_seconds)});
  for (const ReportStage& stage : data.stages) {
    if (stage.status == "failed" || stage.status.starts_with("interrupted") ||
        stage.status.starts_with("not finished")) {
      data.warnings.insert(data.warnings.begin(),
                           fmt::format("Stage {} {}: {}", stage.name, stage.status, stage.detail));
    }
  }
  return data;
}

bool WriteWorkspaceReport(const Workspace& workspace, const WorkspaceReportInfo& info) {
  try {
    WriteReport(CollectWorkspaceReport(workspace, info), workspace.Report());
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("reconstruct: the report could not be written: {}", e.what());
    return false;
  }
}

}  // namespace facet::pipeline
