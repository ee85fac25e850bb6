// The baseline build of the MLP block kernels (mlp_block_impl.h), and the run-time choice.
#define FACET_MLP_BLOCK_NAMESPACE generic
#define FACET_MLP_BLOCK_NAME "generic"
#include "nerf/detail/mlp_block_impl.h"

namespace facet::nerf::detail {

#if defined(FACET_NERF_X86_KERNELS)
namespace avx2 {
extern const MlpBlockKernels kKernels;
}
namespace avx512 {
extern const MlpBlockKernels kKernels;
}
#endif

const MlpBlockKernels& GenericMlpBlockKernels() { return generic::kKernels; }

std::vector<const MlpBlockKernels*> RunnableMlpBlockKernels() {
  std::vector<const MlpBlockKernels*> kernels = {&generic::kKernels};
#if defined(FACET_NERF_X86_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    kernels.push_back(&avx2::kKernels);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) {
      kernels.push_back(&avx512::kKernels);
    }
  }
#endif
  return kernels;
}

const MlpBlockKernels& SelectMlpBlockKernels() {
  static const MlpBlockKernels* const selected = RunnableMlpBlockKernels().back();
  return *selected;
}

}  // namespace facet::nerf::detail
