// Per-element photometric losses on colours and their derivatives, shared by the CPU
// (nerf/volume_rendering.cpp, ColourLoss) and CUDA paths. r = predicted - target, per channel.
//   L2:    l = r^2,                                      dl/dr = 2 r
//   Huber: l = r^2 / 2 for |r| <= delta,                  dl/dr = r
//            delta (|r| - delta / 2) otherwise,           dl/dr = delta sign(r)
// (instant-ngp offers both; its NeRF default is L2, Huber with delta 0.1 is more robust to
// outlier pixels.)
#pragma once

#include <cmath>

#include "core/host_device.h"

namespace facet::nerf::kernels {

FACET_HOST_DEVICE inline float L2Loss(float r, float* d_r) {
  *d_r = 2.0f * r;
  return r * r;
}

// delta > 0.
FACET_HOST_DEVICE inline float HuberLoss(float r, float delta, float* d_r) {
  const float a = fabsf(r);
  if (a <= delta) {
    *d_r = r;
    return 0.5f * r * r;
  }
  *d_r = r > 0.0f ? delta : -delta;
  return delta * (a - 0.5f * delta);
}

}  // namespace facet::nerf::kernels
