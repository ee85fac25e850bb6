#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>
#include <vector>

#include "core/error.h"

namespace facet {
namespace {

constexpr std::array<std::pair<const char*, spdlog::level::level_enum>, 7> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"critical", spdlog::level::critical},
    {"off", spdlog::level::off},
}};

}  // namespace

spdlog::level::level_enum ParseLogLevel(const std::string& name) {
  for (const auto& [level_name, level] : kLevels) {
    if (name == level_name) return level;
  }
  FACET_THROW("unknown log level '{}': use trace, debug, info, warn, error, critical or off", name);
}

void LogOptions::Check() const { ParseLogLevel(level); }

namespace {

std::shared_ptr<spdlog::sinks::basic_file_sink_mt> OpenLogFile(const std::filesystem::path& file,
                                                               spdlog::level::level_enum level) {
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string());
  } catch (const spdlog::spdlog_ex& e) {
    FACET_THROW("cannot open log file '{}': {} (check the folder exists and is writable)",
                file.string(), e.what());
  }
  sink->set_level(level);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [thread %t] %v");
  return sink;
}

}  // namespace

void AddLogFile(const std::filesystem::path& file) {
  auto sink = OpenLogFile(file, spdlog::level::debug);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  logger->set_level(std::min(logger->level(), spdlog::level::debug));
}

void SetUpLogging(const LogOptions& options) {
  options.Check();
  auto stderr_level = ParseLogLevel(options.level);
  if (options.quiet && stderr_level < spdlog::level::warn) stderr_level = spdlog::level::warn;

  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(stderr_level);
  console->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  sinks.push_back(console);

  auto logger_level = stderr_level;
  if (!options.file.empty()) {
    auto file_sink = OpenLogFile(options.file, std::min(spdlog::level::debug, stderr_level));
    sinks.push_back(file_sink);
    logger_level = std::min(logger_level, file_sink->level());
  }

  auto logger = std::make_shared<spdlog::logger>("facet", sinks.begin(), sinks.end());
  logger->set_level(logger_level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace facet
