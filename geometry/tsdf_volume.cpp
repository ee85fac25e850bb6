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
#include "geometry/tsdf_integrate_cpu.h"
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

// The blocks one pixel's segment crosses, when they are few.
struct BlockPath {
  static constexpr int kCapacity = 16;
  std::array<BlockKey, kCapacity> keys{};
  int size = 0;

  bool Contains(const BlockKey& key) const {
    for (int k = 0; k < size; ++k) {
      if (keys[k] == key) return true;
    }
    return false;
  }
  bool operator==(const BlockPath& other) const {
    if (size != other.size) return false;
    for (int k = 0; k < size; ++k) {
      if (!(keys[k] == other.keys[k])) return false;
    }
    return true;
  }
};

// A segment in block units: its end points, the blocks holding them, and the number of block
// faces it crosses.
struct BlockSegment {
  Eigen::Vector3d pa, pb;
  BlockKey start, end;
  int steps = 0;
};

// floor(x) as an int for |x| < 2^30, without a libm call (x86-64's baseline has no SSE4.1
// rounding instruction, and std::floor dominated allocation).
int FloorToInt(double x) {
  const int i = int(x);  // truncates towards zero
  return i - int(x < double(i));
}

BlockSegment LocateSegment(const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                           double inverse_block_size) {
  BlockSegment s;
  s.pa = a * inverse_block_size;
  s.pb = b * inverse_block_size;
  const double limit = double(kernels::kMaxBlockCoord);
  // Written so that NaN fails too.
  FACET_CHECK((s.pa.cwiseAbs().array() < limit).all() && (s.pb.cwiseAbs().array() < limit).all(),
              "a depth sample lies more than 2^28 blocks from the origin ({:.3g} m): is the "
              "voxel size much too small, or the depth or pose wrong?",
              std::max(a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff()));
  s.start = {FloorToInt(s.pa.x()), FloorToInt(s.pa.y()), FloorToInt(s.pa.z())};
  s.end = {FloorToInt(s.pb.x()), FloorToInt(s.pb.y()), FloorToInt(s.pb.z())};
  s.steps =
      std::abs(s.end.x - s.start.x) + std::abs(s.end.y - s.start.y) + std::abs(s.end.z - s.start.z);
  return s;
}

// Calls visit(key) for every block the segment crosses, in order (Amanatides & Woo, "A Fast Voxel
// Traversal Algorithm for Ray Tracing", 1987).
template <typename Visit>
void TraverseBlocks(const BlockSegment& s, Visit&& visit) {
  visit(s.start);
  // The common cases, a segment within one block or crossing one face: no traversal needed.
  if (s.steps == 0) return;
  if (s.steps == 1) {
    visit(s.end);
    return;
  }
  // Scalars rather than arrays indexed by the axis: the arrays went through memory.
  struct Axis {
    int cell, step;
    double t_max, t_delta;  // segment parameter of the next face crossing, and between two
  };
  auto setup = [](double from, double to, int cell) {
    const double d = to - from;
    if (d == 0.0) {
      return Axis{cell, 0, std::numeric_limits<double>::infinity(), 0.0};
    }
    const double inverse = 1.0 / d;
    const double next = d > 0.0 ? cell + 1.0 : double(cell);
    return Axis{cell, d > 0.0 ? 1 : -1, (next - from) * inverse, std::abs(inverse)};
  };
  Axis x = setup(s.pa.x(), s.pb.x(), s.start.x);
  Axis y = setup(s.pa.y(), s.pb.y(), s.start.y);
  Axis z = setup(s.pa.z(), s.pb.z(), s.start.z);
  for (int n = 0; n < s.steps; ++n) {
    Axis& next = x.t_max <= y.t_max && x.t_max <= z.t_max ? x : (y.t_max <= z.t_max ? y : z);
    next.cell += next.step;
    next.t_max += next.t_delta;
    visit(BlockKey{x.cell, y.cell, z.cell});
  }
}

// The blocks the segment crosses, in order, into `path` (steps < BlockPath::kCapacity). Segments
// crossing two faces, the most common case, need no traversal: which face comes first is
// decided by comparing the distances to the two face planes scaled by the other axis' extent
// (no division); ties go to the lower axis, as in TraverseBlocks.
void SegmentPath(const BlockSegment& s, BlockPath* path) {
  path->size = 0;
  if (s.steps != 2) {
    TraverseBlocks(s, [path](const BlockKey& key) { path->keys[path->size++] = key; });
    return;
  }
  const int delta[3] = {s.end.x - s.start.x, s.end.y - s.start.y, s.end.z - s.start.z};
  const int start[3] = {s.start.x, s.start.y, s.start.z};
  int mid[3] = {start[0], start[1], start[2]};
  int first = -1, second = -1;
  for (int k = 0; k < 3; ++k) {
    if (delta[k] == 0) continue;
    if (first < 0) {
      first = k;
    } else {
      second = k;
    }
  }
  if (second < 0) {  // two steps along one axis
    mid[first] += delta[first] / 2;
  } else {
    auto to_face = [&](int k) {
      const double p = s.pa[k];
      return delta[k] > 0 ? start[k] + 1.0 - p : p - start[k];
    };
    const double extent_first = std::abs(s.pb[first] - s.pa[first]);
    const double extent_second = std::abs(s.pb[second] - s.pa[second]);
    const int k = to_face(first) * extent_second <= to_face(second) * extent_first ? first : second;
    mid[k] += delta[k];
  }
  path->keys[0] = s.start;
  path->keys[1] = BlockKey{mid[0], mid[1], mid[2]};
  path->keys[2] = s.end;
  path->size = 3;
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
  ++frame_count_;
  AllocateBlocks(frame);
  IntegrateBlocks(frame);
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
  const double inverse_block_size = 1.0 / grid_.block_size();
  // The ray of pixel (i, j) in the world is ray(0, j) + i * ray_step (unit camera z).
  const Eigen::Vector3d ray_step = rotation.col(0) / double(frame.fx);
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
          } else {
            // Most visits find the block listed already: a plain load first, the locked
            // exchange only to claim it.
            std::atomic_ref<std::uint32_t> stamp(block_frame[block]);
            if (stamp.load(std::memory_order_relaxed) != frame_id &&
                stamp.exchange(frame_id, std::memory_order_relaxed) != frame_id) {
              local.visible.push_back(block);
            }
          }
        };
        for (int j = rows.begin(); j != rows.end(); ++j) {
          const float* depth_row = frame.depth + std::int64_t(j) * frame.depth_stride;
          const double v = (j + 0.5 - frame.cy) / frame.fy;
          const Eigen::Vector3d ray0 =
              rotation * Eigen::Vector3d((0.5 - frame.cx) / frame.fx, v, 1.0);
          // Neighbouring pixels' segments mostly cross the same few blocks: only the blocks not
          // on the previous pixel's path are visited.
          // Two paths reused for the whole row (initialising one per pixel was measurable).
          BlockPath paths[2];
          int current = 0;
          for (int i = 0; i < frame.width; ++i) {
            const float d = depth_row[i];
            if (!kernels::ValidDepth(frame, d)) continue;
            const Eigen::Vector3d ray = ray0 + double(i) * ray_step;
            Eigen::Vector3d a = center + std::max(double(d) - truncation, 0.0) * ray;
            Eigen::Vector3d b = center + (double(d) + truncation) * ray;
            if (options_.crop) {
              double t0 = 0.0, t1 = 1.0;
              if (!ClipToBox(a, b, *options_.crop, &t0, &t1)) continue;
              const Eigen::Vector3d ab = b - a;
              b = a + t1 * ab;
              a = a + t0 * ab;
            }
            const BlockSegment segment = LocateSegment(a, b, inverse_block_size);
            BlockPath& path = paths[current];
            const BlockPath& previous = paths[1 - current];
            if (segment.steps >= BlockPath::kCapacity) {  // a long segment: no short cut
              TraverseBlocks(segment, visit);
              path.size = 0;
              current = 1 - current;
              continue;
            }
            // Within a block or across one face: the path is its two ends, compared directly.
            if (segment.steps <= 1 && previous.size == segment.steps + 1 &&
                previous.keys[0] == segment.start && previous.keys[segment.steps] == segment.end) {
              continue;
            }
            SegmentPath(segment, &path);
            if (path == previous) continue;
            for (int k = 0; k < path.size; ++k) {
              if (!previous.Contains(path.keys[k])) visit(path.keys[k]);
            }
            current = 1 - current;
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
         rgb_scratch_.capacity() * sizeof(std::uint32_t);
}

}  // namespace facet::geometry
