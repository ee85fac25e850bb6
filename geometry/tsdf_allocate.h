// The allocation step of TsdfVolume (internal): the blocks of a frame's surface band. For every
// valid depth pixel, the blocks crossed by the segment of the pixel's ray (through the pixel's
// centre) between the depths max(d - truncation, 0) and d + truncation, clipped to the crop box:
// an exact traversal of the block lattice (Amanatides & Woo 1987) up to float rounding, which
// only decides segments passing within about 1e-6 block of a block's face.
//
// Cost: the segments' end points of a row of pixels are computed eight at a time (floats in
// coordinates relative to the camera centre's block, so that their precision does not depend on
// the distance to the origin); a pixel whose segment crosses the same blocks as its left
// neighbour's (same end blocks, same order of face crossings) is skipped; the rest visit their
// blocks through a per-thread cache of the keys seen this frame, so that the hash table is probed
// about once per block and thread rather than once per pixel.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "geometry/kernels/block_hash.h"
#include "geometry/kernels/tsdf.h"
#include "geometry/point_cloud.h"

namespace facet::geometry::detail {

class TsdfBlockCollector {
 public:
  TsdfBlockCollector();
  ~TsdfBlockCollector();
  TsdfBlockCollector(TsdfBlockCollector&&) noexcept;
  TsdfBlockCollector& operator=(TsdfBlockCollector&&) noexcept;

  // The blocks (of `block_size` metres) of the frame's band; `frame` has sanitised depth
  // (kernels::SanitizeDepth). Blocks present in `hash` whose stamp block_frame[block] is not
  // `frame_id` get it and are appended to *visible (each once, in no particular order); the keys
  // absent from `hash` replace *fresh, sorted (x, then y, then z) and unique. Thread-safe only
  // with distinct collectors. Throws facet::Error when a depth sample lies 2^28 blocks or more
  // from the origin.
  void Collect(const kernels::TsdfFrame& frame, double block_size,
               const std::optional<Bounds3>& crop, const kernels::BlockHashView& hash,
               std::uint32_t* block_frame, std::uint32_t frame_id,
               std::vector<std::int32_t>* visible, std::vector<kernels::BlockKey>* fresh);

  // Bytes of scratch held between frames.
  std::size_t MemoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facet::geometry::detail
