#include "viewer/viewer_app.h"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numbers>
#include <thread>

#include "core/error.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "viewer/viewer_app_state.h"

namespace facet::viewer {
namespace detail {
namespace {

constexpr double kPi = std::numbers::pi;

double VerticalFovDeg(const geometry::Camera& camera) {
  return 2.0 * std::atan(0.5 * camera.height / camera.FocalY()) * 180.0 / kPi;
}

}  // namespace

ViewerApp::ViewerApp(const ViewerAppOptions& options, const SceneLoader& loader,
                     const ViewChooser& choose_view)
    : options_(options), loader_(loader), choose_view_(choose_view) {
  settings_ = options.settings;
  if (!options.screenshot.empty()) {
    const std::string path = options.screenshot.string();
    std::snprintf(screenshot_path_, sizeof(screenshot_path_), "%s", path.c_str());
  }
}

void ViewerApp::StartLoad(const std::filesystem::path& path) {
  if (pending_) return;  // one load at a time; a drop during a load is ignored (see status)
  PendingLoad load;
  load.path = path;
  load.progress = std::make_shared<std::atomic<float>>(0.0f);
  load.started = std::chrono::steady_clock::now();
  load.result = std::async(std::launch::async, [loader = loader_, path, p = load.progress] {
    SceneData scene = loader(path, p.get());
    PackForGpu(scene);  // here, not on the drawing thread
    return scene;
  });
  pending_ = std::move(load);
  error_.clear();
}

void ViewerApp::FinishLoadIfReady() {
  if (!pending_ ||
      pending_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return;
  }
  PendingLoad load = std::move(*pending_);
  pending_.reset();
  const auto reset_counts = [this] { load_frames_ = 0, load_longest_frame_ms_ = 0.0; };
  try {
    SceneData scene = load.result.get();
    const double read_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load.started).count();
    const auto upload_start = std::chrono::steady_clock::now();
    AdoptScene(std::move(scene));
    const double upload_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - upload_start).count();
    spdlog::info(
        "view: read '{}' in {:.1f} s ({} frames drawn meanwhile, the longest {:.0f} ms); GPU "
        "scene made in {:.2f} s",
        load.path.string(), read_s, load_frames_, load_longest_frame_ms_, upload_s);
    reset_counts();
  } catch (const std::exception& e) {
    reset_counts();
    error_ = e.what();
    // Scripted runs (--frames) fail with it at exit; interactive ones show it and log it.
    if (options_.max_frames == 0) spdlog::error("view: {}", error_);
  }
}

void ViewerApp::AdoptScene(SceneData scene) {
  const InitialView view = choose_view_(scene);  // may throw (index:N past the cameras)
  // The GPU may still read the old scene's buffers in the frame just submitted.
  vkDeviceWaitIdle(window_->context().device());
  target_.reset();
  gpu_scene_.reset();
  gpu_scene_ =
      std::make_unique<GpuScene>(window_->context(), scene, OffscreenTarget::kHdrColorFormat,
                                 /*progressive=*/true);
  upload_started_ = std::chrono::steady_clock::now();
  upload_chunk_ = 1u << 16;
  scene_ = std::move(scene);
  loaded_ = true;
  settings_.layers = scene_.layers;
  bounds_ = RobustBounds(scene_);
  up_ = SceneUp(scene_);
  training_poses_.clear(), training_names_.clear(), training_fov_deg_.clear();
  if (scene_.model) {
    for (const auto& [id, image] : scene_.model->images) {
      if (!image.IsRegistered()) continue;
      training_poses_.push_back(*image.cam_from_world);
      training_names_.push_back(image.name);
      training_fov_deg_.push_back(VerticalFovDeg(scene_.model->cameras.at(image.camera_id)));
    }
  }
  fly_speed_ = 0.5 * bounds_.radius;
  // Depth mode: from the camera to beyond the far side of the bounds.
  const Eigen::Vector3d eye = view.cam_from_world.Inverse().translation;
  const double far = (bounds_.centre - eye).norm() + 2.0 * bounds_.radius;
  settings_.splats.depth_range = Eigen::Vector2f(0.0f, float(far));
  settings_.splats.crop = false;
  settings_.splats.crop_min = settings_.splats.crop_max = Eigen::Vector3f::Zero();
  lines_built_for_ = {};
  RebuildLines();
  window_->SetTitle("facet view - " + scene_.name);

  fov_deg_ = view.fov_deg;
  transition_.reset();
  mode_ = CameraMode::kOrbit;
  SetPose(view.cam_from_world);
  training_index_ = view.training_camera;
}

void ViewerApp::UploadStep() {
  if (!gpu_scene_ || gpu_scene_->splats_pending() == 0) return;
  const auto start = std::chrono::steady_clock::now();
  gpu_scene_->UploadMore(upload_chunk_);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // Next chunk: about 40 ms of copying, so the window keeps drawing while a big scene arrives
  // (the splats show once all are there).
  const double scale = std::clamp(40.0 / std::max(ms, 1e-3), 0.25, 4.0);
  upload_chunk_ = std::clamp<std::uint32_t>(std::uint32_t(upload_chunk_ * scale), 4096u, 1u << 22);
  if (gpu_scene_->splats_pending() == 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - upload_started_).count();
    spdlog::info(
        "view: {} splats on the GPU after {:.1f} s ({} frames drawn meanwhile, the "
        "longest {:.0f} ms)",
        gpu_scene_->splat_count(), seconds, load_frames_, load_longest_frame_ms_);
    load_frames_ = 0, load_longest_frame_ms_ = 0.0;
  }
}

void ViewerApp::RebuildLines() {
  const SceneLayers& on = settings_.layers;
  if (!gpu_scene_ || (lines_built_for_.cameras == on.cameras && lines_built_for_.grid == on.grid &&
                      lines_built_for_.trajectory == on.trajectory)) {
    return;
  }
  gpu_scene_->SetLines(SceneLines(scene_, bounds_, on));
  lines_built_for_ = on;
}

geometry::Rigid3 ViewerApp::CurrentPose() const {
  return mode_ == CameraMode::kOrbit ? orbit_.CamFromWorld() : fly_.CamFromWorld();
}

void ViewerApp::SetPose(const geometry::Rigid3& cam_from_world) {
  // The orbit centre: the distance from the camera to the bounds' centre along its view, or the
  // bounds' radius when the centre is behind it.
  const Eigen::Vector3d eye = cam_from_world.Inverse().translation;
  const Eigen::Vector3d forward = cam_from_world.rotation.inverse() * Eigen::Vector3d::UnitZ();
  double distance = (bounds_.centre - eye).dot(forward);
  if (!(distance > 1e-3 * bounds_.radius)) distance = bounds_.radius;
  orbit_ = OrbitCamera::FromPose(cam_from_world, up_, distance);
  fly_ = FlyCamera::FromPose(cam_from_world, up_);
}

geometry::Camera ViewerApp::ViewCamera(int width, int height) const {
  const double f = 0.5 * height / std::tan(0.5 * fov_deg_ * kPi / 180.0);
  geometry::Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = width, camera.height = height;
  camera.params = {f, f, 0.5 * width, 0.5 * height};
  return camera;
}

void ViewerApp::SnapToTrainingCamera(int index, bool animate) {
  if (training_poses_.empty()) return;
  const int n = static_cast<int>(training_poses_.size());
  index = ((index % n) + n) % n;
  training_index_ = index;
  fov_deg_ = training_fov_deg_[index];
  if (animate) {
    transition_ = CameraTransition{CurrentPose(), training_poses_[index]};
  } else {
    transition_.reset();
    SetPose(training_poses_[index]);
  }
}

void ViewerApp::FrameScene() {
  transition_.reset();
  training_index_ = -1;
  OrbitCamera orbit;
  orbit.target = bounds_.centre;
  orbit.up = up_;
  orbit.distance = bounds_.radius / std::sin(0.5 * fov_deg_ * kPi / 180.0);
  orbit.elevation_rad = kPi / 6.0;
  orbit.azimuth_rad = orbit_.azimuth_rad;
  orbit_ = orbit;
  fly_ = orbit_.ToFly();
  mode_ = CameraMode::kOrbit;
}

void ViewerApp::HandleInput(double dt_s) {
  const ImGuiIO& io = ImGui::GetIO();
  if (transition_) {
    const geometry::Rigid3 pose = transition_->Advance(dt_s);
    SetPose(pose);
    if (transition_->Done()) transition_.reset();
  }
  // Mouse deltas in framebuffer pixels (HiDPI: the window reports screen coordinates).
  const double dx = io.MouseDelta.x * io.DisplayFramebufferScale.x;
  const double dy = io.MouseDelta.y * io.DisplayFramebufferScale.y;
  const bool moved = dx != 0.0 || dy != 0.0;
  if (!io.WantCaptureMouse) {
    const bool left = io.MouseDown[0], right = io.MouseDown[1], middle = io.MouseDown[2];
    if (mode_ == CameraMode::kOrbit) {
      if (moved && left && !io.KeyShift) {
        orbit_.Rotate(dx, dy), transition_.reset();
      } else if (moved && (right || middle || (left && io.KeyShift))) {
        const geometry::Camera camera = ViewCamera(window_->width(), window_->height());
        orbit_.Pan(dx, dy, camera.FocalY()), transition_.reset();
      }
      if (io.MouseWheel != 0.0f) orbit_.Zoom(io.MouseWheel), transition_.reset();
      fly_ = orbit_.ToFly();
    } else {
      if (moved && (left || right)) fly_.Look(dx, dy), transition_.reset();
      if (io.MouseWheel != 0.0f) fly_speed_ *= std::pow(1.25, io.MouseWheel);
    }
  }
  const std::vector<int> keys = window_->TakeKeyPresses();
  if (io.WantCaptureKeyboard) return;  // typing into a panel's field
  for (const int key : keys) {
    switch (key) {
      case GLFW_KEY_ESCAPE:
        window_->RequestClose();
        break;
      case GLFW_KEY_TAB:
        mode_ = mode_ == CameraMode::kOrbit ? CameraMode::kFly : CameraMode::kOrbit;
        if (mode_ == CameraMode::kOrbit) orbit_ = fly_.ToOrbit(std::max(orbit_.distance, 1e-3));
        break;
      case GLFW_KEY_F:
        FrameScene();
        break;
      case GLFW_KEY_LEFT_BRACKET:
        SnapToTrainingCamera(training_index_ - 1, true);
        break;
      case GLFW_KEY_RIGHT_BRACKET:
        SnapToTrainingCamera(training_index_ + 1, true);
        break;
      case GLFW_KEY_P:
        SaveScreenshot(screenshot_path_);
        break;
      default:
        break;
    }
  }
  if (mode_ == CameraMode::kFly) {
    const auto axis = [](int plus, int minus) {
      return (ImGui::IsKeyDown(plus) ? 1.0 : 0.0) - (ImGui::IsKeyDown(minus) ? 1.0 : 0.0);
    };
    const double forward = axis(GLFW_KEY_W, GLFW_KEY_S), right = axis(GLFW_KEY_D, GLFW_KEY_A);
    const double upward = axis(GLFW_KEY_E, GLFW_KEY_Q);
    if (forward != 0.0 || right != 0.0 || upward != 0.0) {
      fly_.Move(forward, right, upward, dt_s, fly_speed_ * (io.KeyShift ? 4.0 : 1.0));
      transition_.reset();
      orbit_ = fly_.ToOrbit(std::max(orbit_.distance, 1e-3));
    }
  }
}

void ViewerApp::SaveScreenshot(const std::filesystem::path& path) {
  if (!gpu_scene_) return;
  try {
    const geometry::Camera camera = ViewCamera(window_->width(), window_->height());
    WriteImage(path, gpu_scene_->Render(camera, CurrentPose(), settings_));
    status_ = "wrote " + path.string();
    spdlog::info("view: {}", status_);
  } catch (const std::exception& e) {
    status_ = std::string("screenshot failed: ") + e.what();
    spdlog::error("view: {}", status_);
  }
}

void ViewerApp::ExportKeptSplats(const std::filesystem::path& path) {
  if (!scene_.splats) return;
  try {
    const SplatDrawOptions& options = settings_.splats;
    const Eigen::Vector3f lo =
        options.crop ? options.crop_min : Eigen::Vector3f::Constant(-FLT_MAX);
    const Eigen::Vector3f hi = options.crop ? options.crop_max : Eigen::Vector3f::Constant(FLT_MAX);
    const datasets::GaussianSplats kept =
        datasets::CropSplats(*scene_.splats, lo, hi, options.opacity_threshold);
    datasets::WriteGaussianPly(path, kept);
    status_ = fmt::format("wrote {} of {} splats to {}", kept.size(), scene_.splats->size(),
                          path.string());
    spdlog::info("view: {}", status_);
  } catch (const std::exception& e) {
    status_ = std::string("export failed: ") + e.what();
    spdlog::error("view: {}", status_);
  }
}

ViewerAppResult ViewerApp::Run(const std::filesystem::path& input) {
  window_ = std::make_unique<Window>(options_.window);
  const bool cpu_device =
      window_->context().properties().deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  if (options_.raster_by_device && cpu_device) settings_.splats.raster = SplatRaster::kQuads;
  spdlog::info("view: window on {} ({} splats)", window_->context().DeviceName(),
               settings_.splats.raster == SplatRaster::kQuads ? "quad" : "compute");
  StartLoad(input);
  ViewerAppResult result;
  auto last = std::chrono::steady_clock::now();
  while (!window_->ShouldClose()) {
    if (InterruptRequested()) break;  // Ctrl-C in the terminal closes the window
    if (!window_->NewFrame()) break;
    for (const std::string& dropped : window_->TakeDroppedPaths()) StartLoad(dropped);
    FinishLoadIfReady();
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    frame_ms_ = frame_ms_ == 0.0 ? 1e3 * dt : 0.9 * frame_ms_ + 0.1 * 1e3 * dt;
    const bool uploading = gpu_scene_ && gpu_scene_->splats_pending() > 0;
    if (pending_ || uploading) {
      ++load_frames_;
      load_longest_frame_ms_ = std::max(load_longest_frame_ms_, 1e3 * dt);
    }
    if (loaded_) {
      HandleInput(std::min(dt, 0.25));
    } else {
      for (const int key : window_->TakeKeyPresses()) {
        if (key == GLFW_KEY_ESCAPE) window_->RequestClose();  // Esc works while loading too
      }
    }
    UploadStep();
    DrawPanels();
    RebuildLines();

    const int width = window_->width(), height = window_->height();
    if (gpu_scene_ && (!target_ || target_->width() != width || target_->height() != height)) {
      vkDeviceWaitIdle(window_->context().device());
      target_ = std::make_unique<OffscreenTarget>(window_->context(), width, height,
                                                  gpu_scene_->color_format(), false);
    }
    if (gpu_scene_) {
      const geometry::Camera camera = ViewCamera(width, height);
      const geometry::Rigid3 pose = CurrentPose();
      // While the splats upload, the other layers and the panel draw (cheap frames, so the
      // upload finishes soon); sorting millions of half-arrived splats every frame would not.
      SceneDrawSettings settings = settings_;
      if (gpu_scene_->splats_pending() > 0) settings.layers.splats = false;
      window_->Present(
          [&](VkCommandBuffer cmd) {
            gpu_scene_->Record(
                cmd, *target_, camera, pose, settings,
                [&](VkCommandBuffer c, const std::string& phase) { window_->Mark(c, phase); });
          },
          &target_->color());
      if (gpu_scene_->splats_pending() == 0) ++frames_loaded_;  // --frames counts whole scenes
    } else {
      window_->Present({}, nullptr);
      // While loading, do not spin: the bar moves a few times a second.
      std::this_thread::sleep_for(std::chrono::milliseconds(pending_ ? 30 : 10));
    }
    if (options_.max_frames > 0) {
      if (!pending_ && !loaded_ && !error_.empty()) break;  // the load failed: nothing to show
      if (frames_loaded_ >= options_.max_frames) break;
    }
  }
  if (options_.max_frames > 0 && !error_.empty()) FACET_THROW("{}", error_);
  if (options_.max_frames > 0 && !options_.screenshot.empty()) {
    SaveScreenshot(options_.screenshot);
    FACET_CHECK(status_.starts_with("wrote"), "view: {}", status_);
  }
  if (pending_) pending_->result.wait();  // the loader thread must not outlive the app
  vkDeviceWaitIdle(window_->context().device());
  result.frames = frames_loaded_;
  result.validation = window_->context().Validation();
  target_.reset();
  gpu_scene_.reset();
  return result;
}

}  // namespace detail

ViewerAppResult RunViewerApp(const ViewerAppOptions& options, const std::filesystem::path& input,
                             const SceneLoader& loader, const ViewChooser& choose_view) {
  FACET_CHECK(options.max_frames >= 0, "view: --frames {} must be >= 0", options.max_frames);
  detail::ViewerApp app(options, loader, choose_view);
  return app.Run(input);
}

}  // namespace facet::viewer
