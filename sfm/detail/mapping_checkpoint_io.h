// The incremental mapper's checkpoint in a SfM workspace (database/mapping/): the finished models
// and the one being grown as COLMAP binary models, plus a state file with the key of the inputs
// and options it belongs to. The folder is replaced as a whole (written beside it, then renamed),
// so a crash leaves either the previous checkpoint or the new one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sfm/incremental_mapper.h"

namespace facet::sfm::detail {

void WriteMappingCheckpoint(const std::filesystem::path& folder, const std::string& key,
                            const std::vector<datasets::Scene>& finished,
                            const datasets::Scene* partial, datasets::ImageId init1,
                            datasets::ImageId init2);

// The checkpoint in `folder` when it exists and was written under `key`; std::nullopt when it is
// absent, stale or unreadable (a damaged checkpoint only costs the mapping time: it is logged and
// ignored).
std::optional<MapperCheckpoint> ReadMappingCheckpoint(const std::filesystem::path& folder,
                                                      const std::string& key);

}  // namespace facet::sfm::detail
