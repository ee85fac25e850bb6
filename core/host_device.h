// FACET_HOST_DEVICE marks the per-element math shared by the CPU and CUDA paths: compiled by g++
// as plain inline functions, and by nvcc for both host and device. Kernel headers (`*_impl.h`)
// use it and nothing from Eigen or the CUDA runtime, so one source serves both backends.
#pragma once

#if defined(__CUDACC__)
#define FACET_HOST_DEVICE __host__ __device__
#define FACET_DEVICE __device__
#else
#define FACET_HOST_DEVICE
#define FACET_DEVICE
#endif

// FACET_UNROLL before a loop with a compile-time trip count: fully unrolled by nvcc's device pass
// (so register arrays indexed by the loop variable stay in registers); FACET_NO_UNROLL: kept a
// loop there. Nothing on the host compilers.
#if defined(__CUDA_ARCH__)
#define FACET_UNROLL _Pragma("unroll")
#define FACET_NO_UNROLL _Pragma("unroll 1")
#else
#define FACET_UNROLL
#define FACET_NO_UNROLL
#endif
