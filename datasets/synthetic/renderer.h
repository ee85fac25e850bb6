// The synthetic scene's CPU renderer: rasterises the object's triangle mesh into a supersampled
// pinhole canvas (depth test on 1/z), ray-casts the room behind it, shades every canvas sample
// (procedural albedo, Lambertian light), and resamples the canvas into the output camera, which
// may be distorted: each output pixel averages S x S stratified samples, each mapped through the
// camera's exact unprojection. Depth maps hold the camera-frame z of the surface seen through
// each pixel centre, intersected exactly with the triangle (or room face) found there.
#pragma once

#include <cstdint>
#include <vector>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"

namespace facet::datasets::synthetic {

struct RenderOptions {
  int supersampling = 2;           // S: S x S samples per output pixel (1-4)
  std::uint32_t texture_seed = 0;  // varies the procedural textures
  double noise_sigma = 0.0;        // sensor noise standard deviation, in [0, 1] intensity units

  void Check() const;
};

struct RenderedView {
  ImageU8 rgb{};     // sRGB, 3 channels
  ImageF32 depth{};  // metres along the camera's z axis; empty unless asked for
};

class Renderer {
 public:
  // Keeps a reference to `object` (it must outlive the renderer) and precomputes the canvas and
  // the output-to-canvas sample map of `camera`.
  Renderer(const geometry::TriangleMesh& object, const geometry::Camera& camera,
           const RenderOptions& options);

  // Renders one view. `noise_seed` makes the sensor noise of each view different but repeatable.
  RenderedView Render(const geometry::Rigid3& cam_from_world, bool with_depth,
                      std::uint32_t noise_seed) const;

 private:
  struct Canvas {
    int width = 0, height = 0;
    double fx = 0, fy = 0, cx = 0, cy = 0;  // pinhole intrinsics of the canvas, in canvas pixels
  };
  struct GBuffer {
    std::vector<float> inv_z;  // 0 where the object is not hit
    std::vector<std::int32_t> triangle;
  };

  GBuffer Rasterize(const geometry::Rigid3& cam_from_world) const;

  const geometry::TriangleMesh& object_;
  geometry::Camera camera_;
  RenderOptions options_;
  Canvas canvas_;
  std::vector<Eigen::Vector2f> sample_map_;  // per output pixel, S*S canvas positions
  std::vector<Eigen::Vector2f> center_map_;  // per output pixel, its centre on the canvas
  std::vector<Eigen::Vector3d> face_normals_;
};

}  // namespace facet::datasets::synthetic
