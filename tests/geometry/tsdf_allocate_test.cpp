// TsdfVolume's allocation against a plain reference: for every valid pixel, the blocks crossed by
// its ray's segment [max(d - truncation, 0), d + truncation], traversed in double precision
// (Amanatides & Woo 1987). The allocator computes the same in floats relative to the camera's
// block and skips pixels whose blocks repeat their neighbour's; the block sets must be the same
// but where a segment ends on a block's face or runs along an edge (within 1e-4 block), where
// rounding decides either way.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/image_io.h"
#include "datasets/rgbd.h"
#include "geometry/tsdf_volume.h"

namespace facet::geometry {
namespace {

using Key = std::tuple<int, int, int>;

// The blocks of the segment a -> b (block units), in double precision. Returns whether the
// segment passes within `epsilon` of a block's face at an end point or of a block's edge (two
// faces crossed at nearly the same point), where rounding decides.
bool Traverse(const Eigen::Vector3d& a, const Eigen::Vector3d& b, double epsilon,
              std::set<Key>* keys) {
  Eigen::Vector3i cell(int(std::floor(a.x())), int(std::floor(a.y())), int(std::floor(a.z())));
  const Eigen::Vector3i end(int(std::floor(b.x())), int(std::floor(b.y())), int(std::floor(b.z())));
  bool close = false;
  for (int k = 0; k < 3; ++k) {
    close |=
        std::abs(a[k] - std::round(a[k])) < epsilon || std::abs(b[k] - std::round(b[k])) < epsilon;
  }
  Eigen::Vector3i step;
  Eigen::Vector3d t_max, t_delta;
  for (int k = 0; k < 3; ++k) {
    const double d = b[k] - a[k];
    step[k] = d > 0 ? 1 : (d < 0 ? -1 : 0);
    t_max[k] = d == 0 ? std::numeric_limits<double>::infinity()
                      : ((d > 0 ? cell[k] + 1.0 : double(cell[k])) - a[k]) / d;
    t_delta[k] = d == 0 ? 0.0 : std::abs(1.0 / d);
  }
  const double length = (b - a).norm();
  keys->insert({cell.x(), cell.y(), cell.z()});
  const int steps = (end - cell).cwiseAbs().sum();
  for (int n = 0; n < steps; ++n) {
    int k = 0;
    t_max.minCoeff(&k);
    for (int l = 0; l < 3; ++l) {
      close |= l != k && std::abs(t_max[l] - t_max[k]) * length < epsilon;
    }
    cell[k] += step[k];
    t_max[k] += t_delta[k];
    keys->insert({cell.x(), cell.y(), cell.z()});
  }
  return close;
}

// The reference block sets of one frame (depth in metres, invalid <= 0 or not finite): the
// blocks every copy of the segments moved by up to 1e-4 block crosses (`required`), and those
// any copy crosses (`allowed`). They differ only where a segment ends on a face or passes along
// an edge, as quantised depths seen from an axis-aligned pose do.
struct ReferenceSets {
  std::set<Key> required, allowed;
};

ReferenceSets ReferenceBlocks(const ImageF32& depth, const Camera& camera,
                              const Rigid3& cam_from_world, const TsdfVolume::Options& options) {
  constexpr double kEpsilon = 1e-4;
  const Rigid3 world_from_cam = cam_from_world.Inverse();
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  const double block = 8 * options.voxel_size, trunc = options.Truncation();
  ReferenceSets sets;
  for (int j = 0; j < depth.height(); ++j) {
    for (int i = 0; i < depth.width(); ++i) {
      const double d = depth(i, j);
      if (!(d > options.depth_min && d <= options.depth_max)) continue;
      const Eigen::Vector3d ray = world_from_cam.rotation *
                                  Eigen::Vector3d((i + 0.5 - principal.x()) / camera.FocalX(),
                                                  (j + 0.5 - principal.y()) / camera.FocalY(), 1.0);
      const Eigen::Vector3d a =
          (world_from_cam.translation + std::max(d - trunc, 0.0) * ray) / block;
      const Eigen::Vector3d b = (world_from_cam.translation + (d + trunc) * ray) / block;
      std::set<Key> keys;
      if (!Traverse(a, b, 2 * kEpsilon, &keys)) {
        sets.required.insert(keys.begin(), keys.end());
        sets.allowed.insert(keys.begin(), keys.end());
        continue;
      }
      // Close to a face or an edge: the 27 copies moved by -epsilon, 0, +epsilon on each axis.
      std::set<Key> common = keys;
      for (int n = 0; n < 27; ++n) {
        const Eigen::Vector3d offset =
            kEpsilon * Eigen::Vector3d(n % 3 - 1, (n / 3) % 3 - 1, n / 9 - 1);
        std::set<Key> moved;
        Traverse(a + offset, b + offset, 0.0, &moved);
        sets.allowed.insert(moved.begin(), moved.end());
        std::set<Key> kept;
        std::set_intersection(common.begin(), common.end(), moved.begin(), moved.end(),
                              std::inserter(kept, kept.begin()));
        common.swap(kept);
      }
      sets.required.insert(common.begin(), common.end());
    }
  }
  return sets;
}

// The blocks TsdfVolume allocates for the frame alone.
std::set<Key> AllocatedBlocks(const ImageF32& depth, const Camera& camera,
                              const Rigid3& cam_from_world, const TsdfVolume::Options& options) {
  TsdfVolume volume(options);
  volume.Integrate(depth.view(), camera, cam_from_world);
  std::set<Key> keys;
  for (const kernels::BlockKey& key : volume.grid().keys()) keys.insert({key.x, key.y, key.z});
  return keys;
}

// required <= allocated <= allowed.
void ExpectSameBlocks(const ReferenceSets& reference, const std::set<Key>& allocated) {
  std::vector<Key> missing, extra;
  std::set_difference(reference.required.begin(), reference.required.end(), allocated.begin(),
                      allocated.end(), std::back_inserter(missing));
  std::set_difference(allocated.begin(), allocated.end(), reference.allowed.begin(),
                      reference.allowed.end(), std::back_inserter(extra));
  EXPECT_TRUE(missing.empty() && extra.empty())
      << reference.required.size() << " blocks required, " << missing.size() << " missing; "
      << reference.allowed.size() << " allowed, " << extra.size() << " extra";
  EXPECT_GT(allocated.size(), 100u);
}

// A sphere in front of a wavy wall, seen from an oblique pose far from the origin, with noise and
// holes: segments cross blocks in every direction.
ImageF32 SceneDepth(const Camera& camera, int seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.003f);
  ImageF32 depth(camera.width, camera.height, 1);
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  const Eigen::Vector3d sphere(0.1, -0.05, 1.2);
  for (int j = 0; j < camera.height; ++j) {
    for (int i = 0; i < camera.width; ++i) {
      const Eigen::Vector3d ray((i + 0.5 - principal.x()) / camera.FocalX(),
                                (j + 0.5 - principal.y()) / camera.FocalY(), 1.0);
      double z = 2.0 + 0.3 * std::sin(3.0 * ray.x()) + 0.5 * ray.y();  // the wall
      // The sphere (radius 0.3): nearest intersection of t * ray.
      const double bq = ray.dot(sphere), aq = ray.squaredNorm();
      const double disc = bq * bq - aq * (sphere.squaredNorm() - 0.09);
      if (disc > 0) z = std::min(z, (bq - std::sqrt(disc)) / aq);
      depth(i, j) = float(z) + noise(rng);
      if ((i * 7 + j * 3 + seed) % 23 == 0) depth(i, j) = 0.0f;
    }
  }
  return depth;
}

TEST(TsdfAllocation, MatchesADoublePrecisionTraversal) {
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 150.0, 160, 120);
  for (int seed = 0; seed < 3; ++seed) {
    const Rigid3 cam_from_world(
        Eigen::Quaterniond(Eigen::AngleAxisd(0.4 + seed, Eigen::Vector3d(1, -2, 0.7).normalized())),
        Eigen::Vector3d(12.3 * seed - 5.0, 3.1, -7.7));
    const ImageF32 depth = SceneDepth(camera, seed);
    TsdfVolume::Options options;
    options.voxel_size = 0.01;  // segments of one block: at most one face per axis
    SCOPED_TRACE(seed);
    ExpectSameBlocks(ReferenceBlocks(depth, camera, cam_from_world, options),
                     AllocatedBlocks(depth, camera, cam_from_world, options));
    options.voxel_size = 0.004;  // segments of 2.5 blocks: the general traversal
    options.truncation = 0.05;
    ExpectSameBlocks(ReferenceBlocks(depth, camera, cam_from_world, options),
                     AllocatedBlocks(depth, camera, cam_from_world, options));
  }
}

TEST(TsdfAllocation, MatchesADoublePrecisionTraversalOnTheLivingRoom) {
  const std::filesystem::path folder = FACET_SOURCE_DIR "/../shared/data/rgbd-livingroom";
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << "shared data not found: " << folder;
  datasets::RedwoodReadOptions read;
  read.trajectory_log = "open3d_trajectory.log";
  const Camera camera = CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
  const datasets::RgbdSequence sequence = datasets::ReadRedwoodSequence(folder, camera, read);
  ASSERT_GE(sequence.frames.size(), 200u);
  TsdfVolume::Options options;  // the benchmark's: 1 cm voxels, 4 cm truncation, 3 m
  options.voxel_size = 0.01;
  options.truncation = 0.04;
  for (const int f : {0, 100, 200}) {
    const ImageU16 raw = ReadImage<std::uint16_t>(sequence.frames[f].depth_path);
    ImageF32 depth(raw.width(), raw.height(), 1);
    for (int j = 0; j < raw.height(); ++j) {
      for (int i = 0; i < raw.width(); ++i) depth(i, j) = float(raw(i, j)) / 1000.0f;
    }
    const Rigid3 cam_from_world = *sequence.frames[f].CamFromWorld();
    SCOPED_TRACE(f);
    ExpectSameBlocks(ReferenceBlocks(depth, camera, cam_from_world, options),
                     AllocatedBlocks(depth, camera, cam_from_world, options));
  }
}

TEST(TsdfAllocation, CropKeepsTheBlocksOfTheClippedSegments) {
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 150.0, 160, 120);
  const Rigid3 cam_from_world(Eigen::Quaterniond(Eigen::AngleAxisd(0.3, Eigen::Vector3d::UnitY())),
                              Eigen::Vector3d(0.2, 0.1, 0.3));
  const ImageF32 depth = SceneDepth(camera, 5);
  TsdfVolume::Options options;
  Bounds3 crop;
  crop.min = Eigen::Vector3d(-0.3, -0.2, 0.5);
  crop.max = Eigen::Vector3d(0.4, 0.25, 1.6);
  options.crop = crop;
  const std::set<Key> all = ReferenceBlocks(depth, camera, cam_from_world, options).allowed;
  const std::set<Key> cropped = AllocatedBlocks(depth, camera, cam_from_world, options);
  ASSERT_GT(cropped.size(), 50u);
  const double block = 8 * options.voxel_size;
  int inside = 0;
  for (const auto& [x, y, z] : all) {
    const Eigen::Vector3d lo = block * Eigen::Vector3d(x, y, z);
    // Blocks well inside the box are all kept, blocks clear of it none.
    const bool well_inside = (lo.array() >= crop.min.array() + 1e-6).all() &&
                             (lo.array() + block <= crop.max.array() - 1e-6).all();
    const bool clear = (lo.array() > crop.max.array() + 1e-6).any() ||
                       (lo.array() + block < crop.min.array() - 1e-6).any();
    if (well_inside) {
      ++inside;
      EXPECT_TRUE(cropped.count({x, y, z})) << x << " " << y << " " << z;
    }
    if (clear) {
      EXPECT_FALSE(cropped.count({x, y, z})) << x << " " << y << " " << z;
    }
  }
  EXPECT_GT(inside, 20);
  for (const Key& key : cropped) EXPECT_TRUE(all.count(key));
}

TEST(TsdfAllocation, RejectsSamplesBeyondTheBlockRange) {
  const Camera camera = Camera::Create(CameraModelId::kPinhole, 60.0, 64, 48);
  TsdfVolume::Options options;
  options.voxel_size = 1e-3;  // 2^28 blocks of 8 mm: 2.1e6 m
  options.depth_max = 1e7;
  TsdfVolume volume(options);
  const ImageF32 near(64, 48, 1, 1.0f);
  volume.Integrate(near.view(), camera, Rigid3());
  const std::int64_t blocks = volume.last_frame_blocks();
  ASSERT_GT(blocks, 0);
  // The top rows see the same wall, the bottom rows a sample 3e6 m away: the frame throws
  // midway, once some of the wall's blocks may be listed.
  ImageF32 far = near;
  for (int y = 24; y < 48; ++y) {
    for (int x = 0; x < 64; ++x) far(x, y) = 3e6f;
  }
  EXPECT_THROW(volume.Integrate(far.view(), camera, Rigid3()), Error);
  Rigid3 distant;
  distant.translation.x() = -3e6;  // the camera itself out of range
  EXPECT_THROW(volume.Integrate(near.view(), camera, distant), Error);
  EXPECT_EQ(volume.frame_count(), 1);
  // The volume still works after the failed frames, and lists every block of the next frame.
  volume.Integrate(near.view(), camera, Rigid3());
  EXPECT_EQ(volume.frame_count(), 2);
  EXPECT_EQ(volume.grid().block_count(), blocks);
  EXPECT_EQ(volume.last_frame_blocks(), blocks);
}

}  // namespace
}  // namespace facet::geometry
