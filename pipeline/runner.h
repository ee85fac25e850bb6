// Runs the stages of a pipeline in a workspace: each stage is reused when a finished run with the
// same fingerprint left its outputs (with --resume), continued from its checkpoint when it was
// interrupted or killed, or run afresh. Every start and end is recorded in OUT/stages.json
// before the next stage starts, with the stage's wall time and peak memory, and logged.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/stage_record.h"
#include "pipeline/workspace.h"

namespace facet::pipeline {

struct StageDefinition {
  std::string name{};         // "sfm"; unique within a pipeline
  std::string fingerprint{};  // see stage_record.h
  // Files or folders that a finished run of the stage leaves; all must exist to reuse it.
  std::vector<std::filesystem::path> outputs{};
  std::string command{};  // the equivalent `facet ...` command line, for the log and report
  // Runs the stage. `resume`: an earlier run of this stage with the same fingerprint was
  // interrupted: continue from its checkpoint where there is one. Throws on failure.
  std::function<void(bool resume)> run{};
};

class PipelineRunner {
 public:
  // `resume`: reuse and continue the stages recorded in `workspace` (otherwise every stage runs).
  PipelineRunner(Workspace workspace, bool resume);

  // Runs `stage` (or reuses it, see above) and returns its record. On failure or interruption
  // the record says so (status, message) and the records of the stages before are kept; a
  // facet::Error comes back as one naming the stage ("the splat stage failed: ..."), anything
  // else (facet::Interrupted included) propagates unchanged.
  StageRecord Run(const StageDefinition& stage);

  // Records of this run, in order: done (ran now), skipped (reused), failed or interrupted.
  const std::vector<StageRecord>& history() const { return history_; }
  const Workspace& workspace() const { return workspace_; }

 private:
  Workspace workspace_;
  bool resume_;
  StageLog log_;
  std::vector<StageRecord> history_;
};

}  // namespace facet::pipeline
