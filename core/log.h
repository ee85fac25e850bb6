// Logging on spdlog. Library code logs with spdlog's free functions (spdlog::info, spdlog::debug);
// the program configures where the lines go once, at start-up.
#pragma once

#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

namespace facet {

struct LogOptions {
  // Lowest level printed on stderr: trace, debug, info, warn, error, critical or off.
  std::string level = "info";
  // When set, every line at debug level and above is also appended to this file.
  std::filesystem::path file{};
  // Print only warnings and errors on stderr (the log file, if any, keeps everything).
  bool quiet = false;

  void Check() const;
};

// Replaces spdlog's default logger according to `options`. Throws facet::Error for an unknown
// level or a log file that cannot be opened.
void SetUpLogging(const LogOptions& options);

// Also appends every line at debug level and above to `file` (a run's log beside its outputs),
// keeping the sinks already set up. Throws facet::Error when the file cannot be opened.
void AddLogFile(const std::filesystem::path& file);

// Parses a level name; throws facet::Error naming the allowed values otherwise.
spdlog::level::level_enum ParseLogLevel(const std::string& name);

}  // namespace facet
