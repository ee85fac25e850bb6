#include "core/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace facet {
namespace {

TEST(PeakResidentBytes, GrowsWhenMemoryIsTouched) {
  const std::int64_t before = PeakResidentBytes();
#if defined(__linux__)
  ASSERT_GT(before, 0);
  constexpr std::size_t kBytes = 64 << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);  // touch every page
  const std::int64_t after = PeakResidentBytes();
  EXPECT_GE(after, before);
  EXPECT_GE(after, std::int64_t(kBytes));
  EXPECT_EQ(block[kBytes - 1], 1);
#else
  GTEST_SKIP() << "peak memory is read from /proc (Linux)";
#endif
}

}  // namespace
}  // namespace facet
