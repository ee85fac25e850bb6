// `facet view`'s inputs: reading a file or a workspace into a viewer::SceneData, parsing
// --layers / --size / --background, and choosing the camera --camera names (orbit:DEG, index:N,
// a 4x4 cam_from_world file) for the offscreen frame and for the window's first view.
#pragma once

#include <Eigen/Core>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/scene.h"
#include "viewer/viewer_app.h"

namespace facet::apps {

// "" (nullopt: the input's default) or a comma list of splats, mesh, points, cameras, grid.
// Throws UsageError on an unknown or empty list.
std::optional<viewer::SceneLayers> ParseLayers(const std::string& text);
// R,G,B in [0, 1]; throws UsageError.
Eigen::Vector3f ParseBackground(const std::string& text);
// WxH, 1-16384 each; throws UsageError.
void ParseSize(const std::string& text, int* width, int* height);

struct ViewLoadOptions {
  std::optional<viewer::SceneLayers> layers;  // nullopt: the input's default
  std::filesystem::path model;                // --model: the cameras' COLMAP model
  std::filesystem::path trajectory;           // --trajectory: an Open3D/Redwood .log to show
  // Also read what the layers leave off (a workspace's mesh.glb and sparse points), so that the
  // window can switch them on; the offscreen frame reads only what it draws.
  bool load_all = false;
};

// Reads splats (.ply, .splat, a workspace's splats.ply), a mesh (.ply with faces, .glb, a
// workspace's mesh.glb), a point cloud (.ply, .pcd; a model's sparse points), the COLMAP model
// of a workspace or --model, and a camera trajectory (a `facet slam` output folder's
// trajectory.log, or --trajectory). The layers on: the requested ones (an error when one is not in
// the input), else a workspace's splats and cameras, a file's content. `progress`, when given, goes
// from 0 to 1. Throws facet::Error on a missing or unreadable input.
viewer::SceneData LoadViewScene(const std::filesystem::path& path, const ViewLoadOptions& options,
                                std::atomic<float>* progress = nullptr);

// One frame's camera: --camera's spec for a `width` x `height` image. orbit:DEG circles the
// robust bounds 30 degrees up with a 60 degree vertical field of view; index:N is the model's
// N-th registered image, its intrinsics scaled to fit; a file holds a 4x4 cam_from_world.
struct ViewPose {
  geometry::Camera camera;
  geometry::Rigid3 cam_from_world;
  int training_camera = -1;  // index:N's N
};
ViewPose ChooseViewPose(const std::string& spec, const viewer::SceneData& scene, int width,
                        int height);

// The window's first view for the same spec: the pose and vertical field of view.
viewer::InitialView ChooseInitialView(const std::string& spec, const viewer::SceneData& scene);

}  // namespace facet::apps
