// Open3D 0.16 as an independent oracle for the watertightness of facet's meshes:
// open3d::geometry::TriangleMesh::IsWatertight (edge-manifold without boundary, vertex-manifold,
// not self-intersecting) must agree with our CheckWatertight on every mesh the meshing stage
// produces, and on broken meshes. Open3D is a test dependency only (DESIGN.md).
#include <gtest/gtest.h>
#include <open3d/geometry/TriangleMesh.h>

#include <cmath>
#include <memory>
#include <random>

#include "geometry/isosurface.h"
#include "geometry/marching_cubes.h"
#include "geometry/mesh_checks.h"
#include "geometry/mesh_processing.h"
#include "geometry/mesh_sdf.h"
#include "geometry/poisson.h"
#include "geometry/tsdf_volume.h"

namespace facet::geometry {
namespace {

std::shared_ptr<open3d::geometry::TriangleMesh> ToOpen3d(const TriangleMesh& mesh) {
  auto out = std::make_shared<open3d::geometry::TriangleMesh>();
  out->vertices_ = mesh.vertices;
  out->triangles_.reserve(mesh.triangles.size());
  for (const auto& t : mesh.triangles) out->triangles_.emplace_back(t.cast<int>());
  return out;
}

void ExpectBothWatertight(const TriangleMesh& mesh, const std::string& what) {
  ASSERT_FALSE(mesh.triangles.empty()) << what;
  const WatertightReport ours = CheckWatertight(mesh);
  EXPECT_TRUE(ours.watertight) << what << ": " << ours.reason;
  const auto theirs = ToOpen3d(mesh);
  EXPECT_TRUE(theirs->IsEdgeManifold(false)) << what;
  EXPECT_TRUE(theirs->IsVertexManifold()) << what;
  EXPECT_TRUE(theirs->IsWatertight()) << what;
  EXPECT_TRUE(theirs->IsOrientable()) << what;
}

TEST(Open3dOracle, MarchingCubesSurfacesAreWatertight) {
  const ScalarGrid sphere =
      SampleGrid([](const Eigen::Vector3d& p) { return float(p.norm() - 0.5); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), 0.06);
  ExpectBothWatertight(MarchingCubes(sphere), "sphere");
  const ScalarGrid torus = SampleGrid(
      [](const Eigen::Vector3d& p) {
        return float(std::hypot(std::hypot(p.x(), p.y()) - 0.5, p.z()) - 0.2);
      },
      Eigen::Vector3d(-0.8, -0.8, -0.3), Eigen::Vector3d(0.8, 0.8, 0.3), 0.05);
  ExpectBothWatertight(MarchingCubes(torus), "torus");
  // Grid nodes exactly on the surface (the torus above has some) and random fields, which put
  // every ambiguous face between neighbouring cells and loops of up to 12 vertices: still
  // closed, manifold and free of self-intersections.
  for (std::uint32_t seed = 0; seed < 10; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    ScalarGrid grid;
    grid.nx = grid.ny = grid.nz = 10;
    grid.values.assign(1000, 1.0f);
    for (int k = 1; k < 9; ++k) {
      for (int j = 1; j < 9; ++j) {
        for (int i = 1; i < 9; ++i) grid.values[(k * 10 + j) * 10 + i] = value(rng);
      }
    }
    ExpectBothWatertight(MarchingCubes(grid), "random field " + std::to_string(seed));
  }
}

// Points on a sphere of radius 0.5 with outward normals.
PointCloud SpherePoints(int count) {
  PointCloud cloud;
  const double golden = M_PI * (3.0 - std::sqrt(5.0));
  for (int i = 0; i < count; ++i) {
    const double z = 1.0 - 2.0 * (i + 0.5) / count, r = std::sqrt(1.0 - z * z);
    const Eigen::Vector3d n(r * std::cos(golden * i), r * std::sin(golden * i), z);
    cloud.points.push_back(0.5 * n);
    cloud.normals.push_back(n);
  }
  return cloud;
}

TEST(Open3dOracle, MeshingOutputsAreWatertight) {
  // Screened Poisson, then decimated.
  PoissonOptions poisson;
  poisson.depth = 5;
  TriangleMesh mesh = ReconstructPoisson(SpherePoints(2000), poisson).mesh;
  ExpectBothWatertight(mesh, "poisson");
  DecimationOptions decimation;
  decimation.target_triangles = 500;
  DecimateQuadric(mesh, decimation);
  ExpectBothWatertight(mesh, "poisson decimated");
  TaubinSmooth(mesh);
  ExpectBothWatertight(mesh, "poisson decimated smoothed");

  // Re-meshing a sphere with a cap cut away.
  TriangleMesh open = ReconstructPoisson(SpherePoints(2000), poisson).mesh;
  std::erase_if(open.triangles, [&](const auto& t) { return open.vertices[t[0]].z() > 0.4; });
  ASSERT_FALSE(CheckWatertight(open).watertight);
  ExpectBothWatertight(RemeshWatertight(open, 0.05), "sdf remesh");

  // TSDF fusion of exact depth maps of the sphere from six axis views.
  TsdfVolume::Options tsdf;
  tsdf.voxel_size = 0.05;
  tsdf.depth_max = 10.0;
  TsdfVolume volume(tsdf);
  const int size = 64;
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 64.0, size, size);
  for (int axis = 0; axis < 6; ++axis) {
    Eigen::Vector3d forward = Eigen::Vector3d::Zero();
    forward[axis / 2] = axis % 2 ? 1.0 : -1.0;
    const Eigen::Vector3d eye = -2.0 * forward;
    const Eigen::Vector3d up =
        std::abs(forward.z()) > 0.5 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitZ();
    const Eigen::Vector3d right = forward.cross(up).normalized(), down = forward.cross(right);
    Eigen::Matrix3d rotation;
    rotation << right.transpose(), down.transpose(), forward.transpose();
    const Rigid3 cam_from_world(Eigen::Quaterniond(rotation), -(rotation * eye));
    ImageF32 depth(size, size, 1);
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const Eigen::Vector3d ray((x + 0.5 - 32.0) / 64.0, (y + 0.5 - 32.0) / 64.0, 1.0);
        const Eigen::Vector3d d = rotation.transpose() * ray;
        const double b = 2.0 * eye.dot(d), c = eye.squaredNorm() - 0.25;
        const double disc = b * b - 4.0 * d.squaredNorm() * c;
        if (disc >= 0) depth(x, y) = float((-b - std::sqrt(disc)) / (2.0 * d.squaredNorm()));
      }
    }
    volume.Integrate(depth.view(), camera, cam_from_world);
  }
  ExpectBothWatertight(volume.ExtractMesh(), "tsdf");
}

TEST(Open3dOracle, AgreesThatBrokenMeshesAreNotWatertight) {
  const ScalarGrid sphere =
      SampleGrid([](const Eigen::Vector3d& p) { return float(p.norm() - 0.5); },
                 Eigen::Vector3d::Constant(-0.7), Eigen::Vector3d::Constant(0.7), 0.1);
  TriangleMesh holed = MarchingCubes(sphere);
  holed.triangles.pop_back();
  EXPECT_FALSE(CheckWatertight(holed).watertight);
  EXPECT_FALSE(ToOpen3d(holed)->IsWatertight());
}

}  // namespace
}  // namespace facet::geometry
