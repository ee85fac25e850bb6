// Internal to viewer_app.cpp and viewer_panels.cpp: the state of the interactive viewer between
// frames. Not part of the viewer's interface (viewer_app.h is).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "geometry/camera.h"
#include "viewer/camera_control.h"
#include "viewer/offscreen.h"
#include "viewer/scene.h"
#include "viewer/scene_renderer.h"
#include "viewer/viewer_app.h"
#include "viewer/window.h"

namespace facet::viewer::detail {

enum class CameraMode { kOrbit, kFly };

// A file being read on the loader thread.
struct PendingLoad {
  std::filesystem::path path;
  std::shared_ptr<std::atomic<float>> progress;
  std::future<SceneData> result;
  std::chrono::steady_clock::time_point started;
};

class ViewerApp {
 public:
  ViewerApp(const ViewerAppOptions& options, const SceneLoader& loader,
            const ViewChooser& choose_view);
  ViewerAppResult Run(const std::filesystem::path& input);

 private:
  // viewer_app.cpp
  void StartLoad(const std::filesystem::path& path);
  void FinishLoadIfReady();
  void AdoptScene(SceneData scene);
  void HandleInput(double dt_s);
  void SnapToTrainingCamera(int index, bool animate);
  void FrameScene();
  geometry::Rigid3 CurrentPose() const;
  void SetPose(const geometry::Rigid3& cam_from_world);
  geometry::Camera ViewCamera(int width, int height) const;
  void RebuildLines();
  void SaveScreenshot(const std::filesystem::path& path);
  void ExportKeptSplats(const std::filesystem::path& path);

  // viewer_panels.cpp
  void DrawPanels();
  void DrawLoading();
  void DrawStats();
  void DrawViewPanel();
  void DrawLayersPanel();
  void DrawSplatPanel();
  void DrawFilePanel();

  ViewerAppOptions options_;
  SceneLoader loader_;
  ViewChooser choose_view_;
  std::unique_ptr<Window> window_;

  SceneData scene_;
  bool loaded_ = false;
  std::unique_ptr<GpuScene> gpu_scene_;
  std::unique_ptr<OffscreenTarget> target_;  // the window's size, no readback
  std::optional<PendingLoad> pending_;
  std::string error_;  // the last failure, shown until the next load

  SceneDrawSettings settings_;
  SceneBounds bounds_;
  Eigen::Vector3d up_ = Eigen::Vector3d::UnitZ();
  CameraMode mode_ = CameraMode::kOrbit;
  OrbitCamera orbit_;
  FlyCamera fly_;
  double fov_deg_ = 60.0;
  double fly_speed_ = 1.0;  // scene units a second
  std::optional<CameraTransition> transition_;
  std::vector<geometry::Rigid3> training_poses_;  // registered images, by image id
  std::vector<std::string> training_names_;
  std::vector<double> training_fov_deg_;
  int training_index_ = -1;      // the camera last snapped to
  SceneLayers lines_built_for_;  // which layers the current lines hold

  // Statistics.
  double frame_ms_ = 0.0;  // smoothed CPU frame interval
  int frames_loaded_ = 0;  // frames drawn with a scene
  int load_frames_ = 0;    // frames drawn while the pending load ran (the window stays live)
  double load_longest_frame_ms_ = 0.0;
  // Progressive splat upload (GpuScene::UploadMore), a chunk a frame sized to take ~40 ms; the
  // splat layer shows once it is done.
  void UploadStep();
  std::uint32_t upload_chunk_ = 1u << 16;
  std::chrono::steady_clock::time_point upload_started_;
  std::string status_;  // a short message (screenshot written, export done)
  char screenshot_path_[512] = "facet-view.png";
  char export_path_[512] = "cropped.ply";
};

}  // namespace facet::viewer::detail
