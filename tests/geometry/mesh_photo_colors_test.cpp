#include "geometry/mesh_photo_colors.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "core/error.h"
#include "core/image.h"
#include "mesh_test_shapes.h"

namespace facet::geometry {
namespace {

// A coloured analytic sphere: what the synthetic photos show.
struct Ball {
  Eigen::Vector3d center;
  double radius;
  std::function<Eigen::Vector3d(const Eigen::Vector3d&)> color;  // linear RGB at a surface point
};

// Colour that varies linearly with position over the unit sphere, within [0.15, 0.85].
Eigen::Vector3d PositionColor(const Eigen::Vector3d& p) {
  return Eigen::Vector3d::Constant(0.5) + 0.35 * p;
}

std::uint8_t LinearToSrgb8(double linear) {
  const double e = linear <= 0.0031308 ? 12.92 * linear : 1.055 * std::pow(linear, 1 / 2.4) - 0.055;
  return static_cast<std::uint8_t>(std::lround(std::clamp(e, 0.0, 1.0) * 255.0));
}

// The camera at `eye` looking at `target` (any roll).
Rigid3 LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target) {
  const Eigen::Vector3d z = (target - eye).normalized();
  const Eigen::Vector3d helper =
      std::abs(z.z()) < 0.9 ? Eigen::Vector3d::UnitZ() : Eigen::Vector3d::UnitX();
  const Eigen::Vector3d x = z.cross(helper).normalized();
  const Eigen::Vector3d y = z.cross(x);
  Eigen::Matrix3d rotation;
  rotation << x.transpose(), y.transpose(), z.transpose();
  return Rigid3(Eigen::Quaterniond(rotation), -rotation * eye);
}

// Ray-traces the balls through every pixel centre (the camera's own unprojection, so distortion
// is exact); black background.
Image<std::uint8_t> Render(const Camera& camera, const Rigid3& cam_from_world,
                           const std::vector<Ball>& balls) {
  Image<std::uint8_t> photo(camera.width, camera.height, 3);
  const Rigid3 world_from_cam = cam_from_world.Inverse();
  const Eigen::Vector3d eye = world_from_cam.translation;
  for (int py = 0; py < camera.height; ++py) {
    for (int px = 0; px < camera.width; ++px) {
      const auto uv = camera.CamFromImg(Eigen::Vector2d(px + 0.5, py + 0.5));
      if (!uv) continue;
      const Eigen::Vector3d dir = (world_from_cam.rotation * uv->homogeneous()).normalized();
      double nearest = std::numeric_limits<double>::infinity();
      Eigen::Vector3d color = Eigen::Vector3d::Zero();
      for (const Ball& ball : balls) {
        const Eigen::Vector3d oc = eye - ball.center;
        const double b = oc.dot(dir);
        const double disc = b * b - (oc.squaredNorm() - ball.radius * ball.radius);
        if (disc < 0) continue;
        const double t = -b - std::sqrt(disc);
        if (t > 0 && t < nearest) {
          nearest = t;
          color = ball.color(eye + t * dir);
        }
      }
      for (int c = 0; c < 3; ++c) photo(px, py, c) = LinearToSrgb8(color[c]);
    }
  }
  return photo;
}

struct Scene {
  std::vector<Image<std::uint8_t>> photos;
  std::vector<PhotoView> views;
};

Scene MakeScene(const Camera& camera, const std::vector<Eigen::Vector3d>& eyes,
                const std::vector<Ball>& balls) {
  Scene scene;
  scene.photos.reserve(eyes.size());
  for (const Eigen::Vector3d& eye : eyes) {
    const Rigid3 pose = LookAt(eye, Eigen::Vector3d::Zero());
    scene.photos.push_back(Render(camera, pose, balls));
    scene.views.push_back({camera, pose, scene.photos.back().view()});
  }
  return scene;
}

std::vector<Eigen::Vector3d> AxisEyes(double distance) {
  std::vector<Eigen::Vector3d> eyes;
  for (int axis = 0; axis < 3; ++axis) {
    for (const double sign : {-1.0, 1.0})
      eyes.push_back(sign * distance * Eigen::Vector3d::Unit(axis));
  }
  return eyes;
}

Camera Pinhole() { return Camera::Create(CameraModelId::kPinhole, 140.0, 160, 120); }

Camera Distorted() {
  Camera camera = Camera::Create(CameraModelId::kRadial, 140.0, 160, 120);
  camera.params[3] = -0.08;  // k1
  camera.params[4] = 0.01;   // k2
  return camera;
}

// The marching-tetrahedra sphere lies within ~voxel^2 / r of the true one, and a vertex takes the
// photo colour of the true sphere along its ray, at most a few hundredths of a unit away even at
// the most grazing views allowed, so its colour is within 0.35 * that of PositionColor(vertex).
// Bilinear sampling of a linear colour field is exact away from silhouettes (where views are
// skipped); 8-bit sRGB adds < 0.005.
void ExpectPositionColors(const Camera& camera, int max_size) {
  TriangleMesh mesh = test::SdfSphere(1.0, 0.06);
  const Scene scene =
      MakeScene(camera, AxisEyes(3.5), {{Eigen::Vector3d::Zero(), 1.0, PositionColor}});
  PhotoColorOptions options;
  options.max_size = max_size;
  const std::size_t seen = ColorVerticesFromPhotos(mesh, scene.views, options);
  EXPECT_EQ(seen, mesh.vertices.size());  // every vertex faces one of the six views squarely
  EXPECT_FALSE(mesh.HasVertexNormals());
  ASSERT_EQ(mesh.vertex_colors.size(), mesh.vertices.size());
  double max_error = 0.0;
  double sum_error = 0.0;
  std::size_t off = 0;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    const double error = (mesh.vertex_colors[v].cast<double>() - PositionColor(mesh.vertices[v]))
                             .cwiseAbs()
                             .maxCoeff();
    max_error = std::max(max_error, error);
    sum_error += error;
    off += error > 0.05 ? 1 : 0;
  }
  EXPECT_LT(sum_error / double(mesh.vertices.size()), 0.01);
  // A z-buffer coarser than the photo finds the silhouette only to its own pixel size, so a few
  // vertices near a grazing view's silhouette mix in some background; at full resolution none.
  if (max_size >= std::max(camera.width, camera.height)) {
    EXPECT_LT(max_error, 0.05);
  } else {
    EXPECT_LT(off, mesh.vertices.size() / 100);
  }
}

TEST(MeshPhotoColors, SphereTakesThePositionColourItShowsInSixPinholeViews) {
  ExpectPositionColors(Pinhole(), 800);
}

TEST(MeshPhotoColors, SphereColoursThroughRadialDistortion) {
  ExpectPositionColors(Distorted(), 800);
}

TEST(MeshPhotoColors, CoarseZBufferStillSeesEveryVertex) { ExpectPositionColors(Pinhole(), 80); }

TEST(MeshPhotoColors, TwoSidedColoursASurfaceFacingAwayFromTheCameras) {
  // The sphere turned inside out (normals inwards), as a room closed around its cameras.
  TriangleMesh mesh = test::SdfSphere(1.0, 0.06);
  for (auto& t : mesh.triangles) std::swap(t[1], t[2]);
  const Scene scene =
      MakeScene(Pinhole(), AxisEyes(3.5), {{Eigen::Vector3d::Zero(), 1.0, PositionColor}});
  // One-sided, no vertex faces a camera (and the ones behind the limbs stay hidden).
  EXPECT_EQ(ColorVerticesFromPhotos(mesh, scene.views), 0u);
  PhotoColorOptions options;
  options.two_sided = true;
  EXPECT_EQ(ColorVerticesFromPhotos(mesh, scene.views, options), mesh.vertices.size());
  double sum_error = 0.0;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    sum_error += (mesh.vertex_colors[v].cast<double>() - PositionColor(mesh.vertices[v]))
                     .cwiseAbs()
                     .maxCoeff();
  }
  EXPECT_LT(sum_error / double(mesh.vertices.size()), 0.01);
}

TEST(MeshPhotoColors, UnseenVerticesKeepTheirColour) {
  TriangleMesh mesh = test::SdfSphere(1.0, 0.06);
  const Eigen::Vector3f preset(0.1f, 0.2f, 0.3f);
  mesh.vertex_colors.assign(mesh.vertices.size(), preset);
  const Eigen::Vector3d eye(0, 0, 3.5);
  const Scene scene = MakeScene(Pinhole(), {eye}, {{Eigen::Vector3d::Zero(), 1.0, PositionColor}});
  const std::size_t seen = ColorVerticesFromPhotos(mesh, scene.views);
  EXPECT_GT(seen, mesh.vertices.size() / 4);
  EXPECT_LT(seen, mesh.vertices.size() / 2);  // the cap visible from 3.5 radii is < a hemisphere
  std::size_t front = 0;
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    const Eigen::Vector3d& p = mesh.vertices[v];
    if (p.z() < 0.0) {  // the far hemisphere
      EXPECT_EQ(mesh.vertex_colors[v], preset) << "vertex " << v;
    } else if (p.normalized().dot((eye - p).normalized()) > 0.3) {
      ++front;
      EXPECT_LT((mesh.vertex_colors[v].cast<double>() - PositionColor(p)).cwiseAbs().maxCoeff(),
                0.03);
    }
  }
  EXPECT_GT(front, 100u);
}

// A small blue ball between the camera and a large red one: the red ball's vertices behind the
// blue one (by more than two z-buffer pixels) are not seen and stay grey; those in view turn red.
TEST(MeshPhotoColors, OccludedVerticesDoNotTakeTheOccludersColour) {
  const Eigen::Vector3d red(0.8, 0.05, 0.05);
  const Eigen::Vector3d blue(0.05, 0.05, 0.8);
  const Eigen::Vector3d front_center(0, 0, 1.8);
  const double front_radius = 0.4;
  const TriangleMesh back = test::SdfSphere(1.0, 0.06);
  TriangleMesh mesh = test::Append(back, test::SdfSphere(front_radius, 0.03, front_center));
  const std::size_t back_count = back.vertices.size();
  const Eigen::Vector3d eye(0, 0, 4);
  const Scene scene =
      MakeScene(Pinhole(), {eye},
                {{Eigen::Vector3d::Zero(), 1.0, [&](const Eigen::Vector3d&) { return red; }},
                 {front_center, front_radius, [&](const Eigen::Vector3d&) { return blue; }}});
  ColorVerticesFromPhotos(mesh, scene.views);

  const Eigen::Vector3f grey =
      Eigen::Vector3f::Constant(std::pow((128 / 255.0f + 0.055f) / 1.055f, 2.4f));
  const double pixel_at_front = (eye - front_center).norm() / Pinhole().FocalX();
  const double margin = 2.0 * pixel_at_front;
  std::size_t hidden = 0;
  std::size_t shown = 0;
  for (std::size_t v = 0; v < back_count; ++v) {
    const Eigen::Vector3d& p = mesh.vertices[v];
    const Eigen::Vector3f color = mesh.vertex_colors[v];
    // Distance from the front ball's centre to the line of sight eye -> p.
    const Eigen::Vector3d dir = (p - eye).normalized();
    const Eigen::Vector3d oc = front_center - eye;
    const double miss = (oc - oc.dot(dir) * dir).norm();
    const bool facing = p.normalized().dot(-dir) > 0.3;
    if (miss < front_radius - margin) {
      ++hidden;
      EXPECT_LT((color - grey).cwiseAbs().maxCoeff(), 1e-6)
          << "hidden vertex " << v << " at " << p.transpose();
    } else if (miss > front_radius + margin && facing) {
      ++shown;
      EXPECT_LT((color.cast<double>() - red).cwiseAbs().maxCoeff(), 0.02) << "vertex " << v;
    }
  }
  EXPECT_GT(hidden, 100u);
  EXPECT_GT(shown, 100u);
  std::size_t front_facing = 0;
  for (std::size_t v = back_count; v < mesh.vertices.size(); ++v) {
    const Eigen::Vector3d& p = mesh.vertices[v];
    if ((p - front_center).normalized().dot((eye - p).normalized()) < 0.3) continue;
    ++front_facing;
    EXPECT_LT((mesh.vertex_colors[v].cast<double>() - blue).cwiseAbs().maxCoeff(), 0.02);
  }
  EXPECT_GT(front_facing, 100u);
}

TEST(MeshPhotoColors, RejectsBadInput) {
  TriangleMesh mesh = test::SdfSphere(1.0, 0.1);
  const Scene scene = MakeScene(Pinhole(), {Eigen::Vector3d(0, 0, 3.5)},
                                {{Eigen::Vector3d::Zero(), 1.0, PositionColor}});
  // No views: an error, not a silently grey mesh.
  EXPECT_THROW(ColorVerticesFromPhotos(mesh, {}), Error);
  // Photo and camera of different sizes.
  PhotoView wrong_size = scene.views[0];
  wrong_size.rgb = scene.photos[0].view().Crop(0, 0, 80, 60);
  EXPECT_THROW(ColorVerticesFromPhotos(mesh, std::span(&wrong_size, 1)), Error);
  // A grey photo.
  const Image<std::uint8_t> gray(160, 120, 1);
  PhotoView one_channel = scene.views[0];
  one_channel.rgb = gray.view();
  EXPECT_THROW(ColorVerticesFromPhotos(mesh, std::span(&one_channel, 1)), Error);
  // An invalid camera.
  PhotoView bad_camera = scene.views[0];
  bad_camera.camera.params[0] = -1.0;
  EXPECT_THROW(ColorVerticesFromPhotos(mesh, std::span(&bad_camera, 1)), Error);
  // Options out of range.
  for (const auto& edit : std::vector<std::function<void(PhotoColorOptions&)>>{
           [](PhotoColorOptions& o) { o.relative_depth_tolerance = -0.1; },
           [](PhotoColorOptions& o) { o.min_depth_tolerance = std::nan(""); },
           [](PhotoColorOptions& o) { o.max_size = 8; },
           [](PhotoColorOptions& o) { o.min_cos = 1.0; },
           [](PhotoColorOptions& o) { o.min_cos = -0.5; }}) {
    PhotoColorOptions options;
    edit(options);
    EXPECT_THROW(options.Check(), Error);
    EXPECT_THROW(ColorVerticesFromPhotos(mesh, scene.views, options), Error);
  }
  // A broken mesh.
  TriangleMesh broken = mesh;
  broken.triangles[0][0] = static_cast<std::uint32_t>(broken.vertices.size());
  EXPECT_THROW(ColorVerticesFromPhotos(broken, scene.views), Error);
  // Nothing was changed by the rejected calls.
  EXPECT_FALSE(mesh.HasVertexColors());
}

}  // namespace
}  // namespace facet::geometry
