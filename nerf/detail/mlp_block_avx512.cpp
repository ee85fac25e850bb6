// The AVX-512 build of the MLP block kernels (mlp_block_impl.h; compiled with -mavx512f
// -mavx512dq -mfma on x86-64 only, chosen at run time by SelectMlpBlockKernels). Eigen's namespace
// is renamed here, as in mlp_block_avx2.cpp, so that these instantiations of its templates cannot
// stand in for the others at link time.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own AVX-512 unpack intrinsics as reading an uninitialised vector when
// Eigen's transposes inline them (a false positive of -Wmaybe-uninitialized).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define Eigen FacetEigenAvx512
#define FACET_MLP_BLOCK_NAMESPACE avx512
#define FACET_MLP_BLOCK_NAME "avx512"
#include "nerf/detail/mlp_block_impl.h"
