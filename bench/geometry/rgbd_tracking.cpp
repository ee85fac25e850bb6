// rgbd_tracking: frame-to-model tracking in the KinectFusion way over a Redwood/Open3D RGB-D
// folder: per frame, ray cast the TSDF at the previous pose (tsdf_raycast.h), register the frame to
// the ray cast (rgbd_odometry.h), fuse it at the new pose (tsdf_volume.h). Prints the frames/s of
// tracking (ray cast + pyramids + odometry) and of integration, wall and process CPU time, and the
// ATE (rigid alignment, geometry/pose_metrics.h) against the folder's open3d_trajectory.log.
// Frames are decoded untimed.
//
//   rgbd_tracking [FOLDER] [--frames N] [--voxel 0.01] [--depth-max 3] [--raycast-scale 1|2]
//                 [--threads N] [--json FILE]
// Process CPU time counts oneTBB's idle workers spinning; on a busy machine --threads 1 gives the
// work itself (its CPU time), the figure to divide by the cores.
// FOLDER: default ../shared/data/rgbd-livingroom; PrimeSense intrinsics (525, 525, 319.5, 239.5).
// --raycast-scale 2 (the default) ray casts the model at half resolution (320x240) and registers
// the full-resolution frame against that pyramid (target level l = half-resolution level l);
// 1 ray casts at full resolution. --json FILE also writes the figures (ms per frame, frames/s,
// ATE in metres) for bench/run_all.sh.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <oneapi/tbb/global_control.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/image_io.h"
#include "core/timer.h"
#include "datasets/rgbd.h"
#include "geometry/pose_metrics.h"
#include "geometry/rgbd_odometry.h"
#include "geometry/tsdf_volume.h"

namespace {

using namespace facet;

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Clock {
  double wall = 0.0, cpu = 0.0;
};

template <typename F>
auto Timed(Clock* clock, F&& f) {
  const Timer timer;
  const double cpu0 = ProcessCpuSeconds();
  auto result = f();
  clock->wall += timer.ElapsedSeconds();
  clock->cpu += ProcessCpuSeconds() - cpu0;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Frame-to-model RGB-D tracking speed and ATE against Open3D's trajectory");
  std::string folder = std::string(FACET_SOURCE_DIR) + "/../shared/data/rgbd-livingroom";
  int frames = 0;
  double voxel = 0.01, depth_max = 3.0;
  int raycast_scale = 2;
  int threads = 0;
  app.add_option("folder", folder, "Redwood/Open3D RGB-D folder");
  app.add_option("--frames", frames, "frames to track (0: all)");
  app.add_option("--voxel", voxel, "voxel size, metres");
  app.add_option("--depth-max", depth_max, "depth cut-off, metres");
  app.add_option("--raycast-scale", raycast_scale, "ray cast at 1/scale resolution")
      ->check(CLI::IsMember({1, 2}));
  app.add_option("--threads", threads, "oneTBB threads (0: all cores)");
  std::string json_path;
  app.add_option("--json", json_path, "also write the figures here");
  CLI11_PARSE(app, argc, argv);
  std::optional<oneapi::tbb::global_control> control;
  if (threads > 0) {
    control.emplace(oneapi::tbb::global_control::max_allowed_parallelism, std::size_t(threads));
  }

  try {
    const geometry::Camera camera =
        geometry::CameraFromOpenCvIntrinsics(525, 525, 319.5, 239.5, 640, 480);
    datasets::RedwoodReadOptions read;
    read.trajectory_log = "open3d_trajectory.log";
    const datasets::RgbdSequence sequence = datasets::ReadRedwoodSequence(folder, camera, read);
    const int n = frames > 0 ? std::min<int>(frames, int(sequence.frames.size()))
                             : int(sequence.frames.size());
    const geometry::Camera model_camera =
        geometry::PyramidCamera(camera, raycast_scale == 2 ? 1 : 0);

    geometry::TsdfVolume::Options options;
    options.voxel_size = voxel;
    options.depth_max = depth_max;
    options.with_color = true;
    geometry::TsdfVolume volume(options);
    geometry::RaycastOptions raycast;
    raycast.depth_max = depth_max;
    raycast.colors = true;
    geometry::RgbdPyramidOptions pyramid;
    pyramid.depth_max = depth_max;
    geometry::RgbdPyramidOptions source_pyramid = pyramid;
    source_pyramid.gradients = false;  // a frame is only ever the source here
    const geometry::RgbdOdometryOptions odometry;
    const int levels = int(odometry.iterations_per_level.size());

    Clock raycast_clock, pyramid_clock, odometry_clock, integrate_clock;
    std::vector<geometry::Rigid3> poses, reference;
    int failures = 0;
    for (int i = 0; i < n; ++i) {
      const datasets::RgbdFrame& frame = sequence.frames[i];
      const ImageF32 depth = datasets::LoadDepthMeters(frame.depth_path, sequence.depth_scale);
      const ImageU8 rgb = ReadImage<std::uint8_t>(frame.color_path);
      if (!frame.world_from_cam) throw Error("frame without a reference pose");
      reference.push_back(*frame.CamFromWorld());
      if (i == 0) {
        poses.push_back(reference[0]);
      } else {
        const geometry::RaycastMaps maps = Timed(
            &raycast_clock, [&] { return volume.Raycast(model_camera, poses.back(), raycast); });
        const auto [source, target] = Timed(&pyramid_clock, [&] {
          return std::pair(geometry::MakeRgbdPyramid(depth.view(), rgb.view(), camera, levels,
                                                     nullptr, source_pyramid),
                           geometry::MakeRgbdPyramid(maps.depth_m.view(), maps.rgb.view(),
                                                     model_camera, levels, &maps, pyramid));
        });
        const geometry::RgbdOdometryResult result = Timed(&odometry_clock, [&] {
          return geometry::RegisterRgbd(source, target, geometry::Rigid3(), odometry);
        });
        failures += !result.success;
        poses.push_back(result.target_from_source.Inverse() * poses.back());
      }
      Timed(&integrate_clock, [&] {
        volume.Integrate(depth.view(), rgb.view(), camera, poses.back());
        return 0;
      });
    }
    const int tracked = n - 1;
    const double tracking_wall = raycast_clock.wall + pyramid_clock.wall + odometry_clock.wall;
    const double tracking_cpu = raycast_clock.cpu + pyramid_clock.cpu + odometry_clock.cpu;
    std::printf("%d frames tracked (%d without success), voxel %.3f m, ray cast at %dx%d\n",
                tracked, failures, voxel, model_camera.width, model_camera.height);
    const auto ms = [&](const Clock& c) { return 1e3 * c.wall / std::max(tracked, 1); };
    const auto cpu_ms = [&](const Clock& c) { return 1e3 * c.cpu / std::max(tracked, 1); };
    std::printf(
        "per frame (wall / process CPU, ms): ray cast %.1f / %.1f, pyramids %.1f / %.1f, "
        "odometry %.1f / %.1f, integration %.1f / %.1f\n",
        ms(raycast_clock), cpu_ms(raycast_clock), ms(pyramid_clock), cpu_ms(pyramid_clock),
        ms(odometry_clock), cpu_ms(odometry_clock), 1e3 * integrate_clock.wall / n,
        1e3 * integrate_clock.cpu / n);
    std::printf(
        "tracking %.1f frames/s (wall), %.1f frames/s of process CPU; with integration "
        "%.1f frames/s (wall)\n",
        tracked / tracking_wall, tracked / tracking_cpu,
        tracked / (tracking_wall + integrate_clock.wall * tracked / n));
    geometry::AbsolutePoseErrorOptions rigid;
    rigid.estimate_scale = false;
    const auto errors = geometry::ComputeAbsolutePoseErrors(poses, reference, rigid);
    nlohmann::json summary = {
        {"frames", n},
        {"tracked", tracked},
        {"failures", failures},
        {"voxel", voxel},
        {"ms_per_frame",
         {{"raycast", ms(raycast_clock)},
          {"pyramids", ms(pyramid_clock)},
          {"odometry", ms(odometry_clock)},
          {"integration", 1e3 * integrate_clock.wall / n}}},
        {"tracking_frames_per_s", tracked / tracking_wall},
        {"frames_per_s_with_integration",
         tracked / (tracking_wall + integrate_clock.wall * tracked / n)},
        {"ate_rmse_m", errors ? nlohmann::json(errors->ate_rmse) : nlohmann::json()}};
    if (!json_path.empty()) std::ofstream(json_path) << summary.dump(2) << "\n";
    if (errors) {
      std::printf(
          "ATE vs open3d_trajectory.log: %.2f mm (max centre error %.2f mm, max rotation "
          "error %.3f deg)\n",
          1e3 * errors->ate_rmse, 1e3 * errors->center_error_max, errors->rotation_error_max_deg);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rgbd_tracking: %s\n", e.what());
    return 1;
  }
  return 0;
}
