#include "geometry/tsdf_volume.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/parallel_for.h"
#if defined(FACET_WITH_CUDA)
#include "geometry/cuda/tsdf_cuda.h"
#endif

namespace facet::geometry {

using kernels::BlockKey;

namespace {

// 8-bit sRGB code -> linear intensity (IEC 61966-2-1).
const std::array<float, 256>& SrgbToLinearTable() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) {
      const double c = i / 255.0;
      t[i] = float(c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4));
    }
    return t;
  }();
  return table;
}

bool KeyLess(const BlockKey& a, const BlockKey& b) {
  if (a.x != b.x) return a.x < b.x;
  if (a.y != b.y) return a.y < b.y;
  return a.z < b.z;
}

// What one thread collects during allocation.
struct AllocationScratch {
  std::vector<BlockKey> fresh{};        // keys not in the grid (may repeat)
  std::vector<std::int32_t> visible{};  // existing blocks this thread listed first
  std::array<BlockKey, 8> recent{};     // the last keys seen: neighbouring pixels'
  std::array<bool, 8> recent_valid{};   // rays cross the same blocks
  int recent_next = 0;

  bool SeenRecently(const BlockKey& key) {
    for (int i = 0; i < 8; ++i) {
      if (recent_valid[i] && recent[i] == key) return true;
    }
    recent[recent_next] = key;
    recent_valid[recent_next] = true;
    recent_next = (recent_next + 1) & 7;
    return false;
  }
};

// Calls visit(key) for every block of edge `block_size` that the segment a -> b crosses, in
// order (Amanatides & Woo, "A Fast Voxel Traversal Algorithm for Ray Tracing", 1987).
template <typename Visit>
void TraverseBlocks(const Eigen::Vector3d& a, const Eigen::Vector3d& b, double block_size,
                    Visit&& visit) {
  const Eigen::Vector3d pa = a / block_size;
  const Eigen::Vector3d pb = b / block_size;
  const Eigen::Vector3d fa = pa.array().floor();
  const Eigen::Vector3d fb = pb.array().floor();
  const double limit = double(kernels::kMaxBlockCoord);
  FACET_CHECK(fa.cwiseAbs().maxCoeff() < limit && fb.cwiseAbs().maxCoeff() < limit,
              "a depth sample lies more than 2^28 blocks from the origin ({:.3g} m): is the "
              "voxel size much too small, or the depth or pose wrong?",
              std::max(a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff()));
  Eigen::Vector3i cell = fa.cast<int>();
  const Eigen::Vector3i end = fb.cast<int>();
  const Eigen::Vector3d dir = pb - pa;
  Eigen::Vector3i step;
  Eigen::Vector3d t_max, t_delta;
  for (int k = 0; k < 3; ++k) {
    step[k] = dir[k] > 0 ? 1 : (dir[k] < 0 ? -1 : 0);
    if (step[k] == 0) {
      t_max[k] = t_delta[k] = std::numeric_limits<double>::infinity();
    } else {
      const double next = step[k] > 0 ? fa[k] + 1.0 : fa[k];
      t_max[k] = (next - pa[k]) / dir[k];
      t_delta[k] = 1.0 / std::abs(dir[k]);
    }
  }
  visit(BlockKey{cell.x(), cell.y(), cell.z()});
  const int steps = (end - cell).cwiseAbs().sum();
  for (int s = 0; s < steps; ++s) {
    int k = 0;
    if (t_max[1] < t_max[k]) k = 1;
    if (t_max[2] < t_max[k]) k = 2;
    cell[k] += step[k];
    t_max[k] += t_delta[k];
    visit(BlockKey{cell.x(), cell.y(), cell.z()});
  }
}

// Clips the segment a + t (b - a), t in [t0, t1], to an axis-aligned box (slab test); false when
// it misses the box.
bool ClipToBox(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Bounds3& box, double* t0,
               double* t1) {
  const Eigen::Vector3d d = b - a;
  for (int k = 0; k < 3; ++k) {
    if (d[k] == 0.0) {
      if (a[k] < box.min[k] || a[k] > box.max[k]) return false;
      continue;
    }
    double lo = (box.min[k] - a[k]) / d[k];
    double hi = (box.max[k] - a[k]) / d[k];
    if (lo > hi) std::swap(lo, hi);
    *t0 = std::max(*t0, lo);
    *t1 = std::min(*t1, hi);
    if (*t0 > *t1) return false;
  }
  return true;
}

void CheckPinholeCamera(const Camera& camera) {
  camera.Check();
  FACET_CHECK(
      camera.model == CameraModelId::kPinhole || camera.model == CameraModelId::kSimplePinhole,
      "TSDF fusion needs a PINHOLE or SIMPLE_PINHOLE camera, got {}: undistort the "
      "images (and depth maps) first (geometry/undistort.h)",
      camera.ModelName());
}

}  // namespace

void TsdfVolume::Options::Check() const {
  FACET_CHECK(std::isfinite(voxel_size) && voxel_size > 0.0,
              "TSDF voxel_size must be positive and finite, got {}", voxel_size);
  FACET_CHECK(std::isfinite(truncation) && truncation >= 0.0,
              "TSDF truncation must be >= 0 and finite (0: 4 voxels), got {}", truncation);
  FACET_CHECK(Truncation() >= voxel_size,
              "TSDF truncation {} m is below the voxel size {} m: the band would miss voxels; "
              "use at least one voxel (3-5 is usual)",
              Truncation(), voxel_size);
  FACET_CHECK(std::isfinite(depth_min) && depth_min >= 0.0,
              "TSDF depth_min must be >= 0 and finite, got {}", depth_min);
  FACET_CHECK(depth_max > depth_min, "TSDF depth_max ({}) must be greater than depth_min ({})",
              depth_max, depth_min);
  FACET_CHECK(std::isfinite(max_weight) && max_weight >= 1.0,
              "TSDF max_weight must be >= 1 and finite, got {}", max_weight);
  if (crop) {
    FACET_CHECK(!crop->IsEmpty() && crop->min.allFinite() && crop->max.allFinite(),
                "TSDF crop box must be finite and non-empty (min <= max)");
  }
  if (backend == Backend::kCuda) {
    FACET_CHECK(CudaBuilt(),
                "TSDF fusion on CUDA asked, but this facet was built without CUDA: use the CPU");
    FACET_CHECK(CudaDeviceCount() > 0,
                "TSDF fusion on CUDA asked, but no CUDA device is available: use the CPU");
  }
}

TsdfVolume::TsdfVolume(const Options& options)
    : options_(options), grid_(options.voxel_size, options.with_color) {
  options_.Check();
#if defined(FACET_WITH_CUDA)
  if (options_.backend == Backend::kCuda) {
    device_ = std::make_unique<TsdfDeviceGrid>(options_.with_color);
  }
#endif
}

TsdfVolume::~TsdfVolume() = default;
TsdfVolume::TsdfVolume(TsdfVolume&&) noexcept = default;
TsdfVolume& TsdfVolume::operator=(TsdfVolume&&) noexcept = default;

void TsdfVolume::Integrate(ImageView<const float> depth_m, ImageView<const std::uint8_t> rgb,
                           const Camera& camera, const Rigid3& cam_from_world) {
  FACET_CHECK(!depth_m.empty(), "TSDF fusion: the depth map is empty");
  FACET_CHECK(depth_m.channels() == 1, "TSDF fusion: the depth map has {} channels, expected 1",
              depth_m.channels());
  CheckPinholeCamera(camera);
  FACET_CHECK(depth_m.width() == camera.width && depth_m.height() == camera.height,
              "TSDF fusion: the depth map is {}x{} but the camera is {}x{}", depth_m.width(),
              depth_m.height(), camera.width, camera.height);
  FACET_CHECK(cam_from_world.rotation.coeffs().allFinite() &&
                  cam_from_world.translation.allFinite() &&
                  std::abs(cam_from_world.rotation.norm() - 1.0) < 1e-6,
              "TSDF fusion: the camera pose is not finite or its rotation is not a unit "
              "quaternion");
  if (options_.with_color) {
    FACET_CHECK(!rgb.empty(),
                "TSDF fusion: the volume fuses colour but no colour image came "
                "with the depth map");
    FACET_CHECK(rgb.width() == camera.width && rgb.height() == camera.height,
                "TSDF fusion: the colour image is {}x{} but the camera is {}x{}", rgb.width(),
                rgb.height(), camera.width, camera.height);
    FACET_CHECK(rgb.channels() == 3 || rgb.channels() == 4,
                "TSDF fusion: the colour image has {} channels, expected 3 (RGB) or 4 (RGBA)",
                rgb.channels());
  }

  kernels::TsdfFrame frame;
  const Eigen::Matrix<float, 3, 4> m = cam_from_world.ToMatrix().cast<float>();
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) frame.cam_from_world[4 * r + c] = m(r, c);
  }
  const Eigen::Vector2d principal = camera.PrincipalPoint();
  frame.fx = float(camera.FocalX());
  frame.fy = float(camera.FocalY());
  frame.cx = float(principal.x());
  frame.cy = float(principal.y());
  frame.width = camera.width;
  frame.height = camera.height;
  frame.depth = depth_m.data();
  frame.depth_stride = depth_m.row_stride();
  if (options_.with_color) {
    frame.color = rgb.data();
    frame.color_stride = rgb.row_stride();
    frame.color_channels = rgb.channels();
    frame.srgb_to_linear = SrgbToLinearTable().data();
  }
  frame.voxel_size = float(options_.voxel_size);
  frame.truncation = float(options_.Truncation());
  frame.depth_min = float(options_.depth_min);
  frame.depth_max = float(std::min(options_.depth_max, double(FLT_MAX)));
  frame.max_weight = float(options_.max_weight);

  ++frame_count_;
  AllocateBlocks(frame);
  IntegrateBlocks(frame);
}

void TsdfVolume::Integrate(ImageView<const std::uint16_t> depth, double depth_scale,
                           ImageView<const std::uint8_t> rgb, const Camera& camera,
                           const Rigid3& cam_from_world) {
  FACET_CHECK(std::isfinite(depth_scale) && depth_scale > 0.0,
              "TSDF fusion: depth_scale must be positive and finite (units per metre), got {}",
              depth_scale);
  FACET_CHECK(!depth.empty(), "TSDF fusion: the depth map is empty");
  FACET_CHECK(depth.channels() == 1, "TSDF fusion: the depth map has {} channels, expected 1",
              depth.channels());
  const int width = depth.width();
  depth_scratch_.resize(std::size_t(width) * depth.height());
  const float inverse_scale = float(1.0 / depth_scale);
  float* out = depth_scratch_.data();
  ParallelFor(depth.height(), [&](std::int64_t y) {
    const std::uint16_t* row = depth.Row(int(y));
    for (int x = 0; x < width; ++x) out[y * width + x] = float(row[x]) * inverse_scale;
  });
  Integrate(ImageView<const float>(out, width, depth.height(), 1), rgb, camera, cam_from_world);
}

void TsdfVolume::AllocateBlocks(const kernels::TsdfFrame& frame) {
  const auto frame_id = std::uint32_t(frame_count_);
  const Rigid3 world_from_cam =
      Rigid3::FromMatrix(
          Eigen::Map<const Eigen::Matrix<float, 3, 4, Eigen::RowMajor>>(frame.cam_from_world)
              .cast<double>())
          .Inverse();
  const Eigen::Matrix3d rotation = world_from_cam.rotation.toRotationMatrix();
  const Eigen::Vector3d center = world_from_cam.translation;
  const double truncation = frame.truncation;
  const double block_size = grid_.block_size();
  const kernels::BlockHashView hash = grid_.hash_view();
  std::uint32_t* block_frame = block_frame_.data();

  oneapi::tbb::enumerable_thread_specific<AllocationScratch> scratch;
  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<int>(0, frame.height, 4),
      [&](const oneapi::tbb::blocked_range<int>& rows) {
        AllocationScratch& local = scratch.local();
        auto visit = [&](const BlockKey& key) {
          if (local.SeenRecently(key)) return;
          const std::int32_t block = hash.Find(key);
          if (block < 0) {
            local.fresh.push_back(key);
          } else if (std::atomic_ref<std::uint32_t>(block_frame[block])
                         .exchange(frame_id, std::memory_order_relaxed) != frame_id) {
            local.visible.push_back(block);
          }
        };
        for (int j = rows.begin(); j != rows.end(); ++j) {
          const float* depth_row = frame.depth + std::int64_t(j) * frame.depth_stride;
          const double v = (j + 0.5 - frame.cy) / frame.fy;
          for (int i = 0; i < frame.width; ++i) {
            const float d = depth_row[i];
            if (!kernels::ValidDepth(frame, d)) continue;
            const Eigen::Vector3d ray =
                rotation * Eigen::Vector3d((i + 0.5 - frame.cx) / frame.fx, v, 1.0);
            const double z0 = std::max(double(d) - truncation, 0.0);
            const Eigen::Vector3d a = center + z0 * ray;
            const Eigen::Vector3d b = center + (double(d) + truncation) * ray;
            if (options_.crop) {
              double t0 = 0.0, t1 = 1.0;
              if (!ClipToBox(a, b, *options_.crop, &t0, &t1)) continue;
              TraverseBlocks(a + t0 * (b - a), a + t1 * (b - a), block_size, visit);
            } else {
              TraverseBlocks(a, b, block_size, visit);
            }
          }
        }
      });

  std::vector<BlockKey> fresh;
  last_visible_.clear();
  for (AllocationScratch& local : scratch) {
    fresh.insert(fresh.end(), local.fresh.begin(), local.fresh.end());
    last_visible_.insert(last_visible_.end(), local.visible.begin(), local.visible.end());
  }
  std::sort(fresh.begin(), fresh.end(), KeyLess);
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  // Geometric growth: reserving the exact count every frame would copy the arrays every frame.
  const std::int64_t needed = grid_.block_count() + std::int64_t(fresh.size());
  if (std::size_t(needed) > grid_.keys().capacity()) {
    grid_.Reserve(std::max(needed, 2 * grid_.block_count()));
  }
  for (const BlockKey& key : fresh) last_visible_.push_back(grid_.Insert(key));
  block_frame_.resize(std::size_t(grid_.block_count()), 0);
  for (std::size_t k = last_visible_.size() - fresh.size(); k < last_visible_.size(); ++k) {
    block_frame_[std::size_t(last_visible_[k])] = frame_id;
  }
  // Block order: memory order, for locality and a deterministic schedule.
  std::sort(last_visible_.begin(), last_visible_.end());
}

void TsdfVolume::IntegrateBlocks(const kernels::TsdfFrame& frame) {
#if defined(FACET_WITH_CUDA)
  if (device_) {
    // The host copy's new blocks are zero, and so are the device's; the rest is on the device.
    device_->Resize(grid_.block_count());
    std::vector<BlockKey> keys(last_visible_.size());
    for (std::size_t k = 0; k < keys.size(); ++k) keys[k] = grid_.key(last_visible_[k]);
    device_->Integrate(frame, last_visible_.data(), keys.data(), std::int64_t(keys.size()));
    host_stale_ = true;
    return;
  }
#endif
  const std::int32_t* blocks = last_visible_.data();
  ParallelFor(std::int64_t(last_visible_.size()), [&](std::int64_t k) {
    const std::int32_t block = blocks[k];
    const BlockKey key = grid_.key(block);
    float* sdf = grid_.sdf(block);
    float* weight = grid_.weight(block);
    float* color = grid_.color(block);
    for (int local = 0; local < kernels::kBlockVoxels; ++local) {
      kernels::IntegrateBlockVoxel(frame, key, local, sdf, weight, color);
    }
  });
}

const VoxelBlockGrid& TsdfVolume::grid() const {
#if defined(FACET_WITH_CUDA)
  if (host_stale_ && device_) {
    device_->Download(grid_.sdf_data().data(), grid_.weight_data().data(),
                      grid_.has_color() ? grid_.color_data().data() : nullptr, grid_.block_count());
    host_stale_ = false;
  }
#endif
  return grid_;
}

std::size_t TsdfVolume::MemoryBytes() const {
  return grid_.MemoryBytes() + block_frame_.capacity() * sizeof(std::uint32_t) +
         last_visible_.capacity() * sizeof(std::int32_t) +
         depth_scratch_.capacity() * sizeof(float);
}

}  // namespace facet::geometry
