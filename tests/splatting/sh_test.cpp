#include "splatting/kernels/sh.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "fd.h"

namespace facet::splatting {
namespace {

using kernels::NumShCoeffs;
using kernels::Vec3;
using test::CentralDifferences;
using test::ExpectGradientNear;
using test::Uniform;

// L = w . colour as a function of (sh..., dir) packed in one vector.
double ShLoss(int degree, const std::vector<double>& x, const Vec3<double>& w) {
  const int n = 3 * NumShCoeffs(degree);
  const Vec3<double> dir{x[n], x[n + 1], x[n + 2]};
  bool clamped[3];
  const Vec3<double> c = kernels::ShToColor(degree, x.data(), dir, clamped);
  return Dot(w, c);
}

void CheckShVjp(int degree, const std::vector<double>& x, const Vec3<double>& w) {
  const int n = 3 * NumShCoeffs(degree);
  const Vec3<double> dir{x[n], x[n + 1], x[n + 2]};
  bool clamped[3];
  kernels::ShToColor(degree, x.data(), dir, clamped);
  std::vector<double> v_sh(n);
  Vec3<double> v_dir;
  kernels::ShToColorVjp(degree, x.data(), dir, clamped, w, v_sh.data(), &v_dir);
  const std::vector<double> fd =
      CentralDifferences([&](const std::vector<double>& y) { return ShLoss(degree, y, w); }, x);
  ExpectGradientNear(v_sh, std::vector<double>(fd.begin(), fd.begin() + n), 1e-6, "v_sh");
  ExpectGradientNear({v_dir.x, v_dir.y, v_dir.z}, {fd[n], fd[n + 1], fd[n + 2]}, 1e-6, "v_dir");
}

TEST(ShToColor, ZeroCoefficientsGiveGreyAndDcMatchesConstant) {
  std::vector<double> sh(48, 0.0);
  bool clamped[3];
  Vec3<double> c = kernels::ShToColor(3, sh.data(), Vec3<double>{0.3, -2.0, 1.0}, clamped);
  EXPECT_DOUBLE_EQ(c.x, 0.5);
  sh[0] = 1.0;  // red DC
  c = kernels::ShToColor(0, sh.data(), Vec3<double>{0.0, 0.0, 1.0}, clamped);
  EXPECT_DOUBLE_EQ(c.x, 0.5 + 0.28209479177387814);
  EXPECT_DOUBLE_EQ(c.y, 0.5);
}

TEST(ShToColor, ColourIgnoresDirectionLength) {
  std::mt19937 rng(7);
  std::vector<double> sh(48);
  for (double& s : sh) s = Uniform(rng, -0.5, 0.5);
  bool clamped[3];
  const Vec3<double> a = kernels::ShToColor(3, sh.data(), Vec3<double>{0.2, -0.4, 0.9}, clamped);
  const Vec3<double> b = kernels::ShToColor(3, sh.data(), Vec3<double>{2.0, -4.0, 9.0}, clamped);
  EXPECT_NEAR(a.x, b.x, 1e-14);
  EXPECT_NEAR(a.y, b.y, 1e-14);
  EXPECT_NEAR(a.z, b.z, 1e-14);
}

TEST(ShToColorVjp, MatchesFiniteDifferencesForEveryDegree) {
  std::mt19937 rng(42);
  for (int degree = 0; degree <= 3; ++degree) {
    for (int trial = 0; trial < 10; ++trial) {
      const int n = 3 * NumShCoeffs(degree);
      std::vector<double> x(n + 3);
      for (int i = 0; i < n; ++i) x[i] = Uniform(rng, -0.3, 0.3);
      for (int c = 0; c < 3; ++c) x[c] = Uniform(rng, 0.5, 1.0);       // DC keeps colours unclamped
      for (int i = 0; i < 3; ++i) x[n + i] = Uniform(rng, -3.0, 3.0);  // unnormalised direction
      const Vec3<double> w{Uniform(rng, -1, 1), Uniform(rng, -1, 1), Uniform(rng, -1, 1)};
      SCOPED_TRACE(testing::Message() << "degree " << degree << " trial " << trial);
      CheckShVjp(degree, x, w);
    }
  }
}

TEST(ShToColorVjp, ClampedChannelPassesNoGradient) {
  std::mt19937 rng(3);
  const int n = 48;
  std::vector<double> x(n + 3);
  for (int i = 0; i < n; ++i) x[i] = Uniform(rng, -0.1, 0.1);
  x[0] = -5.0;  // red far below zero: clamped
  x[1] = 1.0;
  x[2] = 1.0;
  x[n] = 0.3, x[n + 1] = 0.4, x[n + 2] = -1.2;
  const Vec3<double> dir{x[n], x[n + 1], x[n + 2]};
  bool clamped[3];
  const Vec3<double> c = kernels::ShToColor(3, x.data(), dir, clamped);
  ASSERT_TRUE(clamped[0]);
  ASSERT_FALSE(clamped[1]);
  EXPECT_EQ(c.x, 0.0);
  std::vector<double> v_sh(n);
  Vec3<double> v_dir;
  kernels::ShToColorVjp(3, x.data(), dir, clamped, Vec3<double>{1.0, 0.0, 0.0}, v_sh.data(),
                        &v_dir);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(v_sh[3 * k], 0.0);
  EXPECT_EQ(v_dir.x, 0.0);
  EXPECT_EQ(v_dir.y, 0.0);
  EXPECT_EQ(v_dir.z, 0.0);
  CheckShVjp(3, x, Vec3<double>{0.7, -0.2, 0.4});  // the unclamped channels still match FD
}

TEST(ShToColor, FloatMatchesDouble) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> shd(48);
    std::vector<float> shf(48);
    for (int i = 0; i < 48; ++i) shf[i] = static_cast<float>(shd[i] = Uniform(rng, -0.5, 0.5));
    const Vec3<double> dd{Uniform(rng, -2, 2), Uniform(rng, -2, 2), Uniform(rng, 0.5, 2)};
    const Vec3<float> df{static_cast<float>(dd.x), static_cast<float>(dd.y),
                         static_cast<float>(dd.z)};
    bool cd[3], cf[3];
    const Vec3<double> a = kernels::ShToColor(3, shd.data(), dd, cd);
    const Vec3<float> b = kernels::ShToColor(3, shf.data(), df, cf);
    // 16 terms of magnitude < 1 in float: error a few 1e-7.
    EXPECT_NEAR(a.x, b.x, 1e-5);
    EXPECT_NEAR(a.y, b.y, 1e-5);
    EXPECT_NEAR(a.z, b.z, 1e-5);
    std::vector<double> vd(48);
    std::vector<float> vf(48);
    Vec3<double> vdd;
    Vec3<float> vdf;
    kernels::ShToColorVjp(3, shd.data(), dd, cd, Vec3<double>{1, 1, 1}, vd.data(), &vdd);
    kernels::ShToColorVjp(3, shf.data(), df, cf, Vec3<float>{1, 1, 1}, vf.data(), &vdf);
    for (int i = 0; i < 48; ++i) EXPECT_NEAR(vd[i], vf[i], 1e-5);
    EXPECT_NEAR(vdd.x, vdf.x, 1e-4);
    EXPECT_NEAR(vdd.y, vdf.y, 1e-4);
    EXPECT_NEAR(vdd.z, vdf.z, 1e-4);
  }
}

}  // namespace
}  // namespace facet::splatting
