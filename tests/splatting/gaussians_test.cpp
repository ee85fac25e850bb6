#include "splatting/gaussians.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

#include "common/temp_dir.h"
#include "core/error.h"
#include "datasets/gaussian_splats.h"
#include "datasets/scene.h"

namespace facet::splatting {
namespace {

constexpr double kC0 = 0.28209479177387814;

// Every parameter encodes (Gaussian, group, component), exactly representable in float.
float Tag(std::int64_t i, int group, int j) {
  return static_cast<float>(i * 1000 + group * 100 + j);
}

Gaussians Tagged(std::int64_t count, int degree) {
  Gaussians g(count, degree);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    const int w = g.Width(gr);
    auto data = g.Data(gr);
    for (std::int64_t i = 0; i < count; ++i) {
      for (int j = 0; j < w; ++j) data[i * w + j] = Tag(i, group, j);
    }
  }
  return g;
}

// Row r of every group of `g` holds the tags of original Gaussian expected[r].
void ExpectRows(const Gaussians& g, const std::vector<std::int64_t>& expected) {
  ASSERT_EQ(g.size(), static_cast<std::int64_t>(expected.size()));
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    const int w = g.Width(gr);
    const auto data = g.Data(gr);
    ASSERT_EQ(data.size(), expected.size() * w) << "group " << group;
    for (std::size_t r = 0; r < expected.size(); ++r) {
      for (int j = 0; j < w; ++j) {
        ASSERT_EQ(data[r * w + j], Tag(expected[r], group, j)) << "group " << group << " row " << r;
      }
    }
  }
}

Gaussians RandomGaussians(std::int64_t count, int degree, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  Gaussians g(count, degree);
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    for (float& v : g.Data(static_cast<Gaussians::Group>(group))) v = normal(rng);
  }
  // Awkward values the float32 PLY must still carry exactly.
  if (count > 0) {
    g.means[0] = -0.0f;
    g.opacities[0] = std::numeric_limits<float>::denorm_min();
    g.log_scales[0] = std::numeric_limits<float>::max();
    g.log_scales[1] = std::nextafter(1.0f, 2.0f);
  }
  return g;
}

void ExpectBitEqual(const Gaussians& a, const Gaussians& b) {
  ASSERT_EQ(a.max_sh_degree, b.max_sh_degree);
  ASSERT_EQ(a.size(), b.size());
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    const auto x = a.Data(gr);
    const auto y = b.Data(gr);
    ASSERT_EQ(x.size(), y.size()) << "group " << group;
    EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)), 0) << "group " << group;
  }
}

TEST(Gaussians, ConstructorZeroesGroupsOfTheirWidths) {
  const Gaussians g(5, 3);
  EXPECT_EQ(g.size(), 5);
  EXPECT_EQ(g.ShRestStride(), 45);
  const int widths[] = {3, 3, 4, 1, 3, 45};
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    EXPECT_EQ(g.Width(gr), widths[group]);
    EXPECT_EQ(g.Data(gr).size(), 5u * widths[group]);
    for (float v : g.Data(gr)) EXPECT_EQ(v, 0.0f);
  }
  EXPECT_EQ(Gaussians(2, 0).ShRestStride(), 0);
  EXPECT_EQ(Gaussians(2, 1).ShRestStride(), 9);
  EXPECT_THROW(Gaussians(2, 4), Error);
  EXPECT_THROW(Gaussians(-1, 3), Error);
}

TEST(Gaussians, ViewsPointAtTheGroups) {
  Gaussians g = Tagged(3, 2);
  const GaussiansView<float> view = g.View();
  EXPECT_EQ(view.count, 3);
  EXPECT_EQ(view.sh_rest_stride, 24);
  EXPECT_EQ(view.means, g.means.data());
  EXPECT_EQ(view.sh_rest, g.sh_rest.data());
  const GaussiansMutableView<float> mut = g.MutableView();
  EXPECT_EQ(mut.quats, g.quats.data());
  EXPECT_EQ(mut.opacities, g.opacities.data());
  EXPECT_EQ(mut.count, 3);
}

TEST(Gaussians, CompactKeepsRowsAlignedAcrossGroups) {
  for (const int degree : {0, 3}) {
    Gaussians g = Tagged(7, degree);
    const bool keep[] = {true, false, false, true, true, false, true};
    g.Compact(keep);
    ExpectRows(g, {0, 3, 4, 6});
    EXPECT_NO_THROW(g.Check());
    const bool too_few[] = {true};
    EXPECT_THROW(g.Compact(too_few), Error);
  }
}

TEST(Gaussians, AppendCopiesKeepsRowsAlignedAcrossGroups) {
  Gaussians g = Tagged(4, 3);
  const std::int64_t indices[] = {2, 0, 2, 3};
  g.AppendCopies(indices);
  ExpectRows(g, {0, 1, 2, 3, 2, 0, 2, 3});
  const std::int64_t bad[] = {8};
  EXPECT_THROW(g.AppendCopies(bad), Error);
  ExpectRows(g, {0, 1, 2, 3, 2, 0, 2, 3});  // unchanged by the failed call
}

TEST(Gaussians, AppendConcatenatesModelsOfOneDegree) {
  Gaussians a = Tagged(3, 1);
  const Gaussians b = Tagged(2, 1);
  a.Append(b);
  ExpectRows(a, {0, 1, 2, 0, 1});
  a.Append(a);
  EXPECT_EQ(a.size(), 10);
  EXPECT_THROW(a.Append(Gaussians(1, 2)), Error);
}

TEST(Gaussians, ResizeZeroFillsAndSetZeroClears) {
  Gaussians g = Tagged(2, 1);
  g.Resize(3);
  EXPECT_EQ(g.size(), 3);
  EXPECT_NO_THROW(g.Check());
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    const auto gr = static_cast<Gaussians::Group>(group);
    const int w = g.Width(gr);
    for (int j = 0; j < w; ++j) {
      EXPECT_EQ(g.Data(gr)[w + j], Tag(1, group, j));
      EXPECT_EQ(g.Data(gr)[2 * w + j], 0.0f);
    }
  }
  g.SetZero();
  for (int group = 0; group < Gaussians::kNumGroups; ++group) {
    for (float v : g.Data(static_cast<Gaussians::Group>(group))) EXPECT_EQ(v, 0.0f);
  }
}

TEST(Gaussians, CheckRejectsBadShapesAndNonFiniteValues) {
  Gaussians g = Tagged(3, 2);
  EXPECT_NO_THROW(g.Check());
  g.sh_rest[30] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(g.Check(), Error);
  g = Tagged(3, 2);
  g.quats.pop_back();
  EXPECT_THROW(g.Check(), Error);
  g = Tagged(3, 2);
  g.max_sh_degree = 3;  // sh_rest now too short
  EXPECT_THROW(g.Check(), Error);
}

TEST(Gaussians, PlyRoundTripIsBitExact) {
  const testing::TempDir dir;
  for (const int degree : {3, 0}) {
    const Gaussians g = RandomGaussians(37, degree, 11 + degree);
    const auto path = dir / ("model" + std::to_string(degree) + ".ply");
    datasets::WriteGaussianPly(path, ToSplats(g));
    const datasets::GaussianSplats read = datasets::ReadGaussianPly(path);
    EXPECT_EQ(read.sh_degree, degree);
    ExpectBitEqual(FromSplats(read), g);
  }
}

TEST(Gaussians, ShRestConvertsBetweenCoefficientAndChannelMajor) {
  const Gaussians g = Tagged(2, 3);
  const datasets::GaussianSplats s = ToSplats(g);
  ASSERT_EQ(s.sh_degree, 3);
  ASSERT_EQ(s.normals.size(), 2u);
  EXPECT_EQ(s.normals[1], Eigen::Vector3f::Zero());
  for (std::size_t i = 0; i < 2; ++i) {
    for (int c = 0; c < 3; ++c) {
      for (int k = 0; k < 15; ++k) {
        EXPECT_EQ(s.ShRest(i, c, k),
                  Tag(static_cast<std::int64_t>(i), Gaussians::kShRest, 3 * k + c));
      }
    }
    EXPECT_EQ(s.rotations[i][3], Tag(static_cast<std::int64_t>(i), Gaussians::kQuats, 3));
    EXPECT_EQ(s.opacities[i], Tag(static_cast<std::int64_t>(i), Gaussians::kOpacities, 0));
  }
  // Lower degree on export truncates; a higher model degree on import zero-fills.
  const datasets::GaussianSplats s1 = ToSplats(g, 1);
  EXPECT_EQ(s1.sh_degree, 1);
  EXPECT_EQ(s1.ShRest(1, 2, 2), Tag(1, Gaussians::kShRest, 8));
  const Gaussians g1 = FromSplats(s1, 2);
  EXPECT_EQ(g1.max_sh_degree, 2);
  for (int j = 0; j < 24; ++j) {
    EXPECT_EQ(g1.sh_rest[24 + j], j < 9 ? Tag(1, Gaussians::kShRest, j) : 0.0f);
  }
  const Gaussians g0 = FromSplats(s, 0);
  EXPECT_EQ(g0.ShRestStride(), 0);
  EXPECT_EQ(g0.sh_dc, g.sh_dc);
  EXPECT_THROW(ToSplats(g, 4), Error);
}

TEST(Gaussians, FromSplatsReadsAnInriaCheckpoint) {
  const std::filesystem::path path =
      FACET_SOURCE_DIR "/../shared/data/splats-small/kacytran1122_try_iter7000_point_cloud.ply";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "not present: " << path;
  const datasets::GaussianSplats splats = datasets::ReadGaussianPly(path);
  const Gaussians g = FromSplats(splats);
  EXPECT_EQ(g.size(), 9080);
  EXPECT_EQ(g.max_sh_degree, 3);
  EXPECT_NO_THROW(g.Check());
  for (std::size_t i : {std::size_t{0}, std::size_t{9079}}) {
    EXPECT_EQ(g.sh_rest[i * 45 + 3 * 14 + 2], splats.ShRest(i, 2, 14));
    EXPECT_EQ(g.sh_rest[i * 45 + 3 * 0 + 1], splats.ShRest(i, 1, 0));
    EXPECT_EQ(g.means[3 * i + 2], splats.positions[i].z());
  }
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST(InitFromPoints, RegularGridGivesLogSpacingAndColoursThroughShDc) {
  // A 4 x 4 x 4 grid of spacing h: every point, corners included, has at least 3 neighbours at
  // distance h, none closer, so the mean squared distance is h^2 and the log-scale log(h).
  const float h = 0.25f;
  std::vector<Eigen::Vector3f> points;
  std::vector<Eigen::Vector3f> colors;
  for (int x = 0; x < 4; ++x) {
    for (int y = 0; y < 4; ++y) {
      for (int z = 0; z < 4; ++z) {
        points.emplace_back(1.0f + h * x, -2.0f + h * y, 0.5f + h * z);
        colors.emplace_back(x / 3.0f, y / 3.0f, z / 3.0f);
      }
    }
  }
  const Gaussians g = InitFromPoints(points, colors);
  ASSERT_EQ(g.size(), 64);
  EXPECT_EQ(g.max_sh_degree, 3);
  EXPECT_NO_THROW(g.Check());
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (int d = 0; d < 3; ++d) {
      EXPECT_EQ(g.means[3 * i + d], points[i][d]);
      // Float distances of exactly representable grid points: h^2 up to rounding of the coords.
      EXPECT_NEAR(g.log_scales[3 * i + d], std::log(h), 1e-5) << i;
      EXPECT_NEAR(0.5 + kC0 * g.sh_dc[3 * i + d], colors[i][d], 1e-6);
    }
    EXPECT_EQ(g.quats[4 * i], 1.0f);
    EXPECT_EQ(g.quats[4 * i + 1], 0.0f);
    EXPECT_EQ(g.quats[4 * i + 2], 0.0f);
    EXPECT_EQ(g.quats[4 * i + 3], 0.0f);
    EXPECT_NEAR(Sigmoid(g.opacities[i]), 0.1f, 1e-6);
  }
  for (float v : g.sh_rest) EXPECT_EQ(v, 0.0f);
}

TEST(InitFromPoints, FewPointsUseWhatNeighboursExist) {
  InitOptions options;
  options.max_sh_degree = 0;
  // One point: no neighbour, so the floor min_squared_distance.
  const Eigen::Vector3f p0(1, 2, 3);
  const Eigen::Vector3f c0(0.5f, 0.5f, 0.5f);
  Gaussians one = InitFromPoints({&p0, 1}, {&c0, 1}, options);
  ASSERT_EQ(one.size(), 1);
  EXPECT_NEAR(one.log_scales[0], 0.5 * std::log(1e-7), 1e-5);
  EXPECT_EQ(one.sh_dc[0], 0.0f);
  // Two points 2 apart: one neighbour each.
  const std::vector<Eigen::Vector3f> two = {{0, 0, 0}, {0, 2, 0}};
  Gaussians g = InitFromPoints(two, std::vector<Eigen::Vector3f>(2, c0), options);
  EXPECT_NEAR(g.log_scales[0], std::log(2.0), 1e-6);
  EXPECT_NEAR(g.log_scales[5], std::log(2.0), 1e-6);
  // Coincident points are clamped to the floor.
  const std::vector<Eigen::Vector3f> same(5, Eigen::Vector3f(1, 1, 1));
  g = InitFromPoints(same, std::vector<Eigen::Vector3f>(5, c0), options);
  for (float v : g.log_scales) EXPECT_NEAR(v, 0.5 * std::log(1e-7), 1e-5);
}

TEST(InitFromPoints, RejectsBadInput) {
  const std::vector<Eigen::Vector3f> points = {{0, 0, 0}, {1, 0, 0}};
  const std::vector<Eigen::Vector3f> colors = {{0, 0, 0}};
  EXPECT_THROW(InitFromPoints({}, {}), Error);
  EXPECT_THROW(InitFromPoints(points, colors), Error);
  InitOptions options;
  options.initial_opacity = 1.0f;
  EXPECT_THROW(InitFromPoints(points, points, options), Error);
  options = {};
  options.num_neighbors = 0;
  EXPECT_THROW(InitFromPoints(points, points, options), Error);
}

TEST(InitFromScene, UsesSparsePointsAndByteColours) {
  datasets::Scene scene;
  EXPECT_THROW(InitFromScene(scene), Error);
  datasets::Point3D a;
  a.xyz = Eigen::Vector3d(1, 2, 3);
  a.color << 255, 0, 51;
  datasets::Point3D b;
  b.xyz = Eigen::Vector3d(1, 2, 4);
  scene.points3d[datasets::Point3DId(3)] = a;
  scene.points3d[datasets::Point3DId(9)] = b;
  const Gaussians g = InitFromScene(scene);
  ASSERT_EQ(g.size(), 2);
  EXPECT_EQ(g.means[2], 3.0f);
  EXPECT_EQ(g.means[5], 4.0f);
  EXPECT_NEAR(0.5 + kC0 * g.sh_dc[0], 1.0, 1e-6);
  EXPECT_NEAR(0.5 + kC0 * g.sh_dc[1], 0.0, 1e-6);
  EXPECT_NEAR(0.5 + kC0 * g.sh_dc[2], 0.2, 1e-6);
  EXPECT_NEAR(g.log_scales[0], 0.0, 1e-6);  // the two points are 1 apart
}

TEST(InitRandom, IsDeterministicAndInsideTheBox) {
  InitOptions options;
  options.random_count = 2000;
  options.seed = 42;
  const Eigen::Vector3f lo(-1.3f, 0.0f, 2.0f);
  const Eigen::Vector3f hi(1.3f, 0.5f, 2.0f);  // a flat box is allowed
  const Gaussians a = InitRandom(lo, hi, options);
  const Gaussians b = InitRandom(lo, hi, options);
  ExpectBitEqual(a, b);
  ASSERT_EQ(a.size(), 2000);
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (std::int64_t i = 0; i < a.size(); ++i) {
    for (int d = 0; d < 3; ++d) {
      const float x = a.means[3 * i + d];
      EXPECT_GE(x, lo[d]);
      EXPECT_LE(x, hi[d]);
      mean[d] += x / 2000.0;
      const double rgb = 0.5 + kC0 * a.sh_dc[3 * i + d];
      EXPECT_GE(rgb, -1e-6);
      EXPECT_LE(rgb, 1.0 + 1e-6);
    }
  }
  // Uniform: the mean is the box centre within a few standard errors (width / sqrt(12 n)).
  for (int d = 0; d < 3; ++d) {
    EXPECT_NEAR(mean[d], 0.5 * (lo[d] + hi[d]),
                5.0 * (hi[d] - lo[d]) / std::sqrt(12.0 * 2000) + 1e-6);
  }
  options.seed = 43;
  const Gaussians c = InitRandom(lo, hi, options);
  EXPECT_NE(a.means, c.means);
  EXPECT_THROW(InitRandom(hi, lo, options), Error);
}

}  // namespace
}  // namespace facet::splatting
