// The CUDA path of Adam::Step (splatting/adam.h): one parameter group updated in place on the
// device, with the same float arithmetic as the CPU step (torch.optim.Adam, single-tensor path):
//
//   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2,
//   p -= step_size * m / (sqrt(v) / bias2_sqrt + eps),
//   step_size = lr / (1 - b1^t),  bias2_sqrt = sqrt(1 - b2^t)   (both in double, then float).
//
// The device code rounds every operation separately (no fused multiply-adds), as the CPU does, so
// the two paths give the same bits for the same inputs. A trainer calls it once per
// Gaussians::Group with that group's learning rate and the step number t shared by all groups.
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::splatting {

struct AdamOptions;

// Updates `count` parameters (device arrays params, exp_avg = m, exp_avg_sq = v, all [count],
// grads read only) for step t = `step` >= 1. Queued on `stream` (nullptr: the legacy default
// stream) without synchronising. Throws facet::Error for a negative count, step < 1, a learning
// rate that is negative or not finite, options out of range (as AdamOptions::Check), or a null
// array with count > 0.
void AdamStepCuda(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                  std::int64_t count, float lr, std::int64_t step, const AdamOptions& options,
                  CUstream_st* stream = nullptr);

}  // namespace facet::splatting
