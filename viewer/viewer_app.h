// The interactive `facet view`: a Window showing a GpuScene, with orbit and fly cameras, snapping
// to the model's training cameras, ImGui panels (layers, render settings, statistics, crop box,
// screenshots) and drag-and-drop of files. Files load on a background thread with a progress bar,
// so a 5M-splat scene keeps the window responsive while it reads.
//
// Controls (when the panels do not take the mouse or keyboard):
//   orbit: left drag rotates, right or middle drag (or shift + left) pans, wheel zooms
//   fly:   left or right drag looks around, W A S D move, Q E down and up, shift 4x, wheel: speed
//   Tab orbit <-> fly, F frame the scene, [ ] previous / next training camera, P screenshot,
//   Esc quit.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include "geometry/rigid3.h"
#include "viewer/scene.h"
#include "viewer/scene_renderer.h"
#include "viewer/window.h"

namespace facet::viewer {

// Where the view starts once a scene has loaded.
struct InitialView {
  geometry::Rigid3 cam_from_world;
  double fov_deg = 60.0;     // vertical field of view
  int training_camera = -1;  // >= 0: the view is that registered camera's (for stepping on)
};

// Reads a scene from a path (a file or a workspace), setting *progress from 0 to 1 as it goes.
// Runs on a background thread; throws facet::Error on bad input (shown in the window).
using SceneLoader =
    std::function<SceneData(const std::filesystem::path& path, std::atomic<float>* progress)>;
// The view a freshly loaded scene starts from (`facet view --camera`'s choice for the first
// scene; framing the scene for dropped ones when empty).
using ViewChooser = std::function<InitialView(const SceneData& scene)>;

struct ViewerAppOptions {
  WindowOptions window;
  SceneDrawSettings settings;        // initial render settings (layers come from the scene)
  // The splats' raster follows the device: quads on a CPU Vulkan device (lavapipe: ~2x faster
  // there than the compute tile lists), settings.splats.raster (compute) on a GPU. False: as set.
  bool raster_by_device = false;
  int max_frames = 0;                // > 0: quit after this many frames once loaded (tests)
  std::filesystem::path screenshot;  // written at exit when max_frames > 0; P's file otherwise
};

struct ViewerAppResult {
  int frames = 0;                 // frames drawn with the scene loaded
  ValidationMessages validation;  // when options.window.validation
};

// Opens the window, loads `input` with `loader` in the background and runs until the window
// closes, Esc, or max_frames. Throws NoDisplayError without a display; a failed load is reported
// in the window (and, with max_frames, thrown at exit so scripts see it).
ViewerAppResult RunViewerApp(const ViewerAppOptions& options, const std::filesystem::path& input,
                             const SceneLoader& loader, const ViewChooser& choose_view);

}  // namespace facet::viewer
