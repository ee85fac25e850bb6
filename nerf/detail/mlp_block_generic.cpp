// The baseline build of the MLP block kernels (mlp_block_impl.h), and the run-time choice.
#define FACET_MLP_BLOCK_NAMESPACE generic
#define FACET_MLP_BLOCK_NAME "generic"
#include "nerf/detail/mlp_block_impl.h"

namespace facet::nerf::detail {

#if defined(FACET_NERF_AVX2)
namespace avx2 {
extern const MlpBlockKernels kKernels;
}
#endif

const MlpBlockKernels& GenericMlpBlockKernels() { return generic::kKernels; }

const MlpBlockKernels* Avx2MlpBlockKernels() {
#if defined(FACET_NERF_AVX2)
  return &avx2::kKernels;
#else
  return nullptr;
#endif
}

const MlpBlockKernels& SelectMlpBlockKernels() {
#if defined(FACET_NERF_AVX2)
  static const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (has_avx2) return avx2::kKernels;
#endif
  return generic::kKernels;
}

}  // namespace facet::nerf::detail
