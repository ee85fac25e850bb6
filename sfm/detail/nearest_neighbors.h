// Nearest neighbours of 128-dimensional rows by inner product, the core of descriptor matching
// (for unit vectors the largest inner product is the smallest distance, |a - b|² = 2 - 2 a·b) and
// of the retrieval vocabulary's word assignment.
//
// The CPU search multiplies tiles of the two sets with a register-blocked kernel chosen at run time
// for the processor (AVX-512, AVX2 + FMA, or portable C++), and folds each tile into per-row best
// and second-best similarities and per-column best rows while it is still in cache, so the full
// n1 x n2 similarity matrix never exists. Row blocks run in parallel on oneTBB.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace facet::sfm::detail {

inline constexpr int kNeighborDim = 128;

// Results for rows `a` (n_a x 128) searched among rows `b` (n_b x 128). Ties go to the lowest
// index, so the result does not depend on thread timing.
struct NeighborTable {
  std::vector<float> best_similarity{};    // per row of a: max_j a_i·b_j
  std::vector<float> second_similarity{};  // per row of a: the next largest (-inf if n_b = 1)
  std::vector<std::int32_t> best_index{};  // per row of a: that j
  std::vector<std::int32_t> column_best_index{};  // per row of b: argmax_i a_i·b_j (when asked)
};

enum class CpuKernel {
  kAuto,      // the fastest the processor supports
  kPortable,  // plain C++ (SSE2 at most)
  kAvx2,      // AVX2 + FMA
  kAvx512,    // AVX-512F
};
std::string_view ToString(CpuKernel kernel);
// Whether this processor can run `kernel` (kAuto and kPortable always can).
bool CpuKernelSupported(CpuKernel kernel);

// `a` and `b` are row-major float arrays of n_a and n_b rows of 128. With `with_columns`, also
// fills column_best_index. n_a and n_b may be 0 (empty tables).
NeighborTable FindNeighborsCpu(const float* a, std::int64_t n_a, const float* b, std::int64_t n_b,
                               bool with_columns, CpuKernel kernel = CpuKernel::kAuto);

}  // namespace facet::sfm::detail
