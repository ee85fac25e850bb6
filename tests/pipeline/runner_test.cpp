// The stage records behind `facet reconstruct --resume`: fingerprints, the records file, and the
// runner's decisions (reuse, continue, rerun) on finished, interrupted, killed and failed stages.
#include "pipeline/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/file_io.h"
#include "core/interrupt.h"
#include "pipeline/stage_record.h"
#include "tests/common/temp_dir.h"

namespace facet::pipeline {
namespace {

namespace fs = std::filesystem;

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(Fingerprint, PartBoundariesAndOrderMatter) {
  EXPECT_EQ(Fingerprint({"ab", "c"}), Fingerprint({"ab", "c"}));
  EXPECT_NE(Fingerprint({"ab", "c"}), Fingerprint({"a", "bc"}));
  EXPECT_NE(Fingerprint({"a", "b"}), Fingerprint({"b", "a"}));
  EXPECT_NE(Fingerprint({""}), Fingerprint({}));
  EXPECT_EQ(Fingerprint({"x"}).size(), 16u);
}

TEST(HashFolder, FollowsNamesAndBytesOnly) {
  const testing::TempDir dir;
  const fs::path photos = dir.path() / "photos";
  fs::create_directories(photos / "sub");
  // Files larger than the hasher's block, with sizes that leave partial blocks.
  std::string big(100003, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = char((i * 7919) % 251);
  WriteText(photos / "a.jpg", big);
  WriteText(photos / "b.png", "second photo");
  const std::string first = HashFolder(photos);
  EXPECT_EQ(HashFolder(photos), first);

  WriteText(photos / ".hidden", "editor swap file");  // ignored, as are sub-folders
  WriteText(photos / "sub" / "c.jpg", "not a direct child");
  EXPECT_EQ(HashFolder(photos), first);

  big[54321] ^= 1;  // one bit of one photo
  WriteText(photos / "a.jpg", big);
  const std::string flipped = HashFolder(photos);
  EXPECT_NE(flipped, first);
  big[54321] ^= 1;
  WriteText(photos / "a.jpg", big);
  EXPECT_EQ(HashFolder(photos), first);

  fs::rename(photos / "b.png", photos / "c.png");  // same bytes, another name
  EXPECT_NE(HashFolder(photos), first);
  EXPECT_THROW(HashFolder(dir.path() / "missing"), Error);
}

TEST(StageLog, RoundTripsAndSurvivesDamage) {
  const testing::TempDir dir;
  const fs::path path = dir.path() / "stages.json";
  EXPECT_TRUE(StageLog::Load(path).records().empty());  // no file yet

  StageLog log;
  log.Put({.name = "sfm",
           .fingerprint = "0123",
           .status = StageStatus::kDone,
           .seconds = 1.5,
           .peak_memory_bytes = 1 << 20,
           .command = "facet sfm p -o o"});
  log.Put({.name = "splat",
           .fingerprint = "4567",
           .status = StageStatus::kInterrupted,
           .message = "stopped"});
  log.Put({.name = "sfm", .fingerprint = "89ab", .status = StageStatus::kFailed});  // replaces
  log.Save(path);
  const StageLog read = StageLog::Load(path);
  ASSERT_EQ(read.records().size(), 2u);
  EXPECT_EQ(read.records()[0].name, "sfm");
  EXPECT_EQ(read.records()[0].fingerprint, "89ab");
  EXPECT_EQ(read.records()[0].status, StageStatus::kFailed);
  EXPECT_EQ(read.Find("splat")->status, StageStatus::kInterrupted);
  EXPECT_EQ(read.Find("splat")->message, "stopped");
  EXPECT_EQ(read.Find("mesh"), nullptr);

  for (const std::string& damaged :
       {std::string("{\"stages\": [{\"name\": \"sfm\""), std::string("not json at all"),
        std::string("{\"stages\": [{\"name\": \"sfm\", \"fingerprint\": \"1\", \"status\": "
                    "\"exploded\"}]}"),
        std::string()}) {
    WriteText(path, damaged);
    EXPECT_TRUE(StageLog::Load(path).records().empty()) << damaged;
  }
}

class PipelineRunnerTest : public ::testing::Test {
 protected:
  void TearDown() override { ClearInterrupt(); }

  // A stage that writes `output` and counts its runs and the `resume` flags it was given.
  StageDefinition Stage(const std::string& name, const std::string& fingerprint) {
    const fs::path output = dir_.path() / (name + ".out");
    return {.name = name,
            .fingerprint = fingerprint,
            .outputs = {output},
            .command = "facet " + name,
            .run = [this, name, output](bool resume) {
              ++runs_;
              if (resume) ++resumes_;
              // Recorded as running while it runs (a killed process leaves that).
              const StageLog during = StageLog::Load(workspace_.Stages());
              const StageRecord* record = during.Find(name);
              ASSERT_NE(record, nullptr);
              EXPECT_EQ(record->status, StageStatus::kRunning);
              WriteText(output, "result");
            }};
  }

  testing::TempDir dir_;
  Workspace workspace_{dir_.path()};
  int runs_ = 0, resumes_ = 0;
};

TEST_F(PipelineRunnerTest, ReusesFinishedStagesOnlyWithResumeAndTheSameFingerprint) {
  {
    PipelineRunner runner(workspace_, false);
    EXPECT_EQ(runner.Run(Stage("a", "f1")).status, StageStatus::kDone);
  }
  EXPECT_EQ(runs_, 1);
  const StageLog first_log = StageLog::Load(workspace_.Stages());
  const StageRecord* record = first_log.Find("a");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->status, StageStatus::kDone);
  EXPECT_EQ(record->command, "facet a");
  EXPECT_GE(record->seconds, 0.0);
  EXPECT_FALSE(record->finished_at.empty());

  {  // --resume, same inputs: reused
    PipelineRunner runner(workspace_, true);
    EXPECT_EQ(runner.Run(Stage("a", "f1")).status, StageStatus::kSkipped);
    ASSERT_EQ(runner.history().size(), 1u);
    EXPECT_EQ(runner.history()[0].status, StageStatus::kSkipped);
  }
  EXPECT_EQ(runs_, 1);
  {  // no --resume: runs again
    PipelineRunner runner(workspace_, false);
    runner.Run(Stage("a", "f1"));
  }
  EXPECT_EQ(runs_, 2);
  {  // --resume with other options: runs afresh (not continued)
    PipelineRunner runner(workspace_, true);
    runner.Run(Stage("a", "f2"));
  }
  EXPECT_EQ(runs_, 3);
  EXPECT_EQ(resumes_, 0);
  fs::remove(dir_.path() / "a.out");  // an output went missing: runs again
  {
    PipelineRunner runner(workspace_, true);
    EXPECT_EQ(runner.Run(Stage("a", "f2")).status, StageStatus::kDone);
  }
  EXPECT_EQ(runs_, 4);
}

TEST_F(PipelineRunnerTest, ContinuesInterruptedKilledAndFailedStages) {
  StageDefinition stage = Stage("a", "f1");
  const auto body = stage.run;
  stage.run = [](bool) { throw Interrupted("stopped at a checkpoint"); };
  {
    PipelineRunner runner(workspace_, false);
    EXPECT_THROW(runner.Run(stage), Interrupted);
    ASSERT_EQ(runner.history().size(), 1u);
    EXPECT_EQ(runner.history()[0].status, StageStatus::kInterrupted);
  }
  EXPECT_EQ(StageLog::Load(workspace_.Stages()).Find("a")->message, "stopped at a checkpoint");
  stage.run = body;
  {
    PipelineRunner runner(workspace_, true);
    runner.Run(stage);
  }
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(resumes_, 1);  // continued from its checkpoint

  // Killed mid-stage: the record still says running.
  StageLog killed = StageLog::Load(workspace_.Stages());
  killed.Put({.name = "a", .fingerprint = "f1", .status = StageStatus::kRunning});
  killed.Save(workspace_.Stages());
  {
    PipelineRunner runner(workspace_, true);
    runner.Run(stage);
  }
  EXPECT_EQ(resumes_, 2);

  stage.run = [](bool) { FACET_THROW("the photos do not overlap"); };
  {
    PipelineRunner runner(workspace_, false);
    try {
      runner.Run(stage);
      ADD_FAILURE() << "the stage's error was swallowed";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("the a stage failed: the photos do not overlap", 0), 0u)
          << e.what();
    }
  }
  const StageLog after = StageLog::Load(workspace_.Stages());
  const StageRecord* failed = after.Find("a");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status, StageStatus::kFailed);
  EXPECT_EQ(failed->message, "the photos do not overlap");
}

TEST_F(PipelineRunnerTest, CtrlCStopsBeforeTheNextStage) {
  PipelineRunner runner(workspace_, false);
  runner.Run(Stage("a", "f1"));
  RequestInterrupt();
  EXPECT_THROW(runner.Run(Stage("b", "f2")), Interrupted);
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(StageLog::Load(workspace_.Stages()).Find("b"), nullptr);
}

}  // namespace
}  // namespace facet::pipeline
