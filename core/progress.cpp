#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "core/error.h"

namespace facet {
namespace {

std::atomic<bool> g_progress_quiet{false};

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string FormatRate(double rate, const std::string& unit) {
  if (rate <= 0.0 || !std::isfinite(rate)) return fmt::format("-- {}/s", unit);
  if (rate < 1.0) return fmt::format("{:.1f} s/{}", 1.0 / rate, unit);
  if (rate < 100.0) return fmt::format("{:.1f} {}/s", rate, unit);
  return fmt::format("{:.0f} {}/s", rate, unit);
}

}  // namespace

void ProgressOptions::Check() const {
  FACET_CHECK(std::isfinite(redraw_interval_s) && redraw_interval_s >= 0.0,
              "ProgressOptions::redraw_interval_s must be >= 0 (got {})", redraw_interval_s);
  FACET_CHECK(std::isfinite(line_interval_s) && line_interval_s >= 0.0,
              "ProgressOptions::line_interval_s must be >= 0 (got {})", line_interval_s);
  FACET_CHECK(bar_width >= 1 && bar_width <= 200,
              "ProgressOptions::bar_width must be in 1-200 (got {})", bar_width);
}

void SetProgressQuiet(bool quiet) { g_progress_quiet.store(quiet); }
bool ProgressQuiet() { return g_progress_quiet.load(); }

ProgressBar::ProgressBar(std::int64_t total, ProgressOptions options)
    : total_(total), options_(std::move(options)) {
  options_.Check();
  if (!options_.clock) options_.clock = SteadySeconds;
  out_ = options_.out != nullptr ? options_.out : &std::cerr;
  if (options_.tty.has_value()) {
    tty_ = *options_.tty;
  } else {
    tty_ = out_ == &std::cerr && isatty(fileno(stderr)) == 1;
  }
  silent_ = ProgressQuiet();
  start_ = options_.clock();
  last_render_ = start_;
  if (tty_ && !silent_) {
    std::lock_guard lock(render_mutex_);
    Render(start_, false);
  }
}

ProgressBar::~ProgressBar() {
  try {
    Finish();
  } catch (...) {  // a destructor must not throw; a failed write to the terminal is harmless
  }
}

void ProgressBar::Add(std::int64_t n) {
  count_.fetch_add(n, std::memory_order_relaxed);
  if (silent_) return;
  std::unique_lock lock(render_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;  // another thread is drawing
  const double now = options_.clock();
  const double interval = tty_ ? options_.redraw_interval_s : options_.line_interval_s;
  if (now - last_render_ >= interval) Render(now, false);
}

void ProgressBar::SetStatus(std::string status) {
  std::lock_guard lock(status_mutex_);
  status_ = std::move(status);
}

void ProgressBar::Finish() {
  std::lock_guard lock(render_mutex_);
  if (finished_) return;
  finished_ = true;
  if (!silent_) Render(options_.clock(), true);
}

void ProgressBar::Render(double now, bool final) {
  last_render_ = now;
  const std::string line = Line(count(), now - start_, final);
  if (tty_) {
    // Carriage return, the line, then erase whatever a longer previous line left behind.
    *out_ << '\r' << line << "\x1b[K";
    if (final) *out_ << '\n';
  } else {
    *out_ << line << '\n';
  }
  out_->flush();
}

std::string ProgressBar::Line(std::int64_t count, double elapsed, bool final) const {
  const double rate = elapsed > 0.0 ? static_cast<double>(count) / elapsed : 0.0;
  std::string text = options_.label.empty() ? std::string() : options_.label + (tty_ ? " " : ": ");
  if (total_ > 0) {
    const double fraction =
        std::clamp(static_cast<double>(count) / static_cast<double>(total_), 0.0, 1.0);
    if (tty_) {
      const int filled = static_cast<int>(fraction * options_.bar_width);
      text += '[' + std::string(filled, '#') + std::string(options_.bar_width - filled, '.') + "] ";
    }
    text += fmt::format("{}/{} {:3.0f}%", count, total_, 100.0 * fraction);
  } else {
    text += fmt::format("{}", count);
  }
  text += fmt::format(", {}", FormatRate(rate, options_.unit));
  if (final) {
    text += fmt::format(", done in {}", FormatDuration(elapsed));
  } else if (total_ > 0) {
    if (rate > 0.0) {
      text += fmt::format(", ETA {}", FormatDuration(static_cast<double>(total_ - count) / rate));
    } else {
      text += ", ETA --";
    }
  }
  std::lock_guard lock(status_mutex_);
  if (!status_.empty()) text += ", " + status_;
  return text;
}

std::string ProgressBar::FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return "--";
  if (seconds < 10.0) return fmt::format("{:.1f}s", seconds);
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  const std::int64_t h = total / 3600, m = (total % 3600) / 60, s = total % 60;
  if (h > 0) return fmt::format("{}h{:02}m", h, m);
  if (m > 0) return fmt::format("{}m{:02}s", m, s);
  return fmt::format("{}s", s);
}

}  // namespace facet
