#include "viewer/splat_tiles.h"

#include <algorithm>
#include <bit>

#include "core/error.h"
#include "viewer/embedded_shaders.h"
#include "viewer/offscreen.h"
#include "viewer/shaders/radix_sort_io.h"
#include "viewer/shaders/shader_io.h"

namespace facet::viewer {
namespace {

constexpr std::uint32_t kGroup = FACET_SPLAT_TILE_GROUP;
constexpr std::uint32_t kTile = FACET_SPLAT_TILE;
constexpr VkDeviceSize kWord = sizeof(std::uint32_t);
constexpr VkBufferUsageFlags kStorage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;

std::uint64_t DivUp(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

constexpr VkAccessFlags2 kShaderReadWrite =
    VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT;

// Workgroups of a grid-stride pass over n items (the shaders loop over the rest).
std::uint32_t StrideGroups(const VulkanContext& context, std::uint64_t n) {
  const std::uint64_t limit = context.properties().limits.maxComputeWorkGroupCount[0];
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(DivUp(n, kGroup), 1, limit));
}

std::uint32_t PaddedCount(std::uint32_t splats) {
  return static_cast<std::uint32_t>(DivUp(splats, FACET_SORT_RADIX) * FACET_SORT_RADIX);
}

}  // namespace

SplatTileRasterizer::SplatTileRasterizer(const VulkanContext& context, VkFormat color_format,
                                         std::uint32_t max_splats, std::uint64_t initial_entries)
    : context_(context), color_format_(color_format), max_splats_(max_splats) {
  FACET_CHECK(color_format == OffscreenTarget::kColorFormat ||
                  color_format == OffscreenTarget::kHdrColorFormat,
              "SplatTileRasterizer: colour format {} is not an OffscreenTarget format",
              int(color_format));
  FACET_CHECK(max_splats > 0, "SplatTileRasterizer: max_splats must be positive");
  const std::uint64_t max_groups = context.properties().limits.maxComputeWorkGroupCount[0];
  max_capacity_ = std::min<std::uint64_t>(max_groups * FACET_SORT_BLOCK, std::uint64_t{1} << 30);
  const std::uint32_t padded = PaddedCount(max_splats);
  FACET_CHECK(DivUp(padded, FACET_SORT_SCAN_CHUNK) <= max_groups,
              "SplatTileRasterizer: {} splats need more scan workgroups than {} dispatches",
              max_splats, context.DeviceName());
  tile_counts_ = Buffer(context, padded * kWord, kStorage, Buffer::Memory::kDevice);
  partials_ = Buffer(context, DivUp(padded, FACET_SORT_SCAN_CHUNK) * kWord, kStorage,
                     Buffer::Memory::kDevice);
  stats_ = Buffer(context, 2 * kWord, kStorage, Buffer::Memory::kDevice);
  stats_host_ =
      Buffer(context, 2 * kWord, VK_BUFFER_USAGE_TRANSFER_DST_BIT, Buffer::Memory::kHostRead);
  std::fill_n(static_cast<std::uint32_t*>(stats_host_.mapped()), 2, 0u);
  try {
    lists_layout_ =
        MakeComputeLayout(context, sizeof(shader::SplatTilePushConstants), "splat tile lists");
    scan_layout_ = MakeComputeLayout(context, sizeof(shader::SortPushConstants), "splat tile scan");
    blend_layout_ =
        MakeComputeLayout(context, sizeof(shader::SplatBlendPushConstants), "splat tile blend");
    count_ = MakeComputePipeline(context, lists_layout_, "splat_tile_lists.comp", 0);
    emit_ = MakeComputePipeline(context, lists_layout_, "splat_tile_lists.comp", 1);
    ranges_pipeline_ = MakeComputePipeline(context, lists_layout_, "splat_tile_ranges.comp", 0);
    scan_local_ = MakeComputePipeline(context, scan_layout_, "radix_sort_scan.comp", 0);
    scan_partials_ = MakeComputePipeline(context, scan_layout_, "radix_sort_scan.comp", 1);
    blend_ = MakeComputePipeline(context, blend_layout_, "splat_tile_blend.comp", 0);
    Reserve(initial_entries > 0 ? initial_entries
                                : std::max<std::uint64_t>(65536, 4 * std::uint64_t{max_splats}));
  } catch (...) {
    Destroy();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

SplatTileRasterizer::~SplatTileRasterizer() { Destroy(); }

void SplatTileRasterizer::Destroy() {
  VkDevice device = context_.device();
  for (VkPipeline* pipeline :
       {&count_, &emit_, &ranges_pipeline_, &scan_local_, &scan_partials_, &blend_}) {
    if (*pipeline != VK_NULL_HANDLE) vkDestroyPipeline(device, *pipeline, nullptr);
    *pipeline = VK_NULL_HANDLE;
  }
  for (VkPipelineLayout* layout : {&lists_layout_, &scan_layout_, &blend_layout_}) {
    if (*layout != VK_NULL_HANDLE) vkDestroyPipelineLayout(device, *layout, nullptr);
    *layout = VK_NULL_HANDLE;
  }
}

void SplatTileRasterizer::Reserve(std::uint64_t entries) {
  entries = std::min(entries, max_capacity_);
  if (entries <= capacity_) return;
  // The old lists go first, so that the peak memory is one set.
  sort_.reset();
  keys_ = Buffer();
  values_ = Buffer();
  const auto capacity32 = static_cast<std::uint32_t>(entries);
  keys_ = Buffer(context_, entries * kWord, kStorage, Buffer::Memory::kDevice);
  values_ = Buffer(context_, entries * kWord, kStorage, Buffer::Memory::kDevice);
  sort_ = std::make_unique<GpuRadixSort>(context_, capacity32);
  capacity_ = entries;
}

SplatTileStats SplatTileRasterizer::stats() const {
  const auto* words = static_cast<const std::uint32_t*>(stats_host_.mapped());
  SplatTileStats stats;
  stats.entries_kept = words[0];
  stats.entries_needed = words[1];
  stats.entries_capacity = recorded_capacity_;
  return stats;
}

bool SplatTileRasterizer::GrowToLastFrame() {
  const SplatTileStats last = stats();
  if (!last.Overflowed() || capacity_ >= max_capacity_) return false;
  Reserve(std::max(last.entries_needed + last.entries_needed / 4, capacity_ + 1));
  return true;
}

void SplatTileRasterizer::RecordLists(VkCommandBuffer cmd, const GpuSplats& splats,
                                      const Buffer& order, const geometry::Camera& camera) {
  const std::uint32_t count = splats.count();
  FACET_CHECK(count <= max_splats_,
              "SplatTileRasterizer: {} splats exceed its max_splats {} (make a larger one)", count,
              max_splats_);
  if (count == 0) return;
  FACET_CHECK(order.size() >= count * kWord,
              "SplatTileRasterizer: an order of {} bytes for {} splats", order.size(), count);
  tiles_x_ = static_cast<std::uint32_t>(DivUp(camera.width, kTile));
  tiles_y_ = static_cast<std::uint32_t>(DivUp(camera.height, kTile));
  const std::uint64_t tiles = std::uint64_t{tiles_x_} * tiles_y_;
  if (ranges_.size() < 2 * tiles * kWord) {
    ranges_ = Buffer(context_, 2 * tiles * kWord, kStorage, Buffer::Memory::kDevice);
  }
  recorded_capacity_ = capacity_;

  shader::SplatTilePushConstants push{};
  push.records = splats.records().address();
  push.order = order.address();
  push.tile_counts = tile_counts_.address();
  push.partials = partials_.address();
  push.keys = keys_.address();
  push.values = values_.address();
  push.ranges = ranges_.address();
  push.stats = stats_.address();
  push.count = count;
  push.padded_count = PaddedCount(count);
  push.capacity = static_cast<std::uint32_t>(capacity_);
  push.tiles_x = tiles_x_;
  push.tiles_y = tiles_y_;
  push.scan_chunk = FACET_SORT_SCAN_CHUNK;

  // After every earlier use of these buffers (the last frame's blend and stats copy, the
  // preprocess and sort of this one), the tile ranges start empty.
  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, VK_ACCESS_2_MEMORY_WRITE_BIT,
                VK_PIPELINE_STAGE_2_CLEAR_BIT | VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                VK_ACCESS_2_TRANSFER_WRITE_BIT | kShaderReadWrite);
  vkCmdFillBuffer(cmd, ranges_.handle(), 0, 2 * tiles * kWord, 0u);

  // Tiles per splat, then their exclusive prefix sum.
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, count_);
  vkCmdPushConstants(cmd, lists_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
  vkCmdDispatch(cmd, StrideGroups(context_, push.padded_count), 1, 1);
  ComputeBarrier(cmd);
  shader::SortPushConstants scan{};
  scan.histograms = tile_counts_.address();
  scan.partials = partials_.address();
  scan.block_count = push.padded_count / FACET_SORT_RADIX;  // RADIX * block_count entries
  scan.partial_count = static_cast<std::uint32_t>(DivUp(push.padded_count, FACET_SORT_SCAN_CHUNK));
  vkCmdPushConstants(cmd, scan_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(scan), &scan);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, scan_local_);
  vkCmdDispatch(cmd, scan.partial_count, 1, 1);
  ComputeBarrier(cmd);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, scan_partials_);
  vkCmdDispatch(cmd, 1, 1, 1);
  ComputeBarrier(cmd);

  // The entries in depth order, then the stable sort by tile id (GpuRadixSort::Record brings
  // its own barriers before and after).
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, emit_);
  vkCmdPushConstants(cmd, lists_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
  vkCmdDispatch(cmd, StrideGroups(context_, count), 1, 1);
  const auto key_bits =
      static_cast<std::uint32_t>(std::max<std::uint64_t>(1, std::bit_width(tiles - 1)));
  sort_->Record(cmd, keys_, values_, push.capacity, key_bits, &stats_);

  // Each tile's range, and the figures for the host.
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, ranges_pipeline_);
  vkCmdPushConstants(cmd, lists_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
  vkCmdDispatch(cmd, StrideGroups(context_, capacity_), 1, 1);
  const VkBufferCopy region{0, 0, 2 * kWord};
  vkCmdCopyBuffer(cmd, stats_.handle(), stats_host_.handle(), 1, &region);
  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                VK_PIPELINE_STAGE_2_HOST_BIT, VK_ACCESS_2_HOST_READ_BIT);
  ComputeBarrier(cmd);
}

void SplatTileRasterizer::RecordBlend(VkCommandBuffer cmd, const GpuSplats& splats,
                                      const OffscreenTarget& target, double near_m,
                                      const Eigen::Vector3f& background, bool over_opaque) {
  FACET_CHECK(target.color_format() == color_format_,
              "SplatTileRasterizer: made for another colour format than the target's");
  FACET_CHECK(DivUp(target.width(), kTile) == tiles_x_ && DivUp(target.height(), kTile) == tiles_y_,
              "SplatTileRasterizer: a {}x{} target blended with lists of {}x{} tiles (record "
              "the lists for the target's camera first)",
              target.width(), target.height(), tiles_x_, tiles_y_);
  const bool hdr = color_format_ == OffscreenTarget::kHdrColorFormat;
  const VkDeviceSize pixels = VkDeviceSize(target.width()) * target.height();
  if (pixels_.size() < pixels * (hdr ? 8 : 4)) {
    pixels_ = Buffer(context_, pixels * (hdr ? 8 : 4), kStorage, Buffer::Memory::kDevice);
  }
  if (over_opaque && depth_.size() < pixels * kWord) {
    depth_ = Buffer(context_, pixels * kWord, kStorage, Buffer::Memory::kDevice);
  }
  const Image& color = target.color();
  const Image& depth = target.depth();
  // The last frame's reads of the buffers come before this frame's writes.
  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, 0,
                VK_PIPELINE_STAGE_2_COPY_BIT | VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, 0);
  VkImageLayout color_layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
  VkPipelineStageFlags2 color_stage = VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT;
  VkAccessFlags2 color_access = VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT;
  if (over_opaque) {
    TransitionImage(cmd, color, color_layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, color_stage,
                    color_access, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
    TransitionImage(
        cmd, depth, VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
        VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT, VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
        VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
    CopyImageToBuffer(cmd, color, pixels_);
    CopyImageToBuffer(cmd, depth, depth_);
    MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, kShaderReadWrite);
    color_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    color_stage = VK_PIPELINE_STAGE_2_COPY_BIT;
    color_access = 0;  // a read: an execution dependency is enough
  }

  shader::SplatBlendPushConstants push{};
  push.records = splats.records().address();
  push.values = values_.address();
  push.ranges = ranges_.address();
  push.pixels = pixels_.address();
  push.depth = over_opaque ? depth_.address() : pixels_.address();  // unread without opaque
  push.background = {background.x(), background.y(), background.z(), 1.0f};
  push.width = static_cast<std::uint32_t>(target.width());
  push.height = static_cast<std::uint32_t>(target.height());
  push.tiles_x = tiles_x_;
  push.flags = (hdr ? FACET_SPLAT_BLEND_HDR : 0u) | (over_opaque ? FACET_SPLAT_BLEND_OPAQUE : 0u);
  push.near_plane = static_cast<float>(near_m);
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, blend_);
  vkCmdPushConstants(cmd, blend_layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
  vkCmdDispatch(cmd, tiles_x_, tiles_y_, 1);

  // The blended image into the colour attachment, which is left as the pass left it.
  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT,
                VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
  TransitionImage(cmd, color, color_layout, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, color_stage,
                  color_access, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT);
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {push.width, push.height, 1};
  vkCmdCopyBufferToImage(cmd, pixels_.handle(), color.handle(),
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
  TransitionImage(cmd, color, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                  VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_COPY_BIT,
                  VK_ACCESS_2_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
                  VK_ACCESS_2_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
  if (over_opaque) {
    TransitionImage(cmd, depth, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                    VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_COPY_BIT, 0,
                    VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
                    VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT);
  }
}

}  // namespace facet::viewer
