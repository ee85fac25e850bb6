#include "geometry/poisson.h"

#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numbers>
#include <tuple>
#include <unordered_set>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/knn_index.h"
#include "geometry/marching_cubes.h"
#include "geometry/poisson_level.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {

void PoissonOptions::Check() const {
  FACET_CHECK(depth >= 2 && depth <= 13, "Poisson depth must be in [2, 13] (got {})", depth);
  FACET_CHECK(std::isfinite(screening) && screening >= 0.0,
              "the Poisson screening weight must be >= 0 and finite (got {})", screening);
  FACET_CHECK(std::isfinite(scale) && scale >= 1.0,
              "the Poisson bounding-cube scale must be >= 1 (got {})", scale);
  FACET_CHECK(full_depth >= 1, "the Poisson full depth must be >= 1 (got {})", full_depth);
  FACET_CHECK(band >= 2 && band <= 16, "the Poisson band must be in [2, 16] cells (got {})", band);
  FACET_CHECK(area_neighbours >= 2 && area_neighbours <= 64,
              "Poisson area_neighbours must be in [2, 64] (got {})", area_neighbours);
  FACET_CHECK(cg_tolerance > 0.0 && cg_tolerance < 1.0,
              "the Poisson solver tolerance must be in (0, 1) (got {})", cg_tolerance);
  FACET_CHECK(max_iterations >= 1, "Poisson max_iterations must be >= 1 (got {})", max_iterations);
  FACET_CHECK(density_trim_quantile >= 0.0 && density_trim_quantile < 1.0,
              "the Poisson density trim quantile must be in [0, 1) (got {})",
              density_trim_quantile);
  FACET_CHECK(threads >= 0, "Poisson threads must be >= 0, 0 for all cores (got {})", threads);
}

namespace {

using poisson::Level;
using poisson::ScreeningSample;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The valid input points in fine grid units, their unit normals and represented areas (fine grid
// units squared: pi r_k^2 / k, r_k the distance to the k-th neighbour).
struct Samples {
  std::vector<Eigen::Vector3d> positions;
  std::vector<Eigen::Vector3d> normals;
  std::vector<double> areas;
};

Samples MakeSamples(const PointCloud& cloud, const Eigen::Vector3d& origin, double voxel,
                    int area_neighbours, std::int64_t* dropped) {
  Samples s;
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    const double length = cloud.normals[i].norm();
    if (!(length > 0.0)) {
      ++*dropped;
      continue;
    }
    s.positions.push_back((cloud.points[i] - origin) / voxel);
    s.normals.push_back(cloud.normals[i] / length);
  }
  FACET_CHECK(!s.positions.empty(),
              "Poisson reconstruction: all {} normals are zero; estimate normals first",
              cloud.size());
  s.areas.assign(s.positions.size(), 1.0);
  if (s.positions.size() < 2) return s;
  const KnnIndex index(s.positions);
  const int k = int(std::min<std::size_t>(std::size_t(area_neighbours), s.positions.size() - 1));
  ParallelFor(
      std::int64_t(s.positions.size()),
      [&](std::int64_t i) {
        std::vector<std::uint32_t> neighbours(std::size_t(k) + 1);
        std::vector<double> squared(std::size_t(k) + 1);
        const int found =
            index.Search(s.positions[std::size_t(i)], k + 1, neighbours.data(), squared.data());
        // A floor of 1e-4 cell^2 keeps coincident points from vanishing from the system.
        s.areas[std::size_t(i)] =
            std::max(std::numbers::pi * squared[std::size_t(found - 1)] / k, 1e-4);
      },
      256);
  return s;
}

Eigen::Vector3i CellOf(const Eigen::Vector3d& p, int cells) {
  return {std::clamp(int(std::floor(p.x())), 0, cells - 1),
          std::clamp(int(std::floor(p.y())), 0, cells - 1),
          std::clamp(int(std::floor(p.z())), 0, cells - 1)};
}

std::uint64_t PackCell(const Eigen::Vector3i& c) {
  return std::uint64_t(c.x() + 1) | (std::uint64_t(c.y() + 1) << 21) |
         (std::uint64_t(c.z() + 1) << 42);
}

// Distinct cells (at `depth`) of the samples, whose positions are in units of the finest level.
std::vector<Eigen::Vector3i> SampleCells(const std::vector<ScreeningSample>& samples, int depth,
                                         int finest) {
  const double to_level = std::ldexp(1.0, depth - finest);
  std::vector<Eigen::Vector3i> cells;
  cells.reserve(samples.size());
  for (const auto& s : samples) cells.push_back(CellOf(s.position * to_level, 1 << depth));
  auto less = [](const Eigen::Vector3i& a, const Eigen::Vector3i& b) {
    return std::tie(a.z(), a.y(), a.x()) < std::tie(b.z(), b.y(), b.x());
  };
  std::sort(cells.begin(), cells.end(), less);
  cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
  return cells;
}

// Samples merged per finest cell: summed area at the area-weighted mean position.
std::vector<ScreeningSample> MergePerCell(const Samples& s, int cells) {
  std::vector<std::pair<std::int64_t, std::size_t>> order(s.positions.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Eigen::Vector3i c = CellOf(s.positions[i], cells);
    order[i] = {(std::int64_t(c.z()) * (cells + 1) + c.y()) * (cells + 1) + c.x(), i};
  }
  std::sort(order.begin(), order.end());
  std::vector<ScreeningSample> merged;
  for (std::size_t i = 0; i < order.size();) {
    ScreeningSample m{Eigen::Vector3d::Zero(), 0.0};
    std::size_t j = i;
    for (; j < order.size() && order[j].first == order[i].first; ++j) {
      m.position += s.areas[order[j].second] * s.positions[order[j].second];
      m.area += s.areas[order[j].second];
    }
    m.position /= m.area;
    merged.push_back(m);
    i = j;
  }
  return merged;
}

// The value at p (grid units of levels[li]) from the finest of levels[0..li] that stores the
// trilinear corners around it; levels[0] covers the cube.
double EvaluateDown(const std::vector<std::unique_ptr<Level>>& levels, std::size_t li,
                    Eigen::Vector3d p) {
  for (std::size_t l = li + 1; l-- > 0; p *= 0.5) {
    double value = 0.0;
    if (levels[l]->Evaluate(p, &value)) return value;
  }
  return 0.0;
}

}  // namespace

PoissonResult ReconstructPoisson(const PointCloud& cloud, const PoissonOptions& options) {
  const auto start = Clock::now();
  options.Check();
  cloud.Check();
  FACET_CHECK(!cloud.empty(), "Poisson reconstruction needs points (the cloud is empty)");
  FACET_CHECK(cloud.HasNormals(),
              "Poisson reconstruction needs oriented normals; the cloud of {} points has none "
              "(estimate and orient them with geometry/normals.h)",
              cloud.size());
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    FACET_CHECK(cloud.points[i].allFinite() && cloud.normals[i].allFinite(),
                "Poisson reconstruction: point {} or its normal is not finite; drop NaN/Inf "
                "points first",
                i);
  }
  const Bounds3 bounds = ComputeBounds(cloud.points);
  const double extent = bounds.Extent().maxCoeff();
  FACET_CHECK(extent > 0.0,
              "Poisson reconstruction: all {} points coincide, so there is no surface to fit",
              cloud.size());

  PoissonResult result;
  PoissonStats& stats = result.stats;
  const int depth = options.depth;
  const int full_depth = std::min(options.full_depth, depth);
  const double side = options.scale * extent;
  const double voxel = side / double(1 << depth);
  const Eigen::Vector3d origin = bounds.Center() - Eigen::Vector3d::Constant(0.5 * side);
  stats.voxel_size = voxel;

  oneapi::tbb::task_arena arena(options.threads > 0 ? options.threads
                                                    : oneapi::tbb::task_arena::automatic);
  arena.execute([&] {
    const Samples samples =
        MakeSamples(cloud, origin, voxel, options.area_neighbours, &stats.dropped_points);
    const std::vector<ScreeningSample> merged = MergePerCell(samples, 1 << depth);

    // Levels: the full cube at full_depth, bands around the samples above it.
    std::vector<std::unique_ptr<Level>> levels;
    for (int d = full_depth; d <= depth; ++d) {
      levels.push_back(std::make_unique<Level>(d));
      if (d == full_depth)
        levels.back()->AddAllBlocks();
      else
        levels.back()->AddBand(SampleCells(merged, d, depth), options.band);
      levels.back()->Finalize();
    }
    Level& finest = *levels.back();

    // V at the finest level: normals splatted with trilinear weights, times the area each
    // sample represents (so int V = sum a_p n_p whatever the sampling density).
    std::vector<float> field(std::size_t(finest.block_count()) * poisson::kBlockNodes * 3, 0.0f);
    for (std::size_t i = 0; i < samples.positions.size(); ++i) {
      const Eigen::Vector3d& p = samples.positions[i];
      const Eigen::Vector3i c = CellOf(p, finest.cells());
      const Eigen::Vector3d f = p - c.cast<double>();
      const Eigen::Vector3d an = samples.areas[i] * samples.normals[i];
      for (int k = 0; k < 8; ++k) {
        const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
        const std::int64_t n = finest.NodeIndex(c.x() + dx, c.y() + dy, c.z() + dz);
        if (n < 0) continue;
        const double w =
            (dx ? f.x() : 1 - f.x()) * (dy ? f.y() : 1 - f.y()) * (dz ? f.z() : 1 - f.z());
        for (int a = 0; a < 3; ++a) field[std::size_t(n) * 3 + std::size_t(a)] += float(w * an[a]);
      }
    }
    finest.ComputeRhsFromField(field);
    field = {};
    for (std::size_t l = levels.size() - 1; l-- > 0;) levels[l]->RestrictRhsFrom(*levels[l + 1]);

    // Cascade, coarse to fine.
    double iso = 0.0;
    for (std::size_t l = 0; l < levels.size(); ++l) {
      Level& level = *levels[l];
      if (l > 0) {
        // Refine also where the coarser surface left the band (holes bridged by the solution).
        // (Crossings next to samples are covered by the samples' band already.)
        const Level& coarser = *levels[l - 1];
        std::unordered_set<std::uint64_t> near_samples;
        for (const auto& c : SampleCells(merged, coarser.depth(), depth))
          for (int k = 0; k < 27; ++k)
            near_samples.insert(
                PackCell(c + Eigen::Vector3i(k % 3 - 1, (k / 3) % 3 - 1, k / 9 - 1)));
        std::vector<Eigen::Vector3i> crossing;
        for (const auto& c : coarser.CrossingCells(iso))
          if (!near_samples.count(PackCell(c))) crossing.push_back(2 * c);
        level.AddBand(crossing, options.band + 1);
        level.Finalize();
        for (const std::int64_t n : level.ProlongFrom(*levels[l - 1])) {
          level.x()[std::size_t(n)] =
              float(EvaluateDown(levels, l - 1, 0.5 * level.NodeCoords(n).cast<double>()));
        }
      }
      const int shift = depth - level.depth();
      // Galerkin-consistent screening: P^T S P in this level's units is 2^-shift S_level with
      // areas kept in finest units.
      level.SetScreening(merged, std::ldexp(1.0, -shift),
                         options.screening * std::ldexp(1.0, -shift));
      const bool coarsest = l == 0;
      const poisson::CgStats cg =
          level.Solve(coarsest ? options.cg_tolerance * 1e-2 : options.cg_tolerance,
                      coarsest ? 10 * options.max_iterations : options.max_iterations);
      stats.iterations += cg.iterations;
      stats.finest_iterations = cg.iterations;
      stats.relative_residual = cg.relative_residual;
      double area = 0.0;
      iso = level.SampleMean(&area);
      if (coarsest && level.BoundaryMean() < iso) {
        // The far field came out inside: the normals point inwards (e.g. a mesh with clockwise
        // triangles). Solve for the reversed normals so that the surface faces outwards and the
        // space beyond the band is outside.
        for (auto& other : levels) other->Negate();
        iso = -iso;
        stats.reversed_normals = true;
      }
    }
    stats.finest_unknowns = finest.unknown_count();
    stats.iso_value = iso;
    stats.solve_seconds = Seconds(start);

    // chi - iso into a block grid (lattice node (i, j, k) at voxel * (i, j, k) + origin).
    VoxelBlockGrid grid(voxel);
    grid.Reserve(finest.block_count());
    for (std::int32_t b = 0; b < finest.block_count(); ++b) {
      const std::int32_t g = grid.Insert(finest.keys()[std::size_t(b)]);
      float* sdf = grid.sdf(g);
      float* weight = grid.weight(g);
      for (int i = 0; i < poisson::kBlockNodes; ++i) {
        const std::size_t n = std::size_t(b) * poisson::kBlockNodes + std::size_t(i);
        const bool known = finest.flags()[n] != poisson::kOutsideCube;
        sdf[i] = known ? float(finest.x()[n] - iso) : 0.0f;
        weight[i] = known ? 1.0f : 0.0f;
      }
    }
    result.mesh = ExtractSurface(grid);
    for (auto& v : result.mesh.vertices) v += origin;

    // Density: sample counts splatted on the lattice at depth - 2 (or the coarsest level).
    const Level& coarse = *levels[std::size_t(std::max(0, int(levels.size()) - 3))];
    const double to_coarse = std::ldexp(1.0, coarse.depth() - depth);
    std::vector<float> counts(coarse.flags().size(), 0.0f);
    auto corners = [&](const Eigen::Vector3d& p, auto&& visit) {
      const Eigen::Vector3i c = CellOf(p, coarse.cells());
      const Eigen::Vector3d f = (p - c.cast<double>()).cwiseMax(0.0).cwiseMin(1.0);
      for (int k = 0; k < 8; ++k) {
        const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
        const std::int64_t n = coarse.NodeIndex(c.x() + dx, c.y() + dy, c.z() + dz);
        if (n >= 0)
          visit(std::size_t(n),
                (dx ? f.x() : 1 - f.x()) * (dy ? f.y() : 1 - f.y()) * (dz ? f.z() : 1 - f.z()));
      }
    };
    for (const auto& p : samples.positions)
      corners(p * to_coarse, [&](std::size_t n, double w) { counts[n] += float(w); });
    result.vertex_density.resize(result.mesh.vertices.size());
    ParallelFor(
        std::int64_t(result.mesh.vertices.size()),
        [&](std::int64_t i) {
          double density = 0.0;
          corners((result.mesh.vertices[std::size_t(i)] - origin) / voxel * to_coarse,
                  [&](std::size_t n, double w) { density += w * counts[n]; });
          result.vertex_density[std::size_t(i)] = float(density);
        },
        512);
  });

  if (options.density_trim_quantile > 0.0 && !result.mesh.vertices.empty()) {
    std::vector<float> sorted = result.vertex_density;
    const auto nth = std::size_t(options.density_trim_quantile * double(sorted.size() - 1));
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(nth), sorted.end());
    const float threshold = sorted[nth];
    TriangleMesh trimmed;
    std::vector<float> density;
    std::vector<std::int64_t> remap(result.mesh.vertices.size(), -1);
    for (std::size_t v = 0; v < remap.size(); ++v) {
      if (result.vertex_density[v] < threshold || result.vertex_density[v] <= 0.0f) continue;
      remap[v] = std::int64_t(trimmed.vertices.size());
      trimmed.vertices.push_back(result.mesh.vertices[v]);
      density.push_back(result.vertex_density[v]);
    }
    for (const auto& t : result.mesh.triangles) {
      if (remap[t[0]] < 0 || remap[t[1]] < 0 || remap[t[2]] < 0) continue;
      trimmed.triangles.emplace_back(std::uint32_t(remap[t[0]]), std::uint32_t(remap[t[1]]),
                                     std::uint32_t(remap[t[2]]));
    }
    result.mesh = std::move(trimmed);
    result.vertex_density = std::move(density);
  }
  if (!result.mesh.triangles.empty()) result.mesh.ComputeVertexNormals();
  stats.total_seconds = Seconds(start);
  return result;
}

}  // namespace facet::geometry
