#include "core/memory.h"

#include <fstream>
#include <string>

namespace facet {

std::int64_t PeakResidentBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      try {
        return std::stoll(line.substr(6)) * 1024;  // "VmHWM:   123456 kB"
      } catch (...) {
        return 0;
      }
    }
  }
  return 0;
}

bool ResetPeakResidentBytes() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  if (!clear_refs) return false;
  clear_refs << "5";
  clear_refs.flush();
  return bool(clear_refs);
}

}  // namespace facet
