// The built-in synthetic scene (`facet synth`): a photo set of a world with exactly known
// geometry (see world.h), rendered on the CPU, with ground-truth cameras and the object's mesh.
// The default fixture of the demo and of most tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "datasets/scene.h"
#include "datasets/synthetic/renderer.h"
#include "geometry/triangle_mesh.h"

namespace facet::datasets::synthetic {

struct SynthOptions {
  int num_views = 40;              // images (frames for --rgbd)
  int width = 640;                 // pixels
  int height = 480;                // pixels
  std::uint32_t seed = 0;          // textures, trajectory jitter and noise; same seed, same pixels
  bool rgbd = false;               // handheld-like trajectory and 16-bit depth maps
  bool noise = false;              // sensor noise (Gaussian, sigma 2/255)
  double distortion = 0.0;         // SIMPLE_RADIAL k (e.g. -0.02 for slight barrel); 0: PINHOLE
  double focal_factor = 0.9;       // focal length in pixels = focal_factor * max(width, height)
  int supersampling = 2;           // S x S samples per pixel (anti-aliasing)
  double mesh_voxel_size = 0.008;  // metres; resolution of the object's mesh

  void Check() const;
};

// Everything about the scene except the pixels: cameras and ground-truth poses (no 3D points),
// and the object's closed mesh.
struct SyntheticScene {
  SynthOptions options{};
  Scene scene{};                       // one camera (id 1), images 1..N named images/NNNNN.png
  std::vector<ImageId> image_order{};  // rendering / trajectory order
  geometry::TriangleMesh object_mesh{};
};

SyntheticScene MakeSyntheticScene(const SynthOptions& options);

// The renderer for a scene made by MakeSyntheticScene (its camera, noise and supersampling).
Renderer MakeRenderer(const SyntheticScene& synthetic);

// Renders image `index` (0-based, in image_order) of the scene.
RenderedView RenderSyntheticView(const SyntheticScene& synthetic, const Renderer& renderer,
                                 int index);

// The cameras' centres and viewing directions as functions of the view index; exposed for tests.
std::vector<geometry::Rigid3> OrbitTrajectory(int num_views, std::uint32_t seed);
std::vector<geometry::Rigid3> HandheldTrajectory(int num_views, std::uint32_t seed);

// Camera looking from `eye` at `target` with the world's z axis up (COLMAP camera frame).
geometry::Rigid3 LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target);

}  // namespace facet::datasets::synthetic
