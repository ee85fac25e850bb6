// The CUDA splatting ops' device arrays: core/device_buffer.h's DeviceBuffer, shared with the
// NeRF trainer. Include only from code built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include "core/device_buffer.h"

namespace facet::splatting {

using facet::CopyToHost;
using facet::DeviceBuffer;
using facet::DeviceBufferBytes;

}  // namespace facet::splatting
