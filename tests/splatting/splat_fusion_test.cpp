#include "splatting/splat_fusion.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "geometry/mesh_checks.h"
#include "splatting/kernels/sh.h"

namespace facet::splatting {
namespace {

constexpr double kRadius = 0.5;
const Eigen::Vector3f kColor(0.8f, 0.3f, 0.2f);

// A sphere of radius kRadius tiled by flat, nearly opaque Gaussians tangent to it.
Gaussians SphereOfSplats(int count) {
  Gaussians g(count, 0);
  const double spacing = std::sqrt(4.0 * std::numbers::pi * kRadius * kRadius / count);
  const double golden = std::numbers::pi * (3.0 - std::sqrt(5.0));
  for (int i = 0; i < count; ++i) {
    const double z = 1.0 - 2.0 * (i + 0.5) / count, r = std::sqrt(1.0 - z * z);
    const Eigen::Vector3d n(r * std::cos(golden * i), r * std::sin(golden * i), z);
    const Eigen::Vector3d t1 = n.unitOrthogonal(), t2 = n.cross(t1);
    Eigen::Matrix3d frame;
    frame << t1, t2, n;
    const Eigen::Quaterniond q(frame);
    for (int a = 0; a < 3; ++a) g.means[3 * i + a] = float(kRadius * n[a]);
    g.log_scales[3 * i] = g.log_scales[3 * i + 1] = float(std::log(0.7 * spacing));
    g.log_scales[3 * i + 2] = float(std::log(0.02 * spacing));
    g.quats[4 * i] = float(q.w());
    g.quats[4 * i + 1] = float(q.x());
    g.quats[4 * i + 2] = float(q.y());
    g.quats[4 * i + 3] = float(q.z());
    g.opacities[i] = 5.0f;  // sigmoid: 0.993
    for (int c = 0; c < 3; ++c) g.sh_dc[3 * i + c] = float((kColor[c] - 0.5) / kernels::kShC0);
  }
  return g;
}

TEST(SplatFusion, OrbitViewsLookAtTheCentre) {
  geometry::Bounds3 bounds;
  bounds.Extend(Eigen::Vector3d(-1, -2, 0));
  bounds.Extend(Eigen::Vector3d(3, 2, 1));
  const auto views = OrbitViews(bounds, 30, 64);
  ASSERT_EQ(views.size(), 30u);
  for (const SplatFusionView& v : views) {
    const Eigen::Vector3d in_cam = v.cam_from_world * bounds.Center();
    const auto pixel = v.camera.ImgFromCam(in_cam);
    ASSERT_TRUE(pixel.has_value());
    EXPECT_NEAR(pixel->x(), 32.0, 1e-6);
    EXPECT_NEAR(pixel->y(), 32.0, 1e-6);
    // Every corner of the box is in view.
    for (int c = 0; c < 8; ++c) {
      const Eigen::Vector3d corner((c & 1) ? bounds.max.x() : bounds.min.x(),
                                   (c & 2) ? bounds.max.y() : bounds.min.y(),
                                   (c & 4) ? bounds.max.z() : bounds.min.z());
      const auto p = v.camera.ImgFromCam(v.cam_from_world * corner);
      ASSERT_TRUE(p.has_value());
      EXPECT_GT(p->x(), 0.0);
      EXPECT_LT(p->x(), 64.0);
    }
  }
}

TEST(SplatFusion, SphereOfSplatsBecomesAWatertightColouredSphere) {
  const Gaussians model = SphereOfSplats(20000);
  const geometry::Bounds3 bounds = RobustBounds(model);
  EXPECT_NEAR(bounds.max.x(), kRadius * 1.1, 0.02);
  SplatFusionOptions options;
  options.voxel_size = 0.02;
  const auto views = OrbitViews(bounds, 40, 320);
  const geometry::TsdfVolume volume = FuseSplats(model, views, options);
  const geometry::TriangleMesh mesh = volume.ExtractMesh();
  const geometry::WatertightReport report = geometry::CheckWatertight(mesh);
  ASSERT_TRUE(report.watertight) << report.reason;
  EXPECT_EQ(report.components, 1);
  EXPECT_EQ(report.genus, 0);
  double mean_error = 0.0;
  double signed_error = 0.0;
  for (const auto& v : mesh.vertices) {
    mean_error += std::abs(v.norm() - kRadius);
    signed_error += v.norm() - kRadius;
  }
  mean_error /= double(mesh.vertices.size());
  signed_error /= double(mesh.vertices.size());
  // The rasterizer's depth is the opacity-weighted mean of the Gaussians' centre depths, front
  // ones weighted most, over footprints widened by the 0.3 px^2 low-pass filter: on surfaces
  // seen at an angle it leans towards the camera by about half a pixel's footprint (4.4 mm
  // measured here, 7.6 mm pixels; exact depth maps fuse to within 1.2 mm at this voxel size).
  EXPECT_LT(mean_error, 0.3 * options.voxel_size);
  EXPECT_GT(signed_error, 0.0);
  ASSERT_EQ(mesh.vertex_colors.size(), mesh.vertices.size());
  // The fused colour is the splats' (linear RGB from the sRGB renders).
  Eigen::Vector3f mean_color = Eigen::Vector3f::Zero();
  for (const auto& c : mesh.vertex_colors) mean_color += c;
  mean_color /= float(mesh.vertex_colors.size());
  const auto to_linear = [](float s) {
    return s <= 0.04045f ? s / 12.92f : std::pow((s + 0.055f) / 1.055f, 2.4f);
  };
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(mean_color[c], to_linear(kColor[c]), 0.03f);
}

TEST(SplatFusion, CropKeepsOnlyTheBox) {
  const Gaussians model = SphereOfSplats(3000);
  SplatFusionOptions options;
  options.voxel_size = 0.03;
  geometry::Bounds3 upper;
  upper.Extend(Eigen::Vector3d(-1, -1, 0.1));
  upper.Extend(Eigen::Vector3d(1, 1, 1));
  options.crop = upper;
  const auto views = OrbitViews(RobustBounds(model), 24, 96);
  const geometry::TriangleMesh mesh = FuseSplats(model, views, options).ExtractMesh();
  ASSERT_FALSE(mesh.triangles.empty());
  for (const auto& v : mesh.vertices) EXPECT_GT(v.z(), 0.1 - 4 * options.voxel_size);
  EXPECT_TRUE(geometry::CheckWatertight(mesh).watertight);
}

TEST(SplatFusion, BadInput) {
  const Gaussians model = SphereOfSplats(100);
  const auto views = OrbitViews(RobustBounds(model), 4, 32);
  SplatFusionOptions options;
  EXPECT_THROW(FuseSplats(Gaussians(), views, options), Error);
  EXPECT_THROW(FuseSplats(model, {}, options), Error);
  options.min_alpha = 0.0f;
  EXPECT_THROW(FuseSplats(model, views, options), Error);
  options = {};
  geometry::Bounds3 far_away;
  far_away.Extend(Eigen::Vector3d(10, 10, 10));
  far_away.Extend(Eigen::Vector3d(11, 11, 11));
  options.crop = far_away;
  EXPECT_THROW(FuseSplats(model, views, options), Error);
  EXPECT_THROW(OrbitViews(geometry::Bounds3(), 4, 32), Error);
}

}  // namespace
}  // namespace facet::splatting
