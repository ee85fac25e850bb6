// Process memory figures, for the summaries that report how much a stage used.
#pragma once

#include <cstdint>

namespace facet {

// Peak resident set size of this process in bytes (VmHWM on Linux), 0 when unknown.
std::int64_t PeakResidentBytes();

// Starts a new peak: PeakResidentBytes() then reports the peak since this call (Linux: writes 5
// to /proc/self/clear_refs). Returns false where the kernel does not allow it (the peak then
// stays the process's).
bool ResetPeakResidentBytes();

}  // namespace facet
