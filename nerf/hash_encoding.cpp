#include "nerf/hash_encoding.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"

namespace facet::nerf {
namespace {

using kernels::ClampUnit;
using kernels::HashGridLayout;
using kernels::HashGridLevel;

constexpr int kMaxResolution = 1 << 20;
// Forward: points per inner block, looped level by level so that one level's table region and
// the block's positions stay in cache together.
constexpr std::size_t kForwardBlock = 256;
// Backward: points per sequential block; the levels of a block run in parallel, and the block's
// d_features rows stay in cache across them.
constexpr std::size_t kBackwardBlock = 4096;

// Locates the cells of points [b0, b1) on one level into `cells` and prefetches the table lines
// their corners touch (corners x and x+1 share a line unless the +1 carries past bit 2), so that
// the gathers of a whole block are in flight together rather than one point's at a time.
template <int F, int kWrite>
void LocateBlock(const HashGridLevel& lv, const float* table, const float* positions,
                 std::size_t b0, std::size_t b1, kernels::LevelCell* cells) {
  for (std::size_t i = b0; i < b1; ++i) {
    const float* p = positions + 3 * i;
    kernels::LevelCell& cell = cells[i - b0];
    kernels::LocateCell(lv, ClampUnit(p[0]), ClampUnit(p[1]), ClampUnit(p[2]), &cell);
    for (int k = 0; k < 8; k += 2) __builtin_prefetch(table + std::size_t(cell.idx[k]) * F, kWrite);
  }
}

template <int F>
void ForwardImpl(const HashGridLayout& layout, const float* params, const float* positions,
                 std::size_t n, float* features) {
  const int num_levels = layout.levels;
  const std::size_t dims = std::size_t(num_levels) * F;
  oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, n, kForwardBlock),
                            [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
                              kernels::LevelCell cells[kForwardBlock];
                              for (std::size_t b0 = range.begin(); b0 < range.end();
                                   b0 += kForwardBlock) {
                                const std::size_t b1 = std::min(range.end(), b0 + kForwardBlock);
                                for (int l = 0; l < num_levels; ++l) {
                                  const HashGridLevel lv = layout.level[l];
                                  const float* table = params + lv.offset;
                                  LocateBlock<F, 0>(lv, table, positions, b0, b1, cells);
                                  for (std::size_t i = b0; i < b1; ++i) {
                                    const kernels::LevelCell& cell = cells[i - b0];
                                    float acc[F] = {};
                                    for (int k = 0; k < 8; ++k) {
                                      const float* e = table + std::size_t(cell.idx[k]) * F;
                                      for (int f = 0; f < F; ++f) acc[f] += cell.w[k] * e[f];
                                    }
                                    float* out = features + i * dims + std::size_t(l) * F;
                                    for (int f = 0; f < F; ++f) out[f] = acc[f];
                                  }
                                }
                              }
                            });
}

template <int F>
void BackwardImpl(const HashGridLayout& layout, const float* params, const float* positions,
                  std::size_t n, const float* d_features, float* d_params, float* d_positions) {
  const int num_levels = layout.levels;
  const std::size_t dims = std::size_t(num_levels) * F;
  // Per-level position gradients of one block, summed over levels in order afterwards.
  std::vector<float> scratch(d_positions != nullptr ? std::size_t(num_levels) * kBackwardBlock * 3
                                                    : 0);
  for (std::size_t b0 = 0; b0 < n; b0 += kBackwardBlock) {
    const std::size_t b1 = std::min(n, b0 + kBackwardBlock);
    // Each level owns a disjoint table region: no two tasks write the same d_params entry, and
    // each entry sums its contributions in point order whatever the thread count.
    oneapi::tbb::parallel_for(
        oneapi::tbb::blocked_range<int>(0, num_levels, 1),
        [&](const oneapi::tbb::blocked_range<int>& levels) {
          for (int l = levels.begin(); l != levels.end(); ++l) {
            const HashGridLevel lv = layout.level[l];
            float* grad = d_params + lv.offset;
            const float* table = params + lv.offset;
            float* s = d_positions != nullptr ? scratch.data() + std::size_t(l) * kBackwardBlock * 3
                                              : nullptr;
            kernels::LevelCell cells[kForwardBlock];
            for (std::size_t c0 = b0; c0 < b1; c0 += kForwardBlock) {
              const std::size_t c1 = std::min(b1, c0 + kForwardBlock);
              LocateBlock<F, 1>(lv, grad, positions, c0, c1, cells);
              if (s != nullptr) {  // the position gradient also reads the table
                for (std::size_t i = 0; i < c1 - c0; ++i) {
                  for (int k = 0; k < 8; k += 2) {
                    __builtin_prefetch(table + std::size_t(cells[i].idx[k]) * F, 0);
                  }
                }
              }
              for (std::size_t i = c0; i < c1; ++i) {
                const kernels::LevelCell& cell = cells[i - c0];
                const float* d_out = d_features + i * dims + std::size_t(l) * F;
                bool any = false;  // rows of zeros (samples the loss ignores) scatter nothing
                for (int f = 0; f < F; ++f) any = any || d_out[f] != 0.0f;
                if (!any && s == nullptr) continue;
                for (int k = 0; k < 8; ++k) {
                  float* g = grad + std::size_t(cell.idx[k]) * F;
                  for (int f = 0; f < F; ++f) g[f] += cell.w[k] * d_out[f];
                }
                if (s == nullptr) continue;
                float* d_pos = s + (i - b0) * 3;
                d_pos[0] = d_pos[1] = d_pos[2] = 0.0f;
                kernels::CellPositionGradient<F>(cell, table, lv.scale, positions + 3 * i, d_out,
                                                 d_pos);
              }
            }
          }
        });
    if (d_positions == nullptr) continue;
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(b0, b1, 512),
                              [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
                                for (std::size_t i = range.begin(); i != range.end(); ++i) {
                                  float g[3] = {0.0f, 0.0f, 0.0f};
                                  for (int l = 0; l < num_levels; ++l) {
                                    const float* s = scratch.data() +
                                                     (std::size_t(l) * kBackwardBlock + i - b0) * 3;
                                    for (int a = 0; a < 3; ++a) g[a] += s[a];
                                  }
                                  for (int a = 0; a < 3; ++a) d_positions[3 * i + a] = g[a];
                                }
                              });
  }
}

}  // namespace

void HashGridOptions::Check() const {
  FACET_CHECK(levels >= 1 && levels <= kernels::kHashGridMaxLevels,
              "HashGridOptions levels must be in [1, {}] (got {})", kernels::kHashGridMaxLevels,
              levels);
  FACET_CHECK(features_per_level == 1 || features_per_level == 2 || features_per_level == 4 ||
                  features_per_level == 8,
              "HashGridOptions features_per_level must be 1, 2, 4 or 8 (got {})",
              features_per_level);
  FACET_CHECK(log2_table_size >= 1 && log2_table_size <= 26,
              "HashGridOptions log2_table_size must be in [1, 26] (got {})", log2_table_size);
  FACET_CHECK(base_resolution >= 1 && base_resolution <= kMaxResolution,
              "HashGridOptions base_resolution must be in [1, {}] (got {})", kMaxResolution,
              base_resolution);
  FACET_CHECK(max_resolution >= base_resolution && max_resolution <= kMaxResolution,
              "HashGridOptions max_resolution must be in [base_resolution = {}, {}] (got {})",
              base_resolution, kMaxResolution, max_resolution);
}

kernels::HashGridLayout MakeHashGridLayout(const HashGridOptions& options) {
  options.Check();
  HashGridLayout layout;
  layout.levels = options.levels;
  layout.features = options.features_per_level;
  const double log_growth =
      options.levels > 1
          ? (std::log(double(options.max_resolution)) - std::log(double(options.base_resolution))) /
                double(options.levels - 1)
          : 0.0;
  const std::uint64_t table_size = std::uint64_t{1} << options.log2_table_size;
  std::uint64_t offset = 0;
  for (int l = 0; l < options.levels; ++l) {
    const double exact = double(options.base_resolution) * std::exp(double(l) * log_growth);
    const auto resolution = static_cast<std::uint32_t>(
        std::min(double(options.max_resolution), std::floor(exact * (1.0 + 1e-9))));
    const std::uint64_t stride = std::uint64_t{resolution} + 1;
    const std::uint64_t vertices = stride * stride * stride;
    HashGridLevel& lv = layout.level[l];
    lv.offset = offset;
    lv.resolution = resolution;
    lv.stride = static_cast<std::uint32_t>(stride);
    lv.dense = vertices <= table_size ? 1u : 0u;
    lv.entries = static_cast<std::uint32_t>(lv.dense ? vertices : table_size);
    lv.scale = static_cast<float>(resolution);
    offset += std::uint64_t{lv.entries} * std::uint64_t(options.features_per_level);
  }
  return layout;
}

HashGrid::HashGrid(const HashGridOptions& options, std::uint32_t seed)
    : options_(options), layout_(MakeHashGridLayout(options)) {
  const kernels::HashGridLevel& last = layout_.level[layout_.levels - 1];
  params_.resize(last.offset + std::uint64_t{last.entries} * std::uint64_t(layout_.features));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1e-4f, 1e-4f);
  for (float& p : params_) p = uniform(rng);
}

std::size_t HashGrid::LevelOffset(int level) const {
  FACET_CHECK(level >= 0 && level < layout_.levels, "HashGrid: level {} out of [0, {})", level,
              layout_.levels);
  return layout_.level[level].offset;
}

int HashGrid::LevelResolution(int level) const {
  FACET_CHECK(level >= 0 && level < layout_.levels, "HashGrid: level {} out of [0, {})", level,
              layout_.levels);
  return int(layout_.level[level].resolution);
}

std::size_t HashGrid::LevelEntries(int level) const {
  FACET_CHECK(level >= 0 && level < layout_.levels, "HashGrid: level {} out of [0, {})", level,
              layout_.levels);
  return layout_.level[level].entries;
}

bool HashGrid::LevelIsDense(int level) const {
  FACET_CHECK(level >= 0 && level < layout_.levels, "HashGrid: level {} out of [0, {})", level,
              layout_.levels);
  return layout_.level[level].dense != 0;
}

void HashGrid::Forward(std::span<const float> positions, std::size_t n,
                       std::span<float> features) const {
  const std::size_t dims = std::size_t(options_.OutputDims());
  FACET_CHECK(positions.size() == 3 * n && features.size() == dims * n,
              "HashGrid::Forward: {} positions and {} features for {} points of {} dims "
              "(expected {} and {})",
              positions.size(), features.size(), n, dims, 3 * n, dims * n);
  if (n == 0) return;
  const float* p = positions.data();
  float* out = features.data();
  switch (layout_.features) {
    case 1:
      ForwardImpl<1>(layout_, params_.data(), p, n, out);
      break;
    case 2:
      ForwardImpl<2>(layout_, params_.data(), p, n, out);
      break;
    case 4:
      ForwardImpl<4>(layout_, params_.data(), p, n, out);
      break;
    default:
      ForwardImpl<8>(layout_, params_.data(), p, n, out);
      break;
  }
}

void HashGrid::Backward(std::span<const float> positions, std::size_t n,
                        std::span<const float> d_features, std::span<float> d_params,
                        std::span<float> d_positions) const {
  const std::size_t dims = std::size_t(options_.OutputDims());
  FACET_CHECK(positions.size() == 3 * n && d_features.size() == dims * n,
              "HashGrid::Backward: {} positions and {} feature gradients for {} points of {} "
              "dims (expected {} and {})",
              positions.size(), d_features.size(), n, dims, 3 * n, dims * n);
  FACET_CHECK(d_params.size() == params_.size(),
              "HashGrid::Backward: {} parameter gradients for {} parameters", d_params.size(),
              params_.size());
  FACET_CHECK(d_positions.empty() || d_positions.size() == 3 * n,
              "HashGrid::Backward: {} position gradients for {} points (expected 0 or {})",
              d_positions.size(), n, 3 * n);
  if (n == 0) return;
  const float* p = positions.data();
  const float* d_out = d_features.data();
  float* d_pos = d_positions.empty() ? nullptr : d_positions.data();
  switch (layout_.features) {
    case 1:
      BackwardImpl<1>(layout_, params_.data(), p, n, d_out, d_params.data(), d_pos);
      break;
    case 2:
      BackwardImpl<2>(layout_, params_.data(), p, n, d_out, d_params.data(), d_pos);
      break;
    case 4:
      BackwardImpl<4>(layout_, params_.data(), p, n, d_out, d_params.data(), d_pos);
      break;
    default:
      BackwardImpl<8>(layout_, params_.data(), p, n, d_out, d_params.data(), d_pos);
      break;
  }
}

}  // namespace facet::nerf
