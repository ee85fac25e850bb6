#include "pipeline/stage_record.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>

#include "core/error.h"
#include "core/file_io.h"
#include "core/parallel_for.h"

namespace facet::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::pair<StageStatus, std::string_view>, 5> kStatusNames = {{
    {StageStatus::kRunning, "running"},
    {StageStatus::kDone, "done"},
    {StageStatus::kFailed, "failed"},
    {StageStatus::kInterrupted, "interrupted"},
    {StageStatus::kSkipped, "skipped"},
}};

// A 64-bit streaming hash for change detection (not cryptographic): four independent
// multiply-rotate lanes over 8-byte words, so that large files hash at memory speed, then a
// murmur-style finaliser.
class Hasher {
 public:
  void Update(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    total_ += size;
    std::size_t i = 0;
    while (i < size) {
      if (pending_size_ == 0 && size - i >= sizeof(pending_)) {
        std::memcpy(pending_.data(), bytes + i, sizeof(pending_));
        i += sizeof(pending_);
      } else {
        const std::size_t n = std::min(sizeof(pending_) - pending_size_, size - i);
        std::memcpy(reinterpret_cast<std::uint8_t*>(pending_.data()) + pending_size_, bytes + i, n);
        pending_size_ += n;
        i += n;
        if (pending_size_ < sizeof(pending_)) break;
        pending_size_ = 0;
      }
      for (int k = 0; k < 4; ++k) lanes_[k] = Round(lanes_[k], pending_[k]);
    }
  }

  std::uint64_t Digest() const {
    std::uint64_t h = total_ * kPrime1;
    for (int k = 0; k < 4; ++k) h = Round(h ^ Round(0, lanes_[k]), std::uint64_t(k + 1));
    std::array<std::uint64_t, 4> tail{};
    std::memcpy(tail.data(), pending_.data(), pending_size_);
    for (std::size_t k = 0; k < 4; ++k) h = Round(h, tail[k]);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  }

 private:
  static constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
  static constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
  static std::uint64_t Round(std::uint64_t lane, std::uint64_t word) {
    lane += word * kPrime2;
    lane = (lane << 31) | (lane >> 33);
    return lane * kPrime1;
  }

  std::array<std::uint64_t, 4> lanes_{kPrime1, kPrime2, 0, ~kPrime1};
  std::array<std::uint64_t, 4> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
};

std::string Hex(std::uint64_t value) { return fmt::format("{:016x}", value); }

std::uint64_t HashFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  FACET_CHECK(in, "cannot read '{}' to fingerprint the inputs (check its permissions)",
              path.string());
  Hasher hasher;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), std::streamsize(buffer.size()));
    hasher.Update(buffer.data(), std::size_t(in.gcount()));
  }
  FACET_CHECK(in.eof(), "cannot read '{}' to fingerprint the inputs", path.string());
  return hasher.Digest();
}

}  // namespace

std::string_view ToString(StageStatus status) {
  for (const auto& [value, name] : kStatusNames) {
    if (value == status) return name;
  }
  return "unknown";
}

StageStatus StageStatusFromString(std::string_view name) {
  for (const auto& [value, text] : kStatusNames) {
    if (text == name) return value;
  }
  FACET_THROW("unknown stage status '{}'", name);
}

StageLog StageLog::Load(const fs::path& path) {
  StageLog log;
  if (!fs::exists(path)) return log;
  try {
    const std::vector<std::uint8_t> bytes = ReadFile(path, 1 << 24);
    const nlohmann::json json = nlohmann::json::parse(bytes.begin(), bytes.end());
    for (const nlohmann::json& stage : json.at("stages")) {
      StageRecord record;
      record.name = stage.at("name").get<std::string>();
      record.fingerprint = stage.at("fingerprint").get<std::string>();
      record.status = StageStatusFromString(stage.at("status").get<std::string>());
      record.seconds = stage.value("seconds", 0.0);
      record.peak_memory_bytes = stage.value("peak_memory_bytes", std::int64_t{0});
      record.command = stage.value("command", "");
      record.message = stage.value("message", "");
      record.finished_at = stage.value("finished_at", "");
      log.Put(record);
    }
  } catch (const std::exception& e) {  // nlohmann::json errors and facet::Error
    spdlog::warn("{} is damaged ({}); its stages will run again", path.string(), e.what());
    return StageLog{};
  }
  return log;
}

const StageRecord* StageLog::Find(std::string_view name) const {
  for (const StageRecord& record : records_) {
    if (record.name == name) return &record;
  }
  return nullptr;
}

void StageLog::Put(const StageRecord& record) {
  for (StageRecord& existing : records_) {
    if (existing.name == record.name) {
      existing = record;
      return;
    }
  }
  records_.push_back(record);
}

void StageLog::Save(const fs::path& path) const {
  nlohmann::json stages = nlohmann::json::array();
  for (const StageRecord& r : records_) {
    stages.push_back({{"name", r.name},
                      {"fingerprint", r.fingerprint},
                      {"status", std::string(ToString(r.status))},
                      {"seconds", r.seconds},
                      {"peak_memory_bytes", r.peak_memory_bytes},
                      {"command", r.command},
                      {"message", r.message},
                      {"finished_at", r.finished_at}});
  }
  const nlohmann::json json = {{"format", "facet-stages"}, {"version", 1}, {"stages", stages}};
  WriteFileAtomically(path, json.dump(2) + "\n");
}

std::string Fingerprint(std::initializer_list<std::string_view> parts) {
  Hasher hasher;
  for (const std::string_view part : parts) {
    const std::uint64_t size = part.size();
    hasher.Update(&size, sizeof(size));
    hasher.Update(part.data(), part.size());
  }
  return Hex(hasher.Digest());
}

std::string HashFolder(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && it->is_regular_file()) files.push_back(it->path());
  }
  FACET_CHECK(!error, "cannot list '{}': {}", folder.string(), error.message());
  std::sort(files.begin(), files.end());
  std::vector<std::uint64_t> hashes(files.size());
  ParallelFor(std::int64_t(files.size()),
              [&](std::int64_t i) { hashes[std::size_t(i)] = HashFile(files[std::size_t(i)]); });
  Hasher hasher;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = files[i].filename().string();
    hasher.Update(name.data(), name.size() + 1);  // with the terminating zero as a separator
    hasher.Update(&hashes[i], sizeof(hashes[i]));
  }
  return Hex(hasher.Digest());
}

std::string UtcTimestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

}  // namespace facet::pipeline
