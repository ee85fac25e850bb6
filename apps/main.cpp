// The `facet` program: parses the command line, sets up logging, threads and progress output,
// and runs one subcommand. Exit status: 0 success, 1 runtime error (one line on stderr), 2 usage,
// 130 stopped by Ctrl-C after saving a checkpoint.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string>

#include "apps/command.h"
#include "apps/usage_error.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/version.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;  // as a shell reports a process ended by SIGINT

std::string VersionText() {
  return fmt::format("facet {} (git {})\n{}", facet::Version(), facet::GitRevision(),
                     facet::DescribeCuda());
}

void AddGlobalOptions(CLI::App& app, facet::apps::GlobalOptions& options) {
  app.add_option("--device", options.device,
                 "Compute device: auto (CUDA when present), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Worker threads for CPU stages (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("-q,--quiet", options.quiet, "No progress bars; print only warnings and errors");
  app.add_option("--log-file", options.log_file, "Also write a detailed (debug) log to this file");
  app.add_option("--log-level", options.log_level, "Console log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
}

void ApplyGlobalOptions(facet::apps::GlobalOptions& options) {
  facet::SetUpLogging(
      {.level = options.log_level, .file = options.log_file, .quiet = options.quiet});
  facet::SetProgressQuiet(options.quiet);
  const int threads = facet::SetMaxThreads(options.threads);
  options.backend = facet::ResolveBackend(options.device);
  spdlog::debug("facet {} (git {}); {}; {} CPU threads; device {}", facet::Version(),
                facet::GitRevision(), facet::DescribeCuda(), threads,
                facet::ToString(options.backend));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"facet: photos to 3D. Camera poses, Gaussian splats, NeRFs and watertight meshes.",
               "facet"};
  app.footer("Run `facet <subcommand> --help` for a subcommand's options. See README.md.");
  app.set_version_flag("--version", VersionText, "Print version, git revision and CUDA status");
  app.fallthrough();  // global options are accepted after the subcommand name too

  facet::apps::GlobalOptions options;
  AddGlobalOptions(app, options);
  const std::vector<facet::apps::Subcommand> subcommands = facet::apps::RegisterSubcommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  try {
    ApplyGlobalOptions(options);
    facet::InstallInterruptHandler();  // Ctrl-C: training checkpoints and stops (--resume)
    for (const auto& subcommand : subcommands) {
      if (subcommand.app->parsed()) {
        subcommand.run(options);
        return kExitOk;
      }
    }
    std::fputs(app.help().c_str(), stderr);
    std::fputs(subcommands.empty() ? "facet: no subcommands are available in this build yet\n"
                                   : "facet: a subcommand is required\n",
               stderr);
    return kExitUsage;
  } catch (const facet::apps::UsageError& e) {  // found only once the inputs are read
    std::fprintf(stderr, "facet: usage error: %s\n", e.what());
    return kExitUsage;
  } catch (const facet::Interrupted& e) {
    std::fprintf(stderr, "facet: %s\n", e.what());
    return kExitInterrupted;
  } catch (const facet::Error& e) {
    spdlog::debug("error raised at {}:{}", e.where().file, e.where().line);
    std::fprintf(stderr, "facet: error: %s\n", e.what());
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facet: internal error: %s (please report this with the command line)\n",
                 e.what());
    return kExitRuntimeError;
  }
}
