#include "viewer/offscreen.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace facet::viewer {
namespace {

VkFormat CheckColorFormat(VkFormat format) {
  FACET_CHECK(format == OffscreenTarget::kColorFormat || format == OffscreenTarget::kHdrColorFormat,
              "OffscreenTarget: colour format {} is not supported (use kColorFormat or "
              "kHdrColorFormat)",
              int(format));
  return format;
}

VkDeviceSize ColorBytesPerPixel(VkFormat format) {
  return format == OffscreenTarget::kHdrColorFormat ? 8 : 4;
}

}  // namespace

OffscreenTarget::OffscreenTarget(const VulkanContext& context, int width, int height,
                                 VkFormat color_format, bool readback)
    : context_(context),
      color_(context, width, height, CheckColorFormat(color_format),
             VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                 VK_IMAGE_USAGE_TRANSFER_DST_BIT,
             VK_IMAGE_ASPECT_COLOR_BIT),
      depth_(context, width, height, kDepthFormat,
             VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
             VK_IMAGE_ASPECT_DEPTH_BIT) {
  if (readback) {
    color_readback_ =
        Buffer(context, VkDeviceSize(width) * height * ColorBytesPerPixel(color_format),
               VK_BUFFER_USAGE_TRANSFER_DST_BIT, Buffer::Memory::kHostRead);
    depth_readback_ = Buffer(context, VkDeviceSize(width) * height * 4,
                             VK_BUFFER_USAGE_TRANSFER_DST_BIT, Buffer::Memory::kHostRead);
  }
}

void OffscreenTarget::BeginRendering(VkCommandBuffer cmd, const Eigen::Vector3f& clear_rgb) const {
  // The previous contents are discarded (UNDEFINED), which also orders after the last copy or
  // blit (a window's), or after the last frame's attachment writes when it was not read.
  TransitionImage(
      cmd, color_, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
      VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT | VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
  TransitionImage(
      cmd, depth_, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
      VK_PIPELINE_STAGE_2_COPY_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
      VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT |
          VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT);

  VkRenderingAttachmentInfo color{VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
  color.imageView = color_.view();
  color.imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
  color.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
  color.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  color.clearValue.color = {{clear_rgb.x(), clear_rgb.y(), clear_rgb.z(), 1.0f}};
  VkRenderingAttachmentInfo depth{VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
  depth.imageView = depth_.view();
  depth.imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL;
  depth.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
  depth.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  depth.clearValue.depthStencil = {0.0f, 0};  // reversed Z: 0 is infinitely far

  const VkExtent2D extent{static_cast<std::uint32_t>(width()),
                          static_cast<std::uint32_t>(height())};
  VkRenderingInfo info{VK_STRUCTURE_TYPE_RENDERING_INFO};
  info.renderArea = {{0, 0}, extent};
  info.layerCount = 1;
  info.colorAttachmentCount = 1;
  info.pColorAttachments = &color;
  info.pDepthAttachment = &depth;
  vkCmdBeginRendering(cmd, &info);

  const VkViewport viewport{0.0f, 0.0f, float(width()), float(height()), 0.0f, 1.0f};
  const VkRect2D scissor{{0, 0}, extent};
  vkCmdSetViewport(cmd, 0, 1, &viewport);
  vkCmdSetScissor(cmd, 0, 1, &scissor);
}

void OffscreenTarget::EndRendering(VkCommandBuffer cmd) const { vkCmdEndRendering(cmd); }

void OffscreenTarget::EndRenderingAndCopy(VkCommandBuffer cmd) const {
  EndRendering(cmd);
  RecordCopy(cmd);
}

void OffscreenTarget::RecordCopy(VkCommandBuffer cmd) const {
  FACET_CHECK(color_readback_.handle() != VK_NULL_HANDLE,
              "OffscreenTarget: made without readback, it cannot be copied to the host");
  TransitionImage(
      cmd, color_, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT,
      VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
  TransitionImage(cmd, depth_, VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
                  VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
                  VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_COPY_BIT,
                  VK_ACCESS_2_TRANSFER_READ_BIT);
  CopyImageToBuffer(cmd, color_, color_readback_);
  CopyImageToBuffer(cmd, depth_, depth_readback_);

  MemoryBarrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
                VK_PIPELINE_STAGE_2_HOST_BIT, VK_ACCESS_2_HOST_READ_BIT);
}

OffscreenFrame OffscreenTarget::Render(const Eigen::Vector3f& clear_rgb,
                                       const std::function<void(VkCommandBuffer)>& draw,
                                       const std::function<void(VkCommandBuffer)>& prepare) const {
  return Capture([&](VkCommandBuffer cmd) {
    if (prepare) prepare(cmd);
    BeginRendering(cmd, clear_rgb);
    if (draw) draw(cmd);
    EndRendering(cmd);
  });
}

OffscreenFrame OffscreenTarget::Capture(const std::function<void(VkCommandBuffer)>& record) const {
  context_.SubmitAndWait([&](VkCommandBuffer cmd) {
    record(cmd);
    RecordCopy(cmd);
  });
  OffscreenFrame frame;
  frame.rgb.Reset(width(), height(), 3);
  const std::size_t pixels = std::size_t(width()) * height();
  if (color_format() == kHdrColorFormat) {
    const auto* rgba = static_cast<const std::uint16_t*>(color_readback_.mapped());
    for (std::size_t i = 0; i < 3 * pixels; ++i) {
      const float v = Eigen::numext::bit_cast<Eigen::half>(rgba[4 * (i / 3) + i % 3]);
      frame.rgb.data()[i] =
          static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
    }
  } else {
    const auto* rgba = static_cast<const std::uint8_t*>(color_readback_.mapped());
    for (std::size_t i = 0; i < pixels; ++i) {
      std::memcpy(frame.rgb.data() + 3 * i, rgba + 4 * i, 3);
    }
  }
  frame.depth_ndc.Reset(width(), height(), 1);
  std::memcpy(frame.depth_ndc.data(), depth_readback_.mapped(), pixels * sizeof(float));
  return frame;
}

}  // namespace facet::viewer
