// Internal to geometry/poisson.cpp: one level of the cascadic solver of screened Poisson
// reconstruction. Not a public interface.
//
// A level of depth d is a lattice of (2^d + 1)^3 nodes over the bounding cube (grid units: node
// (i, j, k) sits at (i, j, k) * 2^-d of the cube side), of which only blocks of 8^3 nodes near
// the surface are stored (voxel_block_grid.h's block layout: local index lx + 8 (ly + 8 lz)).
// Every stored node inside the cube has a value; it is an unknown of the level's linear system
// when all its lattice neighbours (inside the cube) are stored, and fixed otherwise (its value is
// the coarser level's solution: a Dirichlet boundary around the band).
//
// The discretisation is Galerkin with trilinear hat functions phi_i (Kazhdan & Hoppe,
// "Screened Poisson Surface Reconstruction", ToG 2013, eq. 5 with first-order B-splines): the
// system is (L + sigma S) x = b with L_ij = int grad phi_i . grad phi_j over the cube (Neumann
// boundary), S_ij = sum_p a_p phi_i(p) phi_j(p) over the screening samples and
// b_i = int V . grad phi_i, everything in grid units of the level.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "geometry/kernels/block_hash.h"

namespace facet::geometry::poisson {

inline constexpr int kBlock = kernels::kBlockSize;
inline constexpr int kBlockNodes = kernels::kBlockVoxels;

enum NodeFlag : std::uint8_t { kOutsideCube = 0, kFixed = 1, kUnknown = 2 };

// Samples aggregated per cell of the finest level: summed area (fine grid units squared) and
// area-weighted mean position (fine grid units).
struct ScreeningSample {
  Eigen::Vector3d position;
  double area = 0.0;
  // The finest depth the samples of the cell resolve (their splat depth, rounded up): levels
  // deeper than this neither solve around them nor screen them.
  int depth = 0;
};

struct CgStats {
  int iterations = 0;
  double relative_residual = 0.0;
};

class Level {
 public:
  explicit Level(int depth);

  int depth() const { return depth_; }
  // Cells per side of the cube.
  int cells() const { return cells_; }
  std::int32_t block_count() const { return std::int32_t(keys_.size()); }
  std::int64_t unknown_count() const { return unknowns_; }
  const std::vector<kernels::BlockKey>& keys() const { return keys_; }
  const std::vector<std::uint8_t>& flags() const { return flags_; }

  // Allocates every block of the cube.
  void AddAllBlocks();
  // Allocates the blocks holding the nodes within `band` cells of each cell (cell coordinates in
  // this level's grid units). Call Finalize() after the last addition.
  void AddBand(const std::vector<Eigen::Vector3i>& cells, int band);
  // Restricts the unknowns to the nodes within `band` cells of `cells` (this level's
  // coordinates), and of those of earlier calls: elsewhere the stored nodes stay fixed at the
  // values they are given (the coarser solution, prolonged), as PoissonRecon's tree stops where the
  // samples stop resolving finer detail. Without a call every node whose neighbours are all stored
  // is an unknown. Call before Finalize(); it applies to blocks added later too.
  void AddActiveCells(const std::vector<Eigen::Vector3i>& cells, int band);
  // Neighbour table and node flags; the value arrays are resized (new entries 0).
  void Finalize();

  // Global index (block * 512 + local) of node (x, y, z), or -1 when not stored.
  std::int64_t NodeIndex(int x, int y, int z) const;
  // Lattice coordinates of global node index i.
  Eigen::Vector3i NodeCoords(std::int64_t i) const;

  // The trilinear interpolation of x at p (grid units), when the 8 corners are stored.
  bool Evaluate(const Eigen::Vector3d& p, double* value) const;

  // x at every node inside the cube = the trilinear interpolation of coarse.x() (one depth
  // lower). Returns the nodes whose coarse corners are not all stored (left unchanged), for the
  // caller to evaluate at a coarser level.
  std::vector<std::int64_t> ProlongFrom(const Level& coarse);
  // Cells (this level's coordinates) whose 8 corners are stored and where x - iso changes sign.
  std::vector<Eigen::Vector3i> CrossingCells(double iso) const;
  // The area-weighted mean of x at the screening samples (those with all corners stored), and
  // the area summed (0 when none).
  double SampleMean(double* area) const;

  // The mean of x over the stored nodes on the cube's faces.
  double BoundaryMean() const;
  // x = -x, b = -b (the system is linear: the solution for reversed normals).
  void Negate();

  // out_i = int V . grad phi_i (this level's grid units) for the vector field V = sum_j v_j phi_j
  // (v: 3 floats per node of this level); out is resized to the node count.
  void Divergence(const std::vector<float>& v, std::vector<float>& out) const;
  // 1/2 P^T fine_values (this level's size): the Galerkin restriction of a right-hand side of the
  // level one depth finer (the factor keeps grid units, so the coarse system has the same
  // solution).
  std::vector<float> Restrict(const Level& fine, const std::vector<float>& fine_values) const;
  // values += scale * P coarse_values on every node inside the cube whose coarse corners are
  // stored, `components` floats per node (values sized for this level).
  void ProlongAdd(const Level& coarse, const std::vector<float>& coarse_values, int components,
                  float scale, std::vector<float>& values) const;

  // Screening samples (positions in fine grid units, to_level = 2^(depth - finest depth) maps
  // them to this level) and weight sigma; S is applied matrix-free through the samples. Samples
  // whose depth is below this level's are not screened here (they still count in SampleMean).
  void SetScreening(const std::vector<ScreeningSample>& samples, double to_level, double sigma);

  // Conjugate gradients (Jacobi preconditioned) on the unknowns, from the current x, until
  // ||r|| <= tolerance ||b - A x_fixed|| or max_iterations.
  CgStats Solve(double tolerance, int max_iterations);

  std::vector<float>& x() { return x_; }
  const std::vector<float>& x() const { return x_; }
  std::vector<float>& b() { return b_; }

 private:
  struct Entry {
    std::int64_t node;
    std::int32_t sample;
    float weight;
  };
  std::int32_t FindBlock(int bx, int by, int bz) const;
  // values = P coarse_values (or += scale * P coarse_values when `add`) on the nodes inside the
  // cube whose coarse corners are all stored, flagged in `valid` when given.
  void Prolong(const Level& coarse, const float* coarse_values, int components, float scale,
               bool add, float* values, std::uint8_t* valid) const;
  void InsertBlock(int bx, int by, int bz);
  // y = A v on the unknowns (0 elsewhere); v must be 0 on non-unknown nodes except where the
  // caller wants the fixed values' contribution (the initial residual).
  void Apply(const std::vector<float>& v, std::vector<float>& y) const;
  // Whether every node of the block is strictly inside the cube (the interior stencils apply).
  bool InteriorBlock(const kernels::BlockKey& key) const {
    return key.x >= 1 && key.y >= 1 && key.z >= 1 && (key.x + 1) * kBlock <= cells_ - 1 &&
           (key.y + 1) * kBlock <= cells_ - 1 && (key.z + 1) * kBlock <= cells_ - 1;
  }
  // Stencil class of a coordinate along one axis: 0 at 0, 2 at cells_, 1 between.
  int AxisClass(int c) const { return c == 0 ? 0 : (c == cells_ ? 2 : 1); }

  int depth_ = 0;
  int cells_ = 0;
  bool restrict_active_ = false;
  std::vector<std::pair<Eigen::Vector3i, int>> active_cells_{};  // cell, band
  std::int64_t unknowns_ = 0;
  std::vector<kernels::BlockKey> keys_{};
  std::unordered_map<std::uint64_t, std::int32_t> index_{};
  std::vector<std::array<std::int32_t, 27>> neighbours_{};  // (dx+1) + 3 (dy+1) + 9 (dz+1)
  std::vector<std::uint8_t> flags_{};
  std::vector<float> x_{}, b_{}, diagonal_{};
  // Screening.
  double sigma_ = 0.0;
  std::vector<std::array<std::int64_t, 8>> sample_nodes_{};  // -1 when not stored
  std::vector<std::array<float, 8>> sample_weights_{};       // a_p phi_k(p), trilinear
  std::vector<float> sample_area_{};
  std::vector<Entry> entries_{};               // sorted by node
  std::vector<std::int64_t> block_entries_{};  // per block, offsets into entries_
};

}  // namespace facet::geometry::poisson
