// GpuScene: a SceneData on the GPU (splats, mesh, points, frustum and grid lines) with the
// pipelines that draw it, recorded into an OffscreenTarget: splat preprocess, GPU sort and tile
// lists outside the pass, then the opaque layers with depth writes, then the splats blended over
// them in front of their depth by a compute pass (SplatTileRasterizer; the other render modes
// and SplatRaster::kQuads draw quads in the pass with a depth test). Photo thumbnails on the
// frustums count as opaque. `facet view --offscreen` renders
// one frame with it; the window records it every frame into a target it blits to the display, so
// both show the same image for the same camera.
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/image_quads.h"
#include "viewer/mesh_pipeline.h"
#include "viewer/offscreen.h"
#include "viewer/scene.h"
#include "viewer/splat_renderer.h"
#include "viewer/splat_tiles.h"
#include "viewer/splat_view.h"
#include "viewer/vulkan_context.h"

namespace facet::viewer {

// How one frame is drawn.
struct SceneDrawSettings {
  SceneLayers layers;
  SplatDrawOptions splats;
  MeshDrawOptions mesh;  // point_size_px also sizes the point layer
  Eigen::Vector3f background = Eigen::Vector3f::Zero();
};

class GpuScene {
 public:
  // Splats blend into a half-float target (OffscreenTarget::kHdrColorFormat), as the renderer's
  // comparison with the CPU rasterizer needs; a scene without splats draws into `kColorFormat`
  // unless `color_format` says otherwise (0: choose).
  static VkFormat ChooseColorFormat(const SceneData& scene);

  // Uploads what `scene` holds and makes the pipelines for `color_format` + kDepthFormat.
  // `progressive` (with scene.packed_splats): the splats are left for UploadMore, so a window
  // shows a big scene as it arrives instead of stalling. Throws facet::Error on bad content
  // (GpuSplats, GpuMesh) or a Vulkan failure.
  GpuScene(const VulkanContext& context, const SceneData& scene, VkFormat color_format,
           bool progressive = false);

  // Progressive uploads: the splats still to copy, and a step copying up to `max_splats` of them
  // (returns how many; the next frame draws them).
  std::uint32_t splats_pending() const;
  std::uint32_t UploadMore(std::uint32_t max_splats);

  VkFormat color_format() const { return color_format_; }
  std::uint32_t splat_count() const { return splats_.count(); }  // uploaded so far
  // Bytes of the buffers this scene uploaded (splats, SH, sort, mesh, points, lines).
  std::uint64_t gpu_bytes() const { return gpu_bytes_; }

  // Replaces the line segments (camera frustums, grid; a PointCloud of DrawLines pairs).
  void SetLines(const geometry::PointCloud& lines);

  // Records one frame of `camera` (its width x height must be the target's) at `cam_from_world`
  // into `target`, leaving the colour attachment in COLOR_ATTACHMENT_OPTIMAL. The splats' colour
  // mode (settings.splats.UsesTiles()) is blended in compute after the opaque pass; the other
  // modes and SplatRaster::kQuads draw in the pass. `mark`, when given, is called after each
  // phase ("splat preprocess + sort", "draw", "splat blend") to time it. Layers the scene lacks
  // are skipped. The scene's buffers are shared by its frames: an earlier frame must have
  // completed before the next is recorded (the window waits for each; the tile lists may grow
  // here after a frame that overflowed them).
  // Throws facet::Error when the camera's size differs from the target's.
  void Record(VkCommandBuffer cmd, const OffscreenTarget& target, const geometry::Camera& camera,
              const geometry::Rigid3& cam_from_world, const SceneDrawSettings& settings,
              const std::function<void(VkCommandBuffer, const std::string&)>& mark = {}) const;

  // Renders one frame into a fresh target of the camera's size (with readback), submits, waits
  // and returns its RGB (again, once, when the splats' tile lists overflowed).
  ImageU8 Render(const geometry::Camera& camera, const geometry::Rigid3& cam_from_world,
                 const SceneDrawSettings& settings) const;

 private:
  const VulkanContext& context_;
  VkFormat color_format_;
  GpuSplats splats_;
  std::shared_ptr<const PackedSplats> packed_;  // what UploadMore copies from
  std::optional<SplatSort> sort_;
  std::unique_ptr<SplatRenderer> splat_renderer_;
  std::unique_ptr<SplatTileRasterizer> splat_tiles_;
  MeshPipelines mesh_pipelines_;
  std::optional<GpuMesh> mesh_, points_, lines_;
  std::unique_ptr<GpuImageQuads> photos_;
  std::unique_ptr<ImageQuadPipeline> photo_pipeline_;
  std::uint64_t gpu_bytes_ = 0;
};

}  // namespace facet::viewer
