// ExpectCorruptionIsHandled: the randomized corruption check every binary reader must pass.
//
// Feeds `count` mutated copies of a valid file to `read(path)`: truncations, flipped bytes,
// 32/64-bit fields overwritten with huge or negative values, deleted spans, and runs of digits
// spliced in (for text headers). Each read must either succeed or throw facet::Error. Anything
// else fails the test: another exception type, std::bad_alloc (an unbounded allocation: run the
// fuzz binary with a memory cap, see CapAddressSpace), or a read slower than `max_seconds` (a
// near-hang). Crashes and memory errors end the process, which the asan preset turns into
// precise reports.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "core/error.h"

namespace facet::testing {

struct CorruptionStats {
  int accepted = 0;  // mutated files that still read successfully
  int rejected = 0;  // mutated files refused with facet::Error
};

inline std::vector<std::uint8_t> Mutate(const std::vector<std::uint8_t>& original,
                                        std::mt19937& rng) {
  std::vector<std::uint8_t> bytes = original;
  auto random_index = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n == 0 ? 0 : n - 1)(rng);
  };
  switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
    case 0:  // truncate
      bytes.resize(random_index(bytes.size()));
      break;
    case 1: {  // flip a few bytes
      const int flips = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int i = 0; i < flips && !bytes.empty(); ++i)
        bytes[random_index(bytes.size())] ^= 1 + rng() % 255;
      break;
    }
    case 2: {  // a 32-bit field set to an extreme value
      static constexpr std::uint32_t kValues[] = {0xffffffffu, 0x7fffffffu, 0x80000000u, 0u,
                                                  0x10000000u};
      if (bytes.size() >= 4) {
        const std::uint32_t v = kValues[rng() % 5];
        std::memcpy(bytes.data() + random_index(bytes.size() - 3), &v, 4);
      }
      break;
    }
    case 3: {  // a 64-bit field set to an extreme value
      static constexpr std::uint64_t kValues[] = {~0ull, 0x7fffffffffffffffull, 1ull << 40,
                                                  1ull << 62};
      if (bytes.size() >= 8) {
        const std::uint64_t v = kValues[rng() % 4];
        std::memcpy(bytes.data() + random_index(bytes.size() - 7), &v, 8);
      }
      break;
    }
    case 4: {  // delete a span
      if (!bytes.empty()) {
        const std::size_t begin = random_index(bytes.size());
        const std::size_t length = std::min<std::size_t>(bytes.size() - begin, 1 + rng() % 64);
        bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(begin),
                    bytes.begin() + static_cast<std::ptrdiff_t>(begin + length));
      }
      break;
    }
    default: {  // splice in digits or a minus sign (text headers and numbers)
      static const char* kSplices[] = {"9999999999", "-1", "4294967296", "nan", " ", "\n"};
      const std::string splice = kSplices[rng() % 6];
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(random_index(bytes.size() + 1)),
                   splice.begin(), splice.end());
      break;
    }
  }
  return bytes;
}

template <typename ReadFn>
CorruptionStats ExpectCorruptionIsHandled(const std::vector<std::uint8_t>& original,
                                          const std::filesystem::path& scratch, int count,
                                          std::uint32_t seed, ReadFn&& read,
                                          double max_seconds = 2.0) {
  std::mt19937 rng(seed);
  CorruptionStats stats;
  for (int i = 0; i < count; ++i) {
    const std::vector<std::uint8_t> bytes = Mutate(original, rng);
    {
      std::ofstream out(scratch, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    }
    const auto start = std::chrono::steady_clock::now();
    try {
      read(scratch);
      ++stats.accepted;
    } catch (const facet::Error&) {
      ++stats.rejected;
    } catch (const std::bad_alloc&) {
      ADD_FAILURE() << "mutation " << i << " (seed " << seed << "): unbounded allocation";
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutation " << i << " (seed " << seed << "): " << e.what()
                    << " is not a facet::Error";
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > max_seconds) {
      ADD_FAILURE() << "mutation " << i << " (seed " << seed << ") took " << seconds << " s";
    }
    if (::testing::Test::HasFailure()) break;  // one clear report beats thousands
  }
  return stats;
}

// Caps the process's address space so that an unbounded allocation throws std::bad_alloc instead
// of exhausting the machine. Not under AddressSanitizer, which reserves terabytes of shadow memory
// (use ASAN_OPTIONS=max_allocation_size_mb=... there instead).
inline void CapAddressSpace(std::uint64_t bytes) {
#if !defined(__SANITIZE_ADDRESS__)
  rlimit limit{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &limit);
#else
  (void)bytes;
#endif
}

}  // namespace facet::testing
