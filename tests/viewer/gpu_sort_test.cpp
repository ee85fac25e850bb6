#include "viewer/gpu_sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"
#include "viewer/shaders/radix_sort_io.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using shader::SortKeyFromDepth;

constexpr std::uint32_t kMaxCount = 1u << 20;

// The reference: std::stable_sort of (key, value) pairs by key.
void ReferenceSort(std::vector<std::uint32_t>& keys, std::vector<std::uint32_t>& values) {
  std::vector<std::uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  std::vector<std::uint32_t> sorted_keys(keys.size());
  std::vector<std::uint32_t> sorted_values(keys.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    sorted_keys[i] = keys[order[i]];
    sorted_values[i] = values[order[i]];
  }
  keys = std::move(sorted_keys);
  values = std::move(sorted_values);
}

std::vector<std::uint32_t> Iota(std::size_t n) {
  std::vector<std::uint32_t> values(n);
  std::iota(values.begin(), values.end(), 0u);
  return values;
}

class GpuSortTest : public test::VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (context_ == nullptr) return;
    sort_ = std::make_unique<GpuRadixSort>(*context_, kMaxCount);
  }
  void TearDown() override {
    sort_.reset();
    VulkanTest::TearDown();
  }

  // Sorts on the GPU and expects exactly the reference's keys and values. Values are the input
  // positions, so any instability changes them.
  void ExpectSortsAsReference(std::vector<std::uint32_t> keys) {
    std::vector<std::uint32_t> values = Iota(keys.size());
    std::vector<std::uint32_t> expected_keys = keys;
    std::vector<std::uint32_t> expected_values = values;
    ReferenceSort(expected_keys, expected_values);
    sort_->Sort(keys, values);
    ASSERT_EQ(keys.size(), expected_keys.size());
    EXPECT_TRUE(keys == expected_keys) << "keys differ from std::stable_sort";
    EXPECT_TRUE(values == expected_values) << "values differ from std::stable_sort";
  }

  std::unique_ptr<GpuRadixSort> sort_;
};

std::vector<std::uint32_t> RandomKeys(std::size_t n, std::uint32_t max_key, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> key(0, max_key);
  std::vector<std::uint32_t> keys(n);
  for (std::uint32_t& k : keys) k = key(rng);
  return keys;
}

TEST_F(GpuSortTest, RandomKeysMatchStdStableSort) {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{65537},
                              std::size_t{kMaxCount}}) {
    SCOPED_TRACE(n);
    ExpectSortsAsReference(RandomKeys(n, std::numeric_limits<std::uint32_t>::max(), 7 + n));
  }
}

TEST_F(GpuSortTest, EqualKeysKeepTheirOrder) {
  // 16 distinct keys over 3 blocks of 4096: every digit pass sees long runs of equal digits
  // within a round, across rounds and across blocks.
  ExpectSortsAsReference(RandomKeys(10000, 15, 1));
  // Equal low digits but different high digits, and the reverse.
  std::vector<std::uint32_t> keys = RandomKeys(20000, 7, 2);
  for (std::uint32_t& k : keys) k = (k << 24) | (k & 1u);
  ExpectSortsAsReference(keys);
}

TEST_F(GpuSortTest, KeysWithAllBitsSet) {
  ExpectSortsAsReference(std::vector<std::uint32_t>(5000, 0xFFFFFFFFu));
  std::vector<std::uint32_t> keys = RandomKeys(5000, 2, 3);
  for (std::uint32_t& k : keys) k = k == 0 ? 0xFFFFFFFFu : k == 1 ? 0u : 0x7FFFFFFFu;
  ExpectSortsAsReference(keys);
}

TEST_F(GpuSortTest, SortedAndReversedInput) {
  std::vector<std::uint32_t> keys = RandomKeys(70000, std::numeric_limits<std::uint32_t>::max(), 4);
  std::sort(keys.begin(), keys.end());
  ExpectSortsAsReference(keys);
  std::reverse(keys.begin(), keys.end());
  ExpectSortsAsReference(keys);
}

TEST_F(GpuSortTest, DepthKeysOrderAsTheFloats) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> depth(-100.0f, 100.0f);
  std::vector<float> depths(30000);
  for (float& d : depths) d = depth(rng);
  const float specials[] = {0.0f,
                            -0.0f,
                            1e-30f,
                            -1e-30f,
                            1e30f,
                            -1e30f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::denorm_min()};
  std::copy(std::begin(specials), std::end(specials), depths.begin());
  std::vector<std::uint32_t> keys(depths.size());
  std::transform(depths.begin(), depths.end(), keys.begin(), SortKeyFromDepth);
  std::vector<std::uint32_t> values = Iota(depths.size());
  sort_->Sort(keys, values);
  // Front-to-back: depths ascending, ties (+0 and -0 aside) in input order.
  for (std::size_t i = 1; i < values.size(); ++i) {
    ASSERT_LE(depths[values[i - 1]], depths[values[i]]) << "at " << i;
  }
  // Back-to-front: ~key sorts the depths descending.
  std::transform(depths.begin(), depths.end(), keys.begin(),
                 [](float d) { return ~SortKeyFromDepth(d); });
  values = Iota(depths.size());
  sort_->Sort(keys, values);
  for (std::size_t i = 1; i < values.size(); ++i) {
    ASSERT_GE(depths[values[i - 1]], depths[values[i]]) << "at " << i;
  }
}

// Record into the caller's command buffer twice (the second sort reuses the scratch buffers and
// re-sorts the first one's output by other keys); also prints the time of one 1M-key sort.
TEST_F(GpuSortTest, RecordsIntoTheCallersCommandBuffer) {
  const std::uint32_t n = kMaxCount;
  std::vector<std::uint32_t> keys = RandomKeys(n, std::numeric_limits<std::uint32_t>::max(), 6);
  std::vector<std::uint32_t> values = Iota(n);
  const auto bytes = n * sizeof(std::uint32_t);
  Buffer device_keys(*context_, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, Buffer::Memory::kDevice);
  Buffer device_values(*context_, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                       Buffer::Memory::kDevice);
  device_keys.Upload(std::as_bytes(std::span(keys)));
  device_values.Upload(std::as_bytes(std::span(values)));

  const auto start = std::chrono::steady_clock::now();
  context_->SubmitAndWait(
      [&](VkCommandBuffer cmd) { sort_->Record(cmd, device_keys, device_values, n); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("GpuRadixSort: %u keys in %.1f ms on %s\n", n, seconds * 1e3,
              context_->DeviceName().c_str());

  // Second: sort the first `part` entries (now ascending keys) by their values, in one command
  // buffer with two Records, the second sorting back by key.
  const std::uint32_t part = 70000;  // more than one block; small, to keep the test fast
  context_->SubmitAndWait([&](VkCommandBuffer cmd) {
    sort_->Record(cmd, device_values, device_keys, part);
    sort_->Record(cmd, device_keys, device_values, part);
  });
  std::vector<std::uint32_t> expected_keys = keys;
  std::vector<std::uint32_t> expected_values = values;
  ReferenceSort(expected_keys, expected_values);
  std::vector<std::uint32_t> first_part_keys(expected_keys.begin(), expected_keys.begin() + part);
  std::vector<std::uint32_t> first_part_values(expected_values.begin(),
                                               expected_values.begin() + part);
  // Sorting by value then by key: ties on the key end up ordered by value.
  ReferenceSort(first_part_values, first_part_keys);
  ReferenceSort(first_part_keys, first_part_values);
  std::copy(first_part_keys.begin(), first_part_keys.end(), expected_keys.begin());
  std::copy(first_part_values.begin(), first_part_values.end(), expected_values.begin());

  Buffer readback(*context_, 2 * bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                  Buffer::Memory::kHostRead);
  context_->SubmitAndWait([&](VkCommandBuffer cmd) {
    const VkBufferCopy key_region{0, 0, bytes};
    const VkBufferCopy value_region{0, bytes, bytes};
    vkCmdCopyBuffer(cmd, device_keys.handle(), readback.handle(), 1, &key_region);
    vkCmdCopyBuffer(cmd, device_values.handle(), readback.handle(), 1, &value_region);
  });
  const auto* words = static_cast<const std::uint32_t*>(readback.mapped());
  EXPECT_TRUE(std::equal(expected_keys.begin(), expected_keys.end(), words));
  EXPECT_TRUE(std::equal(expected_values.begin(), expected_values.end(), words + n));
}

// The tile lists' sort: only the low bits are keys (1 pass for 8 bits, ending with the copy back;
// 2 passes for 16), and the number of keys comes from a device buffer.
TEST_F(GpuSortTest, LowBitsOnlyAndADeviceCount) {
  for (const std::uint32_t bits : {8u, 13u, 16u, 24u}) {
    SCOPED_TRACE(bits);
    std::vector<std::uint32_t> keys =
        RandomKeys(50000, std::numeric_limits<std::uint32_t>::max(), bits);
    std::vector<std::uint32_t> values = Iota(keys.size());
    // The reference sorts on the low digits; the high bits ride along as payload.
    const std::uint32_t digit_bits = (bits + 7) / 8 * 8;
    const std::uint32_t mask = digit_bits == 32 ? ~0u : (1u << digit_bits) - 1u;
    std::vector<std::uint32_t> order = Iota(keys.size());
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return (keys[a] & mask) < (keys[b] & mask);
    });
    sort_->Sort(keys, values, bits);
    for (std::size_t i = 0; i < order.size(); ++i) {
      ASSERT_EQ(values[i], order[i]) << "at " << i;
    }
  }
  // 30000 of 50000 keys sorted: the first 30000 are exactly the sort of the first 30000.
  std::vector<std::uint32_t> keys = RandomKeys(50000, 0xFFFF, 9);
  std::vector<std::uint32_t> expected_keys(keys.begin(), keys.begin() + 30000);
  std::vector<std::uint32_t> expected_values = Iota(30000);
  ReferenceSort(expected_keys, expected_values);
  std::vector<std::uint32_t> values = Iota(keys.size());
  sort_->Sort(keys, values, 16, 30000u);
  EXPECT_TRUE(std::equal(expected_keys.begin(), expected_keys.end(), keys.begin()));
  EXPECT_TRUE(std::equal(expected_values.begin(), expected_values.end(), values.begin()));
  // A device count above the host count is capped by it.
  keys = RandomKeys(1000, 0xFFFF, 10);
  expected_keys = keys;
  expected_values = Iota(1000);
  ReferenceSort(expected_keys, expected_values);
  values = Iota(1000);
  sort_->Sort(keys, values, 16, 5000u);
  EXPECT_TRUE(keys == expected_keys && values == expected_values);
  EXPECT_THROW(sort_->Sort(keys, values, 0), Error);
  EXPECT_THROW(sort_->Sort(keys, values, 33), Error);
}

TEST_F(GpuSortTest, RejectsMoreKeysThanMaxCount) {
  const GpuRadixSort small(*context_, 100);
  std::vector<std::uint32_t> keys(101, 0u);
  std::vector<std::uint32_t> values(101, 0u);
  EXPECT_THROW(small.Sort(keys, values), Error);
  values.resize(100);
  EXPECT_THROW(sort_->Sort(keys, values), Error);  // sizes differ
  EXPECT_THROW(GpuRadixSort(*context_, 0), Error);
}

}  // namespace
}  // namespace facet::viewer
