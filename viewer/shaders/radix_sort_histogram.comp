#version 460
// Radix sort, step 1 of a pass: each workgroup counts the digits of its block of
// FACET_SORT_BLOCK keys and writes them digit-major (histograms[digit * block_count + block]).
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/radix_sort_io.h"

layout(local_size_x = FACET_SORT_THREADS) in;
layout(push_constant, std430) uniform PushConstants {
  SortPushConstants pc;
};

shared uint counts[FACET_SORT_RADIX];

void main() {
  const uint t = gl_LocalInvocationID.x;  // also the digit this thread writes out
  const uint block = gl_WorkGroupID.x;
  counts[t] = 0u;
  barrier();
  const uint begin = block * FACET_SORT_BLOCK;
  const uint end = min(begin + FACET_SORT_BLOCK, SortKeyCount(pc));
  for (uint i = begin + t; i < end; i += FACET_SORT_THREADS) {
    atomicAdd(counts[(pc.keys_in.data[i] >> pc.shift) & 0xFFu], 1u);
  }
  barrier();
  pc.histograms.data[t * pc.block_count + block] = counts[t];
}
