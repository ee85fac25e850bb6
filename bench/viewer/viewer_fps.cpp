// viewer_fps: frames per second of the viewer's splat path (issue 9) on random Gaussians. Every
// frame is what `facet view` draws: SplatRenderer::Preprocess, the GPU sort (SplatSort) and the
// draw into a half-float offscreen target, submitted and waited for, with no readback. The
// renderer, the sort and the target are made once per run (RecordSplatPreprocessAndSort), so the
// timed loop holds no pipeline or buffer creation. Target on an H200: >= 300 FPS for 1M splats at
// 1920x1080 (scripts/gpu-check.sh runs that case).
//
//   viewer_fps [--splats 100000,1000000] [--size 1280x720 | --full-hd] [--frames 100]
//              [--warmup 10] [--seed 1] [--json FILE]
//   viewer_fps --splats N --write-ply FILE   (the same Gaussians as a 3DGS .ply)
//
// The Gaussians: SH degree 3, positions uniform in a box 2..8 units in front of the camera and as
// wide as its field of view (nearly all visible), standard deviations 0.004-0.04 units (a few
// pixels, as trained scenes' splats mostly are), opacities sigmoid(-2..3), random SH.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/gaussian_splats.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/offscreen.h"
#include "viewer/splat_renderer.h"
#include "viewer/splat_view.h"
#include "viewer/vulkan_context.h"

namespace {

using namespace facet;
using namespace facet::viewer;

// `count` Gaussians inside the view frustum of a camera at the origin looking down +z with
// half-angles atan(half_width), atan(half_height) (normalised image-plane units).
datasets::GaussianSplats RandomSplats(std::uint32_t count, double half_width, double half_height,
                                      std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_real_distribution<float> depth(2.0f, 8.0f);
  std::uniform_real_distribution<float> log_sd(std::log(0.004f), std::log(0.04f));
  std::uniform_real_distribution<float> logit(-2.0f, 3.0f);
  datasets::GaussianSplats splats;
  splats.sh_degree = 3;
  splats.Resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const float z = depth(rng);
    splats.positions[i] = {float(half_width) * z * unit(rng), float(half_height) * z * unit(rng),
                           z};
    splats.sh_dc[i] = {1.5f * unit(rng), 1.5f * unit(rng), 1.5f * unit(rng)};
    for (int k = 0; k < splats.NumShRest(); ++k) {
      splats.sh_rest[std::size_t(i) * splats.NumShRest() + k] = 0.2f * unit(rng);
    }
    splats.opacities[i] = logit(rng);
    splats.log_scales[i] = {log_sd(rng), log_sd(rng), log_sd(rng)};
    splats.rotations[i] = {unit(rng), unit(rng), unit(rng), unit(rng)};
    if (splats.rotations[i].norm() < 1e-3f) splats.rotations[i] = {1, 0, 0, 0};
  }
  return splats;
}

struct Run {
  std::uint32_t splats = 0;
  std::uint32_t visible = 0;
  int frames = 0;
  double seconds = 0;
};

Run TimeFrames(const VulkanContext& context, const SplatRenderer& renderer,
               const OffscreenTarget& target, const geometry::Camera& camera, std::uint32_t count,
               int warmup, int frames, std::uint64_t seed) {
  const double fx = camera.FocalX(), fy = camera.FocalY();
  const GpuSplats splats(
      context, RandomSplats(count, 0.5 * camera.width / fx, 0.5 * camera.height / fy, seed));
  const geometry::Rigid3 cam_from_world;  // identity: the camera looks down +z
  const SplatDrawOptions options;
  const Eigen::Vector3f background(0.1f, 0.1f, 0.1f);
  Run run;
  run.splats = count;
  run.frames = frames;
  // Once, with readback: how many splats survive culling (not part of the timed loop).
  run.visible =
      RenderSplatsOffscreen(context, renderer, splats, camera, cam_from_world, options, background)
          .visible;

  const SplatSort sort(context, count);
  const auto frame = [&] {
    context.SubmitAndWait([&](VkCommandBuffer cmd) {
      RecordSplatPreprocessAndSort(cmd, renderer, sort, splats, camera, cam_from_world, options);
      target.BeginRendering(cmd, background);
      renderer.Draw(cmd, splats, sort.order(), splats.count(), camera, options);
      target.EndRendering(cmd);
    });
  };
  for (int i = 0; i < warmup; ++i) frame();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < frames; ++i) frame();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

int Main(int argc, char** argv) {
  CLI::App app{"Viewer splat frames per second on random Gaussians (bench/viewer/viewer_fps.cpp)"};
  std::vector<std::uint32_t> counts{100000, 1000000};
  std::string size = "1280x720", json_path;
  bool full_hd = false;
  int frames = 100, warmup = 10;
  std::uint64_t seed = 1;
  app.add_option("--splats", counts, "Gaussian counts, one run each")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--size", size, "Image size WxH")->capture_default_str();
  app.add_flag("--full-hd", full_hd, "Same as --size 1920x1080");
  app.add_option("--frames", frames, "Timed frames per run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed frames first")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--seed", seed, "Random seed of the Gaussians")->capture_default_str();
  app.add_option("--json", json_path, "Also write the figures here");
  std::string write_ply;
  app.add_option("--write-ply", write_ply,
                 "Instead: write the first --splats count of Gaussians (as a 60-degree, 16:9 "
                 "camera at the origin sees them) to this 3DGS .ply and exit (large-scene loads: "
                 "bench/viewer/large_scene.sh)");
  CLI11_PARSE(app, argc, argv);
  if (!write_ply.empty()) {
    const double half_width = std::tan(M_PI / 6);
    datasets::WriteGaussianPly(
        write_ply, RandomSplats(counts.front(), half_width, half_width * 9.0 / 16.0, seed));
    std::cout << "viewer_fps: wrote " << counts.front() << " splats to " << write_ply << "\n";
    return 0;
  }
  if (full_hd) size = "1920x1080";
  int width = 0, height = 0;
  FACET_CHECK(std::sscanf(size.c_str(), "%dx%d", &width, &height) == 2 && width > 0 && height > 0,
              "viewer_fps: --size '{}' is not WxH (e.g. 1920x1080)", size);
  for (const std::uint32_t count : counts) {
    FACET_CHECK(count > 0, "viewer_fps: --splats needs positive counts");
  }

  const VulkanContext context;
  const SplatRenderer renderer(context, OffscreenTarget::kHdrColorFormat,
                               OffscreenTarget::kDepthFormat);
  const OffscreenTarget target(context, width, height, OffscreenTarget::kHdrColorFormat);
  // A 60-degree horizontal field of view.
  const auto camera = geometry::Camera::Create(geometry::CameraModelId::kPinhole,
                                               0.5 * width / std::tan(M_PI / 6), width, height);
  std::cout << "viewer_fps: " << context.DeviceName() << ", " << width << "x" << height << ", "
            << frames << " frames after " << warmup << " warm-up\n";
  nlohmann::json runs = nlohmann::json::array();
  for (const std::uint32_t count : counts) {
    const Run run = TimeFrames(context, renderer, target, camera, count, warmup, frames, seed);
    const double fps = run.frames / run.seconds;
    std::printf("  %8u splats (%u visible): %8.1f frames/s, %8.2f ms/frame\n", run.splats,
                run.visible, fps, 1000.0 / fps);
    std::fflush(stdout);
    runs.push_back({{"splats", run.splats},
                    {"visible", run.visible},
                    {"frames", run.frames},
                    {"warmup", warmup},
                    {"seconds", run.seconds},
                    {"frames_per_s", fps},
                    {"ms_per_frame", 1000.0 / fps}});
  }
  if (!json_path.empty()) {
    const nlohmann::json json{{"device", context.DeviceName()},
                              {"width", width},
                              {"height", height},
                              {"sh_degree", 3},
                              {"runs", runs}};
    std::ofstream file(json_path);
    FACET_CHECK(file.good(), "viewer_fps: cannot write {}", json_path);
    file << json.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "viewer_fps: " << e.what() << "\n";
    return 1;
  }
}
