#include "viewer/splat_view.h"

#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "viewer/offscreen.h"
#include "viewer/shaders/shader_io.h"

namespace facet::viewer {

SplatSort::SplatSort(const VulkanContext& context, std::uint32_t max_count)
    : sort_(context, max_count),
      identity_(context, max_count * sizeof(std::uint32_t), VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                Buffer::Memory::kDevice),
      order_(context, max_count * sizeof(std::uint32_t),
             VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
             Buffer::Memory::kDevice) {
  std::vector<std::uint32_t> indices(max_count);
  std::iota(indices.begin(), indices.end(), 0u);
  identity_.Upload(std::as_bytes(std::span(indices)));
}

void SplatSort::Record(VkCommandBuffer cmd, const GpuSplats& splats) const {
  FACET_CHECK(splats.count() <= max_count(),
              "viewer: sorting {} splats with a SplatSort made for {} (make a larger one)",
              splats.count(), max_count());
  if (splats.count() == 0) return;
  const VkBufferCopy region{0, 0, splats.count() * sizeof(std::uint32_t)};
  vkCmdCopyBuffer(cmd, identity_.handle(), order_.handle(), 1, &region);
  // GpuRadixSort::Record begins with a barrier after all earlier writes (this copy and the
  // preprocess's keys) and ends with one before all later reads (the vertex shader's).
  sort_.Record(cmd, splats.sort_keys(), order_, splats.count());
}

void RecordSplatPreprocessAndSort(VkCommandBuffer cmd, const SplatRenderer& renderer,
                                  const SplatSort& sort, const GpuSplats& splats,
                                  const geometry::Camera& camera,
                                  const geometry::Rigid3& cam_from_world,
                                  const SplatDrawOptions& options) {
  if (splats.count() == 0) return;
  renderer.Preprocess(cmd, splats, camera, cam_from_world, options);
  sort.Record(cmd, splats);
}

SplatImage RenderSplatsOffscreen(const VulkanContext& context, const SplatRenderer& renderer,
                                 const GpuSplats& splats, const geometry::Camera& camera,
                                 const geometry::Rigid3& cam_from_world,
                                 const SplatDrawOptions& options, const Eigen::Vector3f& background,
                                 const std::function<void(VkCommandBuffer)>& draw_opaque) {
  options.Check();
  camera.Check();
  const OffscreenTarget target(context, camera.width, camera.height, renderer.color_format());
  std::optional<SplatSort> sort;
  std::optional<SplatTileRasterizer> tiles;
  Buffer sorted_keys;  // the sorted keys read back, to count the visible splats
  if (splats.count() > 0) {
    sort.emplace(context, splats.count());
    if (options.UsesTiles()) tiles.emplace(context, renderer.color_format(), splats.count());
    sorted_keys = Buffer(context, splats.count() * sizeof(std::uint32_t),
                         VK_BUFFER_USAGE_TRANSFER_DST_BIT, Buffer::Memory::kHostRead);
  }
  const auto record = [&](VkCommandBuffer cmd) {
    if (sort) {
      RecordSplatPreprocessAndSort(cmd, renderer, *sort, splats, camera, cam_from_world, options);
      const VkBufferCopy region{0, 0, sorted_keys.size()};
      vkCmdCopyBuffer(cmd, splats.sort_keys().handle(), sorted_keys.handle(), 1, &region);
      // The copy's results reach the host through the submission's fence wait; what follows
      // only reads the keys' buffer (no hazard with this read).
      MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                    VK_PIPELINE_STAGE_2_HOST_BIT, VK_ACCESS_2_HOST_READ_BIT);
      if (tiles) tiles->RecordLists(cmd, splats, sort->order(), camera);
    }
    target.BeginRendering(cmd, background);
    if (draw_opaque) draw_opaque(cmd);
    if (sort && !tiles) renderer.Draw(cmd, splats, sort->order(), splats.count(), camera, options);
    target.EndRendering(cmd);
    if (tiles) {
      tiles->RecordBlend(cmd, splats, target, options.near_m, background, bool(draw_opaque));
    }
  };
  SplatImage image;
  image.rgb = target.Capture(record).rgb;
  // A frame whose tile lists did not fit is rendered again with room for them.
  if (tiles && tiles->GrowToLastFrame()) image.rgb = target.Capture(record).rgb;
  if (tiles) image.tiles = tiles->stats();
  if (sort) {
    const auto* keys = static_cast<const std::uint32_t*>(sorted_keys.mapped());
    for (std::uint32_t i = 0; i < splats.count(); ++i) {
      image.visible += keys[i] != FACET_SPLAT_CULLED_KEY;
    }
  }
  return image;
}

}  // namespace facet::viewer
