#include "core/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/backend.h"

namespace facet {
namespace {

// Counts how often each index is visited; every count must be exactly one.
void ExpectEachIndexOnce(std::int64_t n, std::int64_t grain) {
  auto visits = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(n));
  ParallelFor(
      n, [&](std::int64_t i) { visits[static_cast<std::size_t>(i)].fetch_add(1); }, grain);
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) wrong += visits[static_cast<std::size_t>(i)].load() != 1;
  EXPECT_EQ(wrong, 0) << "n=" << n << " grain=" << grain;
}

TEST(ParallelFor, CoversEveryIndexExactlyOnce) {
  for (std::int64_t n : {1, 2, 7, 1000, 1 << 20}) {
    for (std::int64_t grain : {1, 3, 64, 100000}) ExpectEachIndexOnce(n, grain);
  }
}

TEST(ParallelFor, EmptyAndNegativeRangesDoNothing) {
  std::atomic<int> calls{0};
  ParallelFor(0, [&](std::int64_t) { ++calls; });
  ParallelFor(-5, [&](std::int64_t) { ++calls; });
  EXPECT_EQ(calls.load(), 0);
}

TEST(ParallelFor, UsesMoreThanOneThreadWhenAvailable) {
  if (std::thread::hardware_concurrency() < 2 || MaxThreads() < 2) GTEST_SKIP() << "one core";
  std::mutex mutex;
  std::set<std::thread::id> threads;
  ParallelFor(64, [&](std::int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_GE(threads.size(), 2u);
}

TEST(ParallelFor, RespectsTheThreadCap) {
  SetMaxThreads(1);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  ParallelFor(64, [&](std::int64_t) {
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  SetMaxThreads(0);
  EXPECT_EQ(threads.size(), 1u);
}

TEST(ParallelFor, PropagatesExceptions) {
  EXPECT_THROW(ParallelFor(100,
                           [](std::int64_t i) {
                             if (i == 42) throw std::runtime_error("bad element");
                           }),
               std::runtime_error);
}

}  // namespace
}  // namespace facet
