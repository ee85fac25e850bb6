// How a subcommand plugs into the `facet` program: one file per subcommand defines a Register*
// function (listed in commands.cpp) that adds its CLI11 options and returns what to run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/backend.h"

namespace facet::apps {

// Flags shared by every subcommand, given before or after the subcommand's name.
struct GlobalOptions {
  std::string device = "auto";     // --device: auto, cpu or cuda (resolve with ResolveBackend)
  int threads = 0;                 // --threads: worker threads, 0 = all cores
  bool quiet = false;              // --quiet: no progress bars, only warnings and errors
  std::string log_file;            // --log-file: also write a detailed log here
  std::string log_level = "info";  // --log-level
  // --device resolved at start-up (asking for CUDA where there is none is an error then, before
  // any work): the backend subcommands pass on to the library.
  Backend backend = Backend::kCpu;
};

struct Subcommand {
  CLI::App* app = nullptr;                        // owned by the parent CLI::App
  std::function<void(const GlobalOptions&)> run;  // throws facet::Error on failure
};

// Adds every subcommand to `app` (see commands.cpp).
std::vector<Subcommand> RegisterSubcommands(CLI::App& app);

}  // namespace facet::apps
