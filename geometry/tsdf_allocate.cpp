#include "geometry/tsdf_allocate.h"

#include <Eigen/Core>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "geometry/rigid3.h"

namespace facet::geometry::detail {
namespace {

using kernels::BlockKey;

// A pixel's code: whether it has a segment, whether the segment crosses at most one face per
// axis ("simple": its blocks follow from its end blocks and the order of its face crossings),
// and that order, pair by pair (set when the first axis' face comes first, or at the same time),
// kept only for the pairs of axes it crosses.
constexpr std::int32_t kXBeforeY = 1, kXBeforeZ = 2, kYBeforeZ = 4, kValid = 8, kSimple = 16;

// One row of pixels: the segments' end points a (near) and b (far) in block units relative to
// the corner of the camera centre's block, their blocks, and codes.
struct RowSegments {
  std::vector<float> a[3], b[3];
  std::vector<std::int32_t> start[3], end[3], code;
  std::vector<std::uint8_t> visit;  // 1: the pixel's blocks are to be visited (+ 8 bytes slack)

  void Resize(int width) {
    for (int k = 0; k < 3; ++k) {
      a[k].resize(width);
      b[k].resize(width);
      start[k].resize(width);
      end[k].resize(width);
    }
    code.resize(width);
    visit.resize(width + 8);
  }
  std::size_t Bytes() const { return a[0].capacity() * 4 * 13 + visit.capacity(); }
};

// The frame in the row loops' terms (block units, relative to the centre's block `base`).
struct FrameRays {
  float frac[3];  // the camera centre
  float step[3];  // the ray's change from one pixel to the next (unit camera z)
  float truncation, depth_min, depth_max;
  float limit;  // |coordinate| bound keeping every block within 2^28 of the origin
};

// The segments of row `row` of `depth`: end points and validity (code kValid or 0). Returns
// whether a valid end point is beyond `limit`. Branch-free, so that it vectorises.
inline bool RowEndPoints(const FrameRays& r, const float ray0[3], const float* __restrict depth,
                         int width, float* __restrict ax, float* __restrict ay,
                         float* __restrict az, float* __restrict bx, float* __restrict by,
                         float* __restrict bz, std::int32_t* __restrict code) {
  int far = 0;
  for (int i = 0; i < width; ++i) {
    const float d = depth[i];
    const bool valid = (d > r.depth_min) & (d <= r.depth_max);  // sanitised: -inf otherwise
    const float near_depth = d - r.truncation;
    const float near = valid & (near_depth > 0.0f) ? near_depth : 0.0f;
    const float distant = valid ? d + r.truncation : 0.0f;
    const float fi = float(i);
    const float rx = ray0[0] + fi * r.step[0];
    const float ry = ray0[1] + fi * r.step[1];
    const float rz = ray0[2] + fi * r.step[2];
    ax[i] = r.frac[0] + near * rx;
    ay[i] = r.frac[1] + near * ry;
    az[i] = r.frac[2] + near * rz;
    bx[i] = r.frac[0] + distant * rx;
    by[i] = r.frac[1] + distant * ry;
    bz[i] = r.frac[2] + distant * rz;
    code[i] = valid ? kValid : 0;
    // Written so that NaN counts as far too.
    const bool near_ok =
        (std::abs(ax[i]) < r.limit) & (std::abs(ay[i]) < r.limit) & (std::abs(az[i]) < r.limit);
    const bool far_ok =
        (std::abs(bx[i]) < r.limit) & (std::abs(by[i]) < r.limit) & (std::abs(bz[i]) < r.limit);
    far |= int(!(near_ok & far_ok) & valid);
  }
  return far != 0;
}

// floor(x) as an int, |x| < 2^30, without a libm call (the baseline x86-64 has no rounding
// instruction).
inline std::int32_t FloorToInt(float x) {
  const auto i = std::int32_t(x);
  return i - std::int32_t(x < float(i));
}

// The blocks of the segments' end points, and their codes. Branch-free.
inline void RowCodes(const float* __restrict ax, const float* __restrict ay,
                     const float* __restrict az, const float* __restrict bx,
                     const float* __restrict by, const float* __restrict bz, int width,
                     std::int32_t* __restrict sx, std::int32_t* __restrict sy,
                     std::int32_t* __restrict sz, std::int32_t* __restrict ex,
                     std::int32_t* __restrict ey, std::int32_t* __restrict ez,
                     std::int32_t* __restrict code) {
  for (int i = 0; i < width; ++i) {
    const std::int32_t s[3] = {FloorToInt(ax[i]), FloorToInt(ay[i]), FloorToInt(az[i])};
    const std::int32_t e[3] = {FloorToInt(bx[i]), FloorToInt(by[i]), FloorToInt(bz[i])};
    const float a[3] = {ax[i], ay[i], az[i]}, b[3] = {bx[i], by[i], bz[i]};
    std::int32_t delta[3];
    float to_face[3], extent[3];
    for (int k = 0; k < 3; ++k) {
      delta[k] = e[k] - s[k];
      // Distance from a to the face the segment leaves its first block by, along axis k.
      to_face[k] = delta[k] > 0 ? float(s[k] + 1) - a[k] : a[k] - float(s[k]);
      extent[k] = std::abs(b[k] - a[k]);
    }
    // Axis k's face comes no later than axis l's: to_face[k] / extent[k] <= to_face[l] /
    // extent[l], without dividing.
    auto before = [&](int k, int l) {
      return std::int32_t((to_face[k] * extent[l] <= to_face[l] * extent[k]) & (delta[k] != 0) &
                          (delta[l] != 0));
    };
    const bool simple =
        (std::abs(delta[0]) <= 1) & (std::abs(delta[1]) <= 1) & (std::abs(delta[2]) <= 1);
    code[i] |= (simple ? kSimple : 0) | before(0, 1) * kXBeforeY | before(0, 2) * kXBeforeZ |
               before(1, 2) * kYBeforeZ;
    sx[i] = s[0];
    sy[i] = s[1];
    sz[i] = s[2];
    ex[i] = e[0];
    ey[i] = e[1];
    ez[i] = e[2];
  }
}

// Which pixels visit their blocks: those with a segment, unless it is simple and crosses the
// same blocks as the left neighbour's (same end blocks and crossing order). Branch-free.
inline void RowVisits(const std::int32_t* __restrict sx, const std::int32_t* __restrict sy,
                      const std::int32_t* __restrict sz, const std::int32_t* __restrict ex,
                      const std::int32_t* __restrict ey, const std::int32_t* __restrict ez,
                      const std::int32_t* __restrict code, int width,
                      std::uint8_t* __restrict visit) {
  if (width > 0) visit[0] = std::uint8_t((code[0] & kValid) != 0);
  for (int i = 1; i < width; ++i) {
    const bool same = (code[i] == code[i - 1]) & (sx[i] == sx[i - 1]) & (sy[i] == sy[i - 1]) &
                      (sz[i] == sz[i - 1]) & (ex[i] == ex[i - 1]) & (ey[i] == ey[i - 1]) &
                      (ez[i] == ez[i - 1]);
    visit[i] = std::uint8_t(((code[i] & kValid) != 0) & !(same & ((code[i] & kSimple) != 0)));
  }
  for (int i = width; i < width + 8; ++i) visit[i] = 0;
}

// The row loops compiled for AVX2 and for the baseline, chosen at run time (the same float
// operations either way: no FMA is enabled).
__attribute__((target("avx2"), flatten)) bool RowEndPointsAvx2(const FrameRays& r,
                                                               const float ray0[3],
                                                               const float* depth, int width,
                                                               RowSegments* row) {
  return RowEndPoints(r, ray0, depth, width, row->a[0].data(), row->a[1].data(), row->a[2].data(),
                      row->b[0].data(), row->b[1].data(), row->b[2].data(), row->code.data());
}
__attribute__((flatten)) bool RowEndPointsBaseline(const FrameRays& r, const float ray0[3],
                                                   const float* depth, int width,
                                                   RowSegments* row) {
  return RowEndPoints(r, ray0, depth, width, row->a[0].data(), row->a[1].data(), row->a[2].data(),
                      row->b[0].data(), row->b[1].data(), row->b[2].data(), row->code.data());
}
__attribute__((target("avx2"), flatten)) void RowCodesAvx2(int width, RowSegments* row) {
  RowCodes(row->a[0].data(), row->a[1].data(), row->a[2].data(), row->b[0].data(), row->b[1].data(),
           row->b[2].data(), width, row->start[0].data(), row->start[1].data(),
           row->start[2].data(), row->end[0].data(), row->end[1].data(), row->end[2].data(),
           row->code.data());
  RowVisits(row->start[0].data(), row->start[1].data(), row->start[2].data(), row->end[0].data(),
            row->end[1].data(), row->end[2].data(), row->code.data(), width, row->visit.data());
}
__attribute__((flatten)) void RowCodesBaseline(int width, RowSegments* row) {
  RowCodes(row->a[0].data(), row->a[1].data(), row->a[2].data(), row->b[0].data(), row->b[1].data(),
           row->b[2].data(), width, row->start[0].data(), row->start[1].data(),
           row->start[2].data(), row->end[0].data(), row->end[1].data(), row->end[2].data(),
           row->code.data());
  RowVisits(row->start[0].data(), row->start[1].data(), row->start[2].data(), row->end[0].data(),
            row->end[1].data(), row->end[2].data(), row->code.data(), width, row->visit.data());
}

bool UseAvx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}

// Clips the segment a + t (b - a), t in [0, 1], to the box [lo, hi] (slab test); false when it
// misses the box.
bool ClipToBox(float a[3], float b[3], const float lo[3], const float hi[3]) {
  float t0 = 0.0f, t1 = 1.0f;
  for (int k = 0; k < 3; ++k) {
    const float d = b[k] - a[k];
    if (d == 0.0f) {
      if (a[k] < lo[k] || a[k] > hi[k]) return false;
      continue;
    }
    float t_lo = (lo[k] - a[k]) / d;
    float t_hi = (hi[k] - a[k]) / d;
    if (t_lo > t_hi) std::swap(t_lo, t_hi);
    t0 = std::max(t0, t_lo);
    t1 = std::min(t1, t_hi);
    if (t0 > t1) return false;
  }
  float clipped_a[3], clipped_b[3];
  for (int k = 0; k < 3; ++k) {
    clipped_a[k] = a[k] + t0 * (b[k] - a[k]);
    clipped_b[k] = a[k] + t1 * (b[k] - a[k]);
  }
  std::copy(clipped_a, clipped_a + 3, a);
  std::copy(clipped_b, clipped_b + 3, b);
  return true;
}

// Calls visit(cell) for every block a segment crosses, in order (Amanatides & Woo, "A Fast Voxel
// Traversal Algorithm for Ray Tracing", 1987), for segments crossing several faces on one axis.
template <typename Visit>
void TraverseBlocks(const float a[3], const float b[3], const std::int32_t start[3],
                    const std::int32_t end[3], Visit&& visit) {
  std::int32_t cell[3] = {start[0], start[1], start[2]};
  int step[3];
  double t_max[3], t_delta[3];
  int steps = 0;
  for (int k = 0; k < 3; ++k) {
    steps += std::abs(end[k] - start[k]);
    const double d = double(b[k]) - double(a[k]);
    if (d == 0.0) {
      step[k] = 0;
      t_max[k] = std::numeric_limits<double>::infinity();
      t_delta[k] = 0.0;
      continue;
    }
    const double inverse = 1.0 / d;
    step[k] = d > 0.0 ? 1 : -1;
    t_max[k] = ((d > 0.0 ? cell[k] + 1.0 : double(cell[k])) - double(a[k])) * inverse;
    t_delta[k] = std::abs(inverse);
  }
  visit(cell);
  for (int n = 0; n < steps; ++n) {
    const int k = t_max[0] <= t_max[1] && t_max[0] <= t_max[2] ? 0 : (t_max[1] <= t_max[2] ? 1 : 2);
    cell[k] += step[k];
    t_max[k] += t_delta[k];
    visit(cell);
  }
}

// The blocks of a simple segment: its first block, then one step per axis it crosses, in the
// order of the face crossings.
template <typename Visit>
void SimpleBlocks(const std::int32_t start[3], const std::int32_t end[3], std::int32_t code,
                  Visit&& visit) {
  int axes[3], n = 0;
  for (int k = 0; k < 3; ++k) {
    if (end[k] != start[k]) axes[n++] = k;
  }
  // Whether axis k's face is crossed before axis l's (ties: the lower axis first).
  auto first = [code](int k, int l) {
    const int lo = std::min(k, l), hi = std::max(k, l);
    const std::int32_t bit = lo == 0 ? (hi == 1 ? kXBeforeY : kXBeforeZ) : kYBeforeZ;
    return ((code & bit) != 0) == (k == lo);
  };
  // Insertion sort of at most three axes by crossing order.
  for (int m = 1; m < n; ++m) {
    for (int p = m; p > 0 && first(axes[p], axes[p - 1]); --p) std::swap(axes[p - 1], axes[p]);
  }
  std::int32_t cell[3] = {start[0], start[1], start[2]};
  visit(cell);
  for (int m = 0; m < n; ++m) {
    cell[axes[m]] = end[axes[m]];
    visit(cell);
  }
}

// What one thread collects, kept between frames.
struct ThreadScratch {
  // The keys this thread looked up this frame: a direct-mapped cache, entries valid when their
  // stamp is the frame's.
  struct Entry {
    BlockKey key;
    std::uint32_t stamp = 0;
  };
  static constexpr std::uint32_t kCacheSize = 4096;
  std::vector<Entry> cache = std::vector<Entry>(kCacheSize);
  RowSegments row;
  std::vector<BlockKey> fresh;        // keys not in the grid (no repeats within this thread)
  std::vector<std::int32_t> visible;  // existing blocks this thread claimed
};

}  // namespace

struct TsdfBlockCollector::Impl {
  oneapi::tbb::enumerable_thread_specific<ThreadScratch> scratch;
  std::uint32_t stamp = 0;  // Collect calls so far
};

TsdfBlockCollector::TsdfBlockCollector() : impl_(std::make_unique<Impl>()) {}
TsdfBlockCollector::~TsdfBlockCollector() = default;
TsdfBlockCollector::TsdfBlockCollector(TsdfBlockCollector&&) noexcept = default;
TsdfBlockCollector& TsdfBlockCollector::operator=(TsdfBlockCollector&&) noexcept = default;

std::size_t TsdfBlockCollector::MemoryBytes() const {
  std::size_t bytes = 0;
  for (const ThreadScratch& local : impl_->scratch) {
    bytes += local.cache.capacity() * sizeof(ThreadScratch::Entry) + local.row.Bytes() +
             local.fresh.capacity() * sizeof(BlockKey) +
             local.visible.capacity() * sizeof(std::int32_t);
  }
  return bytes;
}

void TsdfBlockCollector::Collect(const kernels::TsdfFrame& frame, double block_size,
                                 const std::optional<Bounds3>& crop,
                                 const kernels::BlockHashView& hash, std::uint32_t* block_frame,
                                 std::uint32_t frame_id, std::vector<std::int32_t>* visible,
                                 std::vector<BlockKey>* fresh) {
  if (++impl_->stamp == 0) {  // wrapped around: forget every cache entry
    for (ThreadScratch& local : impl_->scratch) {
      for (ThreadScratch::Entry& entry : local.cache) entry.stamp = 0;
    }
    impl_->stamp = 1;
  }
  const std::uint32_t stamp = impl_->stamp;
  // Lists left by a frame that threw midway.
  for (ThreadScratch& local : impl_->scratch) {
    local.fresh.clear();
    local.visible.clear();
  }
  const Rigid3 world_from_cam =
      Rigid3::FromMatrix(
          Eigen::Map<const Eigen::Matrix<float, 3, 4, Eigen::RowMajor>>(frame.cam_from_world)
              .cast<double>())
          .Inverse();
  const Eigen::Matrix3d rotation = world_from_cam.rotation.toRotationMatrix();
  const double inverse_block_size = 1.0 / block_size;
  const Eigen::Vector3d center = world_from_cam.translation * inverse_block_size;
  const double max_coord = double(kernels::kMaxBlockCoord);
  FACET_CHECK(center.cwiseAbs().maxCoeff() < max_coord - 1.0,
              "TSDF fusion: the camera lies more than 2^28 blocks from the origin ({:.3g} m): is "
              "the voxel size much too small, or the pose wrong?",
              world_from_cam.translation.cwiseAbs().maxCoeff());
  const Eigen::Vector3d base = center.array().floor();
  const std::int32_t base_key[3] = {std::int32_t(base.x()), std::int32_t(base.y()),
                                    std::int32_t(base.z())};
  FrameRays rays;
  const Eigen::Vector3d step = rotation.col(0) / double(frame.fx) * inverse_block_size;
  for (int k = 0; k < 3; ++k) {
    rays.frac[k] = float(center[k] - base[k]);
    rays.step[k] = float(step[k]);
  }
  rays.truncation = frame.truncation;
  rays.depth_min = frame.depth_min;
  rays.depth_max = frame.depth_max;
  rays.limit = float(max_coord - base.cwiseAbs().maxCoeff() - 2.0);
  float crop_lo[3] = {}, crop_hi[3] = {};
  if (crop) {
    for (int k = 0; k < 3; ++k) {
      crop_lo[k] = float(crop->min[k] * inverse_block_size - base[k]);
      crop_hi[k] = float(crop->max[k] * inverse_block_size - base[k]);
    }
  }
  const bool avx2 = UseAvx2();
  const int width = frame.width;

  oneapi::tbb::parallel_for(
      oneapi::tbb::blocked_range<int>(0, frame.height, 2),
      [&](const oneapi::tbb::blocked_range<int>& rows) {
        ThreadScratch& local = impl_->scratch.local();
        ThreadScratch::Entry* cache = local.cache.data();
        RowSegments& row = local.row;
        row.Resize(width);
        auto visit = [&](const std::int32_t relative[3]) {
          const BlockKey key{base_key[0] + relative[0], base_key[1] + relative[1],
                             base_key[2] + relative[2]};
          ThreadScratch::Entry& entry =
              cache[kernels::HashBlockKey(key) & (ThreadScratch::kCacheSize - 1)];
          if (entry.stamp == stamp && entry.key == key) return;
          entry.key = key;
          entry.stamp = stamp;
          const std::int32_t block = hash.Find(key);
          if (block < 0) {
            local.fresh.push_back(key);
            return;
          }
          // Other threads may list it too: the stamp's exchange decides.
          std::atomic_ref<std::uint32_t> block_stamp(block_frame[block]);
          if (block_stamp.load(std::memory_order_relaxed) != frame_id &&
              block_stamp.exchange(frame_id, std::memory_order_relaxed) != frame_id) {
            local.visible.push_back(block);
          }
        };
        for (int j = rows.begin(); j != rows.end(); ++j) {
          const Eigen::Vector3d ray0 =
              rotation *
              Eigen::Vector3d((0.5 - frame.cx) / frame.fx, (j + 0.5 - frame.cy) / frame.fy, 1.0) *
              inverse_block_size;
          const float ray0_f[3] = {float(ray0.x()), float(ray0.y()), float(ray0.z())};
          const float* depth = frame.depth + std::int64_t(j) * frame.depth_stride;
          if (crop) {
            // Clip before the range check: a far sample outside the box is simply dropped.
            RowEndPointsBaseline(rays, ray0_f, depth, width, &row);
            for (int i = 0; i < width; ++i) {
              if (row.code[i] == 0) continue;
              float a[3] = {row.a[0][i], row.a[1][i], row.a[2][i]};
              float b[3] = {row.b[0][i], row.b[1][i], row.b[2][i]};
              if (!ClipToBox(a, b, crop_lo, crop_hi)) {
                row.code[i] = 0;
                // In range for RowCodes' conversions, which see every pixel.
                for (int k = 0; k < 3; ++k) row.a[k][i] = row.b[k][i] = 0.0f;
                continue;
              }
              bool far = false;
              for (int k = 0; k < 3; ++k) {
                row.a[k][i] = a[k];
                row.b[k][i] = b[k];
                far |= !(std::abs(a[k]) < rays.limit && std::abs(b[k]) < rays.limit);
              }
              FACET_CHECK(!far,
                          "TSDF fusion: a depth sample lies more than 2^28 blocks from the "
                          "origin: is the voxel size much too small, or the depth or pose wrong?");
            }
          } else {
            const bool far = avx2 ? RowEndPointsAvx2(rays, ray0_f, depth, width, &row)
                                  : RowEndPointsBaseline(rays, ray0_f, depth, width, &row);
            FACET_CHECK(!far,
                        "TSDF fusion: a depth sample of row {} lies more than 2^28 blocks from "
                        "the origin: is the voxel size much too small, or the depth or pose "
                        "wrong?",
                        j);
          }
          if (avx2) {
            RowCodesAvx2(width, &row);
          } else {
            RowCodesBaseline(width, &row);
          }
          // The pixels to visit, found eight flags at a time.
          const std::uint8_t* flags = row.visit.data();
          for (int i0 = 0; i0 < width; i0 += 8) {
            std::uint64_t word;
            std::memcpy(&word, flags + i0, sizeof(word));
            while (word != 0) {
              const int i = i0 + std::countr_zero(word) / 8;
              word &= word - 1;  // flags are 0 or 1: one bit per set byte
              const std::int32_t start[3] = {row.start[0][i], row.start[1][i], row.start[2][i]};
              const std::int32_t end[3] = {row.end[0][i], row.end[1][i], row.end[2][i]};
              const std::int32_t code = row.code[i];
              if ((code & kSimple) != 0) {
                SimpleBlocks(start, end, code, visit);
              } else {
                const float a[3] = {row.a[0][i], row.a[1][i], row.a[2][i]};
                const float b[3] = {row.b[0][i], row.b[1][i], row.b[2][i]};
                TraverseBlocks(a, b, start, end, visit);
              }
            }
          }
        }
      });

  fresh->clear();
  for (ThreadScratch& local : impl_->scratch) {
    fresh->insert(fresh->end(), local.fresh.begin(), local.fresh.end());
    visible->insert(visible->end(), local.visible.begin(), local.visible.end());
    local.fresh.clear();
    local.visible.clear();
  }
  std::sort(fresh->begin(), fresh->end(), [](const BlockKey& p, const BlockKey& q) {
    if (p.x != q.x) return p.x < q.x;
    if (p.y != q.y) return p.y < q.y;
    return p.z < q.z;
  });
  fresh->erase(std::unique(fresh->begin(), fresh->end()), fresh->end());
}

}  // namespace facet::geometry::detail
