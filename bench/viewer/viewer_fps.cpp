// viewer_fps: frames per second of the viewer's splat path (issue 9) on random Gaussians. Every
// frame is what `facet view` draws: SplatRenderer::Preprocess, the GPU sort (SplatSort), then
// with `--raster compute` (the default, what the viewer draws) the tile lists and the compute
// blend (SplatTileRasterizer), or with `--raster quads` one blended rectangle per splat, into a
// half-float offscreen target with no readback. The frame's command buffer is recorded once and
// submitted `--frames` times, each waited for (one frame in flight, as the window): FPS = frames /
// wall time, and GPU timestamps give each phase's mean milliseconds (preprocess, sort, tiles,
// blend; quads: preprocess, sort, draw). Target on an H200: >= 300 FPS for 1M splats at
// 1920x1080 (scripts/gpu-check.sh runs that case). A CPU Vulkan device (lavapipe) is refused
// unless --allow-cpu is given.
//
//   viewer_fps [--splats 100000,1000000] [--size 1280x720 | --full-hd] [--frames 100]
//              [--warmup 10] [--seed 1] [--raster compute|quads] [--allow-cpu] [--json FILE]
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
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "datasets/gaussian_splats.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/offscreen.h"
#include "viewer/splat_renderer.h"
#include "viewer/splat_tiles.h"
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

// The frame's GPU phases, in recording order; a timestamp is written after each.
const char* const kComputePhases[] = {"preprocess", "sort", "tiles", "blend"};
const char* const kQuadPhases[] = {"preprocess", "sort", "draw"};

struct Run {
  std::uint32_t splats = 0;
  std::uint32_t visible = 0;
  std::uint64_t tile_entries = 0;  // (splat, tile) pairs a frame blends (compute only)
  int frames = 0;
  double seconds = 0;
  std::vector<std::pair<std::string, double>> phase_ms;  // mean GPU time of each phase
};

// One primary command buffer recorded once and submitted frame after frame, with its fence and
// a timestamp query pool (when the queue has timestamps): no allocation in the timed loop.
class FrameLoop {
 public:
  FrameLoop(const VulkanContext& context, std::uint32_t timestamps) : context_(context) {
    VkDevice device = context.device();
    VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool.queueFamilyIndex = context.queue_family();
    CheckVk(vkCreateCommandPool(device, &pool, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = pool_;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    CheckVk(vkAllocateCommandBuffers(device, &alloc, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    CheckVk(vkCreateFence(device, &fence, nullptr, &fence_), "vkCreateFence");
    // Timestamps as viewer/window.cpp reads them: when the queue family has valid bits.
    std::uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(context.physical_device(), &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(context.physical_device(), &family_count,
                                             families.data());
    valid_bits_ = families[context.queue_family()].timestampValidBits;
    if (valid_bits_ > 0 && context.properties().limits.timestampPeriod > 0.0f) {
      VkQueryPoolCreateInfo query{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
      query.queryType = VK_QUERY_TYPE_TIMESTAMP;
      query.queryCount = timestamps;
      CheckVk(vkCreateQueryPool(device, &query, nullptr, &queries_), "vkCreateQueryPool");
      timestamps_ = timestamps;
    }
  }
  ~FrameLoop() {
    VkDevice device = context_.device();
    if (queries_ != VK_NULL_HANDLE) vkDestroyQueryPool(device, queries_, nullptr);
    vkDestroyFence(device, fence_, nullptr);
    vkDestroyCommandPool(device, pool_, nullptr);  // frees the command buffer
  }
  FrameLoop(const FrameLoop&) = delete;
  FrameLoop& operator=(const FrameLoop&) = delete;

  // Records the frame: `record` calls mark(cmd) after each phase.
  void Record(const std::function<void(VkCommandBuffer, const std::function<void()>&)>& record) {
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    CheckVk(vkBeginCommandBuffer(cmd_, &begin), "vkBeginCommandBuffer");
    std::uint32_t next = 0;
    const auto mark = [&] {
      if (queries_ != VK_NULL_HANDLE && next < timestamps_) {
        vkCmdWriteTimestamp2(cmd_, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, queries_, next++);
      }
    };
    if (queries_ != VK_NULL_HANDLE) vkCmdResetQueryPool(cmd_, queries_, 0, timestamps_);
    // The last frame's reads and writes (the same buffers) come before this frame's.
    constexpr VkAccessFlags2 kAll = VK_ACCESS_2_MEMORY_READ_BIT | VK_ACCESS_2_MEMORY_WRITE_BIT;
    MemoryBarrier(cmd_, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, kAll,
                  VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, kAll);
    mark();
    record(cmd_, mark);
    CheckVk(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
  }

  // Submits the recorded frame and waits for it (one frame in flight, as the window); adds the
  // phases' GPU milliseconds to `phase_ms` (timestamps i and i + 1 bound phase i).
  void Submit(std::vector<double>* phase_ms) {
    VkCommandBufferSubmitInfo cmd_info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO};
    cmd_info.commandBuffer = cmd_;
    VkSubmitInfo2 submit{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
    submit.commandBufferInfoCount = 1;
    submit.pCommandBufferInfos = &cmd_info;
    CheckVk(vkQueueSubmit2(context_.queue(), 1, &submit, fence_), "vkQueueSubmit2");
    CheckVk(vkWaitForFences(context_.device(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    CheckVk(vkResetFences(context_.device(), 1, &fence_), "vkResetFences");
    if (queries_ == VK_NULL_HANDLE || phase_ms == nullptr) return;
    std::vector<std::uint64_t> ticks(timestamps_);
    CheckVk(vkGetQueryPoolResults(context_.device(), queries_, 0, timestamps_,
                                  ticks.size() * sizeof(std::uint64_t), ticks.data(),
                                  sizeof(std::uint64_t), VK_QUERY_RESULT_64_BIT),
            "vkGetQueryPoolResults");
    const std::uint64_t mask = valid_bits_ >= 64 ? ~0ull : (1ull << valid_bits_) - 1;
    const double ms_per_tick = context_.properties().limits.timestampPeriod * 1e-6;
    phase_ms->resize(timestamps_ - 1, 0.0);
    for (std::uint32_t i = 0; i + 1 < timestamps_; ++i) {
      (*phase_ms)[i] += double((ticks[i + 1] - ticks[i]) & mask) * ms_per_tick;
    }
  }

 private:
  const VulkanContext& context_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  std::uint32_t timestamps_ = 0;
  std::uint32_t valid_bits_ = 0;
};

Run TimeFrames(const VulkanContext& context, const SplatRenderer& renderer,
               const OffscreenTarget& target, const geometry::Camera& camera, std::uint32_t count,
               SplatRaster raster, int warmup, int frames, std::uint64_t seed) {
  const double fx = camera.FocalX(), fy = camera.FocalY();
  const GpuSplats splats(
      context, RandomSplats(count, 0.5 * camera.width / fx, 0.5 * camera.height / fy, seed));
  const geometry::Rigid3 cam_from_world;  // identity: the camera looks down +z
  SplatDrawOptions options;
  options.raster = raster;
  const bool compute = options.UsesTiles();
  const Eigen::Vector3f background(0.1f, 0.1f, 0.1f);
  Run run;
  run.splats = count;
  run.frames = frames;
  // Once, with readback: how many splats survive culling and how many tile entries a frame has
  // (not part of the timed loop).
  const SplatImage once =
      RenderSplatsOffscreen(context, renderer, splats, camera, cam_from_world, options, background);
  run.visible = once.visible;
  run.tile_entries = once.tiles.entries_needed;

  const SplatSort sort(context, count);
  std::optional<SplatTileRasterizer> tiles;
  if (compute) tiles.emplace(context, target.color_format(), count, once.tiles.entries_needed);
  const std::span<const char* const> phases = compute ? std::span<const char* const>(kComputePhases)
                                                      : std::span<const char* const>(kQuadPhases);
  FrameLoop loop(context, static_cast<std::uint32_t>(phases.size()) + 1);
  loop.Record([&](VkCommandBuffer cmd, const std::function<void()>& mark) {
    renderer.Preprocess(cmd, splats, camera, cam_from_world, options);
    mark();
    sort.Record(cmd, splats);
    mark();
    if (compute) {
      tiles->RecordLists(cmd, splats, sort.order(), camera);
      mark();
    }
    target.BeginRendering(cmd, background);
    if (!compute) renderer.Draw(cmd, splats, sort.order(), splats.count(), camera, options);
    target.EndRendering(cmd);
    if (compute) tiles->RecordBlend(cmd, splats, target, options.near_m, background, false);
    mark();
  });
  for (int i = 0; i < warmup; ++i) loop.Submit(nullptr);
  std::vector<double> phase_ms;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < frames; ++i) loop.Submit(&phase_ms);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (std::size_t i = 0; i < phase_ms.size(); ++i) {
    run.phase_ms.emplace_back(phases[i], phase_ms[i] / frames);
  }
  FACET_CHECK(!tiles || !tiles->stats().Overflowed(),
              "viewer_fps: the tile lists overflowed ({} entries for {}): the figures are wrong",
              tiles->stats().entries_needed, tiles->capacity());
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
  std::string raster_name = "compute";
  app.add_option("--raster", raster_name,
                 "How the splats are drawn: compute (the tile rasterizer the viewer uses) or "
                 "quads (one blended rectangle per splat)")
      ->check(CLI::IsMember({"compute", "quads"}))
      ->capture_default_str();
  bool allow_cpu = false;
  app.add_flag("--allow-cpu", allow_cpu,
               "Also run on a CPU Vulkan device (lavapipe), whose figures say nothing of a GPU");
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

  const SplatRaster raster = raster_name == "quads" ? SplatRaster::kQuads : SplatRaster::kCompute;
  const VulkanContext context;
  std::cout << "viewer_fps: device " << context.DeviceName() << std::flush << "\n";
  FACET_CHECK(allow_cpu || context.properties().deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU,
              "viewer_fps: {} is a CPU Vulkan device (software rendering), not the GPU the "
              "figures are for; pass --allow-cpu to measure it anyway",
              context.DeviceName());
  const SplatRenderer renderer(context, OffscreenTarget::kHdrColorFormat,
                               OffscreenTarget::kDepthFormat);
  const OffscreenTarget target(context, width, height, OffscreenTarget::kHdrColorFormat);
  // A 60-degree horizontal field of view.
  const auto camera = geometry::Camera::Create(geometry::CameraModelId::kPinhole,
                                               0.5 * width / std::tan(M_PI / 6), width, height);
  std::cout << "viewer_fps: " << context.DeviceName() << ", " << width << "x" << height << ", "
            << raster_name << " raster, " << frames << " frames after " << warmup << " warm-up\n";
  nlohmann::json runs = nlohmann::json::array();
  for (const std::uint32_t count : counts) {
    const Run run =
        TimeFrames(context, renderer, target, camera, count, raster, warmup, frames, seed);
    const double fps = run.frames / run.seconds;
    std::printf("  %8u splats (%u visible): %8.1f frames/s, %8.2f ms/frame; GPU ms:", run.splats,
                run.visible, fps, 1000.0 / fps);
    nlohmann::json phases = nlohmann::json::object();
    for (const auto& [name, ms] : run.phase_ms) {
      std::printf(" %s %.3f", name.c_str(), ms);
      phases[name] = ms;
    }
    if (raster == SplatRaster::kCompute) {
      std::printf(" (%llu tile entries)", static_cast<unsigned long long>(run.tile_entries));
    }
    std::printf("\n");
    std::fflush(stdout);
    runs.push_back({{"splats", run.splats},
                    {"visible", run.visible},
                    {"tile_entries", run.tile_entries},
                    {"frames", run.frames},
                    {"warmup", warmup},
                    {"seconds", run.seconds},
                    {"frames_per_s", fps},
                    {"ms_per_frame", 1000.0 / fps},
                    {"gpu_ms", phases}});
  }
  if (!json_path.empty()) {
    const nlohmann::json json{
        {"device", context.DeviceName()}, {"width", width}, {"height", height},
        {"raster", raster_name},          {"sh_degree", 3}, {"runs", runs}};
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
