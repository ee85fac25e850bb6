#include "pipeline/mesh_thumbnail.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/geometry/mesh_test_shapes.h"

namespace facet::pipeline {
namespace {

using geometry::test::Cube;
using geometry::test::Icosphere;

bool IsBackground(const ImageU8& image, int x, int y) {
  for (int c = 0; c < 3; ++c) {
    if (image(x, y, c) != kThumbnailBackground[c]) return false;
  }
  return true;
}

double Luminance(const ImageU8& image, int x, int y) {
  return 0.2126 * image(x, y, 0) + 0.7152 * image(x, y, 1) + 0.0722 * image(x, y, 2);
}

TEST(MeshThumbnail, SphereFillsACentredDiscWithVaryingShade) {
  const Eigen::Vector3d centre(5, -2, 1);
  const ImageU8 image = RenderMeshThumbnail(Icosphere(4, 2.0, centre), {1, 0.4, -0.3}, 160, 120);
  ASSERT_EQ(image.width(), 160);
  ASSERT_EQ(image.height(), 120);
  ASSERT_EQ(image.channels(), 3);
  // The camera looks at the sphere's centre, so its outline is a circle 90% of the height across:
  // pi / 4 * (0.9 * 120)^2 pixels, less a little for the inscribed polygon.
  double covered = 0, sum_x = 0, sum_y = 0, sum_l = 0, sum_l2 = 0;
  double upper_left = 0, lower_right = 0;
  int n_upper_left = 0, n_lower_right = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      if (IsBackground(image, x, y)) continue;
      const double l = Luminance(image, x, y);
      covered += 1;
      sum_x += x + 0.5;
      sum_y += y + 0.5;
      sum_l += l;
      sum_l2 += l * l;
      if (x < 70 && y < 50) upper_left += l, ++n_upper_left;
      if (x > 90 && y > 70) lower_right += l, ++n_lower_right;
    }
  }
  const double disc = M_PI / 4 * (0.9 * 120) * (0.9 * 120);
  EXPECT_NEAR(covered / disc, 0.99, 0.03);
  EXPECT_NEAR(sum_x / covered, 80.0, 1.0);
  EXPECT_NEAR(sum_y / covered, 60.0, 1.0);
  // Lambert shading: a clear spread of brightness, the side towards the lamp (above left) lit.
  const double mean = sum_l / covered;
  EXPECT_GT(std::sqrt(sum_l2 / covered - mean * mean), 15.0);
  ASSERT_GT(n_upper_left, 100);
  ASSERT_GT(n_lower_right, 100);
  EXPECT_GT(upper_left / n_upper_left, lower_right / n_lower_right + 30.0);
  // Corners are background.
  EXPECT_TRUE(IsBackground(image, 0, 0));
  EXPECT_TRUE(IsBackground(image, 159, 119));
}

// Red on the +x half, blue on the -x half: only the near half may show (the depth test), whatever
// order the triangles come in.
TEST(MeshThumbnail, DepthTestShowsTheNearSideColours) {
  geometry::TriangleMesh sphere = Icosphere(3, 1.0);
  for (const auto& v : sphere.vertices) {
    sphere.vertex_colors.push_back(v.x() > 0 ? Eigen::Vector3f(0.8f, 0.0f, 0.0f)
                                             : Eigen::Vector3f(0.0f, 0.0f, 0.8f));
  }
  for (const double side : {1.0, -1.0}) {
    const ImageU8 image = RenderMeshThumbnail(sphere, {-side, 0, 0}, 64, 64);
    double red = 0, blue = 0;
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x) {
        if (IsBackground(image, x, y)) continue;
        red += image(x, y, 0);
        blue += image(x, y, 2);
      }
    }
    if (side > 0) {
      EXPECT_GT(red, 10 * blue) << "seen from +x";
    } else {
      EXPECT_GT(blue, 10 * red) << "seen from -x";
    }
  }
}

// Seen from above a corner, a cube shows three faces, each flat and each lit differently.
TEST(MeshThumbnail, CubeFacesAreFlatAndDistinctlyShaded) {
  const ImageU8 image = RenderMeshThumbnail(Cube(), {-1, -1, -1}, 120, 120);
  const double top = Luminance(image, 60, 30);
  const double left = Luminance(image, 40, 75);
  const double right = Luminance(image, 80, 75);
  for (const auto& [x, y] : {std::pair{60, 30}, std::pair{40, 75}, std::pair{80, 75}}) {
    ASSERT_FALSE(IsBackground(image, x, y)) << x << "," << y;
  }
  EXPECT_GT(std::abs(top - left), 5.0);
  EXPECT_GT(std::abs(top - right), 5.0);
  EXPECT_GT(std::abs(left - right), 5.0);
  // Flat faces: neighbouring pixels inside one face have the same shade.
  EXPECT_NEAR(Luminance(image, 36, 72), left, 1.0);
  EXPECT_NEAR(Luminance(image, 84, 72), right, 1.0);
}

TEST(MeshThumbnail, EmptyMeshIsBackgroundAndBadArgumentsThrow) {
  const ImageU8 image = RenderMeshThumbnail(geometry::TriangleMesh{}, {0, 0, -1}, 8, 6);
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 8; ++x) EXPECT_TRUE(IsBackground(image, x, y));
  }
  EXPECT_THROW(RenderMeshThumbnail(Cube(), {0, 0, -1}, 0, 10), Error);
  EXPECT_THROW(RenderMeshThumbnail(Cube(), Eigen::Vector3d::Zero(), 10, 10), Error);
  geometry::TriangleMesh broken = Cube();
  broken.triangles[0][0] = 99;
  EXPECT_THROW(RenderMeshThumbnail(broken, {0, 0, -1}, 10, 10), Error);
}

}  // namespace
}  // namespace facet::pipeline
