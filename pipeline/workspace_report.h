// report.html of a `facet reconstruct` workspace: reads what the stages left in it (the stage
// records, sfm_summary.json, the undistorted model, splats_summary.json and the held-out
// render | photo | error pictures in renders/, mesh_summary.json and mesh.glb, nerf_summary.json)
// into ReportData (pipeline/report.h). Whatever is missing or unreadable (a failed or unfinished
// run) is left out of the report with a warning, so that a report can always be written.
#pragma once

#include <string>
#include <vector>

#include "pipeline/report.h"
#include "pipeline/stage_record.h"
#include "pipeline/workspace.h"

namespace facet::pipeline {

struct WorkspaceReportInfo {
  std::string photos{};  // the photo folder, as given
  std::string preset{};
  std::string device{};
  // The stages in pipeline order, and what this run did with them (history of PipelineRunner);
  // stages of the list it has no record of come from OUT/stages.json, else show as "not run".
  std::vector<std::string> stage_names{};
  std::vector<StageRecord> history{};
};

ReportData CollectWorkspaceReport(const Workspace& workspace, const WorkspaceReportInfo& info);

// Collects and writes OUT/report.html; returns false (after a warning) when it could not be
// written, since a report must never turn a finished reconstruction into a failure.
bool WriteWorkspaceReport(const Workspace& workspace, const WorkspaceReportInfo& info);

}  // namespace facet::pipeline
