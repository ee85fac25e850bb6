// Headless Chromium for tests of report.html: finds the browser, loads a page from a file and
// returns the DOM after the load event, and reads the attributes the report's script writes into
// <body> (pipeline/report.h).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "common/run_command.h"
#include "common/temp_dir.h"

namespace facet::testing {

// The chromium executable, or "" when it is not installed (scripts/deps.sh installs it).
inline std::string FindChromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    const CommandResult found = RunCommand(fmt::format("command -v {}", name));
    if (found.exit_code == 0 && !found.output.empty()) {
      return found.output.substr(0, found.output.find('\n'));
    }
  }
  return {};
}

// The integer attribute `name` of <body> in `dom`, or -1 when it is missing.
inline int BodyAttribute(const std::string& dom, const std::string& name) {
  std::smatch match;
  const std::regex pattern("<body[^>]*\\s" + name + "=\"(-?[0-9]+)\"");
  return std::regex_search(dom, match, pattern) ? std::stoi(match[1]) : -1;
}

// Loads the page at `page` in headless Chromium and returns the DOM after the load event.
inline std::string LoadPageInChromium(const std::string& chromium,
                                      const std::filesystem::path& page) {
  const TempDir dir;
  // --no-sandbox: tests may run as root; a fresh profile so parallel tests do not share one; the
  // virtual time budget lets the page finish loading before the DOM is dumped.
  const CommandResult result = RunCommand(
      fmt::format("(timeout 50 {} --headless=new --no-sandbox --disable-gpu --no-first-run "
                  "--user-data-dir={} --virtual-time-budget=5000 --dump-dom 'file://{}' 2>{})",
                  chromium, (dir / "profile").string(), std::filesystem::absolute(page).string(),
                  (dir / "stderr.txt").string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return result.output;
}

}  // namespace facet::testing
