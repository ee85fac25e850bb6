// The one place where subcommands are registered. A subcommand is added here by the issue that
// implements it, never before it works (see README.md for the list and examples).
#include "apps/command.h"

namespace facet::apps {

Subcommand RegisterSynth(CLI::App& app);
Subcommand RegisterConvert(CLI::App& app);
Subcommand RegisterSfm(CLI::App& app);
Subcommand RegisterUndistort(CLI::App& app);
Subcommand RegisterEval(CLI::App& app);
Subcommand RegisterSplat(CLI::App& app);
Subcommand RegisterMesh(CLI::App& app);
Subcommand RegisterIcp(CLI::App& app);
Subcommand RegisterSlam(CLI::App& app);
Subcommand RegisterNerf(CLI::App& app);
Subcommand RegisterReconstruct(CLI::App& app);
Subcommand RegisterView(CLI::App& app);

std::vector<Subcommand> RegisterSubcommands(CLI::App& app) {
  return {
      RegisterReconstruct(app),
      RegisterSynth(app),
      RegisterConvert(app),
      RegisterSfm(app),
      RegisterUndistort(app),
      RegisterSplat(app),
      RegisterMesh(app),
      RegisterIcp(app),
      RegisterSlam(app),
      RegisterNerf(app),
      RegisterEval(app),
      RegisterView(app),
  };
}

}  // namespace facet::apps
