// The output activations of instant-ngp's networks (Müller et al. 2022, sec. 5.4 and
// tiny-cuda-nn's "truncated exponential"), applied by the caller to the linear MLP outputs:
//
//   density  sigma = exp(x), whose gradient is taken as exp(clamp(x, -15, 15)) so that a raw
//            output far from zero neither stalls (exp(-big) ~ 0) nor explodes the update;
//   colour   c = sigmoid(x) = 1 / (1 + exp(-x)),  dc/dx = c (1 - c).
//
// Forward and derivative are separate so the backward pass needs only the raw output x (or, for
// the sigmoid, the activated value). Shared by the CPU loops and the CUDA kernels.
#pragma once

#include <math.h>

#include "core/host_device.h"

namespace facet::nerf::kernels {

inline constexpr float kTruncExpClamp = 15.0f;

FACET_HOST_DEVICE inline float TruncExp(float x) { return expf(x); }

// d TruncExp / dx as instant-ngp uses it: exp of x clamped to [-15, 15].
FACET_HOST_DEVICE inline float TruncExpDerivative(float x) {
  const float c = x < -kTruncExpClamp ? -kTruncExpClamp : (x > kTruncExpClamp ? kTruncExpClamp : x);
  return expf(c);
}

FACET_HOST_DEVICE inline float Sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// d sigmoid / dx at x.
FACET_HOST_DEVICE inline float SigmoidDerivative(float x) {
  const float s = Sigmoid(x);
  return s * (1.0f - s);
}

// The same derivative from the activated value s = sigmoid(x), for callers that kept s.
FACET_HOST_DEVICE inline float SigmoidDerivativeFromOutput(float s) { return s * (1.0f - s); }

}  // namespace facet::nerf::kernels
