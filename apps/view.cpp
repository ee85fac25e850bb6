// `facet view`: shows splats (3DGS .ply / .splat, or a facet workspace), a mesh (.ply with
// faces, .glb), a point cloud, and a workspace's layers together (splats, mesh.glb, sparse
// points, camera frustums, a grid) with the Vulkan viewer (viewer/): in a window (GLFW + ImGui,
// viewer/viewer_app.h), or with --offscreen as one frame from one camera written to an image.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "apps/view_content.h"
#include "core/error.h"
#include "core/image_io.h"
#include "viewer/scene_renderer.h"
#include "viewer/viewer_app.h"
#include "viewer/vulkan_context.h"
#include "viewer/window.h"

namespace facet::apps {
namespace {

namespace fs = std::filesystem;

struct ViewArgs {
  fs::path input;
  bool offscreen = false;
  fs::path screenshot;
  std::string size = "1280x720";
  std::string camera = "orbit:0";
  int sh_degree = 3;
  std::string mode = "splats";
  std::string raster = "auto";  // --raster: how the splats mode draws
  std::string background = "0,0,0";
  fs::path model;       // --model: the cameras of index:N (default: the input workspace's)
  fs::path trajectory;  // --trajectory: a camera trajectory (.log) to draw
  std::string layers;   // --layers: empty for the input's default
  int frames = 0;       // --frames: the window quits after N frames
  bool validate = false;
};

viewer::SceneDrawSettings DrawSettings(const ViewArgs& args) {
  viewer::SceneDrawSettings settings;
  settings.splats.sh_degree = args.sh_degree;
  const std::vector<std::string> modes = {"splats", "centres", "ellipsoids", "depth", "alpha"};
  const auto mode = std::find(modes.begin(), modes.end(), args.mode);
  if (mode == modes.end()) {
    throw UsageError("--mode takes splats, centres, ellipsoids, depth or alpha (got '" + args.mode +
                     "')");
  }
  settings.splats.mode = static_cast<viewer::SplatRenderMode>(mode - modes.begin());
  settings.splats.raster =
      args.raster == "quads" ? viewer::SplatRaster::kQuads : viewer::SplatRaster::kCompute;
  settings.mesh.point_size_px = 2.0f;
  settings.background = ParseBackground(args.background);
  return settings;
}

// Fails when the validation layer reported anything (--validate).
void CheckValidation(const viewer::ValidationMessages& messages) {
  FACET_CHECK(messages.errors == 0 && messages.warnings == 0,
              "view: the Vulkan validation layer reported {} errors and {} warnings (first: {})",
              messages.errors, messages.warnings,
              messages.texts.empty() ? "" : messages.texts.front());
}

void RunOffscreen(const ViewArgs& args) {
  if (args.screenshot.empty()) throw UsageError("--offscreen needs --screenshot FILE");
  int width = 0, height = 0;
  ParseSize(args.size, &width, &height);
  viewer::SceneDrawSettings settings = DrawSettings(args);
  ViewLoadOptions load;
  load.layers = ParseLayers(args.layers);
  load.model = args.model;
  load.trajectory = args.trajectory;
  const viewer::SceneData scene = LoadViewScene(args.input, load);
  settings.layers = scene.layers;
  const ViewPose view = ChooseViewPose(args.camera, scene, width, height);
  const viewer::SceneBounds bounds = viewer::RobustBounds(scene);
  // Depth mode: from the camera to beyond the far side of the bounds (as the window does).
  const Eigen::Vector3d eye = view.cam_from_world.Inverse().translation;
  settings.splats.depth_range =
      Eigen::Vector2f(0.0f, float((bounds.centre - eye).norm() + 2.0 * bounds.radius));

  viewer::VulkanContextOptions context_options;
  context_options.validation = args.validate;
  const viewer::VulkanContext context(context_options);
  spdlog::info("view: rendering on {}", context.DeviceName());
  viewer::GpuScene gpu(context, scene, viewer::GpuScene::ChooseColorFormat(scene));
  gpu.SetLines(viewer::SceneLines(scene, bounds, scene.layers));
  const ImageU8 image = gpu.Render(view.camera, view.cam_from_world, settings);
  if (args.validate) CheckValidation(context.Validation());
  WriteImage(args.screenshot, image);
  spdlog::info("view: wrote {} ({}x{})", args.screenshot.string(), width, height);
}

void RunWindow(const ViewArgs& args) {
  viewer::ViewerAppOptions options;
  ParseSize(args.size, &options.window.width, &options.window.height);
  options.window.validation = args.validate;
  options.settings = DrawSettings(args);
  options.raster_by_device = args.raster == "auto";
  options.max_frames = args.frames;
  options.screenshot = args.screenshot;
  ViewLoadOptions load;
  load.layers = ParseLayers(args.layers);
  load.model = args.model;
  load.trajectory = args.trajectory;
  load.load_all = true;
  if (!args.camera.starts_with("orbit:") && !args.camera.starts_with("index:") &&
      !fs::exists(args.camera)) {
    throw UsageError("--camera takes orbit:DEG, index:N or a 4x4 matrix file (got '" + args.camera +
                     "')");
  }
  // The first scene starts where --camera says; dropped ones from their default view.
  auto first = std::make_shared<std::atomic<bool>>(true);
  const viewer::SceneLoader loader = [load](const fs::path& path, std::atomic<float>* progress) {
    return LoadViewScene(path, load, progress);
  };
  const viewer::ViewChooser choose = [first, camera = args.camera](const viewer::SceneData& s) {
    return ChooseInitialView(first->exchange(false) ? camera : "orbit:0", s);
  };
  const viewer::ViewerAppResult result = viewer::RunViewerApp(options, args.input, loader, choose);
  spdlog::info("view: {} frames", result.frames);
  if (args.validate) CheckValidation(result.validation);
}

void RunView(const ViewArgs& args) {
  if (args.offscreen) {
    RunOffscreen(args);
  } else {
    RunWindow(args);
  }
}

}  // namespace

Subcommand RegisterView(CLI::App& app) {
  auto args = std::make_shared<ViewArgs>();
  CLI::App* sub = app.add_subcommand(
      "view",
      "Show splats, a mesh, a point cloud or a workspace in the Vulkan viewer (a window, or one "
      "frame with --offscreen)");
  sub->add_option("input", args->input,
                  "3DGS .ply or .splat, mesh .ply/.glb, point cloud .ply/.pcd, or a facet "
                  "workspace (splats.ply + sparse/0)")
      ->required();
  sub->add_flag("--offscreen", args->offscreen,
                "Render one frame without a window (servers, scripts) into --screenshot");
  sub->add_option("--screenshot", args->screenshot,
                  "Image to write (.png or .jpg): the frame with --offscreen, the last frame "
                  "with --frames, the P key's file in the window");
  sub->add_option("--size", args->size, "Image size, or the window's size, WxH")
      ->capture_default_str();
  sub->add_option("--frames", args->frames,
                  "Window: quit after N frames once the input has loaded (scripts, tests)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--validate", args->validate,
                "Run the Khronos validation layer and fail on any message (developers, tests)");
  sub->add_option("--camera", args->camera,
                  "orbit:DEG (around the content's robust bounds, 30 degrees up, 60 degree field "
                  "of view), index:N (the workspace model's N-th registered camera), or a text "
                  "file holding a 4x4 cam_from_world matrix")
      ->capture_default_str();
  sub->add_option("--model", args->model,
                  "A COLMAP model or workspace whose cameras index:N uses (default: the input "
                  "workspace's sparse/0)");
  sub->add_option("--trajectory", args->trajectory,
                  "A camera trajectory to draw (Open3D/Redwood .log, as `facet slam` writes); a "
                  "`facet slam` output folder shows its own");
  sub->add_option("--layers", args->layers,
                  "What to draw, a comma list of splats, mesh, points (a workspace: its model's "
                  "sparse points), cameras (the model's camera frustums), grid (a ground grid), "
                  "photos (the workspace's photos on the frustums), trajectory. Default: a "
                  "workspace's splats,cameras (and photos in the window); a slam folder's "
                  "mesh,trajectory; a file's content");
  sub->add_option("--sh-degree", args->sh_degree, "Splats: SH degree evaluated")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  sub->add_option("--mode", args->mode,
                  "Splats: splats, centres (a dot per splat), ellipsoids (1-sigma, opaque), "
                  "depth (grey, near to far over black) or alpha (accumulated opacity)")
      ->capture_default_str();
  sub->add_option("--raster", args->raster,
                  "Splats mode: compute (tile lists blended front to back, as the CPU "
                  "rasterizer), quads (a blended rectangle per splat: faster on a CPU Vulkan "
                  "device) or auto (compute, but quads in a window on a CPU device)")
      ->check(CLI::IsMember({"auto", "compute", "quads"}))
      ->capture_default_str();
  sub->add_option("--background", args->background, "Background colour R,G,B in [0, 1]")
      ->capture_default_str();
  sub->footer(
      "Window: left drag orbits, right drag pans, wheel zooms; Tab switches to fly (WASD QE,\n"
      "drag to look); [ ] step through the training cameras; F frames the scene; P saves a\n"
      "screenshot; drop files on it to open them. Without a display use --offscreen (or\n"
      "xvfb-run).\n"
      "Example: facet view out/\n"
      "         facet view out/ --offscreen --screenshot view.png --camera index:0\n"
      "         facet view out/ --layers splats,mesh,cameras,grid --offscreen --screenshot a.png");
  return {sub, [args](const GlobalOptions&) { RunView(*args); }};
}

}  // namespace facet::apps
