// How a subcommand plugs into the `facet` program: one file per subcommand defines a Register*
// function (listed in commands.cpp) that adds its CLI11 options and returns what to run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace facet::apps {

// Flags shared by every subcommand, given before or after the subcommand's name.
struct GlobalOptions {
  std::string device = "auto";     // --device: auto, cpu or cuda (resolve with ResolveBackend)
  int threads = 0;                 // --threads: worker threads, 0 = all cores
  bool quiet = false;              // --quiet: no progress bars, only warnings and errors
  std::string log_file;            // --log-file: also write a detailed log here
  std::string log_level = "info";  // --log-level
};

struct Subcommand {
  CLI::App* app = nullptr;                        // owned by the parent CLI::App
  std::function<void(const GlobalOptions&)> run;  // throws facet::Error on failure
};

// Adds every subcommand to `app` (see commands.cpp).
std::vector<Subcommand> RegisterSubcommands(CLI::App& app);

}  // namespace facet::apps
