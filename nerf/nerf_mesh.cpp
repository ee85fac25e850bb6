#include "nerf/nerf_mesh.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "nerf/render.h"

namespace facet::nerf {

void NerfMeshOptions::Check() const {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size >= 0.0,
              "NeRF mesh voxel_size must be >= 0 (got {})", voxel_size);
  FACET_CHECK(resolution >= 8, "NeRF mesh resolution must be >= 8 (got {})", resolution);
  FACET_CHECK(std::isfinite(truncation) && truncation >= 0.0,
              "NeRF mesh truncation must be >= 0 (got {})", truncation);
  FACET_CHECK(min_opacity > 0.0f && min_opacity <= 1.0f,
              "NeRF mesh min_opacity must be in (0, 1] (got {})", min_opacity);
  marching.Check();
}

geometry::TsdfVolume FuseNerf(const NerfField& field, const OccupancyGrid& grid,
                              std::span<const NerfMeshView> views, const NerfMeshOptions& options) {
  options.Check();
  FACET_CHECK(!views.empty(), "NeRF meshing needs at least one view");
  const Eigen::Vector3f lo = field.aabb_min(), hi = field.aabb_max();
  geometry::TsdfVolume::Options tsdf;
  tsdf.voxel_size =
      options.voxel_size > 0.0 ? options.voxel_size : (hi - lo).maxCoeff() / options.resolution;
  tsdf.truncation = options.truncation;
  tsdf.with_color = true;
  // Depths reach the far side of the box from the farthest camera (TsdfVolume's 3 m default is a
  // sensor's range, not a scene's).
  double far = 0.0;
  for (const NerfMeshView& view : views) {
    const Eigen::Vector3d c = geometry::CameraCenter(view.cam_from_world);
    for (int corner = 0; corner < 8; ++corner) {
      const Eigen::Vector3d x(corner & 1 ? hi.x() : lo.x(), corner & 2 ? hi.y() : lo.y(),
                              corner & 4 ? hi.z() : lo.z());
      far = std::max(far, (x - c).norm());
    }
  }
  tsdf.depth_max = 1.01 * far;
  tsdf.crop = geometry::Bounds3{lo.cast<double>(), hi.cast<double>()};
  geometry::TsdfVolume volume(tsdf);
  for (const NerfMeshView& view : views) {
    // Colour over black, un-premultiplied where opaque: the surface's own colour.
    const NerfImages images = RenderNerf(field, grid, view.camera, view.cam_from_world,
                                         Eigen::Vector3f::Zero(), options.marching);
    const int w = view.camera.width, h = view.camera.height;
    ImageF32 depth(w, h, 1);
    ImageU8 rgb(w, h, 3);
    for (std::size_t p = 0; p < std::size_t(w) * h; ++p) {
      const float a = images.opacity.data()[p];
      const bool opaque = a >= options.min_opacity;
      const ImageF32& source = options.median_depth ? images.median_depth : images.depth;
      depth.data()[p] = opaque ? source.data()[p] : 0.0f;
      for (int k = 0; k < 3; ++k) {
        const float c = opaque ? images.colour.data()[3 * p + k] / a : 0.0f;
        rgb.data()[3 * p + k] = std::uint8_t(std::lround(255.0f * std::clamp(c, 0.0f, 1.0f)));
      }
    }
    volume.Integrate(depth, rgb, view.camera, view.cam_from_world);
  }
  return volume;
}

geometry::TriangleMesh MeshNerf(const NerfField& field, const OccupancyGrid& grid,
                                std::span<const NerfMeshView> views,
                                const NerfMeshOptions& options) {
  return FuseNerf(field, grid, views, options).ExtractMesh();
}

}  // namespace facet::nerf
