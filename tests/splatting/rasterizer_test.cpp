// The tile rasterizer (splatting/rasterizer.h, kernels/rasterize.h): forward properties on scenes
// whose image is known in closed form, the per-pixel VJPs and the whole-image gradient of every
// parameter against central finite differences in double precision.
#include "splatting/rasterizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/error.h"
#include "splatting/kernels/rasterize.h"
#include "tests/splatting/fd.h"

namespace facet::splatting {
namespace {

using kernels::Sym2;
using kernels::Vec2;
using kernels::Vec3;
using test::CentralDifferences;
using test::ExpectGradientNear;
using test::Uniform;

// Gaussians in double, with views for the rasterizer.
struct Scene64 {
  int degree = 3;
  int stride = 3 * 15;
  std::vector<double> means, log_scales, quats, opacities, sh_dc, sh_rest;
  std::int64_t Count() const { return std::int64_t(opacities.size()); }
  GaussiansView<double> View() const {
    return {means.data(), log_scales.data(), quats.data(), opacities.data(),
            sh_dc.data(), sh_rest.data(),    Count(),      stride};
  }
  // All parameters as one vector (for finite differences) and back.
  std::vector<double*> Params() {
    std::vector<double*> p;
    for (auto* v : {&means, &log_scales, &quats, &opacities, &sh_dc, &sh_rest}) {
      for (double& x : *v) p.push_back(&x);
    }
    return p;
  }
};

struct Grads64 {
  std::vector<double> means, log_scales, quats, opacities, sh_dc, sh_rest;
  explicit Grads64(const Scene64& s)
      : means(s.means.size()),
        log_scales(s.log_scales.size()),
        quats(s.quats.size()),
        opacities(s.opacities.size()),
        sh_dc(s.sh_dc.size()),
        sh_rest(s.sh_rest.size()) {}
  GaussiansMutableView<double> View(const Scene64& s) {
    return {means.data(), log_scales.data(), quats.data(), opacities.data(),
            sh_dc.data(), sh_rest.data(),    s.Count(),    s.stride};
  }
  std::vector<double> Flat() const {
    std::vector<double> out;
    for (const auto* v : {&means, &log_scales, &quats, &opacities, &sh_dc, &sh_rest}) {
      out.insert(out.end(), v->begin(), v->end());
    }
    return out;
  }
};

// A camera at the origin looking down +z, principal point at the centre.
RasterCamera<double> FrontCamera(int width, int height, double focal) {
  RasterCamera<double> cam;
  for (int i = 0; i < 9; ++i) cam.view.cam_from_world_rotation.m[i] = (i % 4 == 0) ? 1.0 : 0.0;
  cam.view.cam_from_world_translation = {0.0, 0.0, 0.0};
  cam.view.fx = cam.view.fy = focal;
  cam.view.cx = 0.5 * width;
  cam.view.cy = 0.5 * height;
  cam.view.width = width;
  cam.view.height = height;
  cam.center = {0.0, 0.0, 0.0};
  cam.width = width;
  cam.height = height;
  return cam;
}

// `n` Gaussians in front of FrontCamera, spread over the image, moderately opaque, random SH.
Scene64 RandomScene(std::mt19937& rng, int n, double spread) {
  Scene64 s;
  for (int i = 0; i < n; ++i) {
    const double z = Uniform(rng, 3.0, 6.0);
    s.means.insert(s.means.end(),
                   {Uniform(rng, -spread, spread) * z, Uniform(rng, -spread, spread) * z, z});
    for (int k = 0; k < 3; ++k) s.log_scales.push_back(std::log(Uniform(rng, 0.15, 0.45)));
    for (int k = 0; k < 4; ++k) s.quats.push_back(Uniform(rng, -1.0, 1.0));
    s.opacities.push_back(Uniform(rng, -1.0, 1.0));
    for (int k = 0; k < 3; ++k) s.sh_dc.push_back(Uniform(rng, 0.0, 1.2));
    for (int k = 0; k < s.stride; ++k) s.sh_rest.push_back(Uniform(rng, -0.15, 0.15));
  }
  return s;
}

// L = sum w_rgb * rgb + sum w_alpha * alpha with fixed random weights.
struct ImageLoss {
  std::vector<double> w_rgb, w_alpha;
  double operator()(const RasterResult<double>& r) const {
    double l = 0.0;
    for (std::size_t i = 0; i < r.rgb.size(); ++i) l += w_rgb[i] * r.rgb[i];
    for (std::size_t i = 0; i < r.alpha.size(); ++i) l += w_alpha[i] * r.alpha[i];
    return l;
  }
};

void CheckWholeImageGradient(Scene64 scene, const RasterCamera<double>& cam,
                             const RasterOptions& options, std::mt19937& rng, double tol) {
  const std::size_t pixels = std::size_t(cam.width) * cam.height;
  ImageLoss loss;
  for (std::size_t i = 0; i < 3 * pixels; ++i) loss.w_rgb.push_back(Uniform(rng, -1.0, 1.0));
  for (std::size_t i = 0; i < pixels; ++i) loss.w_alpha.push_back(Uniform(rng, -1.0, 1.0));

  RasterResult<double> fwd;
  RasterizeForward(scene.View(), cam, options, &fwd);
  Grads64 grads(scene);
  RasterizeBackward(scene.View(), cam, options, fwd, loss.w_rgb.data(), loss.w_alpha.data(),
                    grads.View(scene));

  std::vector<double*> params = scene.Params();
  std::vector<double> x(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) x[i] = *params[i];
  auto f = [&](const std::vector<double>& v) {
    for (std::size_t i = 0; i < params.size(); ++i) *params[i] = v[i];
    RasterResult<double> r;
    RasterizeForward(scene.View(), cam, options, &r);
    return loss(r);
  };
  const std::vector<double> fd = CentralDifferences(f, x, 1e-6);
  const std::vector<double> analytic = grads.Flat();
  // Per group, so that a failure names what is wrong.
  const char* names[] = {"means", "log_scales", "quats", "opacities", "sh_dc", "sh_rest"};
  const std::size_t n = std::size_t(scene.Count());
  const std::size_t sizes[] = {3 * n, 3 * n, 4 * n, n, 3 * n, std::size_t(scene.stride) * n};
  std::size_t offset = 0;
  for (int g = 0; g < 6; ++g) {
    std::vector<double> a(analytic.begin() + offset, analytic.begin() + offset + sizes[g]);
    std::vector<double> d(fd.begin() + offset, fd.begin() + offset + sizes[g]);
    ExpectGradientNear(a, d, tol, names[g]);
    offset += sizes[g];
  }
}

TEST(SplatAlphaVjp, MatchesFiniteDifferences) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    // conic (a, b, c) positive definite, opacity, dx, dy.
    const double l0 = Uniform(rng, 0.05, 0.5), l1 = Uniform(rng, 0.05, 0.5);
    const double th = Uniform(rng, 0.0, 3.0);
    const double cs = std::cos(th), sn = std::sin(th);
    std::vector<double> x = {l0 * cs * cs + l1 * sn * sn, (l0 - l1) * cs * sn,
                             l0 * sn * sn + l1 * cs * cs, Uniform(rng, 0.2, 0.9),
                             Uniform(rng, -2.0, 2.0),     Uniform(rng, -2.0, 2.0)};
    auto f = [](const std::vector<double>& v) {
      double vis;
      return kernels::SplatAlpha(Sym2<double>{v[0], v[1], v[2]}, v[3], v[4], v[5], &vis);
    };
    double vis;
    const double alpha =
        kernels::SplatAlpha(Sym2<double>{x[0], x[1], x[2]}, x[3], x[4], x[5], &vis);
    ASSERT_GT(alpha, 0.0);
    Sym2<double> v_conic{0, 0, 0};
    Vec2<double> v_mean{0, 0};
    double v_opacity = 0.0;
    kernels::SplatAlphaVjp(Sym2<double>{x[0], x[1], x[2]}, x[3], x[4], x[5], vis, 1.0, &v_conic,
                           &v_mean, &v_opacity);
    // dx = mean.x - px: d alpha / d dx is d alpha / d mean.x.
    ExpectGradientNear({v_conic.a, v_conic.b, v_conic.c, v_opacity, v_mean.x, v_mean.y},
                       CentralDifferences(f, x, 1e-7), 1e-6, "SplatAlpha");
  }
}

TEST(SplatAlphaVjp, NoGradientThroughTheClampAt099) {
  double vis;
  const Sym2<double> conic{0.1, 0.0, 0.1};
  const double alpha = kernels::SplatAlpha(conic, 1.0, 0.1, 0.0, &vis);
  EXPECT_DOUBLE_EQ(alpha, kernels::kMaxAlpha);
  Sym2<double> v_conic{0, 0, 0};
  Vec2<double> v_mean{0, 0};
  double v_opacity = 0.0;
  kernels::SplatAlphaVjp(conic, 1.0, 0.1, 0.0, vis, 1.0, &v_conic, &v_mean, &v_opacity);
  EXPECT_EQ(v_opacity, 0.0);
  EXPECT_EQ(v_mean.x, 0.0);
  EXPECT_EQ(v_conic.a, 0.0);
}

TEST(OpacityCompensationVjp, MatchesFiniteDifferences) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const double lp = 0.3;
    std::vector<double> x = {Uniform(rng, 0.5, 4.0), Uniform(rng, -0.3, 0.3),
                             Uniform(rng, 0.5, 4.0)};
    auto f = [&](const std::vector<double>& v) {
      return kernels::OpacityCompensation(Sym2<double>{v[0], v[1], v[2]}, lp);
    };
    const Sym2<double> g = kernels::OpacityCompensationVjp(Sym2<double>{x[0], x[1], x[2]}, lp, 1.0);
    ExpectGradientNear({g.a, g.b, g.c}, CentralDifferences(f, x, 1e-7), 1e-6, "compensation");
  }
}

TEST(RasterizeForward, SingleGaussianAtTheCentreBlendsItsColourOverTheBackground) {
  Scene64 s;
  s.degree = 0;
  s.stride = 0;
  s.means = {0.0, 0.0, 4.0};
  s.log_scales = {std::log(0.2), std::log(0.2), std::log(0.2)};
  s.quats = {1.0, 0.0, 0.0, 0.0};
  s.opacities = {std::log(0.6 / 0.4)};  // opacity 0.6
  const double rgb[3] = {0.9, 0.2, 0.4};
  for (double c : rgb) s.sh_dc.push_back((c - 0.5) / kernels::kShC0);
  const RasterCamera<double> cam = FrontCamera(64, 48, 50.0);
  RasterOptions options;
  options.sh_degree = 0;
  options.background = {0.1f, 0.3f, 0.5f};
  RasterResult<double> r;
  RasterizeForward(s.View(), cam, options, &r);
  // The mean projects to (32, 24): the corner of 4 pixels; pixel (31, 23) is at d = (0.5, 0.5).
  const double var = 50.0 * 50.0 * 0.04 / 16.0 + 0.3;  // (f s / z)^2 + low-pass
  const double alpha = 0.6 * std::exp(-0.5 * (0.25 + 0.25) / var);
  const std::size_t centre = 23 * 64 + 31;
  EXPECT_NEAR(r.alpha[centre], alpha, 1e-9);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(r.rgb[3 * centre + c], alpha * rgb[c] + (1.0 - alpha) * options.background[c],
                1e-6);
  }
  EXPECT_NEAR(r.depth[centre], 4.0, 1e-12);
  EXPECT_EQ(r.n_contrib[centre], 1);
  // Far from the Gaussian: the background and nothing blended.
  EXPECT_EQ(r.n_contrib[0], 0);
  EXPECT_NEAR(r.rgb[0], options.background[0], 1e-7);
  EXPECT_EQ(r.alpha[0], 0.0);
  // Symmetric around the projected mean.
  EXPECT_NEAR(r.alpha[23 * 64 + 31], r.alpha[24 * 64 + 32], 1e-12);
  EXPECT_NEAR(r.alpha[20 * 64 + 30], r.alpha[27 * 64 + 33], 1e-12);
}

TEST(RasterizeForward, NearerGaussianOccludesAndBehindCameraIsCulled) {
  Scene64 s;
  s.degree = 0;
  s.stride = 0;
  // Red at z = 3 (listed last), green at z = 6, blue behind the camera.
  s.means = {0.0, 0.0, 6.0, 0.0, 0.0, -2.0, 0.0, 0.0, 3.0};
  for (int i = 0; i < 3; ++i) {
    s.log_scales.insert(s.log_scales.end(), {std::log(0.5), std::log(0.5), std::log(0.5)});
    s.quats.insert(s.quats.end(), {1.0, 0.0, 0.0, 0.0});
    s.opacities.push_back(5.0);
  }
  const double c0 = 0.5 / kernels::kShC0;
  s.sh_dc = {-c0, c0, -c0, -c0, -c0, c0, c0, -c0, -c0};
  RasterOptions options;
  options.sh_degree = 0;
  RasterResult<double> r;
  RasterizeForward(s.View(), FrontCamera(32, 32, 40.0), options, &r);
  EXPECT_EQ(r.visible[1], 0);
  EXPECT_EQ(r.Radius(1), 0);
  const std::size_t centre = 15 * 32 + 15;
  EXPECT_GT(r.rgb[3 * centre], 0.95);      // red in front
  EXPECT_LT(r.rgb[3 * centre + 1], 0.05);  // green hidden
  EXPECT_NEAR(r.depth[centre], 3.0, 0.05);
}

TEST(RasterizeBackward, WholeImageGradientMatchesFiniteDifferences) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 3; ++trial) {
    Scene64 scene = RandomScene(rng, 6, 0.25);
    RasterOptions options;
    options.background = {0.2f, 0.5f, 0.7f};
    options.sh_degree = trial;  // bands above the active degree must get zero gradient
    // 40x36: several tiles, partial tiles at the right and bottom borders.
    CheckWholeImageGradient(scene, FrontCamera(40, 36, 30.0), options, rng, 2e-5);
  }
}

TEST(RasterizeBackward, WholeImageGradientAntialiasedAndRotatedCamera) {
  std::mt19937 rng(12);
  Scene64 scene = RandomScene(rng, 5, 0.3);
  RasterCamera<double> cam = FrontCamera(37, 29, 28.0);
  // A small rotation about y and an offset principal point.
  const double a = 0.1;
  cam.view.cam_from_world_rotation = {
      {std::cos(a), 0, std::sin(a), 0, 1, 0, -std::sin(a), 0, std::cos(a)}};
  cam.view.cam_from_world_translation = {0.1, -0.05, 0.2};
  cam.view.cx = 16.0;
  // centre = -R^T t
  const auto& m = cam.view.cam_from_world_rotation;
  const auto& t = cam.view.cam_from_world_translation;
  cam.center = {-(m(0, 0) * t.x + m(1, 0) * t.y + m(2, 0) * t.z),
                -(m(0, 1) * t.x + m(1, 1) * t.y + m(2, 1) * t.z),
                -(m(0, 2) * t.x + m(1, 2) * t.y + m(2, 2) * t.z)};
  RasterOptions options;
  options.antialiased = true;
  CheckWholeImageGradient(scene, cam, options, rng, 2e-5);
}

TEST(RasterizeBackward, MeanGradient2DIsTheScreenSpaceGradient) {
  // v_mean2d equals the derivative of the loss w.r.t. a screen-space shift of the splat, which is
  // (fx / z) times the derivative w.r.t. the mean's x for a Gaussian on the axis of FrontCamera
  // with isotropic scale (no covariance change to first order along x at the centre... only the
  // projected position moves): check against the chain rule on the world mean instead.
  std::mt19937 rng(13);
  Scene64 scene = RandomScene(rng, 3, 0.2);
  const RasterCamera<double> cam = FrontCamera(48, 40, 30.0);
  RasterOptions options;
  RasterResult<double> fwd;
  RasterizeForward(scene.View(), cam, options, &fwd);
  std::vector<double> w(3 * 48 * 40);
  for (double& v : w) v = Uniform(rng, -1.0, 1.0);
  Grads64 grads(scene);
  RasterGradients2D<double> g2;
  RasterizeBackward(scene.View(), cam, options, fwd, w.data(), static_cast<const double*>(nullptr),
                    grads.View(scene), &g2);
  for (std::int64_t i = 0; i < scene.Count(); ++i) {
    ASSERT_TRUE(fwd.visible[i]);
    // |v_mean2d| <= sum of per-pixel magnitudes.
    EXPECT_LE(std::abs(g2.v_mean2d[2 * i]), g2.v_mean2d_abs[2 * i] + 1e-12);
    EXPECT_LE(std::abs(g2.v_mean2d[2 * i + 1]), g2.v_mean2d_abs[2 * i + 1] + 1e-12);
    EXPECT_GT(g2.v_mean2d_abs[2 * i], 0.0);
  }
}

TEST(RasterizeBackward, InvisibleGaussiansGetZeroGradient) {
  std::mt19937 rng(14);
  Scene64 scene = RandomScene(rng, 2, 0.1);
  scene.means[2] = -3.0;  // Gaussian 0 behind the camera
  const RasterCamera<double> cam = FrontCamera(32, 32, 30.0);
  RasterResult<double> fwd;
  RasterizeForward(scene.View(), cam, RasterOptions{}, &fwd);
  std::vector<double> w(3 * 32 * 32, 1.0);
  Grads64 grads(scene);
  std::fill(grads.means.begin(), grads.means.end(), 7.0);  // overwritten, not accumulated
  RasterizeBackward(scene.View(), cam, RasterOptions{}, fwd, w.data(),
                    static_cast<const double*>(nullptr), grads.View(scene));
  EXPECT_EQ(fwd.visible[0], 0);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(grads.means[k], 0.0);
  EXPECT_EQ(grads.opacities[0], 0.0);
  EXPECT_NE(grads.opacities[1], 0.0);
}

TEST(RasterizeForward, FloatMatchesDouble) {
  std::mt19937 rng(15);
  Scene64 scene = RandomScene(rng, 20, 0.3);
  std::vector<float> m(scene.means.begin(), scene.means.end()),
      ls(scene.log_scales.begin(), scene.log_scales.end()),
      q(scene.quats.begin(), scene.quats.end()), o(scene.opacities.begin(), scene.opacities.end()),
      dc(scene.sh_dc.begin(), scene.sh_dc.end()), rest(scene.sh_rest.begin(), scene.sh_rest.end());
  const GaussiansView<float> view{m.data(),  ls.data(),   q.data(),      o.data(),
                                  dc.data(), rest.data(), scene.Count(), scene.stride};
  const RasterCamera<double> cam64 = FrontCamera(50, 40, 35.0);
  RasterCamera<float> cam32;
  for (int i = 0; i < 9; ++i)
    cam32.view.cam_from_world_rotation.m[i] = float(cam64.view.cam_from_world_rotation.m[i]);
  cam32.view.cam_from_world_translation = {0.f, 0.f, 0.f};
  cam32.view.fx = cam32.view.fy = 35.0f;
  cam32.view.cx = 25.0f;
  cam32.view.cy = 20.0f;
  cam32.view.width = 50.0f;
  cam32.view.height = 40.0f;
  cam32.center = {0.f, 0.f, 0.f};
  cam32.width = 50;
  cam32.height = 40;
  RasterResult<double> r64;
  RasterResult<float> r32;
  RasterizeForward(scene.View(), cam64, RasterOptions{}, &r64);
  RasterizeForward(view, cam32, RasterOptions{}, &r32);
  double max_diff = 0.0;
  for (std::size_t i = 0; i < r64.rgb.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(r64.rgb[i] - double(r32.rgb[i])));
  }
  EXPECT_LT(max_diff, 1e-3);
}

TEST(RasterOptions, RejectsBadValues) {
  RasterOptions options;
  options.sh_degree = 4;
  EXPECT_THROW(options.Check(), Error);
  options = RasterOptions{};
  options.near_plane = 0.0f;
  EXPECT_THROW(options.Check(), Error);
  // A degree the model does not store.
  Scene64 s;
  s.degree = 0;
  s.stride = 0;
  s.means = {0, 0, 4};
  s.log_scales = {0, 0, 0};
  s.quats = {1, 0, 0, 0};
  s.opacities = {0};
  s.sh_dc = {0, 0, 0};
  RasterResult<double> r;
  EXPECT_THROW(RasterizeForward(s.View(), FrontCamera(8, 8, 10.0), RasterOptions{}, &r), Error);
}

// SplatReachesTile drops only tiles where the blend skips the splat at every pixel (alpha below
// 1/255), and on random anisotropic splats it drops a good share of their boxes' tiles.
TEST(SplatReachesTile, DropsOnlyTilesWhereEveryPixelSkipsTheSplat) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int tiles = 16;  // a 256 x 256 image
  std::int64_t box_tiles = 0, dropped = 0;
  for (int i = 0; i < 400; ++i) {
    kernels::Splat2D<float> s{};
    s.mean2d = {float(256.0 * unit(rng)), float(256.0 * unit(rng))};
    const double angle = 3.14159 * unit(rng);
    const double s1 = 1.0 + 29.0 * unit(rng), s2 = 1.0 + 29.0 * unit(rng);
    const double cs = std::cos(angle), sn = std::sin(angle);
    // Covariance R diag(s1^2, s2^2) R^T plus the 0.3 px^2 low-pass, then its inverse.
    const double ca = cs * cs * s1 * s1 + sn * sn * s2 * s2 + 0.3;
    const double cb = cs * sn * (s1 * s1 - s2 * s2);
    const double cc = sn * sn * s1 * s1 + cs * cs * s2 * s2 + 0.3;
    const double det = ca * cc - cb * cb;
    s.conic = {float(cc / det), float(-cb / det), float(ca / det)};
    s.opacity = float(0.01 + 0.99 * unit(rng));
    const double extent = std::sqrt(2.0 * std::log(s.opacity * 255.0));
    s.radius_x = int(std::ceil(extent * std::sqrt(ca)));
    s.radius_y = int(std::ceil(extent * std::sqrt(cc)));
    const kernels::TileRect rect = kernels::TileBounds(s, tiles, tiles);
    for (int ty = rect.y0; ty < rect.y1; ++ty) {
      for (int tx = rect.x0; tx < rect.x1; ++tx) {
        ++box_tiles;
        if (kernels::SplatReachesTile(s, tx, ty)) continue;
        ++dropped;
        for (int y = ty * kernels::kTileSize; y < (ty + 1) * kernels::kTileSize; ++y) {
          for (int x = tx * kernels::kTileSize; x < (tx + 1) * kernels::kTileSize; ++x) {
            float vis = 0.0f;
            const float alpha = kernels::SplatAlpha(s.conic, s.opacity, s.mean2d.x - (x + 0.5f),
                                                    s.mean2d.y - (y + 0.5f), &vis);
            ASSERT_EQ(alpha, 0.0f)
                << "splat " << i << " tile " << tx << ", " << ty << " pixel " << x << ", " << y;
          }
        }
      }
    }
  }
  std::printf("SplatReachesTile: %lld of %lld box tiles dropped\n", static_cast<long long>(dropped),
              static_cast<long long>(box_tiles));
  EXPECT_GT(dropped, box_tiles / 10);
  // The tile holding the mean is always reached.
  kernels::Splat2D<float> s{};
  s.mean2d = {40.0f, 40.0f};
  s.conic = {1.0f, 0.0f, 1.0f};
  s.opacity = 0.5f;
  EXPECT_TRUE(kernels::SplatReachesTile(s, 2, 2));
  EXPECT_FALSE(kernels::SplatReachesTile(s, 0, 0));
}

}  // namespace
}  // namespace facet::splatting
