#include "sfm/detail/mapping_checkpoint_io.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/colmap_model.h"
#include "sfm/detail/fnv_hash.h"

namespace facet::sfm::detail {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader = "facet-mapping-checkpoint 1";

std::string KeyHash(const std::string& key) { return fmt::format("{:016x}", Fnv1a64(key)); }

}  // namespace

void WriteMappingCheckpoint(const fs::path& folder, const std::string& key,
                            const std::vector<datasets::Scene>& finished,
                            const datasets::Scene* partial, datasets::ImageId init1,
                            datasets::ImageId init2) {
  const fs::path staging = folder.string() + ".tmp";
  fs::remove_all(staging);
  fs::create_directories(staging);
  for (std::size_t k = 0; k < finished.size(); ++k) {
    const fs::path model = staging / fmt::format("finished{}", k);
    fs::create_directories(model);
    datasets::WriteColmapModelBinary(model, finished[k]);
  }
  if (partial) {
    fs::create_directories(staging / "partial");
    datasets::WriteColmapModelBinary(staging / "partial", *partial);
  }
  // The state file last: a staging folder without it is never taken for a checkpoint.
  WriteFileAtomically(staging / "state.txt",
                      fmt::format("{}\n{}\n{} {} {} {}\n", kHeader, KeyHash(key), finished.size(),
                                  partial ? 1 : 0, init1.value, init2.value));
  fs::remove_all(folder);
  fs::rename(staging, folder);
}

std::optional<MapperCheckpoint> ReadMappingCheckpoint(const fs::path& folder,
                                                      const std::string& key) {
  const fs::path state_path = folder / "state.txt";
  if (!fs::exists(state_path)) return std::nullopt;
  try {
    const std::vector<std::uint8_t> bytes = ReadFile(state_path, 4096);
    std::istringstream in(std::string(bytes.begin(), bytes.end()));
    std::string header, hash;
    std::getline(in, header);
    std::getline(in, hash);
    std::size_t num_finished = 0;
    int has_partial = 0;
    std::uint32_t init1 = 0, init2 = 0;
    in >> num_finished >> has_partial >> init1 >> init2;
    FACET_CHECK(in && header == kHeader && num_finished < 10000,
                "{}: not a facet mapping checkpoint", state_path.string());
    if (hash != KeyHash(key)) return std::nullopt;  // other photos or options
    MapperCheckpoint checkpoint;
    for (std::size_t k = 0; k < num_finished; ++k) {
      checkpoint.finished.push_back(
          datasets::ReadColmapModelBinary(folder / fmt::format("finished{}", k)));
    }
    if (has_partial) {
      checkpoint.partial = datasets::ReadColmapModelBinary(folder / "partial");
      checkpoint.init1 = datasets::ImageId(init1);
      checkpoint.init2 = datasets::ImageId(init2);
    }
    return checkpoint;
  } catch (const Error& e) {
    spdlog::warn("sfm: ignoring the mapping checkpoint in {}: {}", folder.string(), e.what());
    return std::nullopt;
  }
}

}  // namespace facet::sfm::detail
