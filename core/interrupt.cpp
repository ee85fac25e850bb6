#include "core/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace facet {
namespace {

// Lock-free, so that the signal handler may write it.
std::atomic<bool> g_interrupt_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnInterruptSignal(int signal_number) {
  g_interrupt_requested.store(true, std::memory_order_relaxed);
  // write(2) is async-signal-safe; spdlog is not.
  constexpr char kMessage[] =
      "\nfacet: stopping at the next checkpoint (press Ctrl-C again to quit at once)\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  // The next one takes the default action: a user who presses Ctrl-C twice does not wait.
  std::signal(signal_number, SIG_DFL);
}

}  // namespace

void InstallInterruptHandler() {
  std::signal(SIGINT, OnInterruptSignal);
  std::signal(SIGTERM, OnInterruptSignal);
}

bool InterruptRequested() { return g_interrupt_requested.load(std::memory_order_relaxed); }

void RequestInterrupt() { g_interrupt_requested.store(true, std::memory_order_relaxed); }

void ClearInterrupt() { g_interrupt_requested.store(false, std::memory_order_relaxed); }

}  // namespace facet
