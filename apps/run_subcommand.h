// Runs another `facet` subcommand in this process, as `facet ARGS...` would (same parsing, checks
// and behaviour), with the caller's global options. `facet reconstruct` runs its stages this way,
// so that each stage is exactly the command a user could rerun by hand.
#pragma once

#include <string>
#include <vector>

#include "apps/command.h"

namespace facet::apps {

// `arguments` start with the subcommand's name. Throws UsageError for arguments the subcommand
// rejects, and whatever the subcommand throws.
void RunSubcommand(const std::vector<std::string>& arguments, const GlobalOptions& global);

// The arguments as one shell-quoted line, "facet sfm photos -o 'my out'".
std::string CommandLine(const std::vector<std::string>& arguments);

}  // namespace facet::apps
