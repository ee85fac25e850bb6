// What a run remembers of each stage (OUT/stages.json), so that `--resume` reuses finished stages
// whose inputs and options did not change and continues interrupted ones from their checkpoint.
//
// A stage's fingerprint hashes everything its result depends on: its options and the
// fingerprints of the stages before it (the first stage hashes the photos' names and bytes), so a
// changed option reruns that stage and every later one, and nothing before it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace facet::pipeline {

enum class StageStatus {
  kRunning,      // started and not ended: the process was killed (resume from its checkpoint)
  kDone,         // finished; its outputs are complete
  kFailed,       // ended with an error (message says which and why)
  kInterrupted,  // stopped by Ctrl-C after writing its checkpoint
  kSkipped,      // not run in this run: reused from an earlier one (only in reports)
};

std::string_view ToString(StageStatus status);
// Throws facet::Error for an unknown name.
StageStatus StageStatusFromString(std::string_view name);

struct StageRecord {
  std::string name{};
  std::string fingerprint{};
  StageStatus status = StageStatus::kRunning;
  double seconds = 0.0;                // wall time of the last run of the stage
  std::int64_t peak_memory_bytes = 0;  // peak resident memory during it (0: unknown)
  std::string command{};               // the equivalent `facet ...` command line
  std::string message{};               // the error, for failed and interrupted stages
  std::string finished_at{};           // UTC, ISO 8601
};

// The records of one workspace, in pipeline order.
class StageLog {
 public:
  // Reads `path`; a missing file gives an empty log. A damaged file (not JSON, wrong fields) is
  // reported with a warning and treated as empty: the stages then run again, nothing is lost.
  static StageLog Load(const std::filesystem::path& path);

  const StageRecord* Find(std::string_view name) const;
  // Replaces the record of the same name, or appends it.
  void Put(const StageRecord& record);
  const std::vector<StageRecord>& records() const { return records_; }

  // Writes atomically (core/file_io.h).
  void Save(const std::filesystem::path& path) const;

 private:
  std::vector<StageRecord> records_;
};

// 16 hex digits hashing the parts in order (a part boundary is part of the hash).
std::string Fingerprint(std::initializer_list<std::string_view> parts);

// Hashes the names, sizes and bytes of the regular files directly in `folder` (sorted by name;
// hidden files and sub-folders ignored), read in parallel. Throws facet::Error when the folder
// cannot be listed or a file cannot be read.
std::string HashFolder(const std::filesystem::path& folder);

// The current time in UTC as "2026-11-29T23:59:59Z".
std::string UtcTimestamp();

}  // namespace facet::pipeline
