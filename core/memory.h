// Process memory figures, for the summaries that report how much a stage used.
#pragma once

#include <cstdint>

namespace facet {

// Peak resident set size of this process in bytes (VmHWM on Linux), 0 when unknown.
std::int64_t PeakResidentBytes();

}  // namespace facet
