#include "viewer/offscreen.h"

#include <gtest/gtest.h>

#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using OffscreenTest = test::VulkanTest;

TEST_F(OffscreenTest, ClearColourReadsBackExactly) {
  const OffscreenTarget target(*context_, 37, 23);  // odd sizes: no row padding assumptions
  const OffscreenFrame frame = target.Render({0.2f, 0.4f, 0.6f}, {});
  ASSERT_EQ(frame.rgb.width(), 37);
  ASSERT_EQ(frame.rgb.height(), 23);
  ASSERT_EQ(frame.rgb.channels(), 3);
  // UNORM stores round(v * 255): 51, 102, 153 exactly.
  for (int y = 0; y < 23; ++y) {
    for (int x = 0; x < 37; ++x) {
      ASSERT_EQ(frame.rgb(x, y, 0), 51);
      ASSERT_EQ(frame.rgb(x, y, 1), 102);
      ASSERT_EQ(frame.rgb(x, y, 2), 153);
      ASSERT_EQ(frame.depth_ndc(x, y), 0.0f);  // reversed Z: cleared to infinitely far
    }
  }
  // A second render into the same target clears again.
  const OffscreenFrame black = target.Render({0.0f, 0.0f, 0.0f}, {});
  EXPECT_EQ(black.rgb(36, 22, 2), 0);
}

TEST_F(OffscreenTest, HalfFloatTargetReadsBackRoundedBytes) {
  const OffscreenTarget target(*context_, 19, 7, OffscreenTarget::kHdrColorFormat);
  EXPECT_EQ(target.color_format(), OffscreenTarget::kHdrColorFormat);
  // Values that half floats hold exactly (the float -> half rounding of a clear value is the
  // device's choice); the readback clamps to [0, 1] and rounds v * 255.
  const OffscreenFrame frame = target.Render({0.25f, 0.75f, 1.5f}, {});
  EXPECT_EQ(frame.rgb(0, 0, 0), 64);    // 63.75
  EXPECT_EQ(frame.rgb(18, 6, 1), 191);  // 191.25
  EXPECT_EQ(frame.rgb(9, 3, 2), 255);
}

TEST_F(OffscreenTest, RejectsAnEmptySizeAndOtherFormats) {
  EXPECT_THROW(OffscreenTarget(*context_, 0, 10), Error);
  EXPECT_THROW(OffscreenTarget(*context_, 4, 4, VK_FORMAT_R8G8B8A8_SRGB), Error);
}

// The counter that every VulkanTest checks at its end does count: an invalid call (a buffer of
// size 0, VUID-VkBufferCreateInfo-size-00912) is reported as an error.
TEST(VulkanContextValidation, CountsValidationErrors) {
  VulkanContextOptions options;
  options.validation = true;
  std::unique_ptr<VulkanContext> context;
  try {
    context = std::make_unique<VulkanContext>(options);
  } catch (const Error& e) {
    GTEST_SKIP() << "no Vulkan device with the validation layer: " << e.what();
  }
  EXPECT_EQ(context->Validation().errors, 0);
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = 0;
  info.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  VkBuffer buffer = VK_NULL_HANDLE;
  const VkResult result = vkCreateBuffer(context->device(), &info, nullptr, &buffer);
  if (result == VK_SUCCESS && buffer != VK_NULL_HANDLE) {
    vkDestroyBuffer(context->device(), buffer, nullptr);
  }
  EXPECT_GE(context->Validation().errors, 1);
}

}  // namespace
}  // namespace facet::viewer
