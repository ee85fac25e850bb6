// TsdfVolume on depth maps of exactly known surfaces: fronto-parallel planes (where the projective
// distance is the true distance), a sphere, and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/error.h"
#include "geometry/tsdf_volume.h"

namespace facet::geometry {
namespace {

constexpr double kVoxel = 0.02;

Camera TestCamera(int width = 64, int height = 48, double focal = 60.0) {
  return Camera::Create(CameraModelId::kPinhole, focal, width, height);
}

// A pose whose camera looks along a tilted direction, so that the transform is exercised.
Rigid3 TiltedPose() {
  const Eigen::Quaterniond rotation(
      Eigen::AngleAxisd(0.3, Eigen::Vector3d(1, 2, 0.5).normalized()));
  return {rotation, Eigen::Vector3d(0.05, -0.1, 0.2)};
}

ImageF32 ConstantDepth(const Camera& camera, float depth) {
  return ImageF32(camera.width, camera.height, 1, depth);
}

// Calls fn(world point, sdf, weight, colour or nullptr) for every allocated voxel.
void ForEachVoxel(
    const VoxelBlockGrid& grid,
    const std::function<void(const Eigen::Vector3d&, float, float, const float*)>& fn) {
  for (std::int32_t b = 0; b < std::int32_t(grid.block_count()); ++b) {
    const kernels::BlockKey key = grid.key(b);
    for (int local = 0; local < kernels::kBlockVoxels; ++local) {
      const Eigen::Vector3i voxel(key.x * 8 + local % 8, key.y * 8 + (local / 8) % 8,
                                  key.z * 8 + local / 64);
      fn(grid.VoxelCenter(voxel), grid.sdf(b)[local], grid.weight(b)[local],
         grid.has_color() ? grid.color(b) + 3 * local : nullptr);
    }
  }
}

TsdfVolume::Options TestOptions() {
  TsdfVolume::Options options;
  options.voxel_size = kVoxel;
  options.truncation = 4 * kVoxel;
  return options;
}

TEST(TsdfVolume, FrontoParallelPlaneStoresTheTruncatedDistance) {
  // Every pixel sees z_cam = 1: the projective distance 1 - z_cam of a voxel is its exact
  // signed distance to the plane, whatever pixel it projects to.
  const Camera camera = TestCamera();
  const Rigid3 pose = TiltedPose();
  TsdfVolume volume(TestOptions());
  volume.Integrate(ConstantDepth(camera, 1.0f).view(), camera, pose);
  const double trunc = 4 * kVoxel;
  int known = 0, band = 0;
  ForEachVoxel(volume.grid(), [&](const Eigen::Vector3d& p, float sdf, float weight, const float*) {
    const Eigen::Vector3d x_in_cam = pose * p;
    const double distance = 1.0 - x_in_cam.z();
    if (weight == 0.0f) {
      // Unobserved voxels: outside the image, or hidden behind the band.
      const auto pixel = camera.ImgFromCam(x_in_cam);
      const bool in_image = pixel && pixel->x() > 0.01 && pixel->y() > 0.01 &&
                            pixel->x() < camera.width - 0.01 && pixel->y() < camera.height - 0.01;
      EXPECT_TRUE(!in_image || distance <= -trunc + 1e-5) << p.transpose();
      return;
    }
    ++known;
    EXPECT_EQ(weight, 1.0f);
    EXPECT_GT(distance, -trunc - 1e-5);
    // Float arithmetic on coordinates of about 1 m: a few ulps of 1.
    EXPECT_NEAR(sdf, std::min(distance, trunc), 2e-6) << p.transpose();
    if (std::abs(distance) < trunc) ++band;
  });
  // The band [1 - trunc, 1 + trunc] seen by 64x48 pixels is fully allocated: its volume is
  // about 2 trunc * (64/60 * 48/60) m^2, i.e. 0.16 * 0.853 / kVoxel^3 ~ 17000 voxels.
  EXPECT_GT(band, 0.9 * 2 * trunc * (64.0 / 60) * (48.0 / 60) / std::pow(kVoxel, 3));
  EXPECT_GE(known, band);
  EXPECT_EQ(volume.frame_count(), 1);
  EXPECT_GT(volume.last_frame_blocks(), 0);
}

TEST(TsdfVolume, AllocatesOnlyAroundTheSurface) {
  const Camera camera = TestCamera();
  TsdfVolume::Options options;
  options.voxel_size = 0.005;  // blocks of 4 cm, band 2 * 2 cm
  TsdfVolume volume(options);
  volume.Integrate(ConstantDepth(camera, 2.0f).view(), camera, Rigid3());
  const VoxelBlockGrid& grid = volume.grid();
  const double block = grid.block_size(), trunc = options.Truncation();
  for (const kernels::BlockKey& key : grid.keys()) {
    // The block's z range [key.z * block, (key.z + 1) * block) meets [2 - trunc, 2 + trunc].
    EXPECT_LE(key.z * block, 2.0 + trunc);
    EXPECT_GE((key.z + 1) * block, 2.0 - trunc);
  }
  // The band spans at most 2 trunc / block + 1 = 2 block layers, each within the frustum's
  // section at 2 + trunc (64/60 x 48/60 per metre of depth) plus one block on each side.
  const double far = 2.0 + trunc;
  const double per_layer = (far * 64 / 60 / block + 2) * (far * 48 / 60 / block + 2);
  EXPECT_LE(double(grid.block_count()), 2 * per_layer);
  EXPECT_GT(double(grid.block_count()), 0.9 * (2.0 * 64 / 60 / block) * (2.0 * 48 / 60 / block));
  EXPECT_GT(volume.MemoryBytes(), std::size_t(grid.block_count()) * 512 * 8);
}

TEST(TsdfVolume, WeightsAverageAndCap) {
  const Camera camera = TestCamera();
  TsdfVolume::Options options = TestOptions();
  options.max_weight = 2.0;
  TsdfVolume volume(options);
  const float depths[3] = {1.0f, 1.02f, 0.98f};
  for (float d : depths) volume.Integrate(ConstantDepth(camera, d).view(), camera, Rigid3());
  const double trunc = options.truncation;
  int checked = 0;
  ForEachVoxel(volume.grid(), [&](const Eigen::Vector3d& p, float sdf, float weight, const float*) {
    // Voxels seen by all three frames (inside every band, in the image).
    if (p.z() > 0.98 + trunc - 1e-6 || p.z() < 1.02 - trunc + 1e-6) return;
    const auto pixel = camera.ImgFromCam(p);
    if (!pixel || pixel->x() < 1 || pixel->y() < 1 || pixel->x() > camera.width - 1 ||
        pixel->y() > camera.height - 1) {
      return;
    }
    auto tsdf = [&](double d) { return std::min(d - p.z(), trunc); };
    // Weight 1, then 2, then capped at 2: the third observation enters with weight 1/3.
    const double two = (tsdf(1.0) + tsdf(1.02)) / 2;
    const double expected = (two * 2 + tsdf(0.98)) / 3;
    EXPECT_EQ(weight, 2.0f);
    EXPECT_NEAR(sdf, expected, 1e-6);
    ++checked;
  });
  EXPECT_GT(checked, 1000);
}

TEST(TsdfVolume, FusesLinearColour) {
  const Camera camera = TestCamera();
  TsdfVolume::Options options = TestOptions();
  options.with_color = true;
  TsdfVolume volume(options);
  ImageU8 rgb(camera.width, camera.height, 3);
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width; ++x) {
      rgb(x, y, 0) = 255;
      rgb(x, y, 1) = 128;
      rgb(x, y, 2) = y < camera.height / 2 ? 0 : 255;
    }
  }
  volume.Integrate(ConstantDepth(camera, 1.0f).view(), rgb.view(), camera, Rigid3());
  // sRGB 128 is linear ((128/255 + 0.055) / 1.055)^2.4 = 0.21586.
  int checked = 0;
  ForEachVoxel(volume.grid(), [&](const Eigen::Vector3d& p, float, float weight, const float* c) {
    if (weight == 0.0f) return;
    ASSERT_NE(c, nullptr);
    EXPECT_FLOAT_EQ(c[0], 1.0f);
    EXPECT_NEAR(c[1], 0.21586, 1e-5);
    const double v = 60.0 * p.y() / p.z() + 24.0;  // the pixel row the voxel projects to
    if (std::abs(v - 24.0) > 0.01) {
      EXPECT_EQ(c[2], v < 24.0 ? 0.0f : 1.0f);
    }
    ++checked;
  });
  EXPECT_GT(checked, 1000);
}

TEST(TsdfVolume, Uint16DepthMatchesMetres) {
  const Camera camera = TestCamera();
  ImageU16 raw(camera.width, camera.height, 1, std::uint16_t(1234));
  raw(3, 4) = 0;  // no measurement
  ImageF32 metres(camera.width, camera.height, 1, 1.234f);
  metres(3, 4) = 0.0f;
  TsdfVolume a(TestOptions()), b(TestOptions());
  a.Integrate(raw.view(), 1000.0, {}, camera, TiltedPose());
  b.Integrate(metres.view(), camera, TiltedPose());
  ASSERT_EQ(a.grid().block_count(), b.grid().block_count());
  for (std::int64_t i = 0; i < std::int64_t(a.grid().sdf_data().size()); ++i) {
    ASSERT_NEAR(a.grid().sdf_data()[i], b.grid().sdf_data()[i], 1e-6);
    ASSERT_EQ(a.grid().weight_data()[i], b.grid().weight_data()[i]);
  }
}

TEST(TsdfVolume, SphereZeroCrossingsLieOnTheSphere) {
  // A ball of radius 0.3 m at the origin, seen by six cameras at 1.2 m on the axes. Depth maps
  // are exact ray-sphere intersections at pixel centres.
  const double radius = 0.3;
  const Camera camera = TestCamera(80, 80, 120.0);
  TsdfVolume::Options options = TestOptions();
  options.voxel_size = 0.01;
  options.truncation = 0.04;
  TsdfVolume volume(options);
  const Eigen::Vector3d eyes[6] = {{1.2, 0, 0},  {-1.2, 0, 0}, {0, 1.2, 0},
                                   {0, -1.2, 0}, {0, 0, 1.2},  {0, 0, -1.2}};
  for (const Eigen::Vector3d& eye : eyes) {
    // Camera z towards the origin.
    const Eigen::Vector3d z = -eye.normalized();
    const Eigen::Vector3d helper =
        std::abs(z.z()) > 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitZ();
    const Eigen::Vector3d x = helper.cross(z).normalized(), y = z.cross(x);
    Eigen::Matrix3d world_from_cam;
    world_from_cam << x, y, z;
    const Rigid3 cam_from_world = Rigid3(Eigen::Quaterniond(world_from_cam), eye).Inverse();
    ImageF32 depth(camera.width, camera.height, 1, 0.0f);
    for (int j = 0; j < camera.height; ++j) {
      for (int i = 0; i < camera.width; ++i) {
        const Eigen::Vector3d ray_cam((i + 0.5 - 40) / 120.0, (j + 0.5 - 40) / 120.0, 1.0);
        const Eigen::Vector3d ray = world_from_cam * ray_cam;
        // |eye + t ray| = r, t = z depth since ray has unit z in the camera.
        const double a = ray.squaredNorm(), b = 2 * eye.dot(ray),
                     c = eye.squaredNorm() - radius * radius;
        const double disc = b * b - 4 * a * c;
        if (disc >= 0) depth(i, j) = float((-b - std::sqrt(disc)) / (2 * a));
      }
    }
    volume.Integrate(depth.view(), camera, cam_from_world);
  }
  // Zero crossings along lattice edges, by linear interpolation. Nearest-pixel lookup makes each
  // view's depth a staircase: a voxel offset laterally by delta (|delta| <= half a pixel
  // diagonal) from its pixel's centre ray reads a depth off by delta tan(theta) on a surface
  // inclined by theta, which moves the zero level by delta sin(theta) <= delta along the normal.
  // The farthest visible sphere points are 1.5 m away, where a pixel spans 1.5 / 120 m. An
  // average of fields keeps its zero within the spread of theirs; linear interpolation along a
  // voxel edge adds at most about voxel^2 / r. Typical errors are far smaller than the worst:
  // the median stays below a quarter of the nearest points' pixel footprint (0.9 / 120 m).
  const double kStaircase = std::sqrt(0.5) * 1.5 / 120.0;
  const double kInterpolation = options.voxel_size * options.voxel_size / radius;
  const VoxelBlockGrid& grid = volume.grid();
  int crossings = 0;
  double worst = 0.0;
  std::vector<double> errors;
  for (std::int32_t b = 0; b < std::int32_t(grid.block_count()); ++b) {
    const kernels::BlockKey key = grid.key(b);
    for (int local = 0; local < 512; ++local) {
      const Eigen::Vector3i v(key.x * 8 + local % 8, key.y * 8 + (local / 8) % 8,
                              key.z * 8 + local / 64);
      const auto s0 = grid.At(v);
      if (s0.weight == 0) continue;
      for (int k = 0; k < 3; ++k) {
        const auto s1 = grid.At(v + Eigen::Vector3i::Unit(k));
        if (s1.weight == 0 || (s0.sdf < 0) == (s1.sdf < 0)) continue;
        const double t = s0.sdf / (s0.sdf - s1.sdf);
        const Eigen::Vector3d p =
            grid.VoxelCenter(v) + t * options.voxel_size * Eigen::Vector3d::Unit(k);
        worst = std::max(worst, std::abs(p.norm() - radius));
        errors.push_back(std::abs(p.norm() - radius));
        ++crossings;
      }
    }
  }
  // The sphere's area over a voxel face: ~4 pi 0.09 / 1e-4 ~ 11000 crossings per axis family.
  EXPECT_GT(crossings, 10000);
  EXPECT_LT(worst, kStaircase + kInterpolation);
  std::nth_element(errors.begin(), errors.begin() + errors.size() / 2, errors.end());
  EXPECT_LT(errors[errors.size() / 2], 0.25 * 0.9 / 120.0);
}

TEST(TsdfVolume, IgnoresInvalidDepthPixels) {
  const Camera camera = TestCamera();
  ImageF32 depth = ConstantDepth(camera, 1.0f);
  for (int y = 0; y < camera.height; ++y) {
    for (int x = 0; x < camera.width / 2; ++x) {
      const float bad[4] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(), -1.0f, 0.0f};
      depth(x, y) = bad[(x + y) % 4];
    }
  }
  depth(camera.width - 1, 0) = 50.0f;  // beyond depth_max: ignored too
  TsdfVolume volume(TestOptions());
  volume.Integrate(depth.view(), camera, Rigid3());
  int known = 0;
  ForEachVoxel(volume.grid(), [&](const Eigen::Vector3d& p, float sdf, float weight, const float*) {
    if (weight == 0.0f) return;
    ++known;
    ASSERT_TRUE(std::isfinite(sdf));
    // Only the right half of the image (x >= 32, i.e. u >= 32) has measurements.
    EXPECT_GE(60.0 * p.x() / p.z() + 32.0, 32.0 - 1e-6);
    EXPECT_LT(p.z(), 1.0 + 4 * kVoxel + 1e-5);
  });
  EXPECT_GT(known, 1000);
}

TEST(TsdfVolume, CropLimitsAllocation) {
  const Camera camera = TestCamera();
  TsdfVolume::Options options = TestOptions();
  Bounds3 crop;
  crop.min = Eigen::Vector3d(0.0, 0.0, 0.9);
  crop.max = Eigen::Vector3d(0.2, 0.2, 1.1);
  options.crop = crop;
  TsdfVolume volume(options);
  volume.Integrate(ConstantDepth(camera, 1.0f).view(), camera, Rigid3());
  const double block = volume.grid().block_size();
  ASSERT_GT(volume.grid().block_count(), 0);
  for (const kernels::BlockKey& key : volume.grid().keys()) {
    const Eigen::Vector3d lo = block * Eigen::Vector3d(key.x, key.y, key.z);
    EXPECT_TRUE((lo.array() <= crop.max.array()).all() &&
                ((lo.array() + block) >= crop.min.array()).all())
        << key.x << " " << key.y << " " << key.z;
  }
}

TEST(TsdfVolume, RejectsBadInputs) {
  const Camera camera = TestCamera();
  TsdfVolume volume(TestOptions());
  const ImageF32 depth = ConstantDepth(camera, 1.0f);
  EXPECT_THROW(volume.Integrate(ImageF32().view(), camera, Rigid3()), Error);
  const ImageF32 small(32, 24, 1, 1.0f);
  EXPECT_THROW(volume.Integrate(small.view(), camera, Rigid3()), Error);
  Camera distorted = Camera::Create(CameraModelId::kSimpleRadial, 60.0, 64, 48);
  try {
    volume.Integrate(depth.view(), distorted, Rigid3());
    ADD_FAILURE() << "distorted camera accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("undistort"), std::string::npos) << e.what();
  }
  Rigid3 nan_pose;
  nan_pose.translation.x() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(volume.Integrate(depth.view(), camera, nan_pose), Error);
  const ImageU16 raw(64, 48, 1, 1000);
  EXPECT_THROW(volume.Integrate(raw.view(), 0.0, {}, camera, Rigid3()), Error);
  EXPECT_EQ(volume.frame_count(), 0);
  EXPECT_EQ(volume.grid().block_count(), 0);

  TsdfVolume::Options color_options = TestOptions();
  color_options.with_color = true;
  TsdfVolume color_volume(color_options);
  EXPECT_THROW(color_volume.Integrate(depth.view(), camera, Rigid3()), Error);
  const ImageU8 gray(64, 48, 1);
  EXPECT_THROW(color_volume.Integrate(depth.view(), gray.view(), camera, Rigid3()), Error);

  auto rejects = [](auto&& edit) {
    TsdfVolume::Options options = TestOptions();
    edit(options);
    EXPECT_THROW(TsdfVolume{options}, Error);
  };
  rejects([](auto& o) { o.voxel_size = 0.0; });
  rejects([](auto& o) { o.voxel_size = std::numeric_limits<double>::quiet_NaN(); });
  rejects([](auto& o) { o.truncation = 0.5 * o.voxel_size; });
  rejects([](auto& o) { o.depth_max = o.depth_min; });
  rejects([](auto& o) { o.max_weight = 0.5; });
  rejects([](auto& o) { o.crop = Bounds3(); });
}

TEST(TsdfVolume, DefaultTruncationIsFourVoxels) {
  TsdfVolume::Options options;
  options.voxel_size = 0.005;
  EXPECT_DOUBLE_EQ(options.Truncation(), 0.02);
}

}  // namespace
}  // namespace facet::geometry
