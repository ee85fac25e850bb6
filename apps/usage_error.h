// UsageError: thrown by a subcommand's run function for a usage problem that only shows once the
// inputs are looked at (e.g. `facet convert` asked for a pair of formats it cannot convert).
// main() prints "facet: usage error: <message>" and exits with status 2, as for CLI11's own
// parse errors. Runtime problems (a missing or corrupt input) stay facet::Error, exit status 1.
#pragma once

#include <stdexcept>

namespace facet::apps {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace facet::apps
