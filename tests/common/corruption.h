// ExpectCorruptionIsHandled: the randomized corruption check every binary reader must pass.
//
// Feeds `count` mutated copies of a valid file to `read(path)`: truncations, flipped bytes,
// 32/64-bit fields overwritten with huge or negative values, deleted spans, and runs of digits
// spliced in (for text headers). Each read must either succeed or throw facet::Error. Anything
// else fails the test: another exception type, std::bad_alloc (an unbounded allocation: run the
// fuzz binary with a memory cap, see CapAddressSpace), or a read slower than `max_seconds` (a
// near-hang). Crashes and memory errors end the process, which the asan preset turns into
// precise reports.
//
// Memory caps. A reader must never allocate more than a small multiple of its (here tiny) input,
// so the fuzz tests run under caps that any such allocation breaks:
// - release builds: CapAddressSpace(kFuzzAddressSpaceBytes) limits the whole process's virtual
//   address space (RLIMIT_AS), so a large `new` throws std::bad_alloc, reported as a failure.
// - AddressSanitizer builds reserve terabytes of shadow memory, so RLIMIT_AS cannot be used;
//   the fuzz binary instead sets `max_allocation_size_mb=1024:allocator_may_return_null=1` in
//   __asan_default_options (tests/datasets/fuzz_asan_options.cpp): malloc returns null above
//   1 GiB, and a throwing `new` that large stops the process with ASan's allocation-size-too-big
//   report (GCC 12's libasan does not turn it into std::bad_alloc), which fails the test too.
//   ASAN_OPTIONS in the environment add to these defaults (flag by flag).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
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

struct CorruptionOptions {
  double max_seconds = 2.0;  // slowest acceptable read of one mutated file (a near-hang)
  // Mutations start within the first mutable_prefix bytes (e.g. a JPEG's header segments, not its
  // entropy-coded data); the default: anywhere.
  std::size_t mutable_prefix = std::numeric_limits<std::size_t>::max();
};

// One random mutation of `original`, starting within its first `mutable_prefix` bytes.
inline std::vector<std::uint8_t> Mutate(
    const std::vector<std::uint8_t>& original, std::mt19937& rng,
    std::size_t mutable_prefix = std::numeric_limits<std::size_t>::max()) {
  std::vector<std::uint8_t> bytes = original;
  // An index in [0, min(n, mutable_prefix)).
  auto random_index = [&](std::size_t n) {
    n = std::min(n, mutable_prefix);
    return std::uniform_int_distribution<std::size_t>(0, n == 0 ? 0 : n - 1)(rng);
  };
  switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
    case 0:  // truncate
      bytes.resize(random_index(bytes.size()));
      break;
    case 1: {  // flip a few bytes
      const int flips = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int i = 0; i < flips && !bytes.empty(); ++i) {
        bytes[random_index(bytes.size())] ^= 1 + rng() % 255;
      }
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
      static constexpr const char* kSplices[] = {"9999999999", "-1", "4294967296",
                                                 "nan",        " ",  "\n"};
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
                                          const CorruptionOptions& options = {}) {
  const double max_seconds = options.max_seconds;
  std::mt19937 rng(seed);
  CorruptionStats stats;
  for (int i = 0; i < count; ++i) {
    const std::vector<std::uint8_t> bytes = Mutate(original, rng, options.mutable_prefix);
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

// The fuzz binaries' address-space cap. datasets_fuzz_test peaks at about 200 MiB of virtual
// memory (measured: VmPeak 197 MiB, one thread, ci preset with CUDA linked), so 1 GiB leaves 5x
// room while any single allocation above about 800 MiB fails, in line with ASan's 1 GiB limit.
inline constexpr std::uint64_t kFuzzAddressSpaceBytes = std::uint64_t{1} << 30;

// Caps the process's address space so that an unbounded allocation throws std::bad_alloc instead
// of exhausting the machine. Not under AddressSanitizer, which reserves terabytes of shadow memory
// (see "Memory caps" above for what replaces it there).
inline void CapAddressSpace(std::uint64_t bytes = kFuzzAddressSpaceBytes) {
#if !defined(__SANITIZE_ADDRESS__)
  rlimit limit{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &limit);
#else
  (void)bytes;
#endif
}

}  // namespace facet::testing
