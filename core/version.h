// Build identity for `facet --version` and logs. Defined in the build-time generated version.cpp.
#pragma once

#include <string_view>

namespace facet {

std::string_view Version();      // semantic version of the project, e.g. "0.1.0"
std::string_view GitRevision();  // short commit hash, "-dirty" appended for a modified tree

}  // namespace facet
