// The one way the viewer makes a graphics pipeline: dynamic rendering into one colour attachment
// and a depth attachment, vertices pulled from buffers in the shaders (no vertex-input state),
// dynamic viewport and scissor, no face culling (reconstructed meshes are not reliably
// oriented; splat quads face the camera), reversed Z (projection.h).
#pragma once

#include <vulkan/vulkan.h>

namespace facet::viewer {

struct GraphicsPipelineDesc {
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkShaderModule vertex = VK_NULL_HANDLE;
  VkShaderModule fragment = VK_NULL_HANDLE;
  VkFormat color_format = VK_FORMAT_UNDEFINED;
  VkFormat depth_format = VK_FORMAT_UNDEFINED;
  VkPrimitiveTopology topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
  bool depth_write = true;
  VkCompareOp depth_compare = VK_COMPARE_OP_GREATER;  // reversed Z: nearer is greater
  // Premultiplied "over" for colour and alpha: dst = src + (1 - src_alpha) dst. Otherwise the
  // fragment replaces the pixel.
  bool premultiplied_blend = false;
};

// Creates the pipeline; throws facet::Error naming `what` when Vulkan refuses.
VkPipeline CreateGraphicsPipeline(VkDevice device, const GraphicsPipelineDesc& desc,
                                  const char* what);

}  // namespace facet::viewer
