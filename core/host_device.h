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
