#include "nerf/hash_encoding.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "core/error.h"
#include "nerf/huge_page_allocator.h"

namespace facet::nerf {
namespace {

std::vector<float> RandomVector(std::size_t size, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  std::vector<float> v(size);
  for (float& x : v) x = uniform(rng);
  return v;
}

void Randomise(HashGrid& grid, std::uint32_t seed) {
  const std::vector<float> v = RandomVector(grid.ParamCount(), seed, -1.0f, 1.0f);
  std::copy(v.begin(), v.end(), grid.params().begin());
}

std::vector<float> Encode(const HashGrid& grid, const std::vector<float>& positions) {
  const std::size_t n = positions.size() / 3;
  std::vector<float> features(n * std::size_t(grid.options().OutputDims()));
  grid.Forward(positions, n, features);
  return features;
}

// sum_ij c_ij features_ij in double: a loss whose gradient w.r.t. the features is c.
double Loss(const HashGrid& grid, const std::vector<float>& positions,
            const std::vector<float>& c) {
  const std::vector<float> f = Encode(grid, positions);
  double sum = 0.0;
  for (std::size_t i = 0; i < f.size(); ++i) sum += double(c[i]) * double(f[i]);
  return sum;
}

TEST(NerfHashGrid, LayoutFollowsTheGeometricGrowthAndTheTableSize) {
  const HashGridOptions options;  // L 16, F 2, T 19, N 16..2048
  const HashGrid grid(options, 7);
  const double b = std::exp((std::log(2048.0) - std::log(16.0)) / 15.0);
  std::size_t offset = 0;
  for (int l = 0; l < 16; ++l) {
    const int expected = l == 15 ? 2048 : int(std::floor(16.0 * std::pow(b, l)));
    EXPECT_EQ(grid.LevelResolution(l), expected) << l;
    const std::size_t vertices = std::size_t(expected + 1) * (expected + 1) * (expected + 1);
    EXPECT_EQ(grid.LevelIsDense(l), vertices <= (std::size_t{1} << 19)) << l;
    EXPECT_EQ(grid.LevelEntries(l), std::min(vertices, std::size_t{1} << 19)) << l;
    EXPECT_EQ(grid.LevelOffset(l), offset) << l;
    offset += grid.LevelEntries(l) * 2;
  }
  EXPECT_EQ(grid.LevelResolution(0), 16);
  EXPECT_TRUE(grid.LevelIsDense(0));
  EXPECT_FALSE(grid.LevelIsDense(15));
  EXPECT_EQ(grid.ParamCount(), offset);
  const auto [lo, hi] = std::minmax_element(grid.params().begin(), grid.params().end());
  EXPECT_GE(*lo, -1e-4f);
  EXPECT_LE(*hi, 1e-4f);
  EXPECT_LT(*lo, -0.9e-4f);  // spread over the range, not constant
  EXPECT_GT(*hi, 0.9e-4f);
  // Same seed, same table.
  const HashGrid again(options, 7);
  EXPECT_TRUE(std::equal(grid.params().begin(), grid.params().end(), again.params().begin()));
}

// A dense level gives every vertex its own entry, v.x + v.y (N+1) + v.z (N+1)^2: with table[e] = e
// the encoding of a vertex position returns its entry.
TEST(NerfHashGrid, DenseLevelMapsVerticesOneToOne) {
  HashGrid grid({.levels = 1,
                 .features_per_level = 1,
                 .log2_table_size = 10,
                 .base_resolution = 7,
                 .max_resolution = 7},
                1);
  ASSERT_TRUE(grid.LevelIsDense(0));
  ASSERT_EQ(grid.LevelEntries(0), 512u);
  for (std::size_t e = 0; e < 512; ++e) grid.params()[e] = float(e);
  std::vector<float> positions;
  for (int z = 0; z <= 7; ++z)
    for (int y = 0; y <= 7; ++y)
      for (int x = 0; x <= 7; ++x) {
        positions.insert(positions.end(), {float(x) / 7.0f, float(y) / 7.0f, float(z) / 7.0f});
      }
  const std::vector<float> f = Encode(grid, positions);
  std::set<long> seen;
  for (std::size_t i = 0; i < f.size(); ++i) {
    EXPECT_NEAR(f[i], float(i), 1e-3f) << i;  // vertex (x, y, z) was pushed as i = x + 8y + 64z
    seen.insert(std::lround(f[i]));
  }
  EXPECT_EQ(seen.size(), 512u);
}

// A hashed level looks vertex v up at (v.x ^ v.y * 2654435761 ^ v.z * 805459861) mod 2^T.
TEST(NerfHashGrid, HashedLevelUsesTheSpatialHash) {
  HashGrid grid({.levels = 1,
                 .features_per_level = 2,
                 .log2_table_size = 6,
                 .base_resolution = 9,
                 .max_resolution = 9},
                2);
  ASSERT_FALSE(grid.LevelIsDense(0));
  ASSERT_EQ(grid.LevelEntries(0), 64u);
  Randomise(grid, 3);
  std::vector<float> positions;
  std::vector<std::uint32_t> entries;
  for (std::uint32_t z = 0; z <= 9; ++z)
    for (std::uint32_t y = 0; y <= 9; ++y)
      for (std::uint32_t x = 0; x <= 9; ++x) {
        positions.insert(positions.end(), {float(x) / 9.0f, float(y) / 9.0f, float(z) / 9.0f});
        entries.push_back((x ^ (y * 2654435761u) ^ (z * 805459861u)) % 64u);
      }
  const std::vector<float> f = Encode(grid, positions);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR(f[2 * i + k], grid.params()[2 * entries[i] + k], 1e-5f) << i;
    }
  }
}

// Trilinear interpolation is exact on functions linear in the position: with every dense table
// holding a linear function of its vertex coordinates, the encoding is that function everywhere.
TEST(NerfHashGrid, InterpolationReproducesLinearFunctions) {
  HashGrid grid({.levels = 2,
                 .features_per_level = 2,
                 .log2_table_size = 10,
                 .base_resolution = 3,
                 .max_resolution = 5},
                4);
  auto linear = [](int k, float x, float y, float z) {
    return k == 0 ? 0.3f + 1.5f * x - 0.7f * y + 0.25f * z : -0.1f - 0.4f * x + 0.9f * y + 2.0f * z;
  };
  for (int l = 0; l < 2; ++l) {
    ASSERT_TRUE(grid.LevelIsDense(l));
    const int n = grid.LevelResolution(l);
    for (int z = 0; z <= n; ++z)
      for (int y = 0; y <= n; ++y)
        for (int x = 0; x <= n; ++x) {
          const std::size_t e = std::size_t(x + (n + 1) * (y + (n + 1) * z));
          for (int k = 0; k < 2; ++k) {
            grid.params()[grid.LevelOffset(l) + 2 * e + k] =
                linear(k, float(x) / float(n), float(y) / float(n), float(z) / float(n));
          }
        }
  }
  std::vector<float> positions = RandomVector(3 * 500, 5, 0.0f, 1.0f);
  positions.insert(positions.end(), {0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 1.0f / 3.0f, 0.4f, 1.0f});
  const std::vector<float> f = Encode(grid, positions);
  for (std::size_t i = 0; i < positions.size() / 3; ++i) {
    const float* p = &positions[3 * i];
    for (int l = 0; l < 2; ++l)
      for (int k = 0; k < 2; ++k) {
        EXPECT_NEAR(f[4 * i + 2 * l + k], linear(k, p[0], p[1], p[2]), 2e-6f) << i;
      }
  }
}

// Across a cell face of any level the encoding moves by no more than its Lipschitz bound: per
// level N_l x (largest entry difference, 2) x the step.
TEST(NerfHashGrid, ContinuousAcrossCellBoundaries) {
  HashGrid grid({.levels = 4,
                 .features_per_level = 2,
                 .log2_table_size = 8,
                 .base_resolution = 2,
                 .max_resolution = 16},
                6);
  Randomise(grid, 7);
  const std::vector<float> others = RandomVector(2 * 64, 8, 0.0f, 1.0f);
  constexpr float kDelta = 1e-5f;
  for (int l = 0; l < 4; ++l) {
    const int n = grid.LevelResolution(l);
    for (int axis = 0; axis < 3; ++axis)
      for (int k = 1; k < n; ++k) {
        const float face = float(k) / float(n);
        std::vector<float> below(3), above(3);
        for (int a = 0, j = 0; a < 3; ++a) {
          const float v = a == axis ? face : others[(2 * (k + n * axis) + j++) % others.size()];
          below[a] = a == axis ? v - kDelta : v;
          above[a] = a == axis ? v + kDelta : v;
        }
        const std::vector<float> fb = Encode(grid, below), fa = Encode(grid, above);
        for (int m = 0; m < 4; ++m)
          for (int f = 0; f < 2; ++f) {
            const float bound = float(grid.LevelResolution(m)) * 2.0f * 2.0f * kDelta + 1e-5f;
            EXPECT_LE(std::abs(fa[2 * m + f] - fb[2 * m + f]), bound)
                << "level " << l << " face " << k << " axis " << axis << " output level " << m;
          }
      }
  }
}

HashGrid SmallMixedGrid() {
  // Resolutions 2, 3, 4, 7, 12: the first two dense ((N+1)^3 <= 64), the others hashed (64
  // entries, with collisions).
  HashGrid grid({.levels = 5,
                 .features_per_level = 2,
                 .log2_table_size = 6,
                 .base_resolution = 2,
                 .max_resolution = 12},
                9);
  Randomise(grid, 10);
  return grid;
}

// The encoding is linear in the table, so central differences are exact up to float rounding of
// the features an entry feeds (~1e-7 each, divided by 2h = 0.5).
TEST(NerfHashGrid, ParameterGradientMatchesFiniteDifferences) {
  HashGrid grid = SmallMixedGrid();
  ASSERT_TRUE(grid.LevelIsDense(0));
  ASSERT_FALSE(grid.LevelIsDense(4));
  const std::size_t n = 40;
  const std::vector<float> positions = RandomVector(3 * n, 11, 0.0f, 1.0f);
  const std::vector<float> c = RandomVector(n * 10, 12, -1.0f, 1.0f);
  std::vector<float> d_params(grid.ParamCount(), 0.0f);
  grid.Backward(positions, n, c, d_params);
  constexpr float kStep = 0.25f;
  int nonzero = 0;
  for (std::size_t j = 0; j < grid.ParamCount(); ++j) {
    const float saved = grid.params()[j];
    grid.params()[j] = saved + kStep;
    const float hi = grid.params()[j];
    const double plus = Loss(grid, positions, c);
    grid.params()[j] = saved - kStep;
    const float lo = grid.params()[j];
    const double minus = Loss(grid, positions, c);
    grid.params()[j] = saved;
    const double fd = (plus - minus) / double(hi - lo);
    EXPECT_NEAR(d_params[j], fd, 2e-5 + 1e-5 * std::abs(fd)) << "param " << j;
    nonzero += d_params[j] != 0.0f;
  }
  EXPECT_GT(nonzero, 100);  // most of the table is reached by 40 points
  // Backward accumulates (+=) into d_params.
  std::vector<float> twice = d_params;
  grid.Backward(positions, n, c, twice);
  for (std::size_t j = 0; j < twice.size(); ++j) EXPECT_NEAR(twice[j], 2.0f * d_params[j], 1e-6f);
}

// Inside a cell the encoding is linear along each axis, so central differences that stay in the
// cell at every level are exact up to rounding (~6 features x 1e-7 / 2h = 3e-4); outside [0,1]
// the clamp makes the encoding flat.
TEST(NerfHashGrid, PositionGradientMatchesFiniteDifferences) {
  const HashGrid grid = SmallMixedGrid();
  constexpr float kStep = 1e-3f;
  std::vector<float> positions;
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  while (positions.size() < 3 * 30) {
    const float v = uniform(rng);
    bool inside = true;  // at least 0.05 cells from every face, at every level
    for (int l = 0; l < 5; ++l) {
      const float x = v * float(grid.LevelResolution(l));
      const float t = x - std::floor(x);
      inside = inside && t > 0.05f && t < 0.95f;
    }
    if (inside) positions.push_back(v);
  }
  positions.insert(positions.end(), {-0.2f, 0.37f, 1.3f});  // clamped along x and z
  const std::size_t n = positions.size() / 3;
  const std::vector<float> c = RandomVector(n * 10, 14, -1.0f, 1.0f);
  std::vector<float> d_params(grid.ParamCount(), 0.0f), d_positions(3 * n, 99.0f);
  grid.Backward(positions, n, c, d_params, d_positions);
  for (std::size_t i = 0; i < n; ++i) {
    for (int a = 0; a < 3; ++a) {
      std::vector<float> p(positions.begin() + 3 * i, positions.begin() + 3 * i + 3);
      const std::vector<float> ci(c.begin() + 10 * i, c.begin() + 10 * i + 10);
      const float x = p[a];
      p[a] = x + kStep;
      const float hi = p[a];
      const double plus = Loss(grid, p, ci);
      p[a] = x - kStep;
      const float lo = p[a];
      const double minus = Loss(grid, p, ci);
      const double fd = (plus - minus) / double(hi - lo);
      EXPECT_NEAR(d_positions[3 * i + a], fd, 1e-3 + 1e-3 * std::abs(fd)) << i << " axis " << a;
    }
  }
  EXPECT_EQ(d_positions[3 * (n - 1)], 0.0f);
  EXPECT_NE(d_positions[3 * (n - 1) + 1], 0.0f);
  EXPECT_EQ(d_positions[3 * (n - 1) + 2], 0.0f);
}

TEST(NerfHashGrid, ClampsPositionsToTheUnitCube) {
  const HashGrid grid = SmallMixedGrid();
  const std::vector<float> outside = {-0.5f, 1.5f, 0.3f, 2.0f, -1.0f, 1.0f};
  const std::vector<float> clamped = {0.0f, 1.0f, 0.3f, 1.0f, 0.0f, 1.0f};
  EXPECT_EQ(Encode(grid, outside), Encode(grid, clamped));
}

// Parallel forward and level-parallel backward give the same bits with 1 and 2 threads, over
// several backward blocks and a table with collisions.
TEST(NerfHashGrid, DeterministicAcrossThreadCounts) {
  const HashGrid grid = SmallMixedGrid();
  const std::size_t n = 9000;
  const std::vector<float> positions = RandomVector(3 * n, 15, -0.1f, 1.1f);
  const std::vector<float> c = RandomVector(n * 10, 16, -1.0f, 1.0f);
  struct Result {
    std::vector<float> features, d_params, d_positions;
  };
  auto run = [&](int threads) {
    Result r;
    oneapi::tbb::task_arena arena(threads);
    arena.execute([&] {
      r.features = Encode(grid, positions);
      r.d_params.assign(grid.ParamCount(), 0.0f);
      r.d_positions.assign(3 * n, 0.0f);
      grid.Backward(positions, n, c, r.d_params, r.d_positions);
    });
    return r;
  };
  const Result one = run(1);
  for (int threads : {2}) {
    const Result r = run(threads);
    EXPECT_EQ(r.features, one.features) << threads;
    EXPECT_EQ(r.d_params, one.d_params) << threads;
    EXPECT_EQ(r.d_positions, one.d_positions) << threads;
  }
}

TEST(NerfHashGrid, HugePageAllocatorAlignsLargeBlocks) {
  std::vector<float, HugePageAllocator<float>> large(3u << 20, 1.0f), small(10, 2.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large.data()) % (std::uintptr_t{2} << 20), 0u);
  EXPECT_EQ(large.back(), 1.0f);
  EXPECT_EQ(small[9], 2.0f);
  large.resize(5u << 20, 3.0f);  // reallocates: the old contents move over
  EXPECT_EQ(large[(3u << 20) - 1], 1.0f);
  EXPECT_EQ(large.back(), 3.0f);
}

TEST(NerfHashGrid, RejectsBadOptionsAndInputs) {
  EXPECT_THROW(HashGrid({.levels = 0}, 0), Error);
  EXPECT_THROW(HashGrid({.levels = 33}, 0), Error);
  EXPECT_THROW(HashGrid({.features_per_level = 3}, 0), Error);
  EXPECT_THROW(HashGrid({.log2_table_size = 0}, 0), Error);
  EXPECT_THROW(HashGrid({.log2_table_size = 27}, 0), Error);
  EXPECT_THROW(HashGrid({.base_resolution = 0}, 0), Error);
  EXPECT_THROW(HashGrid({.base_resolution = 32, .max_resolution = 16}, 0), Error);
  EXPECT_THROW(HashGrid({.max_resolution = (1 << 20) + 1}, 0), Error);
  EXPECT_THROW(HashGridOptions{.features_per_level = 5}.Check(), Error);

  const HashGrid grid = SmallMixedGrid();
  std::vector<float> positions(6), features(20), d_params(grid.ParamCount());
  EXPECT_NO_THROW(grid.Forward(positions, 2, features));
  EXPECT_THROW(grid.Forward(positions, 3, features), Error);
  EXPECT_THROW(grid.Forward(positions, 2, std::span<float>(features).first(19)), Error);
  EXPECT_NO_THROW(grid.Backward(positions, 2, features, d_params));
  EXPECT_THROW(grid.Backward(positions, 2, features, std::span<float>(d_params).first(3)), Error);
  std::vector<float> d_positions(5);
  EXPECT_THROW(grid.Backward(positions, 2, features, d_params, d_positions), Error);
  EXPECT_THROW(grid.LevelOffset(5), Error);
  EXPECT_THROW(grid.LevelResolution(-1), Error);
}

}  // namespace
}  // namespace facet::nerf
