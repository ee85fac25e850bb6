#include "splatting/kernels/project.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "fd.h"

namespace facet::splatting {
namespace {

using kernels::Mat3;
using kernels::PinholeView;
using kernels::Projection;
using kernels::Quat;
using kernels::Sym2;
using kernels::Vec2;
using kernels::Vec3;
using test::CentralDifferences;
using test::ExpectGradientNear;
using test::Uniform;

Quat<double> RandomQuat(std::mt19937& rng) {
  // Unnormalised on purpose: |q| in roughly [0.5, 3].
  return {Uniform(rng, -1.5, 1.5), Uniform(rng, -1.5, 1.5), Uniform(rng, -1.5, 1.5),
          Uniform(rng, 0.5, 1.5)};
}

Mat3<double> SymmetricWeights(std::mt19937& rng) {
  Mat3<double> g;
  for (int i = 0; i < 3; ++i) {
    for (int j = i; j < 3; ++j) g(i, j) = g(j, i) = Uniform(rng, -1, 1);
  }
  return g;
}

double Frobenius(const Mat3<double>& a, const Mat3<double>& b) {
  double s = 0;
  for (int i = 0; i < 9; ++i) s += a.m[i] * b.m[i];
  return s;
}

void CheckCovarianceVjp(const Quat<double>& q, const Vec3<double>& ls, const Mat3<double>& g) {
  Quat<double> v_q;
  Vec3<double> v_ls;
  kernels::QuatScaleToCovarianceVjp(q, ls, g, &v_q, &v_ls);
  const auto loss = [&](const std::vector<double>& x) {
    return Frobenius(g, kernels::QuatScaleToCovariance(Quat<double>{x[0], x[1], x[2], x[3]},
                                                       Vec3<double>{x[4], x[5], x[6]}));
  };
  const std::vector<double> fd =
      CentralDifferences(loss, {q.w, q.x, q.y, q.z, ls.x, ls.y, ls.z}, 1e-6);
  ExpectGradientNear({v_q.w, v_q.x, v_q.y, v_q.z}, {fd[0], fd[1], fd[2], fd[3]}, 1e-6, "v_quat");
  ExpectGradientNear({v_ls.x, v_ls.y, v_ls.z}, {fd[4], fd[5], fd[6]}, 1e-6, "v_log_scale");
}

TEST(QuatScaleToCovariance, IdentityRotationGivesSquaredScales) {
  const Mat3<double> s = kernels::QuatScaleToCovariance(Quat<double>{2.0, 0, 0, 0},
                                                        Vec3<double>{0.0, std::log(2.0), -1.0});
  EXPECT_NEAR(s(0, 0), 1.0, 1e-15);
  EXPECT_NEAR(s(1, 1), 4.0, 1e-14);
  EXPECT_NEAR(s(2, 2), std::exp(-2.0), 1e-15);
  EXPECT_NEAR(s(0, 1), 0.0, 1e-15);
}

TEST(QuatScaleToCovariance, InvariantToQuaternionLengthAndSymmetric) {
  std::mt19937 rng(5);
  const Quat<double> q = RandomQuat(rng);
  const Vec3<double> ls{-1.0, 0.2, -0.4};
  const Mat3<double> a = kernels::QuatScaleToCovariance(q, ls);
  const Mat3<double> b =
      kernels::QuatScaleToCovariance(Quat<double>{3 * q.w, 3 * q.x, 3 * q.y, 3 * q.z}, ls);
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(a.m[i], b.m[i], 1e-14);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(a(i, j), a(j, i), 1e-15);
  }
  // The trace is the sum of the squared scales, whatever the rotation.
  EXPECT_NEAR(a(0, 0) + a(1, 1) + a(2, 2),
              std::exp(2 * ls.x) + std::exp(2 * ls.y) + std::exp(2 * ls.z), 1e-14);
}

TEST(QuatScaleToCovarianceVjp, MatchesFiniteDifferences) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 20; ++trial) {
    SCOPED_TRACE(trial);
    const Vec3<double> ls{Uniform(rng, -2, 0.5), Uniform(rng, -2, 0.5), Uniform(rng, -2, 0.5)};
    CheckCovarianceVjp(RandomQuat(rng), ls, SymmetricWeights(rng));
  }
}

TEST(QuatScaleToCovarianceVjp, NearlyDegenerateScale) {
  std::mt19937 rng(2);
  for (int trial = 0; trial < 5; ++trial) {
    CheckCovarianceVjp(RandomQuat(rng), Vec3<double>{-12.0, 0.1, -0.3}, SymmetricWeights(rng));
  }
}

PinholeView<double> RandomView(std::mt19937& rng) {
  PinholeView<double> v;
  v.cam_from_world_rotation = kernels::QuatToRotation(RandomQuat(rng));
  v.cam_from_world_translation = {Uniform(rng, -1, 1), Uniform(rng, -1, 1), Uniform(rng, -1, 1)};
  v.fx = Uniform(rng, 400, 700);
  v.fy = v.fx * Uniform(rng, 0.95, 1.05);
  v.width = 640;
  v.height = 480;
  v.cx = 320 + Uniform(rng, -20, 20);
  v.cy = 240 + Uniform(rng, -20, 20);
  return v;
}

// The world point whose camera coordinates are (u z, v z, z).
Vec3<double> WorldPoint(const PinholeView<double>& view, double u, double v, double z) {
  const Vec3<double> p{u * z, v * z, z};
  return Transpose(view.cam_from_world_rotation) * (p - view.cam_from_world_translation);
}

struct ProjectionLoss {
  Vec2<double> w_mean;
  Sym2<double> w_conic;
  double operator()(const Projection<double>& p) const {
    return w_mean.x * p.mean2d.x + w_mean.y * p.mean2d.y + w_conic.a * p.conic.a +
           w_conic.b * p.conic.b + w_conic.c * p.conic.c;
  }
};

// FD w.r.t. the mean (3) and the symmetric covariance (6: perturbing S_ij and S_ji together,
// whose derivative is G_ij + G_ji for the symmetric VJP G).
void CheckProjectionVjp(const Vec3<double>& mean, const Mat3<double>& covar,
                        const PinholeView<double>& view, const ProjectionLoss& loss) {
  ASSERT_TRUE(kernels::ProjectGaussian(mean, covar, view).visible);
  Vec3<double> v_mean;
  Mat3<double> v_covar;
  kernels::ProjectGaussianVjp(mean, covar, view, loss.w_mean, loss.w_conic, &v_mean, &v_covar);
  constexpr int kPairs[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  // The covariance differences leave out the mean term (independent of Sigma), whose pixel-sized
  // value would only add rounding error.
  ProjectionLoss conic_loss = loss;
  conic_loss.w_mean = {0, 0};
  const auto g = [&](const std::vector<double>& x, const ProjectionLoss& l) {
    Mat3<double> c = covar;
    for (int k = 0; k < 6; ++k) {
      c(kPairs[k][0], kPairs[k][1]) += x[3 + k];
      if (k >= 3) c(kPairs[k][1], kPairs[k][0]) += x[3 + k];
    }
    const Projection<double> p = kernels::ProjectGaussian(Vec3<double>{x[0], x[1], x[2]}, c, view);
    EXPECT_TRUE(p.visible);
    return l(p);
  };
  const auto f = [&](const std::vector<double>& x) { return g(x, loss); };
  const auto f_conic = [&](const std::vector<double>& x) { return g(x, conic_loss); };
  std::vector<double> x0 = {mean.x, mean.y, mean.z, 0, 0, 0, 0, 0, 0};
  const std::vector<double> fd_mean = CentralDifferences(f, x0, 1e-6);
  // The conic is nonlinear on the scale of the smallest eigenvalue lambda of the 2D covariance
  // (>= the 0.3 px^2 low-pass), and a step h in Sigma moves Sigma' by about
  // (f / z)^2 (1 + u^2 + v^2) h. Steps moving Sigma' by 1e-4 lambda keep the truncation error
  // near (1e-4)^2 and the rounding error near 1e-16 / 1e-4, both far below the 1e-6 tolerance.
  const Projection<double> p0 = kernels::ProjectGaussian(mean, covar, view);
  const Sym2<double>& c2 = p0.covar2d;
  const double half_trace = 0.5 * (c2.a + c2.c);
  const double lambda_min =
      half_trace - std::sqrt(0.25 * (c2.a - c2.c) * (c2.a - c2.c) + c2.b * c2.b);
  const Vec3<double>& pc = p0.mean_cam;
  const double gain = std::pow(std::max(view.fx, view.fy) / pc.z, 2) *
                      (1 + (pc.x * pc.x + pc.y * pc.y) / (pc.z * pc.z));
  const std::vector<double> fd_cov = CentralDifferences(f_conic, x0, 1e-4 * lambda_min / gain);
  ExpectGradientNear({v_mean.x, v_mean.y, v_mean.z}, {fd_mean[0], fd_mean[1], fd_mean[2]}, 1e-6,
                     "v_mean");
  std::vector<double> analytic(6), fd(6);
  for (int k = 0; k < 6; ++k) {
    const int i = kPairs[k][0], j = kPairs[k][1];
    analytic[k] = i == j ? v_covar(i, i) : v_covar(i, j) + v_covar(j, i);
    fd[k] = fd_cov[3 + k];
    EXPECT_NEAR(v_covar(i, j), v_covar(j, i), 1e-12 * (1 + std::abs(v_covar(i, j))));
  }
  ExpectGradientNear(analytic, fd, 1e-6, "v_covar");
}

ProjectionLoss RandomLoss(std::mt19937& rng) {
  return {{Uniform(rng, -1, 1), Uniform(rng, -1, 1)},
          {Uniform(rng, -1, 1), Uniform(rng, -1, 1), Uniform(rng, -1, 1)}};
}

TEST(ProjectGaussian, CentredIsotropicGaussianProjectsToPrincipalPoint) {
  PinholeView<double> view{{{1, 0, 0, 0, 1, 0, 0, 0, 1}}, {0, 0, 0}, 500, 500, 320, 240, 640, 480};
  const double sigma = 0.01, z = 2.0;
  const Mat3<double> covar{{sigma * sigma, 0, 0, 0, sigma * sigma, 0, 0, 0, sigma * sigma}};
  const Projection<double> p = kernels::ProjectGaussian(Vec3<double>{0, 0, z}, covar, view);
  ASSERT_TRUE(p.visible);
  EXPECT_DOUBLE_EQ(p.mean2d.x, 320.0);
  EXPECT_DOUBLE_EQ(p.mean2d.y, 240.0);
  // Sigma' = (f sigma / z)^2 + 0.3 on the diagonal.
  const double expected = std::pow(500 * sigma / z, 2) + 0.3;
  EXPECT_NEAR(p.covar2d.a, expected, 1e-12);
  EXPECT_NEAR(p.covar2d.b, 0.0, 1e-15);
  EXPECT_NEAR(p.conic.a, 1.0 / expected, 1e-12);
}

TEST(ProjectGaussianVjp, MatchesFiniteDifferences) {
  std::mt19937 rng(2023);
  for (int trial = 0; trial < 30; ++trial) {
    SCOPED_TRACE(trial);
    const PinholeView<double> view = RandomView(rng);
    const Vec3<double> mean =
        WorldPoint(view, Uniform(rng, -0.4, 0.4), Uniform(rng, -0.3, 0.3), Uniform(rng, 0.5, 6));
    const Vec3<double> ls{Uniform(rng, -4, -1), Uniform(rng, -4, -1), Uniform(rng, -4, -1)};
    const Mat3<double> covar = kernels::QuatScaleToCovariance(RandomQuat(rng), ls);
    CheckProjectionVjp(mean, covar, view, RandomLoss(rng));
  }
}

TEST(ProjectGaussian, BehindCameraOrNearPlaneIsNotVisibleAndHasZeroGradient) {
  std::mt19937 rng(9);
  const PinholeView<double> view = RandomView(rng);
  const Mat3<double> covar =
      kernels::QuatScaleToCovariance(RandomQuat(rng), Vec3<double>{-2, -2, -2});
  for (double z : {-1.0, 0.0, 0.005}) {
    const Vec3<double> mean =
        WorldPoint(view, 0.1, 0.1, 1.0) +
        (z - 1.0) * (Transpose(view.cam_from_world_rotation) * Vec3<double>{0, 0, 1});
    const Projection<double> p = kernels::ProjectGaussian(mean, covar, view);
    EXPECT_FALSE(p.visible) << z;
    EXPECT_NEAR(p.mean_cam.z, z, 1e-12);
    Vec3<double> v_mean;
    Mat3<double> v_covar;
    kernels::ProjectGaussianVjp(mean, covar, view, Vec2<double>{1, 1}, Sym2<double>{1, 1, 1},
                                &v_mean, &v_covar);
    EXPECT_EQ(v_mean.x, 0.0);
    EXPECT_EQ(v_mean.z, 0.0);
    for (double g : v_covar.m) EXPECT_EQ(g, 0.0);
  }
}

TEST(ProjectGaussianVjp, MatchesFiniteDifferencesWhereTangentIsClamped) {
  std::mt19937 rng(77);
  for (int trial = 0; trial < 10; ++trial) {
    SCOPED_TRACE(trial);
    const PinholeView<double> view = RandomView(rng);
    // Tangents 1.5-2x beyond the clamp on one or both axes (left/right, top/bottom).
    const double lim_u = 1.3 * (trial % 2 ? (view.width - view.cx) : -view.cx) / view.fx;
    const double lim_v = 1.3 * (trial % 3 ? (view.height - view.cy) : -view.cy) / view.fy;
    const double u = lim_u * Uniform(rng, 1.5, 2.0);
    const double v = trial % 4 == 0 ? 0.1 : lim_v * Uniform(rng, 1.5, 2.0);
    const PinholeView<double>& cview = view;
    const Vec3<double> mean = WorldPoint(cview, u, v, Uniform(rng, 1, 4));
    const Mat3<double> covar =
        kernels::QuatScaleToCovariance(RandomQuat(rng), Vec3<double>{-2, -2.5, -3});
    double uc, vc;
    bool u_free, v_free;
    const Vec3<double> p = view.cam_from_world_rotation * mean + view.cam_from_world_translation;
    kernels::detail::ClampedTangent(p, view, kernels::ProjectParams<double>{}, &uc, &vc, &u_free,
                                    &v_free);
    ASSERT_FALSE(u_free);
    EXPECT_NEAR(uc, lim_u, 1e-12);
    CheckProjectionVjp(mean, covar, view, RandomLoss(rng));
  }
}

TEST(ProjectGaussianVjp, NearlyDegenerateCovariance) {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 10; ++trial) {
    SCOPED_TRACE(trial);
    const PinholeView<double> view = RandomView(rng);
    const Vec3<double> mean = WorldPoint(view, 0.2, -0.1, 2.0);
    // One scale 1e-5 of the others (a flat disc), and a nearly point-like Gaussian whose
    // footprint is the low-pass filter alone.
    const Vec3<double> ls =
        trial % 2 ? Vec3<double>{-1.5, -2.0, -13.0} : Vec3<double>{-12.0, -12.5, -13.0};
    const Mat3<double> covar = kernels::QuatScaleToCovariance(RandomQuat(rng), ls);
    CheckProjectionVjp(mean, covar, view, RandomLoss(rng));
  }
}

TEST(ProjectGaussian, FloatMatchesDouble) {
  std::mt19937 rng(123);
  const auto to_f = [](double x) { return static_cast<float>(x); };
  for (int trial = 0; trial < 20; ++trial) {
    const PinholeView<double> vd = RandomView(rng);
    PinholeView<float> vf;
    for (int i = 0; i < 9; ++i)
      vf.cam_from_world_rotation.m[i] = to_f(vd.cam_from_world_rotation.m[i]);
    vf.cam_from_world_translation = {to_f(vd.cam_from_world_translation.x),
                                     to_f(vd.cam_from_world_translation.y),
                                     to_f(vd.cam_from_world_translation.z)};
    vf.fx = to_f(vd.fx), vf.fy = to_f(vd.fy), vf.cx = to_f(vd.cx), vf.cy = to_f(vd.cy);
    vf.width = to_f(vd.width), vf.height = to_f(vd.height);
    const Vec3<double> md = WorldPoint(vd, Uniform(rng, -0.4, 0.4), Uniform(rng, -0.3, 0.3), 3.0);
    const Quat<double> qd = RandomQuat(rng);
    const Vec3<double> ld{Uniform(rng, -4, -2), Uniform(rng, -4, -2), Uniform(rng, -4, -2)};
    const Projection<double> pd =
        kernels::ProjectGaussian(md, kernels::QuatScaleToCovariance(qd, ld), vd);
    const Projection<float> pf = kernels::ProjectGaussian(
        Vec3<float>{to_f(md.x), to_f(md.y), to_f(md.z)},
        kernels::QuatScaleToCovariance(Quat<float>{to_f(qd.w), to_f(qd.x), to_f(qd.y), to_f(qd.z)},
                                       Vec3<float>{to_f(ld.x), to_f(ld.y), to_f(ld.z)}),
        vf);
    ASSERT_TRUE(pd.visible && pf.visible);
    // Float rounding (~6e-8 relative) amplified by a few operations on pixel-scale values.
    EXPECT_NEAR(pd.mean2d.x, pf.mean2d.x, 1e-3);
    EXPECT_NEAR(pd.mean2d.y, pf.mean2d.y, 1e-3);
    const double tol = 1e-4 * std::max(std::abs(pd.conic.a), std::abs(pd.conic.c));
    EXPECT_NEAR(pd.conic.a, pf.conic.a, tol);
    EXPECT_NEAR(pd.conic.b, pf.conic.b, tol);
    EXPECT_NEAR(pd.conic.c, pf.conic.c, tol);
  }
}

}  // namespace
}  // namespace facet::splatting
