#version 460
// Radix sort, step 3 of a pass: each workgroup moves its block's keys and values to their place
// for this pass's digit. Stable: the block is read in rounds of one key per thread, in order, and
// a key's rank among the round's keys with the same digit comes from a 256-bit mask per digit
// (bit t: thread t holds that digit), so no subgroup operations or subgroup size are needed.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/radix_sort_io.h"

layout(local_size_x = FACET_SORT_THREADS) in;
layout(push_constant, std430) uniform PushConstants {
  SortPushConstants pc;
};

const uint kMaskWords = FACET_SORT_THREADS / 32u;
shared uint digit_offsets[FACET_SORT_RADIX];  // next output index of each digit
shared uint masks[FACET_SORT_RADIX * kMaskWords];

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint block = gl_WorkGroupID.x;
  const uint index = t * pc.block_count + block;  // thread t reads digit t's offset
  digit_offsets[t] = pc.histograms.data[index] + pc.partials.data[index / FACET_SORT_SCAN_CHUNK];
  for (uint w = 0u; w < kMaskWords; ++w) masks[t * kMaskWords + w] = 0u;
  barrier();

  const uint word = t / 32u;
  const uint below = (1u << (t % 32u)) - 1u;  // the bits of lower threads in `word`
  const uint begin = block * FACET_SORT_BLOCK;
  const uint end = min(begin + FACET_SORT_BLOCK, SortKeyCount(pc));
  for (uint round = begin; round < end; round += FACET_SORT_THREADS) {
    const uint i = round + t;
    const bool in_range = i < end;
    uint key = 0u;
    uint value = 0u;
    uint digit = 0u;
    if (in_range) {
      key = pc.keys_in.data[i];
      value = pc.values_in.data[i];
      digit = (key >> pc.shift) & 0xFFu;
      atomicOr(masks[digit * kMaskWords + word], 1u << (t % 32u));
    }
    barrier();
    uint rank = 0u;   // keys of this round with the same digit held by lower threads
    uint total = 0u;  // keys of this round with the same digit
    if (in_range) {
      for (uint w = 0u; w < kMaskWords; ++w) {
        const uint n = uint(bitCount(masks[digit * kMaskWords + w]));
        total += n;
        if (w < word) rank += n;
      }
      rank += uint(bitCount(masks[digit * kMaskWords + word] & below));
      const uint dst = digit_offsets[digit] + rank;
      pc.keys_out.data[dst] = key;
      pc.values_out.data[dst] = value;
    }
    barrier();
    if (in_range && rank + 1u == total) {  // the last thread of each digit moves it on
      digit_offsets[digit] += total;
      for (uint w = 0u; w < kMaskWords; ++w) masks[digit * kMaskWords + w] = 0u;
    }
    barrier();
  }
}
