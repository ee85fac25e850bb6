// OffscreenTarget: a W x H colour (RGBA8 UNORM, or RGBA16F for blending many layers) + depth
// (D32 float, reversed Z) target rendered
// with Vulkan 1.3 dynamic rendering, and read back to host images. Used by `facet view
// --offscreen`, the report and the tests; the window path renders the same draws into a
// swapchain image instead.
#pragma once

#include <Eigen/Core>
#include <vulkan/vulkan.h>

#include <functional>

#include "core/image.h"
#include "viewer/vulkan_context.h"
#include "viewer/vulkan_resources.h"

namespace facet::viewer {

// What one offscreen render returns.
struct OffscreenFrame {
  ImageU8 rgb;  // W x H x 3, the colour attachment's RGB (values as written, no sRGB; a float
                // target's values clamped to [0, 1] and rounded to round(v * 255))
  ImageF32 depth_ndc;  // W x H x 1, near_m / z_in_cam where something was drawn, 0 elsewhere
};

class OffscreenTarget {
 public:
  static constexpr VkFormat kColorFormat = VK_FORMAT_R8G8B8A8_UNORM;
  // Half floats: blending hundreds of translucent splats into 8 bits rounds at every layer
  // (several levels of error on a trained scene); 16-bit floats keep the sum to the CPU's within
  // the final rounding. Blending into it is required of every Vulkan device.
  static constexpr VkFormat kHdrColorFormat = VK_FORMAT_R16G16B16A16_SFLOAT;
  static constexpr VkFormat kDepthFormat = VK_FORMAT_D32_SFLOAT;

  // `color_format`: kColorFormat or kHdrColorFormat (pipelines drawing into the target must be
  // made for the same format). Throws facet::Error when the size is not within
  // 1..maxImageDimension2D or the format is neither.
  // `readback` false leaves out the host buffers (a window's target, shown by a blit from
  // color(); EndRenderingAndCopy and Render then throw).
  OffscreenTarget(const VulkanContext& context, int width, int height,
                  VkFormat color_format = kColorFormat, bool readback = true);

  int width() const { return color_.width(); }
  int height() const { return color_.height(); }
  VkFormat color_format() const { return color_.format(); }
  // The colour attachment: COLOR_ATTACHMENT_OPTIMAL after EndRendering (a window blits it to the
  // swapchain; the next BeginRendering orders after any transfer reading it).
  const Image& color() const { return color_; }
  // The depth attachment: DEPTH_ATTACHMENT_OPTIMAL after EndRendering (the splats' compute
  // blend, SplatTileRasterizer, copies it out and back).
  const Image& depth() const { return depth_; }

  // Records: both attachments to their attachment layouts, vkCmdBeginRendering clearing colour
  // to (clear_rgb, 1) and depth to 0 (the far plane at infinity), and a viewport and scissor
  // covering the whole target (pipelines take them as dynamic state).
  void BeginRendering(VkCommandBuffer cmd, const Eigen::Vector3f& clear_rgb) const;
  // Records vkCmdEndRendering only: for frames that are never read back (benchmarks). The next
  // BeginRendering orders its writes after this frame's.
  void EndRendering(VkCommandBuffer cmd) const;
  // Records vkCmdEndRendering and the copy of both attachments into the readback buffers.
  void EndRenderingAndCopy(VkCommandBuffer cmd) const;

  // Records the copy of both attachments (after EndRendering) into the readback buffers.
  void RecordCopy(VkCommandBuffer cmd) const;

  // Records `record` (which must begin and end rendering on this target), the copy, submits the
  // one command buffer, waits and returns the frame.
  OffscreenFrame Capture(const std::function<void(VkCommandBuffer)>& record) const;

  // Lets `prepare` record work outside the rendering pass (compute: splat preprocess and sort),
  // begins, lets `draw` record its draws, ends and copies, submits the one command buffer, waits
  // and returns the frame. Either may be empty (`draw` empty: a clear).
  OffscreenFrame Render(const Eigen::Vector3f& clear_rgb,
                        const std::function<void(VkCommandBuffer)>& draw,
                        const std::function<void(VkCommandBuffer)>& prepare = {}) const;

 private:
  const VulkanContext& context_;
  Image color_;
  Image depth_;
  Buffer color_readback_;
  Buffer depth_readback_;
};

}  // namespace facet::viewer
