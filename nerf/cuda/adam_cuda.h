// The CUDA path of Adam::Step (nerf/adam.h) over a flat device array (the hash table, an MLP's
// weights): the same per-parameter update (kernels/adam.h's AdamUpdate) and step constants
// (MakeAdamStep), one thread per parameter. nvcc may contract multiply-adds, so results agree
// with the CPU step to float rounding, not bit for bit.
//
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace facet::nerf {

struct AdamOptions;

// One Adam step t = `step` (>= 1, the caller's count, as Adam::step_count() after the step) on
// device arrays params, m, v (updated in place) and grads, all `count` long, at learning rate
// options.learning_rate * lr_scale. With options.sparse, parameters whose gradient is exactly
// zero are left alone (value and moments). Queued on `stream` (nullptr: the legacy default
// stream) without synchronising. Throws facet::Error for bad options, step < 1, a negative or
// non-finite lr_scale, a negative count or a null array with count > 0.
void AdamStepCuda(const AdamOptions& options, std::int64_t step, float lr_scale, float* params,
                  const float* grads, float* m, float* v, std::int64_t count,
                  CUstream_st* stream = nullptr);

}  // namespace facet::nerf
