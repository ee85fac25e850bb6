// The cache of verified image pairs (two-view geometries) in a SfM workspace's database/: a
// binary file keyed by everything that determines its content (image files, options), so a rerun
// with the same inputs skips matching and verification, and any change recomputes them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sfm/correspondence_graph.h"

namespace facet::sfm::detail {

// Writes `pairs` (image indices into the folder's entries) under `key`, atomically.
void WriteVerifiedPairs(const std::filesystem::path& path, const std::string& key,
                        const std::vector<ImagePairGeometry>& pairs, std::size_t num_pairs_matched);

struct CachedPairs {
  std::vector<ImagePairGeometry> pairs{};
  std::size_t num_pairs_matched = 0;
};

// The cached pairs when `path` exists and was written under `key`; std::nullopt when it is absent
// or stale. Throws facet::Error when the file is corrupt (its name, and that deleting it is safe).
std::optional<CachedPairs> ReadVerifiedPairs(const std::filesystem::path& path,
                                             const std::string& key, std::size_t num_images);

}  // namespace facet::sfm::detail
