#version 460
// Radix sort, step 2 of a pass: the exclusive prefix sum of the digit-major histograms, in two
// dispatches of this shader. kScanPartials = 0: workgroup g scans chunk g (FACET_SORT_SCAN_CHUNK
// entries) of `histograms` in place and writes its total to partials[g]. kScanPartials = 1: one
// workgroup scans `partials` in place, chunk after chunk. The scatter adds the two.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/radix_sort_io.h"

layout(local_size_x = FACET_SORT_THREADS) in;
layout(constant_id = 0) const uint kScanPartials = 0u;
layout(push_constant, std430) uniform PushConstants {
  SortPushConstants pc;
};

const uint kPerThread = FACET_SORT_SCAN_CHUNK / FACET_SORT_THREADS;
shared uint sums[FACET_SORT_THREADS];

// Exclusive prefix sum of `value` over the workgroup (Hillis and Steele); `total` is the sum of
// all. Called by every thread.
uint WorkgroupExclusiveScan(uint value, out uint total) {
  const uint t = gl_LocalInvocationID.x;
  sums[t] = value;
  barrier();
  for (uint offset = 1u; offset < FACET_SORT_THREADS; offset <<= 1u) {
    const uint add = t >= offset ? sums[t - offset] : 0u;
    barrier();
    sums[t] += add;
    barrier();
  }
  total = sums[FACET_SORT_THREADS - 1u];
  const uint inclusive = sums[t];
  barrier();  // `sums` is reused by the next call
  return inclusive - value;
}

// Replaces data[begin, min(begin + CHUNK, end)) by its exclusive prefix sum plus `carry`;
// returns the sum of the chunk.
uint ScanChunk(SortUintBuffer data, uint begin, uint end, uint carry) {
  const uint base = begin + gl_LocalInvocationID.x * kPerThread;
  uint values[kPerThread];
  uint sum = 0u;
  for (uint k = 0u; k < kPerThread; ++k) {
    values[k] = base + k < end ? data.data[base + k] : 0u;
    sum += values[k];
  }
  uint total;
  uint prefix = WorkgroupExclusiveScan(sum, total) + carry;
  for (uint k = 0u; k < kPerThread; ++k) {
    if (base + k < end) data.data[base + k] = prefix;
    prefix += values[k];
  }
  return total;
}

void main() {
  if (kScanPartials == 0u) {
    const uint chunk = gl_WorkGroupID.x;
    const uint total = ScanChunk(pc.histograms, chunk * FACET_SORT_SCAN_CHUNK,
                                 FACET_SORT_RADIX * pc.block_count, 0u);
    if (gl_LocalInvocationID.x == 0u) pc.partials.data[chunk] = total;
  } else {
    uint carry = 0u;
    for (uint begin = 0u; begin < pc.partial_count; begin += FACET_SORT_SCAN_CHUNK) {
      carry += ScanChunk(pc.partials, begin, pc.partial_count, carry);
    }
  }
}
