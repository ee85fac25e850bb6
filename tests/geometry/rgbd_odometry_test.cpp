// RGB-D odometry: the per-pixel Jacobians against finite differences; relative poses of the
// synthetic handheld sequence (exact depth, ground truth) frame to frame and frame to model; a
// frame-to-model tracking loop (TSDF fusion + ray casting) on the synthetic sequence and on the
// Redwood living room (../shared/data, skipped when absent) against Open3D's trajectory.
#include "geometry/kernels/rgbd_odometry.h"

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/image_io.h"
#include "datasets/rgbd.h"
#include "datasets/synthetic/renderer.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "geometry/pose_metrics.h"
#include "geometry/rgbd_odometry.h"
#include "geometry/tsdf_volume.h"

namespace facet::geometry {
namespace {

namespace synthetic = datasets::synthetic;

// exp(xi) applied to p, xi = (omega, v).
Eigen::Vector3d Moved(const Eigen::Matrix<double, 6, 1>& xi, const Eigen::Vector3d& p) {
  const Eigen::Vector3d omega = xi.head<3>();
  const double angle = omega.norm();
  const Eigen::Matrix3d r = angle > 0.0 ? Eigen::AngleAxisd(angle, omega / angle).toRotationMatrix()
                                        : Eigen::Matrix3d::Identity();
  return r * p + xi.tail<3>();
}

TEST(RgbdOdometryKernels, JacobiansMatchFiniteDifferences) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const kernels::OdometryCamera camera{300.0f, 280.0f, 160.0f, 120.0f, 320, 240};
  // A smooth intensity with its exact gradient, in pixels.
  const auto intensity = [](double u, double v) { return std::sin(0.05 * u) + std::cos(0.07 * v); };
  const auto gradient = [](double u, double v) {
    return Eigen::Vector2d(0.05 * std::cos(0.05 * u), -0.07 * std::sin(0.07 * v));
  };
  constexpr double kStep = 1e-4;
  for (int trial = 0; trial < 50; ++trial) {
    const Eigen::Vector3d p(0.4 * uniform(rng), 0.3 * uniform(rng), 1.5 + 0.5 * uniform(rng));
    const Eigen::Vector3d q = p + 0.02 * Eigen::Vector3d(uniform(rng), uniform(rng), uniform(rng));
    const Eigen::Vector3d n = Eigen::Vector3d(uniform(rng), uniform(rng), -2.0).normalized();
    const float pf[3] = {float(p.x()), float(p.y()), float(p.z())};
    const float qf[3] = {float(q.x()), float(q.y()), float(q.z())};
    const float nf[3] = {float(n.x()), float(n.y()), float(n.z())};
    float j_geo[6], j_int[6];
    const float r_geo = kernels::PointToPlaneResidual(pf, qf, nf, j_geo);
    EXPECT_NEAR(r_geo, n.dot(p - q), 1e-6);
    const auto project = [&](const Eigen::Vector3d& x) {
      return Eigen::Vector2d(camera.fx * x.x() / x.z() + camera.cx,
                             camera.fy * x.y() / x.z() + camera.cy);
    };
    const Eigen::Vector2d uv = project(p);
    const Eigen::Vector2d g = gradient(uv.x(), uv.y());
    const float source_intensity = 0.3f;
    const float r_int =
        kernels::PhotometricResidual(camera, pf, float(intensity(uv.x(), uv.y())), float(g.x()),
                                     float(g.y()), source_intensity, j_int);
    EXPECT_NEAR(r_int, intensity(uv.x(), uv.y()) - source_intensity, 1e-6);
    for (int k = 0; k < 6; ++k) {
      Eigen::Matrix<double, 6, 1> xi = Eigen::Matrix<double, 6, 1>::Zero();
      xi[k] = kStep;
      const Eigen::Vector3d pp = Moved(xi, p), pm = Moved(-xi, p);
      const double fd_geo = (n.dot(pp - q) - n.dot(pm - q)) / (2.0 * kStep);
      const Eigen::Vector2d up = project(pp), um = project(pm);
      const double fd_int = (intensity(up.x(), up.y()) - intensity(um.x(), um.y())) / (2.0 * kStep);
      // Float kernels against double differences (truncation error O(kStep^2)).
      EXPECT_NEAR(j_geo[k], fd_geo, 1e-5 * (1.0 + std::abs(fd_geo))) << "k " << k;
      EXPECT_NEAR(j_int[k], fd_int, 1e-4 * (1.0 + std::abs(fd_int))) << "k " << k;
    }
  }
}

struct SyntheticSequence {
  synthetic::SyntheticScene scene;
  Camera camera;
  std::vector<Rigid3> poses;  // cam_from_world, ground truth
  std::vector<synthetic::RenderedView> views;
};

SyntheticSequence MakeSequence(int frames, int width, int height) {
  synthetic::SynthOptions options;
  options.num_views = frames;
  options.width = width;
  options.height = height;
  options.rgbd = true;
  options.supersampling = 1;
  SyntheticSequence s{synthetic::MakeSyntheticScene(options), {}, {}, {}};
  s.camera = s.scene.scene.cameras.begin()->second;
  const synthetic::Renderer renderer = synthetic::MakeRenderer(s.scene);
  for (int i = 0; i < frames; ++i) {
    s.poses.push_back(*s.scene.scene.images.at(s.scene.image_order[i]).cam_from_world);
    s.views.push_back(synthetic::RenderSyntheticView(s.scene, renderer, i));
  }
  return s;
}

const SyntheticSequence& Sequence() {
  static const SyntheticSequence sequence = MakeSequence(60, 320, 240);
  return sequence;
}

RgbdPyramid FramePyramid(const SyntheticSequence& s, int i) {
  RgbdPyramidOptions options;
  options.depth_max = 10.0;
  return MakeRgbdPyramid(s.views[i].depth.view(), s.views[i].rgb.view(), s.camera, 3, nullptr,
                         options);
}

void ExpectPose(const Rigid3& estimate, const Rigid3& truth, double max_m, double max_deg) {
  EXPECT_LT((estimate.translation - truth.translation).norm(), max_m);
  EXPECT_LT(RotationAngleDeg(estimate.rotation, truth.rotation), max_deg);
  std::printf("relative pose error %.3f mm, %.4f deg\n",
              1e3 * (estimate.translation - truth.translation).norm(),
              RotationAngleDeg(estimate.rotation, truth.rotation));
}

TEST(RgbdOdometry, FrameToFrameRecoversTheSyntheticMotion) {
  const SyntheticSequence& s = Sequence();
  for (const int gap : {1, 3}) {
    const int src = 10 + gap, tgt = 10;
    const Rigid3 truth = s.poses[tgt] * s.poses[src].Inverse();
    const RgbdPyramid source = FramePyramid(s, src);
    const RgbdOdometryResult result = RegisterRgbd(source, FramePyramid(s, tgt), Rigid3());
    ASSERT_TRUE(result.success);
    EXPECT_GT(result.fitness, 0.7);
    ExpectPose(result.target_from_source, truth, 1e-3, 0.1);
    // The information matrix is positive definite, its translation block counting the
    // correspondences (G^T G has the identity there for each).
    const double correspondences = result.fitness * double(source.levels[0].valid_pixels);
    EXPECT_NEAR(result.information(3, 3), correspondences, 1e-6 * correspondences);
    EXPECT_NEAR(result.information(5, 5), correspondences, 1e-6 * correspondences);
    EXPECT_GT(result.information.ldlt().vectorD().minCoeff(), 0.0);
  }
}

TEST(RgbdOdometry, FrameToModelRecoversTheSyntheticMotion) {
  const SyntheticSequence& s = Sequence();
  TsdfVolume::Options options;
  options.voxel_size = 0.01;
  options.depth_max = 10.0;
  options.with_color = true;
  TsdfVolume volume(options);
  const int last = 12;
  for (int i = 0; i <= last; ++i) {
    volume.Integrate(s.views[i].depth.view(), s.views[i].rgb.view(), s.camera, s.poses[i]);
  }
  RaycastOptions raycast;
  raycast.depth_max = 10.0;
  raycast.colors = true;
  const RaycastMaps maps = volume.Raycast(s.camera, s.poses[last], raycast);
  RgbdPyramidOptions pyramid;
  pyramid.depth_max = 10.0;
  const RgbdPyramid model =
      MakeRgbdPyramid(maps.depth_m.view(), maps.rgb.view(), s.camera, 3, &maps, pyramid);
  const Rigid3 truth = s.poses[last] * s.poses[last + 2].Inverse();
  const RgbdOdometryResult result = RegisterRgbd(FramePyramid(s, last + 2), model, Rigid3());
  ASSERT_TRUE(result.success);
  ExpectPose(result.target_from_source, truth, 1e-3, 0.1);
}

// Frame-to-model tracking: fuse the frame at its estimated pose, ray cast the model at that pose
// at half resolution, register the next (full-resolution) frame against it from the previous
// pose, repeat. Returns cam_from_world.
std::vector<Rigid3> Track(int frames, const Camera& camera, const Rigid3& first, double voxel,
                          double depth_max,
                          const std::function<void(int, ImageF32*, ImageU8*)>& frame) {
  TsdfVolume::Options options;
  options.voxel_size = voxel;
  options.depth_max = depth_max;
  options.with_color = true;
  TsdfVolume volume(options);
  RaycastOptions raycast;
  raycast.depth_max = depth_max;
  raycast.colors = true;
  RgbdPyramidOptions pyramid;
  pyramid.depth_max = depth_max;
  RgbdPyramidOptions source_pyramid = pyramid;
  source_pyramid.gradients = false;  // only the model's are read
  const Camera model_camera = PyramidCamera(camera, 1);
  std::vector<Rigid3> poses{first};
  ImageF32 depth;
  ImageU8 rgb;
  frame(0, &depth, &rgb);
  volume.Integrate(depth.view(), rgb.view(), camera, first);
  for (int i = 1; i < frames; ++i) {
    const RaycastMaps maps = volume.Raycast(model_camera, poses.back(), raycast);
    const RgbdPyramid model =
        MakeRgbdPyramid(maps.depth_m.view(), maps.rgb.view(), model_camera, 3, &maps, pyramid);
    frame(i, &depth, &rgb);
    const RgbdPyramid source =
        MakeRgbdPyramid(depth.view(), rgb.view(), camera, 3, nullptr, source_pyramid);
    const RgbdOdometryResult result = RegisterRgbd(source, model, Rigid3());
    EXPECT_TRUE(result.success) << "frame " << i;
    poses.push_back(result.target_from_source.Inverse() * poses.back());
    volume.Integrate(depth.view(), rgb.view(), camera, poses.back());
  }
  return poses;
}

TEST(RgbdOdometry, FrameToModelTrackingOfTheSyntheticSequence) {
  const SyntheticSequence& s = Sequence();
  const int frames = int(s.poses.size());
  const std::vector<Rigid3> poses =
      Track(frames, s.camera, s.poses[0], 0.01, 10.0, [&](int i, ImageF32* d, ImageU8* c) {
        *d = s.views[i].depth;
        *c = s.views[i].rgb;
      });
  AbsolutePoseErrorOptions rigid;
  rigid.estimate_scale = false;
  const auto errors = ComputeAbsolutePoseErrors(poses, s.poses, rigid);
  ASSERT_TRUE(errors.has_value());
  std::printf("synthetic tracking, %d frames: ATE %.2f mm, max rotation error %.3f deg\n", frames,
              1e3 * errors->ate_rmse, errors->rotation_error_max_deg);
  EXPECT_LT(errors->ate_rmse, 0.01);
}

TEST(RgbdOdometry, FrameToModelTrackingOfTheLivingRoom) {
  const std::filesystem::path folder = FACET_SOURCE_DIR "/../shared/data/rgbd-livingroom";
  if (!std::filesystem::exists(folder / "open3d_trajectory.log")) {
    GTEST_SKIP() << "no " << folder;
  }
  const Camera camera = CameraFromOpenCvIntrinsics(525, 525, 319.5, 239.5, 640, 480);
  datasets::RedwoodReadOptions read;
  read.trajectory_log = "open3d_trajectory.log";
  const datasets::RgbdSequence sequence = datasets::ReadRedwoodSequence(folder, camera, read);
  const int frames = std::min<int>(50, int(sequence.frames.size()));
  std::vector<Rigid3> reference;
  for (int i = 0; i < frames; ++i) reference.push_back(*sequence.frames[i].CamFromWorld());
  const std::vector<Rigid3> poses =
      Track(frames, camera, reference[0], 0.01, 3.0, [&](int i, ImageF32* d, ImageU8* c) {
        *d = datasets::LoadDepthMeters(sequence.frames[i].depth_path, sequence.depth_scale);
        *c = ReadImage<std::uint8_t>(sequence.frames[i].color_path);
      });
  AbsolutePoseErrorOptions rigid;
  rigid.estimate_scale = false;
  const auto errors = ComputeAbsolutePoseErrors(poses, reference, rigid);
  ASSERT_TRUE(errors.has_value());
  std::printf("living room, %d frames: ATE vs Open3D %.2f mm\n", frames, 1e3 * errors->ate_rmse);
  EXPECT_LT(errors->ate_rmse, 0.05);
}

TEST(RgbdOdometry, RejectsBadInputs) {
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 100.0, 64, 48);
  const ImageF32 depth(64, 48, 1, 1.0f);
  EXPECT_THROW(MakeRgbdPyramid(depth.view(), {}, camera, 0), Error);
  const Camera half = PyramidCamera(camera, 1);
  EXPECT_EQ(half.width, 32);
  EXPECT_DOUBLE_EQ(half.params[0], 50.0);
  EXPECT_DOUBLE_EQ(half.params[2], 16.0);  // the centre stays the centre (pixel centres at +0.5)
  EXPECT_THROW(MakeRgbdPyramid(depth.view(), {}, camera, 5), Error);  // 4x3 at level 4
  const ImageF32 wrong(32, 48, 1, 1.0f);
  EXPECT_THROW(MakeRgbdPyramid(wrong.view(), {}, camera, 1), Error);
  const RgbdPyramid pyramid = MakeRgbdPyramid(depth.view(), {}, camera, 2);
  RgbdOdometryOptions options;
  EXPECT_THROW(RegisterRgbd(pyramid, pyramid, Rigid3(), options), Error);  // 3 levels used
  options.iterations_per_level = {5, 5};
  options.max_correspondence_distance = 0.0;
  EXPECT_THROW(RegisterRgbd(pyramid, pyramid, Rigid3(), options), Error);
  // A fronto-parallel plane leaves the motion along it free: no success.
  options.max_correspondence_distance = 0.07;
  options.min_correspondences = 6;
  const RgbdOdometryResult flat = RegisterRgbd(pyramid, pyramid, Rigid3(), options);
  EXPECT_FALSE(flat.success);
}

}  // namespace
}  // namespace facet::geometry
