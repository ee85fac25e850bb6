// Push constants and sizes shared by GpuRadixSort (viewer/gpu_sort.cpp) and its compute shaders
// (radix_sort_*.comp), plus the float-to-key map for depth keys in both languages.
#ifndef FACET_VIEWER_SHADERS_RADIX_SORT_IO_H_
#define FACET_VIEWER_SHADERS_RADIX_SORT_IO_H_

#include "viewer/shaders/shader_io.h"

#ifdef __cplusplus
#include <bit>

namespace facet::viewer::shader {
#endif

// LSD radix sort with 8-bit digits: 4 passes over 32-bit keys.
#define FACET_SORT_RADIX 256u
// Threads per workgroup in every sort shader (one per digit in the histogram and scatter).
#define FACET_SORT_THREADS 256u
// Keys per histogram / scatter workgroup ("block"): 16 rounds of one key per thread.
#define FACET_SORT_BLOCK 4096u
// Entries of the digit-major histogram array scanned by one workgroup of the local scan.
#define FACET_SORT_SCAN_CHUNK 1024u

#ifndef __cplusplus
layout(buffer_reference, std430, buffer_reference_align = 4) buffer SortUintBuffer { uint data[]; };
#endif

// Push constants of all sort pipelines (88 bytes). `histograms` is digit-major:
// histograms[digit * block_count + block], so its exclusive prefix sum (chunked: each chunk of
// FACET_SORT_SCAN_CHUNK entries scanned locally, the chunk totals in `partials` scanned once) is
// the first output index of each (digit, block).
struct SortPushConstants {
  FACET_BUFFER_REF(SortUintBuffer) keys_in;
  FACET_BUFFER_REF(SortUintBuffer) values_in;
  FACET_BUFFER_REF(SortUintBuffer) keys_out;
  FACET_BUFFER_REF(SortUintBuffer) values_out;
  FACET_BUFFER_REF(SortUintBuffer) histograms;  // FACET_SORT_RADIX * block_count
  FACET_BUFFER_REF(SortUintBuffer) partials;    // ceil(RADIX * block_count / SCAN_CHUNK)
  uint count;                                   // keys to sort (at most: see device_count)
  uint shift;                                   // bit of this pass's digit: 0, 8, 16, 24
  uint block_count;                             // ceil(count / FACET_SORT_BLOCK)
  uint partial_count;                           // entries of `partials`
  // When use_device_count is 1: data[0] holds the number of keys to sort, written on the GPU
  // by an earlier pass; `count` (which sized the dispatches) caps it.
  FACET_BUFFER_REF(SortUintBuffer) device_count;
  uint use_device_count;
  uint unused0, unused1, unused2;
};

#ifdef __cplusplus
static_assert(offsetof(SortPushConstants, partials) == 40);
static_assert(offsetof(SortPushConstants, count) == 48);
static_assert(offsetof(SortPushConstants, device_count) == 64);
static_assert(sizeof(SortPushConstants) == 88);

// A key whose unsigned order is the order of the float `depth` (any sign; NaNs sort past +inf):
// positive floats' bits already order as the floats, so their sign bit is set to put them above
// the negatives, whose bits are flipped to reverse their order. Ascending keys are front-to-back
// (near first: the order of front-to-back "under" blending); ~key sorts back-to-front (far
// first: the order of ordinary "over" blending).
inline std::uint32_t SortKeyFromDepth(float depth) {
  const auto bits = std::bit_cast<std::uint32_t>(depth);
  return (bits & 0x80000000u) != 0u ? ~bits : bits | 0x80000000u;
}
}  // namespace facet::viewer::shader
#else
// The number of keys this sort sorts (SortPushConstants::device_count).
uint SortKeyCount(SortPushConstants pc) {
  return pc.use_device_count != 0u ? min(pc.device_count.data[0], pc.count) : pc.count;
}

uint SortKeyFromDepth(float depth) {  // as the C++ version above
  uint bits = floatBitsToUint(depth);
  return (bits & 0x80000000u) != 0u ? ~bits : bits | 0x80000000u;
}
#endif

#endif  // FACET_VIEWER_SHADERS_RADIX_SORT_IO_H_
