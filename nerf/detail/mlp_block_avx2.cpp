// The AVX2 + FMA build of the MLP block kernels (mlp_block_impl.h; compiled with -mavx2 -mfma on
// x86-64 only, chosen at run time by SelectMlpBlockKernels). Eigen's namespace is renamed here so
// that these instantiations of its templates, which use AVX2 instructions, cannot stand in for
// the baseline ones at link time.
#define Eigen FacetEigenAvx2Fma
#define FACET_MLP_BLOCK_NAMESPACE avx2
#define FACET_MLP_BLOCK_NAME "avx2+fma"
#include "nerf/detail/mlp_block_impl.h"
