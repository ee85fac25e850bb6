#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

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
    std::shared_ptr<spdlog::sinks::basic_file_sink_mt> file_sink;
    try {
      file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file.string());
    } catch (const spdlog::spdlog_ex& e) {
      FACET_THROW("cannot open log file '{}': {} (check the folder exists and is writable)",
                  options.file.string(), e.what());
    }
    file_sink->set_level(std::min(spdlog::level::debug, stderr_level));
    file_sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [thread %t] %v");
    sinks.push_back(file_sink);
    logger_level = std::min(logger_level, file_sink->level());
  }

  auto logger = std::make_shared<spdlog::logger>("facet", sinks.begin(), sinks.end());
  logger->set_level(logger_level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace facet
