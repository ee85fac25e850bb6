// Multiresolution hash encoding (Müller et al., "Instant Neural Graphics Primitives with a
// Multiresolution Hash Encoding", SIGGRAPH 2022, sec. 3): L grids of growing resolution over the
// unit cube, each a table of at most 2^T entries of F trainable features; a 3D position is
// encoded as the concatenation over levels of the trilinear interpolation of its cell's 8 corner
// entries. The CPU path here is the reference; nerf/cuda/hash_encoding_cuda.h is the CUDA path
// over the same per-point math (nerf/kernels/hash_encoding.h, which states the index, hash and
// interpolation conventions).
//
// Resolutions (the paper's eqs. 2-3): b = exp((ln N_max - ln N_min) / (L - 1)) and
// N_l = floor(N_min * b^l) for l = 0..L-1, evaluated in double with a relative 1e-9 nudge before
// the floor so that the finest level is exactly N_max (b^(L-1) = N_max / N_min up to rounding);
// L = 1 gives the one level N_min. Level l is dense (one entry per vertex, no collisions) when its
// (N_l+1)^3 vertices fit in 2^T entries, and hashed with exactly 2^T entries otherwise.
//
// Layout: parameters are level after level (LevelOffset), entry-major within a level (entry e,
// feature f at LevelOffset(l) + e F + f); the output of point i is row i of an n x (L F)
// row-major matrix, level l's features at columns [l F, (l+1) F).
//
// Speed: the gathers and scatters are random over tables of up to 2^T F floats per level, so the
// table lives in transparent huge pages (HugePageAllocator); callers should allocate d_params the
// same way (std::vector<float, HugePageAllocator<float>>), which halves the backward's time at the
// default size on x86 (bench/nerf).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nerf/huge_page_allocator.h"
#include "nerf/kernels/hash_encoding.h"

namespace facet::nerf {

struct HashGridOptions {
  int levels = 16;             // L, in [1, 32]
  int features_per_level = 2;  // F: 1, 2, 4 or 8
  int log2_table_size = 19;    // T, in [1, 26]: entries per level at most 2^T
  int base_resolution = 16;    // N_min, in [1, 2^20]
  int max_resolution = 2048;   // N_max (finest level's resolution), in [N_min, 2^20]
  // Throws facet::Error naming the first field out of range.
  void Check() const;
  int OutputDims() const { return levels * features_per_level; }
};

// The per-level layout of `options` (checked): resolutions, dense/hashed, entries, offsets.
kernels::HashGridLayout MakeHashGridLayout(const HashGridOptions& options);

class HashGrid {
 public:
  // Parameters uniform in [-1e-4, 1e-4] (the paper's initialisation) from std::mt19937(seed).
  // Throws facet::Error for options out of range.
  HashGrid(const HashGridOptions& options, std::uint32_t seed);

  const HashGridOptions& options() const { return options_; }
  const kernels::HashGridLayout& layout() const { return layout_; }
  std::size_t ParamCount() const { return params_.size(); }
  std::span<float> params() { return params_; }
  std::span<const float> params() const { return params_; }
  // First parameter of `level` (the sum of entries x F of the levels before it).
  std::size_t LevelOffset(int level) const;
  // N_l, cells per axis of `level`.
  int LevelResolution(int level) const;
  // Table entries of `level`: (N_l+1)^3 when dense, 2^T when hashed.
  std::size_t LevelEntries(int level) const;
  bool LevelIsDense(int level) const;

  // positions: n x 3 row-major, clamped to [0,1]^3 inside (NaN reads as 0); features: n x
  // OutputDims() row-major, overwritten. Parallel over points. Throws facet::Error when a span's
  // size is not exactly n x 3 / n x OutputDims().
  void Forward(std::span<const float> positions, std::size_t n, std::span<float> features) const;

  // d_features: n x OutputDims(), dLoss/dfeatures. Adds dLoss/dparams to d_params (size
  // ParamCount()). When d_positions is non-empty (n x 3) it is overwritten with dLoss/dpositions
  // through the trilinear weights (zero along an axis whose coordinate lies outside [0,1], where
  // the clamp is flat). Deterministic: each level's table region is accumulated by one task in
  // point order, so the result does not depend on the thread count. Throws facet::Error on sizes
  // that do not match.
  void Backward(std::span<const float> positions, std::size_t n, std::span<const float> d_features,
                std::span<float> d_params, std::span<float> d_positions = {}) const;

 private:
  HashGridOptions options_;
  kernels::HashGridLayout layout_;
  std::vector<float, HugePageAllocator<float>> params_;
};

}  // namespace facet::nerf
