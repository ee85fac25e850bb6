#include "nerf/field.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "nerf/kernels/activations.h"
#include "nerf/kernels/sh_encoding.h"

namespace facet::nerf {

void NerfFieldOptions::Check() const {
  grid.Check();
  FACET_CHECK(density_hidden >= 1 && density_hidden <= 1024,
              "NeRF density_hidden must be in [1, 1024] (got {})", density_hidden);
  FACET_CHECK(color_hidden >= 1 && color_hidden <= 1024,
              "NeRF color_hidden must be in [1, 1024] (got {})", color_hidden);
  FACET_CHECK(color_layers >= 0 && color_layers <= kMaxHiddenLayers,
              "NeRF color_layers must be in [0, {}] (got {})", kMaxHiddenLayers, color_layers);
}

namespace {

// Inference runs in chunks so that an occupancy update over millions of cells does not hold
// millions of feature rows at once.
constexpr std::size_t kInferenceChunk = 1 << 16;

constexpr int kColorInputs = NerfField::kGeometryFeatures + kernels::kShCount;

}  // namespace

MlpOptions DensityNetOptions(const NerfFieldOptions& o) {
  return {.input_dims = o.grid.OutputDims(),
          .output_dims = NerfField::kGeometryFeatures,
          .hidden_dims = o.density_hidden,
          .hidden_layers = 1};
}

MlpOptions ColorNetOptions(const NerfFieldOptions& o) {
  return {.input_dims = kColorInputs,
          .output_dims = 3,
          .hidden_dims = o.color_hidden,
          .hidden_layers = o.color_layers};
}

std::size_t HashGridParamCount(const HashGridOptions& options) {
  const kernels::HashGridLayout layout = MakeHashGridLayout(options);
  const kernels::HashGridLevel& last = layout.level[layout.levels - 1];
  return std::size_t(last.offset) + std::size_t(last.entries) * std::size_t(layout.features);
}

namespace {

const NerfFieldOptions& Checked(const NerfFieldOptions& options) {
  options.Check();
  return options;
}

}  // namespace

NerfField::NerfField(const NerfFieldOptions& options, const Eigen::Vector3f& aabb_min,
                     const Eigen::Vector3f& aabb_max, std::uint32_t seed)
    : options_(Checked(options)),
      aabb_min_(aabb_min),
      aabb_max_(aabb_max),
      grid_(options.grid, seed),
      density_(DensityNetOptions(options), seed + 1),
      color_(ColorNetOptions(options), seed + 2) {
  FACET_CHECK(aabb_min.allFinite() && aabb_max.allFinite() && (aabb_max - aabb_min).minCoeff() > 0,
              "NeRF scene box must be finite with positive extent (got [{} {} {}] - [{} {} {}])",
              aabb_min.x(), aabb_min.y(), aabb_min.z(), aabb_max.x(), aabb_max.y(), aabb_max.z());
  inverse_scale_ = 1.0f / (aabb_max - aabb_min).maxCoeff();
  d_grid_.assign(grid_.ParamCount(), 0.0f);
  d_density_.assign(density_.ParamCount(), 0.0f);
  d_color_.assign(color_.ParamCount(), 0.0f);
}

void NerfField::ZeroGradients() {
  std::fill(d_grid_.begin(), d_grid_.end(), 0.0f);
  std::fill(d_density_.begin(), d_density_.end(), 0.0f);
  std::fill(d_color_.begin(), d_color_.end(), 0.0f);
}

void NerfField::Normalise(std::span<const float> positions, std::size_t n,
                          std::vector<float>& out) const {
  out.resize(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (int a = 0; a < 3; ++a) {
      out[3 * i + a] = (positions[3 * i + a] - aabb_min_[a]) * inverse_scale_;
    }
  }
}

void NerfField::Evaluate(std::span<const float> positions, std::span<const float> directions,
                         std::size_t n, Batch& batch, bool keep, bool with_color) const {
  FACET_CHECK(positions.size() == 3 * n && (!with_color || directions.size() == 3 * n),
              "NeRF field: {} positions and {} directions for {} samples", positions.size(),
              directions.size(), n);
  batch.n = n;
  Normalise(positions, n, batch.unit_positions);
  batch.features.resize(n * std::size_t(options_.grid.OutputDims()));
  grid_.Forward(batch.unit_positions, n, batch.features);
  batch.density_out.resize(n * kGeometryFeatures);
  density_.Forward(batch.features, n, batch.density_out, keep ? &batch.density_context : nullptr);
  if (!with_color) return;
  batch.color_in.resize(n * kColorInputs);
  for (std::size_t i = 0; i < n; ++i) {
    float* row = &batch.color_in[i * kColorInputs];
    std::copy_n(&batch.density_out[i * kGeometryFeatures], kGeometryFeatures, row);
    kernels::ShEncode(directions[3 * i], directions[3 * i + 1], directions[3 * i + 2],
                      row + kGeometryFeatures);
  }
  batch.color_out.resize(3 * n);
  color_.Forward(batch.color_in, n, batch.color_out, keep ? &batch.color_context : nullptr);
}

void NerfField::Forward(std::span<const float> positions, std::span<const float> directions,
                        std::size_t n, std::span<float> sigma, std::span<float> rgb) {
  FACET_CHECK(sigma.size() == n && rgb.size() == 3 * n,
              "NeRF field: outputs of {} and {} values for {} samples", sigma.size(), rgb.size(),
              n);
  Evaluate(positions, directions, n, train_, true, true);
  for (std::size_t i = 0; i < n; ++i) {
    sigma[i] = kernels::TruncExp(train_.density_out[i * kGeometryFeatures]);
  }
  for (std::size_t i = 0; i < 3 * n; ++i) rgb[i] = kernels::Sigmoid(train_.color_out[i]);
}

void NerfField::Backward(std::span<const float> d_sigma, std::span<const float> d_rgb) {
  const std::size_t n = train_.n;
  FACET_CHECK(d_sigma.size() == n && d_rgb.size() == 3 * n,
              "NeRF field: gradients of {} and {} values for a batch of {}", d_sigma.size(),
              d_rgb.size(), n);
  train_.d_color_out.resize(3 * n);
  for (std::size_t i = 0; i < 3 * n; ++i) {
    train_.d_color_out[i] = d_rgb[i] * kernels::SigmoidDerivative(train_.color_out[i]);
  }
  train_.d_color_in.resize(n * kColorInputs);
  color_.Backward(train_.color_context, train_.d_color_out, d_color_, train_.d_color_in);
  // The density network's outputs feed the colour network; the first also is the density.
  train_.d_density_out.resize(n * kGeometryFeatures);
  for (std::size_t i = 0; i < n; ++i) {
    std::copy_n(&train_.d_color_in[i * kColorInputs], kGeometryFeatures,
                &train_.d_density_out[i * kGeometryFeatures]);
    train_.d_density_out[i * kGeometryFeatures] +=
        d_sigma[i] * kernels::TruncExpDerivative(train_.density_out[i * kGeometryFeatures]);
  }
  train_.d_features.resize(train_.features.size());
  density_.Backward(train_.density_context, train_.d_density_out, d_density_, train_.d_features);
  grid_.Backward(train_.unit_positions, n, train_.d_features, d_grid_);
}

void NerfField::Density(std::span<const float> positions, std::size_t n,
                        std::span<float> sigma) const {
  FACET_CHECK(positions.size() == 3 * n && sigma.size() == n,
              "NeRF field: {} positions and {} densities for {} samples", positions.size(),
              sigma.size(), n);
  for (std::size_t begin = 0; begin < n; begin += kInferenceChunk) {
    const std::size_t count = std::min(kInferenceChunk, n - begin);
    Evaluate(positions.subspan(3 * begin, 3 * count), {}, count, inference_, false, false);
    for (std::size_t i = 0; i < count; ++i) {
      sigma[begin + i] = kernels::TruncExp(inference_.density_out[i * kGeometryFeatures]);
    }
  }
}

void NerfField::Radiance(std::span<const float> positions, std::span<const float> directions,
                         std::size_t n, std::span<float> sigma, std::span<float> rgb) const {
  FACET_CHECK(sigma.size() == n && rgb.size() == 3 * n,
              "NeRF field: outputs of {} and {} values for {} samples", sigma.size(), rgb.size(),
              n);
  for (std::size_t begin = 0; begin < n; begin += kInferenceChunk) {
    const std::size_t count = std::min(kInferenceChunk, n - begin);
    Evaluate(positions.subspan(3 * begin, 3 * count), directions.subspan(3 * begin, 3 * count),
             count, inference_, false, true);
    for (std::size_t i = 0; i < count; ++i) {
      sigma[begin + i] = kernels::TruncExp(inference_.density_out[i * kGeometryFeatures]);
    }
    for (std::size_t i = 0; i < 3 * count; ++i) {
      rgb[3 * begin + i] = kernels::Sigmoid(inference_.color_out[i]);
    }
  }
}

}  // namespace facet::nerf
