// Gaussians: the trainable parameters of a 3D Gaussian Splatting scene (Kerbl et al. 2023, sec. 4),
// structure of arrays in float, in the parametrisation the optimiser works on:
//
//   means       3 per Gaussian   world position (scene units, the SfM frame)
//   log_scales  3                log of the standard deviations along the local axes
//   quats       4                rotation (w, x, y, z), unnormalised (the kernels normalise)
//   opacities   1                logit of the opacity (opacity = sigmoid)
//   sh_dc       3                SH band 0 of R, G, B
//   sh_rest     3 * (NumShCoeffs(max_sh_degree) - 1), coefficient-major: coefficient k (1..15)
//               of channel c at [3 * (k - 1) + c], so that [sh_dc, sh_rest] is exactly the
//               [NumShCoeffs, 3] layout of kernels::ShToColor.
//
// The same struct holds gradients and Adam moments (one float per parameter), so that adding,
// removing and reordering Gaussians treats parameters and optimiser state with one function.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "datasets/gaussian_splats.h"
#include "datasets/scene.h"
#include "splatting/kernels/gaussians_view.h"
#include "splatting/kernels/sh.h"

namespace facet::splatting {

struct Gaussians {
  // The parameter groups, in this order everywhere (Adam learning rates, checkpoints).
  enum Group { kMeans, kLogScales, kQuats, kOpacities, kShDc, kShRest, kNumGroups };

  int max_sh_degree = 3;  // storage: sh_rest has 3 * (NumShCoeffs(max_sh_degree) - 1) per Gaussian
  std::vector<float> means{};
  std::vector<float> log_scales{};
  std::vector<float> quats{};
  std::vector<float> opacities{};
  std::vector<float> sh_dc{};
  std::vector<float> sh_rest{};

  Gaussians() = default;
  // `count` Gaussians, every parameter zero.
  Gaussians(std::int64_t count, int max_sh_degree);

  std::int64_t size() const { return static_cast<std::int64_t>(opacities.size()); }
  bool empty() const { return opacities.empty(); }
  int ShRestStride() const { return 3 * (kernels::NumShCoeffs(max_sh_degree) - 1); }
  // Floats per Gaussian in group g (3, 3, 4, 1, 3, ShRestStride()).
  int Width(Group g) const;
  std::span<float> Data(Group g);
  std::span<const float> Data(Group g) const;

  GaussiansView<float> View() const;
  GaussiansMutableView<float> MutableView();

  // Resizes every group to `count` Gaussians; new entries are zero.
  void Resize(std::int64_t count);
  // Sets every parameter to zero (keeps the size).
  void SetZero();
  // Keeps the Gaussians whose keep[i] is true, in order (keep.size() == size()).
  void Compact(std::span<const bool> keep);
  // Appends copies of Gaussians `indices` (of this model) at the end.
  void AppendCopies(std::span<const std::int64_t> indices);
  // Appends all Gaussians of `other` (same max_sh_degree).
  void Append(const Gaussians& other);
  // Throws facet::Error when a group does not have Width(g) floats per Gaussian, the degree is
  // outside 0-3, or a parameter is not finite.
  void Check() const;
};

// Conversions with the file representation (datasets/gaussian_splats.h, INRIA PLY order for the
// SH rest coefficients: channel-major). FromSplats keeps the file's degree as max_sh_degree unless
// `max_sh_degree` is given (higher: zero-filled; lower: truncated). ToSplats writes bands up to
// `sh_degree` (default: max_sh_degree) and zero normals; the quaternions are written as stored.
// The round trip Gaussians -> ToSplats -> WriteGaussianPly -> ReadGaussianPly -> FromSplats is
// bit-exact.
Gaussians FromSplats(const datasets::GaussianSplats& splats, int max_sh_degree = -1);
datasets::GaussianSplats ToSplats(const Gaussians& gaussians, int sh_degree = -1);

struct InitOptions {
  int max_sh_degree = 3;         // SH storage of the model (0-3)
  float initial_opacity = 0.1f;  // opacity of every new Gaussian (the logit is stored); (0, 1)
  int num_neighbors = 3;         // scale = mean distance to this many nearest neighbours (Inria)
  float min_squared_distance = 1e-7f;  // floor of the mean squared distance (Inria's clamp)
  std::int64_t random_count = 100000;  // Gaussians of the random initialisation (Inria: 100k)
  std::uint64_t seed = 0;

  void Check() const;
};

// Kerbl et al. 2023, sec. 5.1 and the reference train.py: one Gaussian per point, colour -> SH DC
// ((rgb - 0.5) / C0), isotropic log-scale log(sqrt(max(mean squared distance to the 3 nearest
// other points, min_squared_distance))), identity rotation, opacity `initial_opacity`, higher SH
// bands zero. Colours in [0, 1]. Throws facet::Error for an empty cloud or a colour count that
// differs from the point count.
Gaussians InitFromPoints(std::span<const Eigen::Vector3f> points,
                         std::span<const Eigen::Vector3f> colors, const InitOptions& options = {});

// The scene's sparse points with their colours (sRGB bytes / 255).
Gaussians InitFromScene(const datasets::Scene& scene, const InitOptions& options = {});

// Random initialisation when there is no point cloud (the reference's Blender loader): positions
// uniform in the axis-aligned box [box_min, box_max], colours uniform in [0, 1], then as
// InitFromPoints; `random_count` Gaussians, deterministic for a seed.
Gaussians InitRandom(const Eigen::Vector3f& box_min, const Eigen::Vector3f& box_max,
                     const InitOptions& options = {});

}  // namespace facet::splatting
