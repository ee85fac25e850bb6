// Timer: wall-clock seconds since construction or the last Restart(), on the steady clock.
#pragma once

#include <chrono>

namespace facet {

class Timer {
 public:
  Timer() : start_(Clock::now()) {}

  void Restart() { start_ = Clock::now(); }
  double ElapsedSeconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }
  double ElapsedMilliseconds() const { return 1e3 * ElapsedSeconds(); }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

}  // namespace facet
