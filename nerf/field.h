// NerfField: the radiance field of instant-ngp's NeRF (Müller et al. 2022, sec. 5.4): a position
// in the scene box, normalised to [0, 1]^3, goes through the multiresolution hash encoding and
// the density network (one hidden layer of 64) to 16 outputs; the first is the density's logit
// (sigma = exp(x), truncated in the backward pass), and all 16 with the view direction's
// spherical harmonics (16) feed the colour network (two hidden layers of 64) whose 3 outputs pass
// a sigmoid. Colours are sRGB in [0, 1] (the photos' encoding: the NeRF-synthetic convention).
//
// Batched evaluation keeps what the backward pass needs (Forward then Backward on the same
// batch); the gradients accumulate into gradient arrays parallel to the parameters, which the
// trainer steps with Adam and clears.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nerf/hash_encoding.h"
#include "nerf/mlp.h"

namespace facet::nerf {

struct NerfFieldOptions {
  HashGridOptions grid{};   // instant-ngp: 16 levels x 2 features, 2^19 entries, 16 .. 2048
  int density_hidden = 64;  // neurons of the density network's hidden layer
  int color_hidden = 64;    // neurons of each of the colour network's hidden layers
  int color_layers = 2;     // hidden layers of the colour network

  // Throws facet::Error naming the first field out of range.
  void Check() const;
};

// The networks' shapes for a field's options, and the hash table's parameter count (for
// readers that check sizes without building a field).
MlpOptions DensityNetOptions(const NerfFieldOptions& options);
MlpOptions ColorNetOptions(const NerfFieldOptions& options);
std::size_t HashGridParamCount(const HashGridOptions& options);

class NerfField {
 public:
  static constexpr int kGeometryFeatures = 16;  // density network outputs (logit first)

  // The scene box [aabb_min, aabb_max] (scene units) maps onto [0, 1]^3 by one scale (its longest
  // side), so the hash grid's cells are cubes. Throws facet::Error for bad options or an empty or
  // non-finite box.
  NerfField(const NerfFieldOptions& options, const Eigen::Vector3f& aabb_min,
            const Eigen::Vector3f& aabb_max, std::uint32_t seed);

  const NerfFieldOptions& options() const { return options_; }
  Eigen::Vector3f aabb_min() const { return aabb_min_; }
  Eigen::Vector3f aabb_max() const { return aabb_max_; }

  // Training batch: positions (scene units) and unit directions, n x 3 each; writes sigma (n) and
  // rgb (n x 3). Keeps the intermediate values for Backward; the spans must stay alive and
  // unchanged until then.
  void Forward(std::span<const float> positions, std::span<const float> directions, std::size_t n,
               std::span<float> sigma, std::span<float> rgb);
  // Gradients of the loss w.r.t. the last Forward's sigma and rgb, accumulated into the
  // gradient arrays.
  void Backward(std::span<const float> d_sigma, std::span<const float> d_rgb);

  // Inference (no state kept; thread-compatible: one call at a time per field). Density only
  // (occupancy-grid updates, meshing), or density and colour.
  void Density(std::span<const float> positions, std::size_t n, std::span<float> sigma) const;
  void Radiance(std::span<const float> positions, std::span<const float> directions, std::size_t n,
                std::span<float> sigma, std::span<float> rgb) const;

  // The parameter blocks (hash table, density network, colour network) and their gradients.
  HashGrid& grid() { return grid_; }
  Mlp& density_net() { return density_; }
  Mlp& color_net() { return color_; }
  const HashGrid& grid() const { return grid_; }
  const Mlp& density_net() const { return density_; }
  const Mlp& color_net() const { return color_; }
  std::span<float> grid_gradient() { return d_grid_; }
  std::span<float> density_gradient() { return d_density_; }
  std::span<float> color_gradient() { return d_color_; }
  void ZeroGradients();

 private:
  // Buffers of one batch (grown, never shrunk).
  struct Batch {
    std::vector<float> unit_positions, features, density_out, color_in, color_out;
    std::vector<float> d_color_out, d_color_in, d_density_out, d_features;
    Mlp::Context density_context, color_context;
    std::size_t n = 0;
  };
  void Evaluate(std::span<const float> positions, std::span<const float> directions, std::size_t n,
                Batch& batch, bool keep, bool with_color) const;
  void Normalise(std::span<const float> positions, std::size_t n, std::vector<float>& out) const;

  NerfFieldOptions options_;
  Eigen::Vector3f aabb_min_, aabb_max_;
  float inverse_scale_ = 1.0f;  // 1 / the box's longest side
  HashGrid grid_;
  Mlp density_;
  Mlp color_;
  std::vector<float> d_grid_, d_density_, d_color_;
  Batch train_;
  mutable Batch inference_;
};

}  // namespace facet::nerf
