#include "geometry/tsdf_volume.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "core/parallel_for.h"
#include "geometry/tsdf_allocate.h"
#include "geometry/tsdf_integrate_cpu.h"
#if defined(FACET_WITH_CUDA)
#include "geometry/cuda/tsdf_cuda.h"
#endif

namespace facet::geometry {

#if !defined(FACET_WITH_CUDA)
// Never created without CUDA; defined so that std::unique_ptr<TsdfDeviceGrid> can be destroyed.
class TsdfDeviceGrid {};
#endif

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
    : options_(options),
      grid_(options.voxel_size, options.with_color),
      collector_(std::make_unique<detail::TsdfBlockCollector>()) {
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

void TsdfVolume::CheckFrame(int depth_width, int depth_height, int depth_channels,
                            ImageView<const std::uint8_t> rgb, const Camera& camera,
                            const Rigid3& cam_from_world) const {
  FACET_CHECK(depth_width > 0 && depth_height > 0, "TSDF fusion: the depth map is empty");
  FACET_CHECK(depth_channels == 1, "TSDF fusion: the depth map has {} channels, expected 1",
              depth_channels);
  FACET_CHECK(std::int64_t(depth_width) * depth_height < (std::int64_t(1) << 31),
              "TSDF fusion: the depth map is {}x{}, more than 2^31 pixels: split it", depth_width,
              depth_height);
  CheckPinholeCamera(camera);
  FACET_CHECK(depth_width == camera.width && depth_height == camera.height,
              "TSDF fusion: the depth map is {}x{} but the camera is {}x{}", depth_width,
              depth_height, camera.width, camera.height);
  FACET_CHECK(cam_from_world.rotation.coeffs().allFinite() &&
                  cam_from_world.translation.allFinite() &&
                  std::abs(cam_from_world.rotation.norm() - 1.0) < 1e-6,
              "TSDF fusion: the camera pose is not finite or its rotation is not a unit "
              "quaternion");
  if (options_.with_color) {
    FACET_CHECK(!rgb.empty(),
                "TSDF fusion: the volume fuses colour but no colour image came with the depth "
                "map");
    FACET_CHECK(rgb.width() == camera.width && rgb.height() == camera.height,
                "TSDF fusion: the colour image is {}x{} but the camera is {}x{}", rgb.width(),
                rgb.height(), camera.width, camera.height);
    FACET_CHECK(rgb.channels() == 3 || rgb.channels() == 4,
                "TSDF fusion: the colour image has {} channels, expected 3 (RGB) or 4 (RGBA)",
                rgb.channels());
  }
}

kernels::TsdfFrame TsdfVolume::MakeFrame(const Camera& camera, const Rigid3& cam_from_world,
                                         ImageView<const std::uint8_t> rgb) const {
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
  return frame;
}

void TsdfVolume::Integrate(ImageView<const float> depth_m, ImageView<const std::uint8_t> rgb,
                           const Camera& camera, const Rigid3& cam_from_world) {
  CheckFrame(depth_m.width(), depth_m.height(), depth_m.channels(), rgb, camera, cam_from_world);
  kernels::TsdfFrame frame = MakeFrame(camera, cam_from_world, rgb);
  PrepareFrame(&frame, [&](int y, float* out) {
    const float* row = depth_m.Row(y);
    for (int x = 0; x < frame.width; ++x) out[x] = kernels::SanitizeDepth(frame, row[x]);
  });
  IntegrateFrame(frame);
}

void TsdfVolume::Integrate(ImageView<const std::uint16_t> depth, double depth_scale,
                           ImageView<const std::uint8_t> rgb, const Camera& camera,
                           const Rigid3& cam_from_world) {
  FACET_CHECK(std::isfinite(depth_scale) && depth_scale > 0.0,
              "TSDF fusion: depth_scale must be positive and finite (units per metre), got {}",
              depth_scale);
  CheckFrame(depth.width(), depth.height(), depth.channels(), rgb, camera, cam_from_world);
  kernels::TsdfFrame frame = MakeFrame(camera, cam_from_world, rgb);
  const float inverse_scale = float(1.0 / depth_scale);
  PrepareFrame(&frame, [&](int y, float* out) {
    const std::uint16_t* row = depth.Row(y);
    for (int x = 0; x < frame.width; ++x) {
      out[x] = kernels::SanitizeDepth(frame, float(row[x]) * inverse_scale);
    }
  });
  IntegrateFrame(frame);
}

template <typename SanitizeRow>
void TsdfVolume::PrepareFrame(kernels::TsdfFrame* frame, SanitizeRow&& sanitize_row) {
  const int width = frame->width, height = frame->height;
  const std::size_t pixels = std::size_t(width) * std::size_t(height);
  depth_scratch_.resize(pixels);
  float* depth = depth_scratch_.data();
  std::uint32_t* packed = nullptr;
  if (frame->color != nullptr) {
    rgb_scratch_.resize(pixels);
    packed = rgb_scratch_.data();
  }
  const kernels::TsdfFrame& f = *frame;
  // Rows in groups: one row is too little work for a task.
  ParallelFor(
      height,
      [&](std::int64_t y) {
        sanitize_row(int(y), depth + y * width);
        if (packed == nullptr) return;
        const std::uint8_t* rgb = f.color + y * f.color_stride;
        std::uint32_t* out = packed + y * width;
        for (int x = 0; x < width; ++x) {
          const std::uint8_t* p = rgb + x * f.color_channels;
          out[x] = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16;
        }
      },
      /*grain=*/16);
  frame->depth = depth;
  frame->depth_stride = width;
}

void TsdfVolume::IntegrateFrame(const kernels::TsdfFrame& frame) {
  AllocateBlocks(frame);
  IntegrateBlocks(frame);
  ++frame_count_;  // only now: a frame that threw is not counted
}

void TsdfVolume::AllocateBlocks(const kernels::TsdfFrame& frame) {
  // A fresh stamp for every attempt, also after a frame that threw midway (its stamps stay).
  if (++frame_stamp_ == 0) {  // wrapped around: forget the old stamps
    std::fill(block_frame_.begin(), block_frame_.end(), 0u);
    frame_stamp_ = 1;
  }
  const std::uint32_t frame_id = frame_stamp_;
  last_visible_.clear();
  collector_->Collect(frame, grid_.block_size(), options_.crop, grid_.hash_view(),
                      block_frame_.data(), frame_id, &last_visible_, &fresh_keys_);
  // Geometric growth: reserving the exact count every frame would copy the arrays every frame.
  const std::int64_t needed = grid_.block_count() + std::int64_t(fresh_keys_.size());
  if (std::size_t(needed) > grid_.keys().capacity()) {
    grid_.Reserve(std::max(needed, 2 * grid_.block_count()));
  }
  for (const BlockKey& key : fresh_keys_) last_visible_.push_back(grid_.Insert(key));
  block_frame_.resize(std::size_t(grid_.block_count()), 0);
  for (std::size_t k = last_visible_.size() - fresh_keys_.size(); k < last_visible_.size(); ++k) {
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
  detail::IntegrateBlocksCpu(frame, frame.color != nullptr ? rgb_scratch_.data() : nullptr,
                             last_visible_, &grid_);
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
         depth_scratch_.capacity() * sizeof(float) +
         rgb_scratch_.capacity() * sizeof(std::uint32_t) +
         fresh_keys_.capacity() * sizeof(BlockKey) + collector_->MemoryBytes();
}

}  // namespace facet::geometry
