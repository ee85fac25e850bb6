// nerf.bin: facet's NeRF snapshot, a trained field plus (for checkpoints) the optimiser state.
//
// Layout (little-endian):
//   8 bytes   "FACETNRF"
//   u32       format version (kNerfSnapshotVersion)
//   u64       header length H
//   H bytes   UTF-8 JSON header: field options, scene box, background, occupancy options, step,
//             and "arrays": [{"name", "count"}...] in file order
//   then each array's `count` float32 values, in the header's order
// Arrays: "grid", "density", "color" (the parameters), "occupancy" (the grid's cell values); a
// checkpoint adds "<block>_m", "<block>_v" for each parameter block (Adam moments), with the
// Adam step counts and the random generator's state in the header. Readers refuse other
// versions, truncated or oversized files, arrays whose sizes do not match the options, and
// non-finite parameters, naming the file and what is wrong.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nerf/field.h"
#include "nerf/occupancy_grid.h"

namespace facet::nerf {

inline constexpr std::uint32_t kNerfSnapshotVersion = 1;

class NerfTrainer;

struct NerfSnapshot {
  NerfFieldOptions field{};
  Eigen::Vector3f aabb_min = Eigen::Vector3f::Zero(), aabb_max = Eigen::Vector3f::Ones();
  Eigen::Vector3f background = Eigen::Vector3f::Ones();  // sRGB the views are rendered over
  OccupancyGridOptions occupancy_options{};
  std::int64_t step = 0;  // training steps done
  std::vector<float> grid, density, color, occupancy;

  // Checkpoints only (empty in a final snapshot): per block (grid, density, colour) the Adam
  // moments and step count, and the trainer's random generator.
  struct OptimizerState {
    std::vector<float> m, v;
    std::int64_t step = 0;
  };
  std::vector<OptimizerState> optimizers{};  // 0 or 3
  std::string rng_state{};

  bool IsCheckpoint() const { return !optimizers.empty(); }
};

// Atomic (written to path.tmp, then renamed).
void WriteNerfSnapshot(const std::filesystem::path& path, const NerfSnapshot& snapshot);
// Throws facet::Error as described above.
NerfSnapshot ReadNerfSnapshot(const std::filesystem::path& path);

// The trainer's field (and with `checkpoint`, its optimiser state) as a snapshot.
NerfSnapshot SnapshotOf(const NerfTrainer& trainer, const Eigen::Vector3f& background,
                        bool checkpoint);
// Loads a snapshot's parameters, occupancy and (for checkpoints) optimiser state and step into a
// trainer built with the snapshot's field options and box. Throws facet::Error when they differ.
void RestoreTrainer(const NerfSnapshot& snapshot, NerfTrainer* trainer);
// A field with the snapshot's parameters (for rendering and meshing).
NerfField FieldOf(const NerfSnapshot& snapshot);

}  // namespace facet::nerf
