// ProgressBar: count, rate and ETA for long stages.
//
// On a terminal it redraws one line in place; elsewhere (CI, a log file, a pipe) it prints a plain
// line every few seconds, so logs stay readable. `--quiet` silences every bar in the process
// (SetProgressQuiet). Add() may be called from many threads at once, e.g. inside ParallelFor:
//
//   ProgressBar bar(images.size(), {.label = "features", .unit = "images"});
//   ParallelFor(images.size(), [&](int64_t i) { Extract(images[i]); bar.Add(); });
//   bar.Finish();
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>

namespace facet {

struct ProgressOptions {
  std::string label{};              // stage name shown first, e.g. "matching"
  std::string unit = "it";          // what is counted, for the rate ("pairs/s")
  std::ostream* out = nullptr;      // nullptr: std::cerr
  std::optional<bool> tty{};        // nullopt: redraw in place iff `out` is a terminal
  double redraw_interval_s = 0.1;   // terminal: at most this often
  double line_interval_s = 5.0;     // not a terminal: one line at most this often
  int bar_width = 28;               // cells of the bar on a terminal
  std::function<double()> clock{};  // seconds on a monotonic clock; default steady_clock

  // Throws facet::Error for a negative or non-finite interval or a bar width outside 1-200.
  void Check() const;
};

class ProgressBar {
 public:
  // `total` <= 0 means unknown: the bar shows count and rate but no ETA.
  explicit ProgressBar(std::int64_t total, ProgressOptions options = {});
  ~ProgressBar();  // finishes the bar if Finish() was not called

  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Thread-safe; cheap unless it is time to redraw.
  void Add(std::int64_t n = 1);
  // Text shown after the count, rate and ETA (e.g. "loss 0.031, PSNR 27.4 dB"); thread-safe.
  void SetStatus(std::string status);
  // Prints the final state (elapsed time instead of ETA) and a newline. Idempotent.
  void Finish();

  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::int64_t total() const { return total_; }

  // "4s", "2m05s", "1h02m": compact durations for ETA and elapsed time.
  static std::string FormatDuration(double seconds);

 private:
  void Render(double now, bool final);
  std::string Line(std::int64_t count, double elapsed, bool final) const;

  std::int64_t total_;
  ProgressOptions options_;
  bool tty_;
  bool silent_;
  std::ostream* out_;
  double start_;
  double last_render_;
  std::atomic<std::int64_t> count_{0};
  std::mutex render_mutex_;
  mutable std::mutex status_mutex_;
  std::string status_{};
  bool finished_ = false;
};

// Process-wide switch behind `--quiet`: bars created while it is set print nothing.
void SetProgressQuiet(bool quiet);
bool ProgressQuiet();

}  // namespace facet
