// A VulkanContext for tests: with the Khronos validation layer when it is installed, or nullptr
// when no Vulkan device can be created (the test then skips, or fails when the environment sets
// FACET_REQUIRE_VULKAN=1: the GPU check, where a missing driver must not pass as skips).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "viewer/vulkan_context.h"

namespace facet::viewer::test {

inline std::unique_ptr<VulkanContext> MakeTestContext() {
  for (const bool validation : {true, false}) {
    try {
      VulkanContextOptions options;
      options.validation = validation;
      return std::make_unique<VulkanContext>(options);
    } catch (const std::exception& e) {
      if (!validation) {
        std::printf("no Vulkan context: %s\n", e.what());
      }
    }
  }
  return nullptr;
}

// FACET_REQUIRE_VULKAN is set to something other than "0": no Vulkan device is a failure.
inline bool VulkanRequired() {
  const char* value = std::getenv("FACET_REQUIRE_VULKAN");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

// Owns the context; every test ends by asserting that the validation layer said nothing.
class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = MakeTestContext();
    if (context_ == nullptr && VulkanRequired()) {
      FAIL() << "no Vulkan device, and FACET_REQUIRE_VULKAN is set (is the driver's ICD file in "
                "VK_DRIVER_FILES and libvulkan.so.1 on the library path?)";
    }
    if (context_ == nullptr) GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers)";
  }
  void TearDown() override {
    if (context_ == nullptr) return;
    const ValidationMessages messages = context_->Validation();
    EXPECT_EQ(messages.errors, 0);
    EXPECT_EQ(messages.warnings, 0);
    for (const std::string& text : messages.texts) ADD_FAILURE() << text;
  }

  std::unique_ptr<VulkanContext> context_;
};

}  // namespace facet::viewer::test
