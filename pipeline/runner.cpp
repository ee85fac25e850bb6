#include "pipeline/runner.h"

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "core/timer.h"

namespace facet::pipeline {
namespace {

namespace fs = std::filesystem;

bool OutputsExist(const StageDefinition& stage) {
  for (const fs::path& output : stage.outputs) {
    if (!fs::exists(output)) return false;
  }
  return true;
}

}  // namespace

PipelineRunner::PipelineRunner(Workspace workspace, bool resume)
    : workspace_(std::move(workspace)),
      resume_(resume),
      log_(resume ? StageLog::Load(workspace_.Stages()) : StageLog{}) {}

StageRecord PipelineRunner::Run(const StageDefinition& stage) {
  FACET_CHECK(!stage.name.empty() && stage.run, "a pipeline stage needs a name and a body");
  const StageRecord* earlier = log_.Find(stage.name);
  const bool same = earlier != nullptr && earlier->fingerprint == stage.fingerprint;
  if (resume_ && same && earlier->status == StageStatus::kDone && OutputsExist(stage)) {
    StageRecord reused = *earlier;
    spdlog::info("{}: reused from the earlier run ({:.1f} s then)", stage.name, reused.seconds);
    reused.status = StageStatus::kSkipped;
    history_.push_back(reused);
    return reused;
  }
  // Interrupted, killed (still "running") or failed with the same inputs: continue it.
  const bool continue_it = resume_ && same;
  if (InterruptRequested()) {
    throw Interrupted(fmt::format("stopped before the {} stage (Ctrl-C)", stage.name));
  }

  StageRecord record{.name = stage.name,
                     .fingerprint = stage.fingerprint,
                     .status = StageStatus::kRunning,
                     .command = stage.command,
                     .finished_at = UtcTimestamp()};
  log_.Put(record);
  log_.Save(workspace_.Stages());
  spdlog::info("{}: {}{}", stage.name, continue_it ? "continuing: " : "", stage.command);
  ResetPeakResidentBytes();
  const Timer timer;
  auto finish = [&](StageStatus status, std::string message) {
    record.status = status;
    record.message = std::move(message);
    record.seconds = timer.ElapsedSeconds();
    record.peak_memory_bytes = PeakResidentBytes();
    record.finished_at = UtcTimestamp();
    log_.Put(record);
    log_.Save(workspace_.Stages());
    history_.push_back(record);
  };
  try {
    stage.run(continue_it);
  } catch (const Interrupted& e) {
    finish(StageStatus::kInterrupted, e.what());
    throw;
  } catch (const Error& e) {
    finish(StageStatus::kFailed, e.what());
    // Says which stage failed; what it said stays in the record and the report.
    throw Error(fmt::format("the {} stage failed: {} (the earlier stages' outputs are kept: fix "
                            "this and rerun with --resume)",
                            stage.name, e.what()),
                e.where());
  } catch (const std::exception& e) {
    finish(StageStatus::kFailed, e.what());
    throw;
  }
  finish(StageStatus::kDone, "");
  spdlog::info("{}: done in {:.1f} s, peak memory {:.0f} MiB", stage.name, record.seconds,
               record.peak_memory_bytes / 1048576.0);
  return record;
}

}  // namespace facet::pipeline
