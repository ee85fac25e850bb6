// The ImGui panels of the interactive viewer (viewer_app_state.h): statistics, view and camera
// controls, layers, splat settings, files.
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <string>

#include "viewer/viewer_app_state.h"

namespace facet::viewer::detail {
namespace {

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 3) bytes /= 1024.0, ++unit;
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

}  // namespace

void ViewerApp::DrawPanels() {
  const float scale = window_->content_scale();
  ImGui::SetNextWindowPos(ImVec2(10 * scale, 10 * scale), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowBgAlpha(0.85f);
  ImGui::SetNextWindowSizeConstraints(ImVec2(300 * scale, 0), ImVec2(420 * scale, FLT_MAX));
  ImGui::Begin("facet view", nullptr,
               ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_AlwaysAutoResize);
  ImGui::PushItemWidth(-130.0f * scale);  // room for the labels
  DrawLoading();
  if (loaded_) {
    DrawStats();
    DrawViewPanel();
    DrawLayersPanel();
    DrawSplatPanel();
    DrawFilePanel();
  }
  ImGui::PopItemWidth();
  ImGui::End();
}

void ViewerApp::DrawLoading() {
  if (pending_) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pending_->started).count();
    ImGui::TextWrapped("Loading %s", pending_->path.string().c_str());
    const float progress = pending_->progress->load();
    char label[64];
    std::snprintf(label, sizeof(label), "%.0f%%  %.1f s", 100.0 * progress, seconds);
    ImGui::ProgressBar(progress, ImVec2(-1, 0), label);
  }
  if (gpu_scene_ && gpu_scene_->splats_pending() > 0) {
    const std::uint32_t done = gpu_scene_->splat_count();
    const std::uint32_t total = done + gpu_scene_->splats_pending();
    char label[64];
    std::snprintf(label, sizeof(label), "%u / %u splats on the GPU", done, total);
    ImGui::ProgressBar(float(done) / float(total), ImVec2(-1, 0), label);
  }
  if (!error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.4f, 0.4f, 1.0f));
    ImGui::TextWrapped("%s", error_.c_str());
    ImGui::PopStyleColor();
  }
  if (!loaded_ && !pending_) {
    ImGui::TextWrapped("Drop a .ply, .splat, .glb or a facet workspace folder on the window.");
  }
}

void ViewerApp::DrawStats() {
  if (!ImGui::CollapsingHeader("Statistics", ImGuiTreeNodeFlags_DefaultOpen)) return;
  ImGui::Text("%.1f FPS  (%.2f ms a frame)", frame_ms_ > 0.0 ? 1000.0 / frame_ms_ : 0.0, frame_ms_);
  const FrameTimings& timings = window_->timings();
  if (!timings.phases_ms.empty()) {
    ImGui::Text("GPU %.2f ms:", timings.total_ms);
    for (const auto& [phase, ms] : timings.phases_ms) {
      ImGui::BulletText("%s %.2f ms", phase.c_str(), ms);
    }
  }
  ImGui::Text("%u splats", gpu_scene_ ? gpu_scene_->splat_count() : 0u);
  if (scene_.mesh) {
    ImGui::Text("mesh: %zu vertices, %zu triangles", scene_.mesh->vertices.size(),
                scene_.mesh->triangles.size());
  }
  if (scene_.points) ImGui::Text("%zu points", scene_.points->points.size());
  if (!training_poses_.empty()) ImGui::Text("%zu cameras", training_poses_.size());
  ImGui::Text("GPU memory: %s (scene) on %s",
              HumanBytes(gpu_scene_ ? double(gpu_scene_->gpu_bytes()) : 0.0).c_str(),
              window_->context().DeviceName().c_str());
  ImGui::Text("%d x %d px", window_->width(), window_->height());
}

void ViewerApp::DrawViewPanel() {
  if (!ImGui::CollapsingHeader("View", ImGuiTreeNodeFlags_DefaultOpen)) return;
  int mode = mode_ == CameraMode::kOrbit ? 0 : 1;
  ImGui::RadioButton("orbit", &mode, 0);
  ImGui::SameLine();
  ImGui::RadioButton("fly (WASD QE)", &mode, 1);
  const CameraMode wanted = mode == 0 ? CameraMode::kOrbit : CameraMode::kFly;
  if (wanted != mode_) {
    if (wanted == CameraMode::kOrbit) orbit_ = fly_.ToOrbit(std::max(orbit_.distance, 1e-3));
    mode_ = wanted;
  }
  float fov = static_cast<float>(fov_deg_);
  if (ImGui::SliderFloat("field of view", &fov, 10.0f, 120.0f, "%.1f deg")) fov_deg_ = fov;
  if (mode_ == CameraMode::kFly) {
    float speed = static_cast<float>(fly_speed_);
    if (ImGui::DragFloat("speed", &speed, 0.01f * float(bounds_.radius), 1e-4f, 1e4f, "%.3g /s",
                         ImGuiSliderFlags_Logarithmic)) {
      fly_speed_ = speed;
    }
  }
  if (ImGui::Button("Frame scene (F)")) FrameScene();
  if (!training_poses_.empty()) {
    const int n = static_cast<int>(training_poses_.size());
    int index = std::max(training_index_, 0);
    ImGui::Text("Training cameras ([ and ] step):");
    if (ImGui::ArrowButton("##previous", ImGuiDir_Left)) SnapToTrainingCamera(index - 1, true);
    ImGui::SameLine();
    if (ImGui::ArrowButton("##next", ImGuiDir_Right)) {
      SnapToTrainingCamera(training_index_ < 0 ? 0 : index + 1, true);
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::SliderInt("##camera", &index, 0, n - 1)) SnapToTrainingCamera(index, false);
    if (training_index_ >= 0) {
      ImGui::TextWrapped("%d: %s", training_index_, training_names_[training_index_].c_str());
    }
  }
}

void ViewerApp::DrawLayersPanel() {
  if (!ImGui::CollapsingHeader("Layers", ImGuiTreeNodeFlags_DefaultOpen)) return;
  SceneLayers& on = settings_.layers;
  const auto layer = [](const char* name, bool* value, bool available) {
    if (!available) ImGui::BeginDisabled();
    ImGui::Checkbox(name, value);
    if (!available) ImGui::EndDisabled();
  };
  layer("splats", &on.splats, scene_.splats.has_value());
  ImGui::SameLine();
  layer("mesh", &on.mesh, scene_.mesh.has_value());
  ImGui::SameLine();
  layer("points", &on.points, scene_.points.has_value());
  layer("cameras", &on.cameras, scene_.model.has_value());
  ImGui::SameLine();
  layer("grid", &on.grid, true);
  ImGui::SameLine();
  layer("photos", &on.photos, scene_.thumbnails.has_value());
  layer("trajectory", &on.trajectory, !scene_.trajectory.empty());
  float background[3] = {settings_.background.x(), settings_.background.y(),
                         settings_.background.z()};
  if (ImGui::ColorEdit3("background", background)) {
    settings_.background = Eigen::Vector3f(background[0], background[1], background[2]);
  }
  if (scene_.points || scene_.mesh) {
    ImGui::SliderFloat("point size", &settings_.mesh.point_size_px, 1.0f, 10.0f, "%.0f px");
    ImGui::Checkbox("mesh lighting", &settings_.mesh.lit);
  }
}

void ViewerApp::DrawSplatPanel() {
  if (!scene_.splats) return;
  if (!ImGui::CollapsingHeader("Splats", ImGuiTreeNodeFlags_DefaultOpen)) return;
  SplatDrawOptions& splats = settings_.splats;
  const char* modes[] = {"splats", "centres", "ellipsoids", "depth", "alpha"};
  int mode = static_cast<int>(splats.mode);
  if (ImGui::Combo("render mode", &mode, modes, IM_ARRAYSIZE(modes))) {
    splats.mode = static_cast<SplatRenderMode>(mode);
  }
  if (splats.mode == SplatRenderMode::kSplats) {
    // The compute tile rasterizer, or the quads it replaced (for comparison).
    const char* rasters[] = {"compute", "quads"};
    int raster = static_cast<int>(splats.raster);
    if (ImGui::Combo("raster", &raster, rasters, IM_ARRAYSIZE(rasters))) {
      splats.raster = static_cast<SplatRaster>(raster);
    }
  }
  if (splats.mode == SplatRenderMode::kDepth) {
    float range[2] = {splats.depth_range.x(), splats.depth_range.y()};
    if (ImGui::DragFloat2("depth range", range, 0.01f * float(bounds_.radius), 0.0f, 1e6f,
                          "%.3g") &&
        range[1] > range[0]) {
      splats.depth_range = Eigen::Vector2f(range[0], range[1]);
    }
  }
  ImGui::SliderInt("SH degree", &splats.sh_degree, 0, 3);
  ImGui::SliderFloat("splat scale", &splats.scale, 0.05f, 2.0f, "%.2f",
                     ImGuiSliderFlags_Logarithmic);
  ImGui::SliderFloat("min opacity", &splats.opacity_threshold, 0.0f, 0.99f, "%.2f");
  if (ImGui::Checkbox("crop box", &splats.crop) && splats.crop &&
      splats.crop_min == splats.crop_max) {
    // First use: the robust bounds.
    const Eigen::Vector3f centre = bounds_.centre.cast<float>();
    const Eigen::Vector3f half = Eigen::Vector3f::Constant(float(bounds_.radius));
    splats.crop_min = centre - half, splats.crop_max = centre + half;
  }
  if (splats.crop) {
    const float speed = 0.005f * float(bounds_.radius);
    ImGui::DragFloat3("min", splats.crop_min.data(), speed, 0.0f, 0.0f, "%.3f");
    ImGui::DragFloat3("max", splats.crop_max.data(), speed, 0.0f, 0.0f, "%.3f");
    splats.crop_max = splats.crop_max.cwiseMax(splats.crop_min);
  }
  ImGui::InputText("##export", export_path_, sizeof(export_path_));
  ImGui::SameLine();
  if (ImGui::Button("Export kept splats")) ExportKeptSplats(export_path_);
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip(
        "Writes the splats inside the crop box with at least the minimum opacity "
        "as a 3DGS .ply");
  }
}

void ViewerApp::DrawFilePanel() {
  if (!ImGui::CollapsingHeader("Files")) return;
  ImGui::InputText("##screenshot", screenshot_path_, sizeof(screenshot_path_));
  ImGui::SameLine();
  if (ImGui::Button("Screenshot (P)")) SaveScreenshot(screenshot_path_);
  if (!status_.empty()) ImGui::TextWrapped("%s", status_.c_str());
}

}  // namespace facet::viewer::detail
