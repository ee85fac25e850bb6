// `facet slam`: camera trajectory and a watertight mesh from an RGB-D sequence (TUM or Redwood
// folder, or `facet synth --rgbd`), by frame-to-model tracking with loop closure (sfm/slam.h).
// Writes OUT/trajectory.txt (TUM), OUT/trajectory.log (Open3D/Redwood), OUT/mesh.glb and
// OUT/summary.json; with a reference trajectory in the folder, also ATE and RPE against it.
#include "sfm/slam.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/mesh_inputs.h"
#include "apps/usage_error.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "core/memory.h"
#include "core/progress.h"
#include "datasets/gltf.h"
#include "datasets/rgbd.h"
#include "geometry/mesh_checks.h"
#include "geometry/pose_metrics.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct SlamArgs {
  fs::path input;
  fs::path output;
  RgbdInputOptions rgbd;
  double voxel = 0.01;
  double depth_max = 3.0;
  int every = 1;
  int max_frames = 0;
  bool no_loop_closure = false;
  bool no_colors = false;
  bool no_mesh = false;
};

// The frames used (every Nth, at most max_frames) of the sequence.
std::vector<datasets::RgbdFrame> SelectFrames(const datasets::RgbdSequence& sequence,
                                              const SlamArgs& args) {
  std::vector<datasets::RgbdFrame> frames;
  for (std::size_t i = 0; i < sequence.frames.size(); i += std::size_t(args.every)) {
    if (args.max_frames > 0 && frames.size() >= std::size_t(args.max_frames)) break;
    frames.push_back(sequence.frames[i]);
  }
  return frames;
}

// A camera SLAM can use: distortion of TUM's freiburg calibrations is dropped (the depth is
// registered to the distorted colour image; KinectFusion-style trackers ignore it too).
geometry::Camera PinholeCamera(const geometry::Camera& camera) {
  if (camera.model == geometry::CameraModelId::kPinhole ||
      camera.model == geometry::CameraModelId::kSimplePinhole) {
    return camera;
  }
  spdlog::warn("slam: the {} camera's distortion is ignored (SLAM tracks with a pinhole model)",
               camera.ModelName());
  const Eigen::Vector2d c = camera.PrincipalPoint();
  geometry::Camera pinhole = camera;
  pinhole.model = geometry::CameraModelId::kPinhole;
  pinhole.params = {camera.FocalX(), camera.FocalY(), c.x(), c.y()};
  return pinhole;
}

nlohmann::json PoseErrors(const std::vector<datasets::RgbdFrame>& frames,
                          const sfm::SlamResult& result) {
  std::vector<geometry::Rigid3> estimated, reference;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const sfm::SlamFrameStatus status = result.frames[i].status;
    if (!frames[i].world_from_cam || status == sfm::SlamFrameStatus::kMissing) continue;
    estimated.push_back(result.frames[i].world_from_cam.Inverse());
    reference.push_back(*frames[i].CamFromWorld());
  }
  const auto ate =
      geometry::ComputeAbsolutePoseErrors(estimated, reference, {.estimate_scale = false});
  if (!ate) return nullptr;
  const geometry::RelativePoseErrors rpe =
      geometry::ComputeRelativePoseErrors(estimated, reference);
  spdlog::info(
      "slam: against the reference trajectory ({} frames): ATE RMSE {:.4f} m (max {:.4f} m), "
      "RPE {:.4f} m / {:.3f} deg per frame",
      estimated.size(), ate->ate_rmse, ate->center_error_max, rpe.translation_rmse,
      rpe.rotation_mean_deg);
  return {{"frames", estimated.size()},
          {"ate_rmse_m", ate->ate_rmse},
          {"ate_max_m", ate->center_error_max},
          {"rotation_error_mean_deg", ate->rotation_error_mean_deg},
          {"rpe_translation_rmse_m", rpe.translation_rmse},
          {"rpe_rotation_mean_deg", rpe.rotation_mean_deg}};
}

void RunSlam(const SlamArgs& args, const GlobalOptions& global) {
  if (args.every < 1 || args.max_frames < 0) {
    throw UsageError("--every must be >= 1 and --max-frames >= 0");
  }
  if (global.device == "cuda") spdlog::warn("slam: runs on the CPU (no CUDA path yet)");
  const MeshInput input = ClassifyMeshInput(args.input);
  if (input.kind != MeshInputKind::kRgbdTum && input.kind != MeshInputKind::kRgbdRedwood) {
    throw UsageError(
        fmt::format("'{}' is a {}, not an RGB-D folder (TUM: rgb.txt + depth.txt; "
                    "Redwood: depth/ + image/)",
                    args.input.string(), ToString(input.kind)));
  }
  RgbdInputOptions rgbd = args.rgbd;
  rgbd.require_poses = false;
  const datasets::RgbdSequence sequence = ReadRgbdInput(input, rgbd);
  const std::vector<datasets::RgbdFrame> frames = SelectFrames(sequence, args);
  fs::create_directories(args.output);

  sfm::SlamOptions options;
  options.voxel_size = args.voxel;
  options.depth_max = args.depth_max;
  options.colors = !args.no_colors;
  options.loop_closure = !args.no_loop_closure;
  sfm::SlamFrameSource source;
  source.camera = PinholeCamera(sequence.camera);
  source.count = static_cast<int>(frames.size());
  const double depth_scale = sequence.depth_scale;
  source.load = [&frames, depth_scale](int index) {
    const datasets::RgbdFrame& frame = frames[std::size_t(index)];
    sfm::SlamFrame data;
    data.depth_m = datasets::LoadDepthMeters(frame.depth_path, depth_scale);
    data.rgb = ReadImage<std::uint8_t>(frame.color_path, {.channels = 3});
    return data;
  };
  spdlog::info("slam: {} '{}': {} frames at {}x{}", ToString(input.kind), args.input.string(),
               frames.size(), source.camera.width, source.camera.height);
  ProgressBar bar(source.count, {.label = "slam", .unit = "frames"});
  const sfm::SlamResult result = sfm::RunSlam(source, options, [&bar](int, int) { bar.Add(); });
  bar.Finish();

  std::vector<double> timestamps;
  std::vector<geometry::Rigid3> poses;
  std::vector<datasets::TrajectoryEntry> log;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (result.frames[i].status == sfm::SlamFrameStatus::kMissing) continue;
    timestamps.push_back(frames[i].timestamp);
    poses.push_back(result.frames[i].world_from_cam);
    const int n = static_cast<int>(log.size());
    log.push_back({{n, n, n + 1}, result.frames[i].world_from_cam.ToMatrix4()});
  }
  datasets::WriteTumTrajectory(args.output / "trajectory.txt", timestamps, poses);
  datasets::WriteTrajectoryLog(args.output / "trajectory.log", log);
  spdlog::info(
      "slam: {} frames at {:.1f} frames/s (tracking alone {:.1f} frames/s; {} keyframes, {} loop "
      "closures kept of {}, {} lost, {} missing); wrote {}",
      frames.size() - std::size_t(result.missing_frames), result.timings.frames_per_second,
      result.timings.tracking_frames_per_second, result.keyframes,
      std::count_if(result.loops.begin(), result.loops.end(), [](auto& l) { return l.kept; }),
      result.loops.size(), result.lost_frames, result.missing_frames,
      (args.output / "trajectory.txt").string());

  nlohmann::json mesh_summary = nullptr;
  if (!args.no_mesh) {
    const geometry::TriangleMesh mesh = result.map->ExtractMesh();
    const geometry::WatertightReport check = geometry::CheckWatertight(mesh);
    FACET_CHECK(!mesh.triangles.empty(), "slam: the map is empty; nothing to mesh");
    FACET_CHECK(check.watertight, "slam: the map's mesh is not watertight ({}); not written",
                check.reason);
    datasets::WriteGlb(args.output / "mesh.glb", mesh);
    spdlog::info("slam: wrote {}: {} triangles, watertight", (args.output / "mesh.glb").string(),
                 mesh.triangles.size());
    mesh_summary = {{"triangles", mesh.triangles.size()}, {"watertight", check.watertight}};
  }
  const sfm::SlamTimings& t = result.timings;
  const nlohmann::json summary = {
      {"input", args.input.string()},
      {"frames", frames.size()},
      {"keyframes", result.keyframes},
      {"lost_frames", result.lost_frames},
      {"missing_frames", result.missing_frames},
      {"loops", result.loops.size()},
      {"loops_kept",
       std::count_if(result.loops.begin(), result.loops.end(), [](auto& l) { return l.kept; })},
      {"frames_per_second", t.frames_per_second},
      {"tracking_frames_per_second", t.tracking_frames_per_second},
      {"seconds",
       {{"raycast", t.raycast_s},
        {"tracking", t.tracking_s},
        {"integration", t.integration_s},
        {"keyframes", t.keyframes_s},
        {"loop_closure", t.loop_closure_s},
        {"pose_graph", t.pose_graph_s},
        {"reintegration", t.reintegration_s},
        {"total", t.total_s}}},
      {"reference", PoseErrors(frames, result)},
      {"mesh", mesh_summary},
      {"peak_memory_bytes", PeakResidentBytes()}};
  WriteFileAtomically(args.output / "summary.json", summary.dump(2) + "\n");
}

}  // namespace

Subcommand RegisterSlam(CLI::App& app) {
  auto args = std::make_shared<SlamArgs>();
  CLI::App* sub = app.add_subcommand(
      "slam", "Track an RGB-D sequence (frame-to-model ICP, loop closure) and fuse a mesh");
  sub->footer(
      "INPUT: a TUM RGB-D folder (rgb.txt + depth.txt; `facet synth --rgbd` writes one) or a "
      "Redwood/Open3D folder (depth/ + image/). A reference trajectory (TUM groundtruth.txt, or "
      "the Redwood folder's .log) is used only to report ATE/RPE.\n"
      "Writes OUT/trajectory.txt (TUM), OUT/trajectory.log (Open3D), OUT/mesh.glb (watertight) "
      "and OUT/summary.json. Poses are the camera's in the world of the first frame.\n"
      "Examples:\n"
      "  facet synth --rgbd --views 300 -o seq/ && facet slam seq/ -o slam/\n"
      "  facet slam rgbd-livingroom/ -o room/ --voxel 0.01");
  sub->add_option("input", args->input, "RGB-D folder")->required();
  sub->add_option("-o,--output", args->output, "Output folder")->required();
  sub->add_option("--voxel", args->voxel, "Map voxel size (metres)")->capture_default_str();
  sub->add_option("--depth-max", args->depth_max, "Ignore depths beyond this (metres)")
      ->capture_default_str();
  sub->add_option("--intrinsics", args->rgbd.intrinsics,
                  "cameras.txt with the colour camera (default: the folder's, else TUM's / "
                  "PrimeSense's)");
  sub->add_option("--depth-scale", args->rgbd.depth_scale,
                  "Raw depth units per metre (default: TUM 5000, Redwood 1000)");
  sub->add_option("--trajectory", args->rgbd.trajectory,
                  "Redwood: reference trajectory .log (default: the folder's only .log)");
  sub->add_option("--every", args->every, "Use every Nth frame")->capture_default_str();
  sub->add_option("--max-frames", args->max_frames, "Stop after this many frames (0 = all)");
  sub->add_flag("--no-loop-closure", args->no_loop_closure, "Odometry only");
  sub->add_flag("--no-colors", args->no_colors, "Geometry only (no colour term, grey mesh)");
  sub->add_flag("--no-mesh", args->no_mesh, "Write the trajectory only");
  return {sub, [args](const GlobalOptions& global) { RunSlam(*args, global); }};
}

}  // namespace facet::apps
