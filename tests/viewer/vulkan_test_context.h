// A VulkanContext for tests: with the Khronos validation layer when it is installed, or nullptr
// when no Vulkan device can be created (the test then skips).
#pragma once

#include <gtest/gtest.h>

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

// Owns the context; every test ends by asserting that the validation layer said nothing.
class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = MakeTestContext();
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
