// SplatTileRasterizer: the splats' colour image rendered in compute, as the CPU and CUDA
// rasterizers render it (splatting/rasterizer.h, splatting/kernels/rasterize.h): 16x16 tiles,
// a list per tile of the splats touching it in front-to-back order, and per pixel the
// front-to-back blend with its early stop at T < 1e-4. A rasterised quad per splat cannot reach
// interactive rates on a compute GPU with few raster units (1M splats at 1080p blend ~2.5e9
// fragments back to front, with no early stop); this reads each splat once per tile instead.
//
// One frame, recorded into one command buffer:
//   1. SplatRenderer::Preprocess with front-to-back keys (SplatDrawOptions::UsesTiles) and
//      SplatSort::Record: the splat indices in depth order, near first.
//   2. RecordLists: per splat in that order, the tiles its radius box touches
//      (kernels::TileBounds); their exclusive prefix sum (the radix sort's scan shader); one
//      entry (key tile id, value splat index) per (splat, tile), written in depth order; a stable
//      radix sort of the entries on the tile id's bits only (2 passes up to 65536 tiles), which
//      keeps each tile's splats front to back; the first and end entry of each tile.
//   3. The opaque layers (meshes, points, lines) drawn with depth into the target.
//   4. RecordBlend: one workgroup per tile blends its splats over the opaque colour, each pixel
//      counting only splats in front of the opaque depth (the quad path's depth test), and
//      writes the result into the target's colour image.
//
// The number of entries is only known on the GPU. The lists hold `capacity()` entries; a frame
// that needs more keeps the first capacity() (the farthest splats' entries are the ones left
// out) and says so in stats() once it has completed. GrowToLastFrame(), called between frames,
// then makes room for it (+25%), so at most one frame after a jump in size misses splats;
// RenderSplatsOffscreen and GpuScene::Render re-render such a frame, and the window grows before
// its next frame.
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>

#include "geometry/camera.h"
#include "viewer/gpu_sort.h"
#include "viewer/splat_renderer.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

class OffscreenTarget;

// The tile lists of the last completed frame.
struct SplatTileStats {
  std::uint64_t entries_needed = 0;    // (splat, tile) pairs the frame had
  std::uint64_t entries_kept = 0;      // min(needed, capacity): the pairs blended
  std::uint64_t entries_capacity = 0;  // room in the lists when it was recorded
  bool Overflowed() const { return entries_needed > entries_kept; }
};

class SplatTileRasterizer {
 public:
  // Pipelines for a target of `color_format` (OffscreenTarget::kColorFormat or kHdrColorFormat)
  // and lists for splat models of up to `max_splats` with room for `initial_entries` entries
  // (0: 4 per splat, at least 65536). Throws facet::Error on a bad format or max_splats 0.
  SplatTileRasterizer(const VulkanContext& context, VkFormat color_format, std::uint32_t max_splats,
                      std::uint64_t initial_entries = 0);
  ~SplatTileRasterizer();
  SplatTileRasterizer(const SplatTileRasterizer&) = delete;
  SplatTileRasterizer& operator=(const SplatTileRasterizer&) = delete;

  VkFormat color_format() const { return color_format_; }
  std::uint32_t max_splats() const { return max_splats_; }
  std::uint64_t capacity() const { return capacity_; }
  // The most entries the lists can grow to (the radix sort's limit on this device).
  std::uint64_t max_capacity() const { return max_capacity_; }

  // Records, outside a rendering pass and after Preprocess (with options.UsesTiles()) and
  // SplatSort::Record of `splats`, the tile lists of the view `camera` (its size is the
  // target's). `order`: SplatSort::order(). Ends with a barrier before the blend's reads. The
  // buffers are shared by every frame: command buffers holding one must not run concurrently,
  // and this may reallocate them (for a larger image): earlier ones must have completed.
  // Throws facet::Error when splats.count() > max_splats(). 0 splats record nothing.
  void RecordLists(VkCommandBuffer cmd, const GpuSplats& splats, const Buffer& order,
                   const geometry::Camera& camera);

  // Records, after RecordLists and after the rendering pass on `target` ended (colour in
  // COLOR_ATTACHMENT_OPTIMAL, depth in DEPTH_ATTACHMENT_OPTIMAL, as they are left again), the
  // blend of the splats into target's colour image: over its opaque colour and in front of its
  // depth when `over_opaque`, else over `background` (the pass's clear colour then goes unread).
  // `near_m`: the near plane of the target's reversed-Z depth (SplatDrawOptions::near_m, which
  // the opaque draws share). With 0 splats, RecordLists recorded nothing: call neither.
  void RecordBlend(VkCommandBuffer cmd, const GpuSplats& splats, const OffscreenTarget& target,
                   double near_m, const Eigen::Vector3f& background, bool over_opaque);

  // The lists' figures of the last frame recorded by RecordLists, valid once it has completed.
  SplatTileStats stats() const;
  // Between frames (no command buffer recorded with this object pending): when the last
  // frame's entries did not fit, makes room for 1.25 times them (up to max_capacity());
  // returns whether the lists grew.
  bool GrowToLastFrame();
  // Makes room for `entries` (up to max_capacity()); same condition as GrowToLastFrame.
  void Reserve(std::uint64_t entries);

 private:
  void Destroy();

  const VulkanContext& context_;
  VkFormat color_format_;
  std::uint32_t max_splats_;
  std::uint64_t capacity_ = 0;
  std::uint64_t max_capacity_ = 0;
  std::uint64_t recorded_capacity_ = 0;  // capacity_ when the last RecordLists ran
  std::unique_ptr<GpuRadixSort> sort_;   // sized for capacity_ entries
  Buffer tile_counts_;                   // [padded max_splats]
  Buffer partials_;                      // scanned chunk sums of tile_counts_
  Buffer keys_, values_;                 // [capacity_] the entries
  Buffer ranges_;                        // [2 * tiles] per tile, grown with the image
  Buffer stats_;                         // [2] kept, needed (device)
  Buffer stats_host_;                    // [2] the copy the host reads
  Buffer pixels_, depth_;                // the colour and depth images as buffers
  std::uint32_t tiles_x_ = 0, tiles_y_ = 0;
  VkPipelineLayout lists_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout scan_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout blend_layout_ = VK_NULL_HANDLE;
  VkPipeline count_ = VK_NULL_HANDLE, emit_ = VK_NULL_HANDLE, ranges_pipeline_ = VK_NULL_HANDLE;
  VkPipeline scan_local_ = VK_NULL_HANDLE, scan_partials_ = VK_NULL_HANDLE;
  VkPipeline blend_ = VK_NULL_HANDLE;
};

}  // namespace facet::viewer
