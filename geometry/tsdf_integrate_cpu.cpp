#include "geometry/tsdf_integrate_cpu.h"

#include <immintrin.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

namespace facet::geometry::detail {
namespace {

using kernels::BlockKey;
using kernels::kBlockSize;

// The baseline: kernels::IntegrateBlockVoxel voxel after voxel, as the CUDA path.
void IntegrateRangeScalar(const kernels::TsdfFrame& frame, const std::int32_t* blocks,
                          std::int64_t begin, std::int64_t end, VoxelBlockGrid* grid) {
  // A local copy: the voxel stores could alias the frame's fields otherwise, and the compiler
  // would reload them after every voxel.
  const kernels::TsdfFrame f = frame;
  for (std::int64_t k = begin; k < end; ++k) {
    const std::int32_t block = blocks[k];
    const BlockKey key = grid->key(block);
    float* sdf = grid->sdf(block);
    float* weight = grid->weight(block);
    float* color = grid->color(block);
    for (int local = 0; local < kernels::kBlockVoxels; ++local) {
      kernels::IntegrateBlockVoxel(f, key, local, sdf, weight, color);
    }
  }
}

// AVX2: one row of kBlockSize = 8 voxels along x per vector, the operations of
// kernels::IntegrateBlockVoxel in the same order and with the same rounding (no FMA, IEEE
// division; min(a, b) is a < b ? a : b as _mm256_min_ps; the comparisons are the ordered, quiet
// ones of C++), so that the voxels are the same to the bit. Every lane computes everything;
// lanes outside the image read pixel 0 and lanes that fuse nothing keep their values.
static_assert(kBlockSize == 8, "the AVX2 loop holds one row of a block in a vector");

struct Avx2Frame {
  __m256 m0, m4, m8;  // the x column of the rotation
  __m256 fx, fy, cx, cy, width_f, height_f, truncation, minus_truncation, max_weight, one;
  __m256i width_i, height_i, stride;
  // Interleaved colour (r g b r g b ...): voxel lane and channel of each float of the three
  // vectors holding a row's 24 colour values.
  __m256i voxel_of[3];
};

__attribute__((target("avx2"))) Avx2Frame MakeAvx2Frame(const kernels::TsdfFrame& f) {
  Avx2Frame a;
  a.m0 = _mm256_set1_ps(f.cam_from_world[0]);
  a.m4 = _mm256_set1_ps(f.cam_from_world[4]);
  a.m8 = _mm256_set1_ps(f.cam_from_world[8]);
  a.fx = _mm256_set1_ps(f.fx);
  a.fy = _mm256_set1_ps(f.fy);
  a.cx = _mm256_set1_ps(f.cx);
  a.cy = _mm256_set1_ps(f.cy);
  a.width_f = _mm256_set1_ps(float(f.width));
  a.height_f = _mm256_set1_ps(float(f.height));
  a.truncation = _mm256_set1_ps(f.truncation);
  a.minus_truncation = _mm256_set1_ps(-f.truncation);
  a.max_weight = _mm256_set1_ps(f.max_weight);
  a.one = _mm256_set1_ps(1.0f);
  a.width_i = _mm256_set1_epi32(f.width);
  a.height_i = _mm256_set1_epi32(f.height);
  a.stride = _mm256_set1_epi32(std::int32_t(f.depth_stride));
  a.voxel_of[0] = _mm256_setr_epi32(0, 0, 0, 1, 1, 1, 2, 2);
  a.voxel_of[1] = _mm256_setr_epi32(2, 3, 3, 3, 4, 4, 4, 5);
  a.voxel_of[2] = _mm256_setr_epi32(5, 5, 6, 6, 6, 7, 7, 7);
  return a;
}

// The channel of each float of the three colour vectors, as blend masks: bit k set where float
// k is green (kGreen) or blue (kBlue).
constexpr int kGreen[3] = {0b10010010, 0b00100100, 0b01001001};
constexpr int kBlue[3] = {0b00100100, 0b01001001, 0b10010010};

template <int kPart>
__attribute__((target("avx2"), always_inline)) inline void FuseColour(const Avx2Frame& a, __m256 r,
                                                                      __m256 g, __m256 b, __m256 w0,
                                                                      __m256 inverse, __m256 fuse,
                                                                      float* c) {
  const __m256i lane = a.voxel_of[kPart];
  const __m256 observed =
      _mm256_blend_ps(_mm256_blend_ps(_mm256_permutevar8x32_ps(r, lane),
                                      _mm256_permutevar8x32_ps(g, lane), kGreen[kPart]),
                      _mm256_permutevar8x32_ps(b, lane), kBlue[kPart]);
  const __m256 c0 = _mm256_loadu_ps(c + 8 * kPart);
  const __m256 fused =
      _mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(c0, _mm256_permutevar8x32_ps(w0, lane)), observed),
                    _mm256_permutevar8x32_ps(inverse, lane));
  _mm256_storeu_ps(c + 8 * kPart,
                   _mm256_blendv_ps(c0, fused, _mm256_permutevar8x32_ps(fuse, lane)));
}

template <bool kColor>
__attribute__((target("avx2"), always_inline)) inline void IntegrateRowAvx2(
    const Avx2Frame& a, const float* depth, const std::uint32_t* rgb, const float* srgb_to_linear,
    __m256 xs, const float row[3], float* s, float* w, float* c) {
  const __m256 xc = _mm256_add_ps(_mm256_set1_ps(row[0]), _mm256_mul_ps(a.m0, xs));
  const __m256 yc = _mm256_add_ps(_mm256_set1_ps(row[1]), _mm256_mul_ps(a.m4, xs));
  const __m256 zc = _mm256_add_ps(_mm256_set1_ps(row[2]), _mm256_mul_ps(a.m8, xs));
  const __m256 inverse_z = _mm256_div_ps(a.one, zc);
  const __m256 u = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(a.fx, xc), inverse_z), a.cx);
  const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(a.fy, yc), inverse_z), a.cy);
  const __m256 zero = _mm256_setzero_ps();
  const __m256 projected = _mm256_and_ps(
      _mm256_and_ps(_mm256_cmp_ps(zc, zero, _CMP_GT_OQ), _mm256_cmp_ps(u, zero, _CMP_GE_OQ)),
      _mm256_and_ps(_mm256_cmp_ps(v, zero, _CMP_GE_OQ),
                    _mm256_and_ps(_mm256_cmp_ps(u, a.width_f, _CMP_LT_OQ),
                                  _mm256_cmp_ps(v, a.height_f, _CMP_LT_OQ))));
  const __m256i i = _mm256_cvttps_epi32(_mm256_and_ps(projected, u));
  const __m256i j = _mm256_cvttps_epi32(_mm256_and_ps(projected, v));
  const __m256i in_image = _mm256_and_si256(
      _mm256_castps_si256(projected),
      _mm256_and_si256(_mm256_cmpgt_epi32(a.width_i, i), _mm256_cmpgt_epi32(a.height_i, j)));
  const __m256i pixel =
      _mm256_and_si256(in_image, _mm256_add_epi32(_mm256_mullo_epi32(j, a.stride), i));
  const __m256 distance = _mm256_sub_ps(_mm256_i32gather_ps(depth, pixel, 4), zc);
  const __m256 fuse = _mm256_and_ps(_mm256_castsi256_ps(in_image),
                                    _mm256_cmp_ps(distance, a.minus_truncation, _CMP_GT_OQ));
  if (_mm256_movemask_ps(fuse) == 0) return;  // nothing seen in this row
  const __m256 tsdf = _mm256_min_ps(distance, a.truncation);
  const __m256 w0 = _mm256_loadu_ps(w);
  const __m256 w_plus = _mm256_add_ps(w0, a.one);
  const __m256 inverse = _mm256_div_ps(a.one, w_plus);
  const __m256 s0 = _mm256_loadu_ps(s);
  const __m256 s1 = _mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(s0, w0), tsdf), inverse);
  _mm256_storeu_ps(s, _mm256_blendv_ps(s0, s1, fuse));
  _mm256_storeu_ps(w, _mm256_blendv_ps(w0, _mm256_min_ps(w_plus, a.max_weight), fuse));
  if constexpr (kColor) {
    const __m256i packed = _mm256_i32gather_epi32(reinterpret_cast<const int*>(rgb), pixel, 4);
    const __m256i byte = _mm256_set1_epi32(0xff);
    const __m256 r = _mm256_i32gather_ps(srgb_to_linear, _mm256_and_si256(packed, byte), 4);
    const __m256 g = _mm256_i32gather_ps(srgb_to_linear,
                                         _mm256_and_si256(_mm256_srli_epi32(packed, 8), byte), 4);
    const __m256 b = _mm256_i32gather_ps(srgb_to_linear,
                                         _mm256_and_si256(_mm256_srli_epi32(packed, 16), byte), 4);
    FuseColour<0>(a, r, g, b, w0, inverse, fuse, c);
    FuseColour<1>(a, r, g, b, w0, inverse, fuse, c);
    FuseColour<2>(a, r, g, b, w0, inverse, fuse, c);
  }
}

template <bool kColor>
__attribute__((target("avx2"))) void IntegrateRangeAvx2(const kernels::TsdfFrame& frame,
                                                        const std::uint32_t* rgb,
                                                        const std::int32_t* blocks,
                                                        std::int64_t begin, std::int64_t end,
                                                        VoxelBlockGrid* grid) {
  const kernels::TsdfFrame f = frame;
  const Avx2Frame a = MakeAvx2Frame(f);
  for (std::int64_t k = begin; k < end; ++k) {
    const std::int32_t block = blocks[k];
    const BlockKey key = grid->key(block);
    float* sdf = grid->sdf(block);
    float* weight = grid->weight(block);
    float* color = grid->color(block);
    float x[kBlockSize];
    for (int lx = 0; lx < kBlockSize; ++lx)
      x[lx] = kernels::BlockVoxelCoord(key.x, lx, f.voxel_size);
    const __m256 xs = _mm256_loadu_ps(x);
    for (int lz = 0; lz < kBlockSize; ++lz) {
      const float z = kernels::BlockVoxelCoord(key.z, lz, f.voxel_size);
      for (int ly = 0; ly < kBlockSize; ++ly) {
        float row[3];
        kernels::RowInCamera(f, kernels::BlockVoxelCoord(key.y, ly, f.voxel_size), z, row);
        const int offset = kBlockSize * (ly + kBlockSize * lz);
        IntegrateRowAvx2<kColor>(a, f.depth, rgb, f.srgb_to_linear, xs, row, sdf + offset,
                                 weight + offset, kColor ? color + 3 * offset : nullptr);
      }
    }
  }
}

bool UseAvx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}

}  // namespace

void IntegrateBlocksCpu(const kernels::TsdfFrame& frame, const std::uint32_t* rgb,
                        std::span<const std::int32_t> blocks, VoxelBlockGrid* grid,
                        CpuKernel kernel) {
  if (!grid->has_color() || frame.color == nullptr) rgb = nullptr;
  const bool avx2 = kernel != CpuKernel::kScalar && UseAvx2();
  // A block takes about a microsecond: a few per task keep the scheduling overhead small.
  constexpr std::int64_t kGrain = 4;
  const auto n = std::int64_t(blocks.size());
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<std::int64_t>(0, n, kGrain),
      [&](const oneapi::tbb::blocked_range<std::int64_t>& range) {
        if (!avx2) {
          IntegrateRangeScalar(frame, blocks.data(), range.begin(), range.end(), grid);
        } else if (rgb != nullptr) {
          IntegrateRangeAvx2<true>(frame, rgb, blocks.data(), range.begin(), range.end(), grid);
        } else {
          IntegrateRangeAvx2<false>(frame, rgb, blocks.data(), range.begin(), range.end(), grid);
        }
      });
}

bool CpuKernelIsVectorised() { return UseAvx2(); }

}  // namespace facet::geometry::detail
