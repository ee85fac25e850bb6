#include "viewer/mesh_pipeline.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "viewer/offscreen.h"
#include "vulkan_test_context.h"

namespace facet::viewer {
namespace {

using geometry::Camera;
using geometry::Rigid3;

class MeshPipelineTest : public test::VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (context_ == nullptr) return;
    pipelines_ = std::make_unique<MeshPipelines>(*context_, OffscreenTarget::kColorFormat,
                                                 OffscreenTarget::kDepthFormat);
  }
  void TearDown() override {
    pipelines_.reset();
    VulkanTest::TearDown();
  }

  OffscreenFrame RenderMeshes(const Camera& camera, const Rigid3& cam_from_world,
                              const std::vector<const GpuMesh*>& meshes,
                              const MeshDrawOptions& options, bool points = false) {
    const OffscreenTarget target(*context_, camera.width, camera.height);
    return target.Render(Eigen::Vector3f::Zero(), [&](VkCommandBuffer cmd) {
      for (const GpuMesh* mesh : meshes) {
        if (points) {
          pipelines_->DrawPoints(cmd, *mesh, camera, cam_from_world, options);
        } else {
          pipelines_->DrawTriangles(cmd, *mesh, camera, cam_from_world, options);
        }
      }
    });
  }

  std::unique_ptr<MeshPipelines> pipelines_;
};

Camera TestCamera() {
  Camera camera;
  camera.model = geometry::CameraModelId::kPinhole;
  camera.width = 160;
  camera.height = 120;
  camera.params = {140.0, 150.0, 77.3, 63.9};  // fx != fy, off-centre principal point
  return camera;
}

// A looking-at pose that is not axis-aligned, so perspective and rotation both matter.
Rigid3 TestPose() {
  return Rigid3(
      Eigen::Quaterniond(Eigen::AngleAxisd(0.4, Eigen::Vector3d(0.3, 1.0, 0.2).normalized())),
      Eigen::Vector3d(0.1, -0.05, 3.0));
}

geometry::TriangleMesh Triangle(const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                                const Eigen::Vector3d& c, const Eigen::Vector3f& color) {
  geometry::TriangleMesh mesh;
  mesh.vertices = {a, b, c};
  mesh.triangles = {{0, 1, 2}};
  mesh.vertex_colors = {color, color, color};
  return mesh;
}

// The pixel that contains the projection of `x_in_cam`.
Eigen::Vector2i PixelOf(const Camera& camera, const Eigen::Vector3d& x_in_cam) {
  const Eigen::Vector2d pixel = camera.ImgFromCam(x_in_cam).value();
  return {static_cast<int>(std::floor(pixel.x())), static_cast<int>(std::floor(pixel.y()))};
}

double Cross(const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
  return a.x() * b.y() - a.y() * b.x();
}

TEST_F(MeshPipelineTest, TriangleCoversThePixelsTheCpuProjectionPredicts) {
  const Camera camera = TestCamera();
  const Rigid3 cam_from_world = TestPose();
  const geometry::TriangleMesh mesh =
      Triangle({-0.6, -0.5, 0.3}, {0.7, -0.3, -0.4}, {-0.1, 0.6, 0.1}, {1.0f, 1.0f, 1.0f});
  const GpuMesh gpu_mesh(*context_, mesh);
  MeshDrawOptions options;
  options.lit = false;
  const OffscreenFrame frame = RenderMeshes(camera, cam_from_world, {&gpu_mesh}, options);

  // CPU rasterisation: pixel centres (x + 0.5, y + 0.5) inside the projected triangle.
  Eigen::Vector2d p[3];
  for (int k = 0; k < 3; ++k) p[k] = *camera.ImgFromCam(cam_from_world * mesh.vertices[k]);
  const double area = Cross(p[1] - p[0], p[2] - p[0]);
  int both = 0, either = 0;
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) {
      const Eigen::Vector2d q(x + 0.5, y + 0.5);
      bool inside = true;
      for (int k = 0; k < 3; ++k) {
        inside &= Cross(p[(k + 1) % 3] - p[k], q - p[k]) * area >= 0.0;
      }
      const bool drawn = frame.rgb(x, y, 0) == 255;
      both += inside && drawn;
      either += inside || drawn;
    }
  }
  const double perimeter = (p[1] - p[0]).norm() + (p[2] - p[1]).norm() + (p[0] - p[2]).norm();
  RecordProperty("mismatched_pixels", either - both);
  RecordProperty("covered_pixels", both);
  ASSERT_GT(both, 1000);  // the triangle is large enough for the comparison to mean something
  // Only pixel centres within the GPU's sub-pixel snapping (1/256 px on lavapipe) of an edge may
  // differ; a half-pixel offset would flip about perimeter / 2 pixels.
  EXPECT_LT(either - both, 0.05 * perimeter) << "IoU " << double(both) / either;
  EXPECT_GT(double(both) / either, 0.98);
}

TEST_F(MeshPipelineTest, NearTriangleOccludesFarOneWhateverTheDrawOrder) {
  const Camera camera = TestCamera();
  const Rigid3 cam_from_world;  // identity: world = camera frame
  const GpuMesh near_red(*context_, Triangle({-0.5, -0.5, 2.0}, {0.5, -0.5, 2.0}, {0.0, 0.5, 2.0},
                                             {1.0f, 0.0f, 0.0f}));
  const GpuMesh far_green(*context_, Triangle({-3.0, -3.0, 4.0}, {3.0, -3.0, 4.0}, {0.0, 3.0, 4.0},
                                              {0.0f, 1.0f, 0.0f}));
  MeshDrawOptions options;
  options.lit = false;
  options.near_m = 0.1;
  for (const bool near_first : {true, false}) {
    const auto order = near_first ? std::vector<const GpuMesh*>{&near_red, &far_green}
                                  : std::vector<const GpuMesh*>{&far_green, &near_red};
    const OffscreenFrame frame = RenderMeshes(camera, cam_from_world, order, options);
    // The image centre sees the near triangle; a point beside it only the far one.
    const Eigen::Vector2i centre = PixelOf(camera, {0.0, 0.0, 2.0});
    EXPECT_EQ(frame.rgb(centre.x(), centre.y(), 0), 255) << "near_first " << near_first;
    EXPECT_EQ(frame.rgb(centre.x(), centre.y(), 1), 0) << "near_first " << near_first;
    EXPECT_NEAR(frame.depth_ndc(centre.x(), centre.y()), 0.1 / 2.0, 1e-6);
    const Eigen::Vector2i beside = PixelOf(camera, {1.2, 0.0, 4.0});
    EXPECT_EQ(frame.rgb(beside.x(), beside.y(), 1), 255) << "near_first " << near_first;
    EXPECT_NEAR(frame.depth_ndc(beside.x(), beside.y()), 0.1 / 4.0, 1e-6);
  }
}

TEST_F(MeshPipelineTest, LambertShadingFollowsTheAngleToTheHeadlight) {
  const Camera camera = TestCamera();
  const Rigid3 cam_from_world;
  // A plane through (0, 0, 3) turned by 60 degrees about the y axis: n . l = cos 60 = 0.5.
  const double angle = M_PI / 3.0;
  const Eigen::Vector3d u(std::cos(angle), 0.0, std::sin(angle));
  const Eigen::Vector3d v(0.0, 1.0, 0.0);
  const Eigen::Vector3d o(0.0, 0.0, 3.0);
  geometry::TriangleMesh quad;
  quad.vertices = {o - u - v, o + u - v, o + u + v, o - u + v};
  quad.triangles = {{0, 1, 2}, {0, 2, 3}};
  quad.vertex_colors.assign(4, Eigen::Vector3f(1.0f, 1.0f, 1.0f));
  MeshDrawOptions options;  // headlight, ambient 0.3
  const Eigen::Vector2i centre = PixelOf(camera, o);
  const double expected = 255.0 * (options.ambient + (1.0 - options.ambient) * 0.5);
  {
    const GpuMesh mesh(*context_, quad);  // no normals: face normals in the shader
    const OffscreenFrame frame = RenderMeshes(camera, cam_from_world, {&mesh}, options);
    EXPECT_NEAR(frame.rgb(centre.x(), centre.y(), 0), expected, 1.0);
  }
  {
    const Eigen::Vector3d n = u.cross(v).normalized();
    quad.vertex_normals.assign(4, -n);  // the sign does not matter: two-sided lighting
    const GpuMesh mesh(*context_, quad);
    const OffscreenFrame frame = RenderMeshes(camera, cam_from_world, {&mesh}, options);
    EXPECT_NEAR(frame.rgb(centre.x(), centre.y(), 0), expected, 1.0);
  }
}

TEST_F(MeshPipelineTest, PointsLandOnTheirProjectedPixels) {
  const Camera camera = TestCamera();
  const Rigid3 cam_from_world = TestPose();
  const Rigid3 world_from_cam = cam_from_world.Inverse();
  // Pick distinct pixels and depths, back-project a point inside each pixel (away from its
  // borders, which sub-pixel snapping could cross), and expect exactly those pixels lit.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> px(0, camera.width - 1), py(0, camera.height - 1);
  std::uniform_real_distribution<double> frac(0.1, 0.9), depth(1.0, 6.0);
  std::set<std::pair<int, int>> pixels;
  geometry::PointCloud cloud;
  while (pixels.size() < 200) {
    const int x = px(rng), y = py(rng);
    if (!pixels.insert({x, y}).second) continue;
    const Eigen::Vector2d ray = *camera.CamFromImg({x + frac(rng), y + frac(rng)});
    cloud.points.push_back(world_from_cam * (depth(rng) * ray.homogeneous()));
  }
  cloud.colors.assign(cloud.points.size(), Eigen::Vector3f(0.0f, 0.0f, 1.0f));
  const GpuMesh gpu_cloud(*context_, cloud);
  MeshDrawOptions options;
  options.point_size_px = 1.0f;
  const OffscreenFrame frame = RenderMeshes(camera, cam_from_world, {&gpu_cloud}, options, true);
  int lit = 0, lit_expected = 0;
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) {
      const bool is_lit = frame.rgb(x, y, 2) == 255;
      lit += is_lit;
      lit_expected += is_lit && pixels.count({x, y});
    }
  }
  EXPECT_EQ(lit_expected, 200);
  EXPECT_EQ(lit, 200);
}

TEST_F(MeshPipelineTest, EmptyMeshDrawsNothingAndBadIndicesThrow) {
  const GpuMesh empty(*context_, geometry::TriangleMesh{});
  const OffscreenFrame frame = RenderMeshes(TestCamera(), Rigid3(), {&empty}, MeshDrawOptions{});
  EXPECT_EQ(frame.rgb(80, 60, 0), 0);
  geometry::TriangleMesh bad = Triangle({0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1});
  bad.triangles[0][2] = 3;
  EXPECT_THROW(GpuMesh(*context_, bad), Error);
}

}  // namespace
}  // namespace facet::viewer
