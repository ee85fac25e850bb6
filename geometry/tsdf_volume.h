// TsdfVolume: fusion of depth maps (and colour) into a truncated signed distance field on a
// sparse VoxelBlockGrid (voxel hashing: Niessner et al., "Real-time 3D Reconstruction at Scale
// using Voxel Hashing", SIGGRAPH Asia 2013), the mesh then extracted by marching cubes. The
// inputs are RGB-D frames or depth/colour rendered from splats or a NeRF at known poses.
//
// Per frame:
//   1. allocation: for every valid depth pixel (all of them: no subsampling), the blocks crossed
//      by the pixel's ray between the depths max(d - truncation, 0) and d + truncation (an exact
//      3D DDA over the block lattice up to float rounding; in parallel over rows, eight pixels'
//      segments at a time, pixels crossing their neighbour's blocks skipped, a per-thread cache
//      of the keys looked up: tsdf_allocate.h), new blocks inserted serially;
//   2. integration: every voxel of the blocks the frame touched fuses one observation
//      (kernels/tsdf.h; in parallel over blocks, a row of 8 voxels per AVX2 vector where the
//      processor has it, tsdf_integrate_cpu.h).
// The CPU path uses oneTBB; with Options::backend == kCuda the integration runs on the device over
// a resident copy of the voxel arrays (allocation stays on the CPU), copied back when grid() or
// ExtractMesh() needs it. Both paths evaluate the same kernels, with the same float arithmetic
// (the voxels are equal to the bit). Per-frame scratch (sanitised depth, packed colour, the
// allocation's row buffers and caches) is kept between frames.
//
// Conventions: depth maps hold the camera-frame z in metres (not the distance along the ray);
// pixel (i, j) of the depth map is pixel (i, j) of `camera` (COLMAP's pixel convention,
// geometry/camera.h); colour images are 8-bit sRGB, fused as linear RGB (VoxelBlockGrid stores
// linear colour). The stored sdf is in metres, negative behind the observed surface, clamped to
// +-truncation; voxels never observed keep weight 0.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/backend.h"
#include "core/image.h"
#include "geometry/camera.h"
#include "geometry/kernels/tsdf.h"
#include "geometry/marching_cubes.h"
#include "geometry/point_cloud.h"
#include "geometry/rigid3.h"
#include "geometry/triangle_mesh.h"
#include "geometry/tsdf_raycast.h"
#include "geometry/voxel_block_grid.h"

namespace facet::geometry {

class TsdfDeviceGrid;  // cuda/tsdf_cuda.h
namespace detail {
class TsdfBlockCollector;  // tsdf_allocate.h
}
class TsdfVolume {
 public:
  struct Options {
    double voxel_size = 0.01;  // metres; > 0
    // Half-width of the band around the surface, metres; 0 means 4 voxel sizes. >= voxel_size.
    double truncation = 0.0;
    // Depths outside (depth_min, depth_max] are ignored (as missing); 0 <= depth_min < depth_max.
    // 3 m is Open3D's default depth truncation for RGB-D sensors.
    double depth_min = 0.0;
    double depth_max = 3.0;
    // Weights stop growing here, so that later frames keep a share 1 / max_weight; >= 1.
    double max_weight = 1000.0;
    // Fuse colour (the frames must then come with a colour image).
    bool with_color = false;
    // Blocks are allocated only where the surface band meets this box (world frame); blocks on
    // its border still hold voxels slightly outside it. std::nullopt: no limit.
    std::optional<Bounds3> crop{};
    // kCuda: integrate on the GPU (needs a CUDA build and a device).
    Backend backend = Backend::kCpu;

    // The truncation in metres (resolves 0).
    double Truncation() const { return truncation > 0.0 ? truncation : 4.0 * voxel_size; }
    // Throws facet::Error naming the first field out of range, or when backend is kCuda without
    // CUDA.
    void Check() const;
  };

  explicit TsdfVolume(const Options& options);
  ~TsdfVolume();
  TsdfVolume(TsdfVolume&&) noexcept;
  TsdfVolume& operator=(TsdfVolume&&) noexcept;
  TsdfVolume(const TsdfVolume&) = delete;
  TsdfVolume& operator=(const TsdfVolume&) = delete;

  // Fuses one frame seen by `camera` (PINHOLE or SIMPLE_PINHOLE: undistort other models first,
  // geometry/undistort.h) from `cam_from_world`. `depth_m`: one channel, metres, the camera's
  // size; zero, negative and non-finite values mean "no measurement". `rgb`: 3 or 4 channels of
  // sRGB, the camera's size; required when the volume has colour, ignored otherwise. Throws
  // facet::Error for an empty depth map, a size or channel mismatch, a distorted camera model, an
  // invalid camera, or a pose that is not finite.
  void Integrate(ImageView<const float> depth_m, ImageView<const std::uint8_t> rgb,
                 const Camera& camera, const Rigid3& cam_from_world);
  void Integrate(ImageView<const float> depth_m, const Camera& camera,
                 const Rigid3& cam_from_world) {
    Integrate(depth_m, {}, camera, cam_from_world);
  }
  // Raw 16-bit depth: metres = value / depth_scale (1000 for millimetres); 0 is no measurement.
  // Throws facet::Error also for depth_scale <= 0 or not finite.
  void Integrate(ImageView<const std::uint16_t> depth, double depth_scale,
                 ImageView<const std::uint8_t> rgb, const Camera& camera,
                 const Rigid3& cam_from_world);

  // The zero level set (marching cubes, geometry/marching_cubes.h), with vertex colours when the
  // volume has them and options.colors is set.
  TriangleMesh ExtractMesh(const SurfaceExtractionOptions& options = {}) const {
    return ExtractSurface(grid(), options);
  }

  // The surface seen from `camera` at `cam_from_world` (RaycastTsdf, tsdf_raycast.h, with this
  // volume's truncation). With the CUDA backend this first copies the device's voxels back.
  RaycastMaps Raycast(const Camera& camera, const Rigid3& cam_from_world,
                      const RaycastOptions& options = {}) const {
    return RaycastTsdf(grid(), options_.Truncation(), camera, cam_from_world, options);
  }

  // The fused field. With the CUDA backend this first copies the device's voxels back (the
  // reference stays valid until the next Integrate). Not thread-safe.
  const VoxelBlockGrid& grid() const;
  const Options& options() const { return options_; }
  // Frames integrated so far.
  std::int64_t frame_count() const { return frame_count_; }
  // Blocks the last frame allocated or touched.
  std::int64_t last_frame_blocks() const { return std::int64_t(last_visible_.size()); }
  // Host bytes held (voxel arrays, hash table, per-block bookkeeping); the device copy of the
  // CUDA backend takes as much again on the GPU.
  std::size_t MemoryBytes() const;

 private:
  void CheckFrame(int depth_width, int depth_height, int depth_channels,
                  ImageView<const std::uint8_t> rgb, const Camera& camera,
                  const Rigid3& cam_from_world) const;
  // The frame's camera, pose, colour and parameters (no depth yet).
  kernels::TsdfFrame MakeFrame(const Camera& camera, const Rigid3& cam_from_world,
                               ImageView<const std::uint8_t> rgb) const;
  // Sanitises the depth (sanitize_row(y, out) writes row y) and packs the colour into the scratch
  // buffers, and points the frame's depth at them.
  template <typename SanitizeRow>
  void PrepareFrame(kernels::TsdfFrame* frame, SanitizeRow&& sanitize_row);
  // Allocation then integration of a frame whose depth is sanitised (kernels::SanitizeDepth).
  void IntegrateFrame(const kernels::TsdfFrame& frame);
  // Allocates the blocks of this frame's surface band and fills last_visible_.
  void AllocateBlocks(const kernels::TsdfFrame& frame);
  void IntegrateBlocks(const kernels::TsdfFrame& frame);

  Options options_;
  mutable VoxelBlockGrid grid_;
  // Per block: the stamp of the last frame that touched it, to list each block once per frame.
  std::vector<std::uint32_t> block_frame_{};
  std::uint32_t frame_stamp_ = 0;  // the last frame's stamp (frames attempted, 0 skipped)
  std::vector<std::int32_t> last_visible_{};
  std::unique_ptr<detail::TsdfBlockCollector> collector_;  // allocation scratch, kept
  std::vector<kernels::BlockKey> fresh_keys_{};            // the frame's new blocks
  std::vector<float> depth_scratch_{};                     // the frame's sanitised depth in metres
  // With colour: the frame's colour, r | g << 8 | b << 16 per pixel (the CPU loop's layout).
  std::vector<std::uint32_t> rgb_scratch_{};
  std::int64_t frame_count_ = 0;
  std::unique_ptr<TsdfDeviceGrid> device_{};
  mutable bool host_stale_ = false;  // the device holds newer voxels than grid_
};

}  // namespace facet::geometry
