// The `facet` program as a user meets it: exit codes and the one-line messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/backend.h"
#include "core/version.h"

namespace facet {
namespace {

testing::CommandResult Facet(const std::string& args) {
  return testing::RunCommand(std::string("'") + FACET_BINARY + "' " + args);
}

TEST(Cli, VersionPrintsVersionRevisionAndCudaStatusAndExitsZero) {
  const auto result = Facet("--version");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("facet " + std::string(Version())), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("git "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("CUDA"), std::string::npos) << result.output;
}

TEST(Cli, HelpListsTheGlobalFlagsAndExitsZero) {
  const auto result = Facet("--help");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  for (const char* flag : {"--device", "--threads", "--quiet", "--log-file", "--version"}) {
    EXPECT_NE(result.output.find(flag), std::string::npos) << flag << "\n" << result.output;
  }
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
  const auto result = Facet("frobnicate");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("frobnicate"), std::string::npos) << result.output;
}

TEST(Cli, UnknownFlagIsAUsageError) { EXPECT_EQ(Facet("--no-such-flag").exit_code, 2); }

TEST(Cli, InvalidGlobalValuesAreUsageErrors) {
  EXPECT_EQ(Facet("--device tpu").exit_code, 2);
  EXPECT_EQ(Facet("--threads -4").exit_code, 2);
  EXPECT_EQ(Facet("--threads many").exit_code, 2);
  EXPECT_EQ(Facet("--log-level loud").exit_code, 2);
}

TEST(Cli, AskingForCudaWithoutADeviceIsARuntimeError) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  testing::TempDir dir;
  const auto result =
      Facet("--device cuda synth --views 1 --size 32x24 -o '" + dir.path().string() + "'");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("--device cpu"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "images"));  // refused before any work
  EXPECT_EQ(Facet("--device cpu synth --views 1 --size 32x24 -q -o '" + dir.path().string() + "'")
                .exit_code,
            0);
}

TEST(Cli, MissingSubcommandIsAUsageError) {
  const auto result = Facet("");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("Usage"), std::string::npos) << result.output;
}

TEST(Cli, RuntimeErrorsExitOneWithOneLine) {
  // A log file that cannot be created (its "folder" is a regular file) is a runtime error
  // reported through facet::Error.
  testing::TempDir dir;
  std::ofstream(dir / "file") << "not a folder";
  const auto result = Facet("--log-file '" + (dir / "file/log.txt").string() + "'");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.output.rfind("facet: error: cannot open log file", 0), 0u) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
}

}  // namespace
}  // namespace facet
