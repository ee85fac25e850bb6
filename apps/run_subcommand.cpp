#include "apps/run_subcommand.h"

#include <CLI/CLI.hpp>

#include <algorithm>

#include "apps/usage_error.h"

namespace facet::apps {

void RunSubcommand(const std::vector<std::string>& arguments, const GlobalOptions& global) {
  CLI::App app{"facet", "facet"};
  const std::vector<Subcommand> subcommands = RegisterSubcommands(app);
  std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11's order
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    throw UsageError(CommandLine(arguments) + ": " + e.what());
  }
  for (const Subcommand& subcommand : subcommands) {
    if (subcommand.app->parsed()) {
      subcommand.run(global);
      return;
    }
  }
  throw UsageError(CommandLine(arguments) + ": not a facet subcommand");
}

std::string CommandLine(const std::vector<std::string>& arguments) {
  std::string line = "facet";
  for (const std::string& argument : arguments) {
    const bool plain =
        !argument.empty() && std::all_of(argument.begin(), argument.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) ||
                 std::string_view("-_./=:,+").find(c) != std::string_view::npos;
        });
    line += ' ';
    if (plain) {
      line += argument;
      continue;
    }
    line += '\'';
    for (const char c : argument) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += '\'';
  }
  return line;
}

}  // namespace facet::apps
