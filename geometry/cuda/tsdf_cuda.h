// The CUDA path of TsdfVolume (tsdf_volume.h): a device-resident copy of a VoxelBlockGrid's voxel
// arrays and the integration of one frame into a list of its blocks, with the per-voxel math of
// kernels/tsdf.h (the same source as the CPU path; the .cu is compiled without fused
// multiply-adds so that both round identically). Block allocation stays on the CPU: TsdfVolume
// allocates, grows this copy to the grid's block count, and passes the frame's blocks.
// A plain header (no CUDA types); only built with the CUDA fast path (FACET_WITH_CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "geometry/kernels/tsdf.h"

namespace facet::geometry {

class TsdfDeviceGrid {
 public:
  explicit TsdfDeviceGrid(bool with_color);
  ~TsdfDeviceGrid();
  TsdfDeviceGrid(const TsdfDeviceGrid&) = delete;
  TsdfDeviceGrid& operator=(const TsdfDeviceGrid&) = delete;

  // Grows the device arrays to `blocks` blocks, keeping the existing voxels; new voxels are
  // unknown (sdf, weight and colour 0), as VoxelBlockGrid's.
  void Resize(std::int64_t blocks);
  std::int64_t block_count() const;

  // Integrates one frame into the blocks `blocks[i]` (indices into the arrays, < block_count())
  // whose keys are `keys[i]`, i < count (host arrays). `frame`'s depth, colour and sRGB table are
  // HOST pointers (uploaded here; frame.depth_stride / color_stride describe them). Returns after
  // the kernel has finished. Throws facet::Error on a CUDA failure or an index out of range.
  void Integrate(const kernels::TsdfFrame& frame, const std::int32_t* blocks,
                 const kernels::BlockKey* keys, std::int64_t count);

  // Copies the first `blocks` blocks' voxels into host arrays of kBlockVoxels (sdf, weight) and
  // 3 * kBlockVoxels (color; skipped when null or without colour) floats per block.
  void Download(float* sdf, float* weight, float* color, std::int64_t blocks) const;

  // Device bytes held.
  std::size_t DeviceBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::geometry
