// Adam (Kingma & Ba 2015) for one parameter, shared by the CPU loop (nerf/adam.cpp) and CUDA.
// instant-ngp's settings (Müller et al. 2022, sec. 4): beta1 0.9, beta2 0.99, epsilon 1e-15,
// and an L2 regularisation of 1e-6 on the network weights (not on the hash table).
#pragma once

#include <cmath>

#include "core/host_device.h"

namespace facet::nerf::kernels {

struct AdamStep {
  float learning_rate = 1e-2f;
  float beta1 = 0.9f;
  float beta2 = 0.99f;
  float epsilon = 1e-15f;
  float l2 = 0.0f;  // weight decay added to the gradient: g + l2 * param
  // Bias corrections 1 - beta^t of this step t (>= 1).
  float correction1 = 1.0f;
  float correction2 = 1.0f;
};

// Updates one parameter and its moments in place. A zero gradient still decays the moments and
// moves the parameter (dense Adam); callers that want sparse updates (hash-table entries no ray
// touched) skip the call instead.
FACET_HOST_DEVICE inline void AdamUpdate(const AdamStep& s, float gradient, float* param, float* m,
                                         float* v) {
  const float g = gradient + s.l2 * *param;
  *m = s.beta1 * *m + (1.0f - s.beta1) * g;
  *v = s.beta2 * *v + (1.0f - s.beta2) * g * g;
  const float m_hat = *m / s.correction1;
  const float v_hat = *v / s.correction2;
  *param -= s.learning_rate * m_hat / (sqrtf(v_hat) + s.epsilon);
}

}  // namespace facet::nerf::kernels
