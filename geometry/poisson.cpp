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
#include "core/log.h"
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
  FACET_CHECK(std::isfinite(samples_per_node) && samples_per_node > 0.0,
              "Poisson samples_per_node must be > 0 and finite (got {})", samples_per_node);
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

Samples MakeSamples(const PointCloud& cloud, const std::vector<std::size_t>& valid,
                    const Eigen::Vector3d& origin, double voxel, int area_neighbours) {
  Samples s;
  s.positions.reserve(valid.size());
  s.normals.reserve(valid.size());
  for (const std::size_t i : valid) {
    s.positions.push_back((cloud.points[i] - origin) / voxel);
    s.normals.push_back(cloud.normals[i].normalized());
  }
  const std::size_t n = s.positions.size();
  s.areas.assign(n, 1.0);
  if (n < 2) return s;
  const KnnIndex index(s.positions);
  const int k = int(std::min<std::size_t>(std::size_t(area_neighbours), n - 1));
  const auto row = std::size_t(k) + 1;
  std::vector<std::uint32_t> neighbours(n * row);
  std::vector<double> raw(n);
  std::vector<int> found(n);
  ParallelFor(
      std::int64_t(n),
      [&](std::int64_t i) {
        std::vector<double> squared(row);
        const auto u = std::size_t(i);
        found[u] = index.Search(s.positions[u], k + 1, neighbours.data() + u * row, squared.data());
        // A floor of 1e-4 cell^2 keeps coincident points from vanishing from the system.
        raw[u] = std::max(std::numbers::pi * squared[std::size_t(found[u] - 1)] / k, 1e-4);
      },
      256);
  // The estimate from one neighbour distance is noisy (a random cluster of points reads as a
  // dense patch); averaged over the neighbourhood it is the smooth density PoissonRecon gets
  // from its kernel estimate, so that a few points do not decide the splat depth.
  ParallelFor(
      std::int64_t(n),
      [&](std::int64_t i) {
        const auto u = std::size_t(i);
        double sum = 0.0;
        for (int j = 0; j < found[u]; ++j) sum += raw[neighbours[u * row + std::size_t(j)]];
        s.areas[u] = sum / found[u];
      },
      1024);
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

// Distinct cells (at `depth`) of the samples, whose positions are in units of the finest level;
// only of the samples that resolve `depth` when `resolving`.
std::vector<Eigen::Vector3i> SampleCells(const std::vector<ScreeningSample>& samples, int depth,
                                         int finest, bool resolving = false) {
  const double to_level = std::ldexp(1.0, depth - finest);
  std::vector<Eigen::Vector3i> cells;
  cells.reserve(samples.size());
  for (const auto& s : samples)
    if (!resolving || s.depth >= depth) cells.push_back(CellOf(s.position * to_level, 1 << depth));
  auto less = [](const Eigen::Vector3i& a, const Eigen::Vector3i& b) {
    return std::tie(a.z(), a.y(), a.x()) < std::tie(b.z(), b.y(), b.x());
  };
  std::sort(cells.begin(), cells.end(), less);
  cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
  return cells;
}

// Samples merged per finest cell: summed area at the area-weighted mean position, the deepest
// of their resolved depths.
std::vector<ScreeningSample> MergePerCell(const Samples& s, const std::vector<int>& depths,
                                          int cells) {
  std::vector<std::pair<std::int64_t, std::size_t>> order(s.positions.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Eigen::Vector3i c = CellOf(s.positions[i], cells);
    order[i] = {(std::int64_t(c.z()) * (cells + 1) + c.y()) * (cells + 1) + c.x(), i};
  }
  std::sort(order.begin(), order.end());
  std::vector<ScreeningSample> merged;
  for (std::size_t i = 0; i < order.size();) {
    ScreeningSample m{Eigen::Vector3d::Zero(), 0.0, 0};
    std::size_t j = i;
    for (; j < order.size() && order[j].first == order[i].first; ++j) {
      m.position += s.areas[order[j].second] * s.positions[order[j].second];
      m.area += s.areas[order[j].second];
      m.depth = std::max(m.depth, depths[order[j].second]);
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
  // Non-finite points or normals (a scanner's NaN returns) and zero normals are dropped and
  // counted; only a cloud with nothing left is an error.
  PoissonResult result;
  PoissonStats& stats = result.stats;
  std::vector<std::size_t> valid;
  valid.reserve(cloud.size());
  Bounds3 bounds;
  for (std::size_t i = 0; i < cloud.size(); ++i) {
    if (!cloud.points[i].allFinite() || !cloud.normals[i].allFinite()) {
      ++stats.nonfinite_points;
    } else if (!(cloud.normals[i].norm() > 0.0)) {
      ++stats.dropped_points;
    } else {
      valid.push_back(i);
      bounds.Extend(cloud.points[i]);
    }
  }
  FACET_CHECK(stats.nonfinite_points < std::int64_t(cloud.size()),
              "Poisson reconstruction: all {} points or their normals are NaN or infinite",
              cloud.size());
  FACET_CHECK(!valid.empty(),
              "Poisson reconstruction: all {} finite points have a zero normal; estimate "
              "normals first (geometry/normals.h)",
              std::int64_t(cloud.size()) - stats.nonfinite_points);
  if (stats.nonfinite_points > 0 || stats.dropped_points > 0) {
    spdlog::warn(
        "Poisson reconstruction: dropped {} of {} points with a NaN/infinite position or normal "
        "and {} with a zero normal",
        stats.nonfinite_points, cloud.size(), stats.dropped_points);
  }
  const double extent = bounds.Extent().maxCoeff();
  FACET_CHECK(extent > 0.0,
              "Poisson reconstruction: all {} valid points coincide, so there is no surface to fit",
              valid.size());

  const int max_depth = options.depth;
  const int full_depth = std::min(options.full_depth, max_depth);
  const double side = options.scale * extent;
  const Eigen::Vector3d origin = bounds.Center() - Eigen::Vector3d::Constant(0.5 * side);

  oneapi::tbb::task_arena arena(options.threads > 0 ? options.threads
                                                    : oneapi::tbb::task_arena::automatic);
  arena.execute([&] {
    double voxel = side / double(1 << max_depth);
    Samples samples = MakeSamples(cloud, valid, origin, voxel, options.area_neighbours);
    // Splat depths: where the sample's neighbourhood holds about samples_per_node samples per
    // cell (Kazhdan & Hoppe 2013, sec. 4.2; PoissonRecon's --samplesPerNode,
    // FEMTree::_getSampleDepthAndWeight). A cell of depth d has a cross-section 4^(max_depth - d)
    // in fine units, so d = max_depth - log4(spn * a_p), clamped to [full_depth, max_depth].
    // Rounded up, it is the deepest level the sample resolves.
    const std::size_t sample_count = samples.positions.size();
    std::vector<double> splat_depths(sample_count);
    std::vector<int> resolved(sample_count);
    double depth_sum = 0.0;
    int depth = full_depth;
    for (std::size_t i = 0; i < sample_count; ++i) {
      const double d = std::clamp(
          double(max_depth) - 0.5 * std::log2(options.samples_per_node * samples.areas[i]),
          double(full_depth), double(max_depth));
      splat_depths[i] = d;
      resolved[i] = int(std::ceil(d));
      depth = std::max(depth, resolved[i]);
      depth_sum += d;
    }
    stats.mean_splat_depth = depth_sum / double(sample_count);
    // The finest lattice is the deepest one some sample resolves: as PoissonRecon's tree, which
    // stops where the samples do, the depth asked for is a maximum.
    if (depth < max_depth) {
      const double to_depth = std::ldexp(1.0, depth - max_depth);
      for (auto& p : samples.positions) p *= to_depth;
      for (auto& a : samples.areas) a *= to_depth * to_depth;
      voxel /= to_depth;
    }
    stats.depth = depth;
    stats.voxel_size = voxel;
    const std::vector<ScreeningSample> merged = MergePerCell(samples, resolved, 1 << depth);

    // Levels: the full cube at full_depth, bands around the samples above it. A level solves
    // only around the samples that resolve it (whose splat depth reaches it); elsewhere its
    // values are the coarser solution, interpolated. Deeper, the samples are too sparse for the
    // lattice: point screening there would dent the surface at each sample (bubbles and
    // handles) instead of moving it.
    std::vector<std::unique_ptr<Level>> levels;
    for (int d = full_depth; d <= depth; ++d) {
      levels.push_back(std::make_unique<Level>(d));
      if (d == full_depth) {
        levels.back()->AddAllBlocks();
      } else {
        levels.back()->AddBand(SampleCells(merged, d, depth), options.band);
        levels.back()->AddActiveCells(SampleCells(merged, d, depth, /*resolving=*/true),
                                      options.band);
      }
      levels.back()->Finalize();
    }
    Level& finest = *levels.back();

    // V: each normal splatted with trilinear weights at its splat depth, split linearly between
    // the two nearest depths (PoissonRecon's FEMTree::_splatPointData), so that sparse samples
    // feed a smooth field rather than isolated spikes. Times the area each sample represents:
    // in each level's units int V = sum a_p n_p whatever the sampling density.
    const std::size_t level_count = levels.size();
    std::vector<std::vector<float>> fields(level_count);
    for (std::size_t l = 0; l < level_count; ++l)
      fields[l].assign(levels[l]->flags().size() * 3, 0.0f);
    auto splat = [&](std::size_t l, const Eigen::Vector3d& p_fine, const Eigen::Vector3d& an) {
      const Level& level = *levels[l];
      const double to_level = std::ldexp(1.0, level.depth() - depth);
      const Eigen::Vector3d p = p_fine * to_level;
      const Eigen::Vector3d v = an * (to_level * to_level);  // area in this level's units
      const Eigen::Vector3i c = CellOf(p, level.cells());
      const Eigen::Vector3d f = (p - c.cast<double>()).cwiseMax(0.0).cwiseMin(1.0);
      for (int k = 0; k < 8; ++k) {
        const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
        const std::int64_t n = level.NodeIndex(c.x() + dx, c.y() + dy, c.z() + dz);
        if (n < 0) continue;
        const double w =
            (dx ? f.x() : 1 - f.x()) * (dy ? f.y() : 1 - f.y()) * (dz ? f.z() : 1 - f.z());
        for (int a = 0; a < 3; ++a)
          fields[l][std::size_t(n) * 3 + std::size_t(a)] += float(w * v[a]);
      }
    };
    for (std::size_t i = 0; i < sample_count; ++i) {
      const int top = resolved[i];
      const double top_share = top > full_depth ? 1.0 - (top - splat_depths[i]) : 1.0;
      const Eigen::Vector3d an = samples.areas[i] * samples.normals[i];
      splat(std::size_t(top - full_depth), samples.positions[i], top_share * an);
      if (top_share < 1.0)
        splat(std::size_t(top - 1 - full_depth), samples.positions[i], (1.0 - top_share) * an);
    }

    // Right-hand sides b_l = int V . grad phi_i at every level, consistent with the finest
    // (b_l = 1/2 P^T b_(l+1)). With G_l the field splatted at depths <= l, expressed at level l
    // (G_l = F_l + 1/2 P G_(l-1): the trilinear spaces nest; the 1/2 converts the area units)
    // and U_l the restricted right-hand side of the fields splatted deeper,
    //   b_l = div_l G_l + U_l,   U_(l-1) = 1/2 P^T (U_l + div_l F_l).
    // U is computed here, fine to coarse; G and b in the cascade, once each level has its final
    // blocks.
    std::vector<std::vector<float>> finer(level_count);
    finer.back().assign(levels.back()->flags().size(), 0.0f);
    for (std::size_t l = level_count - 1; l > 0; --l) {
      std::vector<float> sum;
      levels[l]->Divergence(fields[l], sum);
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += finer[l][i];
      finer[l - 1] = levels[l - 1]->Restrict(*levels[l], sum);
    }
    std::vector<float> accumulated;  // G of the previous level

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
      {
        // The new blocks (crossings away from the samples) get zero F and U; G reaches them.
        const std::size_t nodes = level.flags().size();
        std::vector<float> field = std::move(fields[l]);
        field.resize(nodes * 3, 0.0f);
        if (l > 0) level.ProlongAdd(*levels[l - 1], accumulated, 3, 0.5f, field);
        level.Divergence(field, level.b());
        const std::vector<float>& u = finer[l];
        const float sign = stats.reversed_normals ? -1.0f : 1.0f;
        for (std::size_t i = 0; i < nodes; ++i)
          level.b()[i] = sign * (level.b()[i] + (i < u.size() ? u[i] : 0.0f));
        accumulated = std::move(field);
        finer[l] = {};
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
