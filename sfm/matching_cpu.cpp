// CPU nearest-neighbour search by inner products (see detail/nearest_neighbors.h).
//
// Loop nest (the classic GEMM blocking, Goto & van de Geijn 2008): b is packed once into panels of
// 32 columns (128 x 32 floats, k-major); a is cut into blocks of 192 rows, one oneTBB task each;
// inside a block, 512-column chunks of b (256 KB, L2-resident) are swept by 12 x 32 register
// tiles. Each tile is reduced at once to its row maxima and column maxima; a row's top two are
// only rescanned when the tile beats its current second best, which after the first chunks is rare.
#include <oneapi/tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/parallel_for.h"
#include "sfm/detail/nearest_neighbors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACET_SFM_X86 1
#endif

namespace facet::sfm::detail {
namespace {

// Pointer-offset width, so that index products never overflow int.
constexpr std::ptrdiff_t kDim = kNeighborDim;
constexpr std::ptrdiff_t kTileRows = 12;
constexpr std::ptrdiff_t kTileCols = 32;
constexpr std::ptrdiff_t kBlockRows = 16 * kTileRows;  // rows of a per task
constexpr int kChunkPanels = 16;                       // panels of b per cache chunk (512 columns)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// One 12 x 32 tile: a (12 rows of 128, row-major), panel (128 x 32, k-major), bias (32 columns:
// 0, or -inf for padding columns) → tile (12 x 32, row-major) = a · panel + bias, row_max (12),
// and for the first `valid_rows` rows col_max (32) and col_arg (32, first row attaining it).
struct TileOutput {
  alignas(64) float tile[kTileRows * kTileCols];
  alignas(64) float col_max[kTileCols];
  alignas(64) std::int32_t col_arg[kTileCols];
  float row_max[kTileRows];
};
using TileFn = void (*)(const float* a, const float* panel, const float* bias, int valid_rows,
                        TileOutput* out);

void TilePortable(const float* a, const float* panel, const float* bias, int valid_rows,
                  TileOutput* out) {
  float* t = out->tile;
  for (int r = 0; r < kTileRows; ++r) std::copy(bias, bias + kTileCols, t + r * kTileCols);
  for (int k = 0; k < kDim; ++k) {
    const float* bk = panel + k * kTileCols;
    for (int r = 0; r < kTileRows; ++r) {
      const float av = a[r * kDim + k];
      float* tr = t + r * kTileCols;
      for (int c = 0; c < kTileCols; ++c) tr[c] += av * bk[c];
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    out->row_max[r] = *std::max_element(t + r * kTileCols, t + (r + 1) * kTileCols);
  }
  for (int c = 0; c < kTileCols; ++c) {
    out->col_max[c] = t[c];
    out->col_arg[c] = 0;
  }
  for (int r = 1; r < valid_rows; ++r) {
    for (int c = 0; c < kTileCols; ++c) {
      const float v = t[r * kTileCols + c];
      if (v > out->col_max[c]) {
        out->col_max[c] = v;
        out->col_arg[c] = r;
      }
    }
  }
}

#if defined(FACET_SFM_X86)
// Row maxima of a stored tile with 256-bit vectors (shared by both x86 kernels: GCC 12's 512-bit
// max intrinsics trip -Wuninitialized inside its own headers).
__attribute__((target("avx2"))) void RowMaxAvx2(TileOutput* out) {
  for (int r = 0; r < kTileRows; ++r) {
    const float* tr = out->tile + r * kTileCols;
    const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_load_ps(tr), _mm256_load_ps(tr + 8)),
                                   _mm256_max_ps(_mm256_load_ps(tr + 16), _mm256_load_ps(tr + 24)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    out->row_max[r] = _mm_cvtss_f32(h);
  }
}

__attribute__((target("avx2,fma"))) void TileAvx2(const float* a, const float* panel,
                                                  const float* bias, int valid_rows,
                                                  TileOutput* out) {
  // Four 6 x 16 sub-tiles: 12 accumulators + 2 panel vectors + 1 broadcast of 16 ymm registers.
  constexpr std::ptrdiff_t kSubRows = 6;
  constexpr std::ptrdiff_t kSubCols = 16;
  for (std::ptrdiff_t rh = 0; rh < 2; ++rh) {
    for (std::ptrdiff_t ch = 0; ch < 2; ++ch) {
      const float* ar = a + rh * kSubRows * kDim;
      const float* b = panel + ch * kSubCols;
      __m256 acc[kSubRows][2];
      for (int r = 0; r < kSubRows; ++r) {
        acc[r][0] = _mm256_loadu_ps(bias + ch * kSubCols);
        acc[r][1] = _mm256_loadu_ps(bias + ch * kSubCols + 8);
      }
      for (int k = 0; k < kDim; ++k) {
        const __m256 b0 = _mm256_loadu_ps(b + k * kTileCols);
        const __m256 b1 = _mm256_loadu_ps(b + k * kTileCols + 8);
        for (int r = 0; r < kSubRows; ++r) {
          const __m256 av = _mm256_broadcast_ss(ar + r * kDim + k);
          acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
      }
      float* t = out->tile + rh * kSubRows * kTileCols + ch * kSubCols;
      for (int r = 0; r < kSubRows; ++r) {
        _mm256_store_ps(t + r * kTileCols, acc[r][0]);
        _mm256_store_ps(t + r * kTileCols + 8, acc[r][1]);
      }
    }
  }
  RowMaxAvx2(out);
  const float* t = out->tile;
  for (int q = 0; q < kTileCols; q += 8) {
    __m256 cmax = _mm256_load_ps(t + q);
    __m256 carg = _mm256_setzero_ps();  // row indices as int bit patterns
    for (int r = 1; r < valid_rows; ++r) {
      const __m256 v = _mm256_load_ps(t + r * kTileCols + q);
      const __m256 gt = _mm256_cmp_ps(v, cmax, _CMP_GT_OQ);
      cmax = _mm256_blendv_ps(cmax, v, gt);
      carg = _mm256_blendv_ps(carg, _mm256_castsi256_ps(_mm256_set1_epi32(r)), gt);
    }
    _mm256_store_ps(out->col_max + q, cmax);
    _mm256_store_si256(reinterpret_cast<__m256i*>(out->col_arg + q), _mm256_castps_si256(carg));
  }
}

__attribute__((target("avx512f"))) void TileAvx512(const float* a, const float* panel,
                                                   const float* bias, int valid_rows,
                                                   TileOutput* out) {
  // 24 accumulators + 2 panel vectors + 1 broadcast of 32 zmm registers.
  __m512 acc[kTileRows][2];
  const __m512 bias0 = _mm512_loadu_ps(bias);
  const __m512 bias1 = _mm512_loadu_ps(bias + 16);
  for (int r = 0; r < kTileRows; ++r) {
    acc[r][0] = bias0;
    acc[r][1] = bias1;
  }
  for (int k = 0; k < kDim; ++k) {
    const __m512 b0 = _mm512_loadu_ps(panel + k * kTileCols);
    const __m512 b1 = _mm512_loadu_ps(panel + k * kTileCols + 16);
    for (int r = 0; r < kTileRows; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * kDim + k]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    _mm512_store_ps(out->tile + r * kTileCols, acc[r][0]);
    _mm512_store_ps(out->tile + r * kTileCols + 16, acc[r][1]);
  }
  RowMaxAvx2(out);
  __m512 cmax0 = acc[0][0];
  __m512 cmax1 = acc[0][1];
  __m512i carg0 = _mm512_setzero_si512();
  __m512i carg1 = _mm512_setzero_si512();
  for (int r = 1; r < kTileRows; ++r) {
    if (r >= valid_rows) break;
    const __mmask16 gt0 = _mm512_cmp_ps_mask(acc[r][0], cmax0, _CMP_GT_OQ);
    const __mmask16 gt1 = _mm512_cmp_ps_mask(acc[r][1], cmax1, _CMP_GT_OQ);
    cmax0 = _mm512_mask_blend_ps(gt0, cmax0, acc[r][0]);
    cmax1 = _mm512_mask_blend_ps(gt1, cmax1, acc[r][1]);
    carg0 = _mm512_mask_blend_epi32(gt0, carg0, _mm512_set1_epi32(r));
    carg1 = _mm512_mask_blend_epi32(gt1, carg1, _mm512_set1_epi32(r));
  }
  _mm512_store_ps(out->col_max, cmax0);
  _mm512_store_ps(out->col_max + 16, cmax1);
  _mm512_store_si512(out->col_arg, carg0);
  _mm512_store_si512(out->col_arg + 16, carg1);
}
#endif

CpuKernel ResolveKernel(CpuKernel kernel) {
  if (kernel != CpuKernel::kAuto) {
    FACET_CHECK(CpuKernelSupported(kernel), "this processor cannot run the {} matching kernel",
                ToString(kernel));
    return kernel;
  }
  if (CpuKernelSupported(CpuKernel::kAvx512)) return CpuKernel::kAvx512;
  if (CpuKernelSupported(CpuKernel::kAvx2)) return CpuKernel::kAvx2;
  return CpuKernel::kPortable;
}

TileFn KernelFunction(CpuKernel kernel) {
#if defined(FACET_SFM_X86)
  if (kernel == CpuKernel::kAvx512) return TileAvx512;
  if (kernel == CpuKernel::kAvx2) return TileAvx2;
#endif
  (void)kernel;
  return TilePortable;
}

// b packed into panels of 32 columns, k-major, zero beyond n_b.
std::vector<float> PackPanels(const float* b, std::int64_t n_b, std::int64_t num_panels) {
  std::vector<float> packed(static_cast<std::size_t>(num_panels) * kDim * kTileCols, 0.0f);
  ParallelFor(num_panels, [&](std::int64_t p) {
    float* out = packed.data() + p * kDim * kTileCols;
    const std::int64_t cols = std::min<std::int64_t>(kTileCols, n_b - p * kTileCols);
    for (std::int64_t c = 0; c < cols; ++c) {
      const float* row = b + (p * kTileCols + c) * kDim;
      for (int k = 0; k < kDim; ++k) out[k * kTileCols + c] = row[k];
    }
  });
  return packed;
}

// Per-column best row, merged with ties to the lower row so the order of merging does not matter.
struct ColumnBest {
  std::vector<float> similarity;
  std::vector<std::int32_t> row;
  void Offer(std::int64_t j, float s, std::int32_t i) {
    if (s > similarity[j] || (s == similarity[j] && i < row[j])) {
      similarity[j] = s;
      row[j] = i;
    }
  }
};

}  // namespace

std::string_view ToString(CpuKernel kernel) {
  switch (kernel) {
    case CpuKernel::kAuto:
      return "auto";
    case CpuKernel::kPortable:
      return "portable";
    case CpuKernel::kAvx2:
      return "avx2";
    case CpuKernel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool CpuKernelSupported(CpuKernel kernel) {
  switch (kernel) {
    case CpuKernel::kAuto:
    case CpuKernel::kPortable:
      return true;
#if defined(FACET_SFM_X86)
    case CpuKernel::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuKernel::kAvx512:
      return __builtin_cpu_supports("avx512f");
#else
    default:
      return false;
#endif
  }
  return false;
}

NeighborTable FindNeighborsCpu(const float* a, std::int64_t n_a, const float* b, std::int64_t n_b,
                               bool with_columns, CpuKernel kernel) {
  FACET_CHECK(
      n_a >= 0 && n_b >= 0 && n_a < (std::int64_t{1} << 31) && n_b < (std::int64_t{1} << 31),
      "neighbour search sizes must be in 0-2^31 (got {} and {})", n_a, n_b);
  const TileFn tile_fn = KernelFunction(ResolveKernel(kernel));
  NeighborTable table;
  table.best_similarity.assign(static_cast<std::size_t>(n_a), kNegInf);
  table.second_similarity.assign(static_cast<std::size_t>(n_a), kNegInf);
  table.best_index.assign(static_cast<std::size_t>(n_a), -1);
  if (with_columns) table.column_best_index.assign(static_cast<std::size_t>(n_b), -1);
  if (n_a == 0 || n_b == 0) return table;

  const std::int64_t num_panels = (n_b + kTileCols - 1) / kTileCols;
  const std::vector<float> packed = PackPanels(b, n_b, num_panels);
  std::array<float, kTileCols> full_bias{};
  std::array<float, kTileCols> last_bias{};
  for (int c = 0; c < kTileCols; ++c) {
    last_bias[c] = (num_panels - 1) * kTileCols + c < n_b ? 0.0f : kNegInf;
  }

  oneapi::tbb::enumerable_thread_specific<ColumnBest> columns([&] {
    return ColumnBest{std::vector<float>(with_columns ? n_b : 0, kNegInf),
                      std::vector<std::int32_t>(with_columns ? n_b : 0, -1)};
  });
  const std::int64_t num_blocks = (n_a + kBlockRows - 1) / kBlockRows;
  ParallelFor(num_blocks, [&](std::int64_t block) {
    const std::int64_t row0 = block * kBlockRows;
    const int rows = static_cast<int>(std::min<std::int64_t>(kBlockRows, n_a - row0));
    // The last block reads from a zero-padded copy so tiles never read past a's end.
    std::vector<float> padded;
    const float* a_block = a + row0 * kDim;
    if (rows % kTileRows != 0) {
      padded.assign(static_cast<std::size_t>(kBlockRows) * kDim, 0.0f);
      std::memcpy(padded.data(), a_block, sizeof(float) * rows * kDim);
      a_block = padded.data();
    }
    float* best = table.best_similarity.data() + row0;
    float* second = table.second_similarity.data() + row0;
    std::int32_t* best_index = table.best_index.data() + row0;
    ColumnBest* column_best = with_columns ? &columns.local() : nullptr;
    TileOutput out{};
    for (std::int64_t chunk = 0; chunk < num_panels; chunk += kChunkPanels) {
      const std::int64_t chunk_end = std::min(num_panels, chunk + kChunkPanels);
      for (int r0 = 0; r0 < rows; r0 += static_cast<int>(kTileRows)) {
        const int valid_rows = static_cast<int>(std::min<std::ptrdiff_t>(kTileRows, rows - r0));
        for (std::int64_t p = chunk; p < chunk_end; ++p) {
          const float* bias = p == num_panels - 1 ? last_bias.data() : full_bias.data();
          tile_fn(a_block + r0 * kDim, packed.data() + p * kDim * kTileCols, bias, valid_rows,
                  &out);
          const std::int64_t col0 = p * kTileCols;
          for (int r = 0; r < valid_rows; ++r) {
            if (!(out.row_max[r] > second[r0 + r])) continue;
            float& b1 = best[r0 + r];
            float& b2 = second[r0 + r];
            std::int32_t& bi = best_index[r0 + r];
            const float* tr = out.tile + r * kTileCols;
            for (int c = 0; c < kTileCols; ++c) {
              if (tr[c] > b1) {
                b2 = b1;
                b1 = tr[c];
                bi = static_cast<std::int32_t>(col0 + c);
              } else if (tr[c] > b2) {
                b2 = tr[c];
              }
            }
          }
          if (column_best != nullptr) {
            const int cols = static_cast<int>(std::min<std::int64_t>(kTileCols, n_b - col0));
            for (int c = 0; c < cols; ++c) {
              column_best->Offer(col0 + c, out.col_max[c],
                                 static_cast<std::int32_t>(row0 + r0 + out.col_arg[c]));
            }
          }
        }
      }
    }
  });

  if (with_columns) {
    ColumnBest merged{std::vector<float>(n_b, kNegInf), std::vector<std::int32_t>(n_b, -1)};
    for (const ColumnBest& local : columns) {
      for (std::int64_t j = 0; j < n_b; ++j) merged.Offer(j, local.similarity[j], local.row[j]);
    }
    table.column_best_index = std::move(merged.row);
  }
  return table;
}

}  // namespace facet::sfm::detail
