// One view of a GpuSplats, all on the GPU in one command buffer: SplatRenderer::Preprocess writes
// records and depth keys, SplatSort sorts the keys with GpuRadixSort carrying the splat indices
// (culled splats, whose key is the largest, end up last), and either SplatTileRasterizer blends
// them front to back in compute (splat_tiles.h; the colour mode's default) or SplatRenderer::Draw
// draws every splat back to front as a quad. No CPU round trip.
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>

#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/rigid3.h"
#include "viewer/gpu_sort.h"
#include "viewer/splat_renderer.h"
#include "viewer/splat_tiles.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

// The per-view draw order of up to max_count splats. Its buffers are shared by every Record:
// command buffers holding one must not run concurrently.
class SplatSort {
 public:
  // Throws facet::Error when max_count is 0 or too large for GpuRadixSort.
  SplatSort(const VulkanContext& context, std::uint32_t max_count);

  std::uint32_t max_count() const { return sort_.max_count(); }
  // [max_count] uint32 splat indices; after Record, the first splats.count() run back to front
  // (front to back with SplatDrawOptions::UsesTiles()), the culled splats last. Equal depths
  // keep ascending index: as the CPU rasterizer in the front-to-back order; the quads' exact ties
  // blend in the opposite order to the CPU's.
  const Buffer& order() const { return order_; }

  // Records, outside a rendering pass and after SplatRenderer::Preprocess of `splats`: order =
  // 0..count-1, then the sort of splats.sort_keys() (in place) carrying `order`; ends with a
  // barrier before all later reads. Throws facet::Error when splats.count() > max_count().
  void Record(VkCommandBuffer cmd, const GpuSplats& splats) const;

 private:
  GpuRadixSort sort_;
  Buffer identity_;  // 0..max_count-1, copied into order_ before every sort
  Buffer order_;
};

// Records, outside a rendering pass, what one view of `splats` needs before its draw:
// renderer.Preprocess for the view, then sort.Record. Afterwards renderer.Draw(cmd, splats,
// sort.order(), splats.count(), camera, options) draws the frame. Persistent objects make a frame
// loop (bench/viewer/viewer_fps.cpp); 0 splats record nothing.
void RecordSplatPreprocessAndSort(VkCommandBuffer cmd, const SplatRenderer& renderer,
                                  const SplatSort& sort, const GpuSplats& splats,
                                  const geometry::Camera& camera,
                                  const geometry::Rigid3& cam_from_world,
                                  const SplatDrawOptions& options);

// What RenderSplatsOffscreen returns.
struct SplatImage {
  ImageU8 rgb;                // camera.width x camera.height x 3
  std::uint32_t visible = 0;  // splats that survived culling
  SplatTileStats tiles;       // the tile lists' figures (options.UsesTiles() only)
};

// Renders `splats` seen by `camera` at `cam_from_world` into a fresh offscreen target of
// renderer.color_format() cleared to `background`: preprocess, GPU sort and draw recorded into
// one command buffer, submitted and waited for. options.UsesTiles() (the default) draws with a
// SplatTileRasterizer made for the call (a frame whose tile lists overflowed their first size is
// rendered again), other options with renderer.Draw. `draw_opaque`, when given, records draws into
// the same pass before the splats (meshes, points, lines with depth writes; the splats count only
// in front of their depth): its pipelines must be made for renderer.color_format() and
// OffscreenTarget::kDepthFormat. 0 splats render the background and the opaque draws. Throws
// facet::Error on bad options or a Vulkan failure.
SplatImage RenderSplatsOffscreen(const VulkanContext& context, const SplatRenderer& renderer,
                                 const GpuSplats& splats, const geometry::Camera& camera,
                                 const geometry::Rigid3& cam_from_world,
                                 const SplatDrawOptions& options, const Eigen::Vector3f& background,
                                 const std::function<void(VkCommandBuffer)>& draw_opaque = {});

}  // namespace facet::viewer
