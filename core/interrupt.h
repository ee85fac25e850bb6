// Ctrl-C as a request to stop cleanly. Long loops (training) poll InterruptRequested() between
// steps: they write their checkpoint and throw facet::Interrupted, so that the run can be
// continued with --resume. A second Ctrl-C while the first is being honoured ends the process at
// once (the default action), for a user who does not want to wait for the checkpoint.
#pragma once

#include <string>

#include "core/error.h"

namespace facet {

// Thrown by code that stopped because of an interrupt request, after saving what it had.
class Interrupted : public Error {
 public:
  using Error::Error;
};

// Installs the SIGINT / SIGTERM handlers (idempotent). Until then, InterruptRequested() is only
// set by RequestInterrupt().
void InstallInterruptHandler();

// Whether Ctrl-C (or SIGTERM) arrived since the start or the last ClearInterrupt().
bool InterruptRequested();

// Sets the request as the signal handler does (tests, and callers that stop a run themselves).
void RequestInterrupt();
void ClearInterrupt();

}  // namespace facet
