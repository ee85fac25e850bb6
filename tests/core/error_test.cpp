#include "core/error.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "common/temp_dir.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/typed_id.h"

namespace facet {
namespace {

TEST(Error, IsARuntimeErrorCarryingTheMessage) {
  try {
    throw Error("cannot open 'x.ply': no such file");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot open 'x.ply': no such file");
  }
}

TEST(Error, CheckFormatsTheMessageAndRecordsTheRaisingLine) {
  const int views = -3;
  const int line = __LINE__ + 2;
  try {
    FACET_CHECK(views > 0, "--views must be positive (got {})", views);
    FAIL() << "FACET_CHECK did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--views must be positive (got -3)");
    EXPECT_EQ(e.where().line, line);
    EXPECT_NE(std::string(e.where().file).find("error_test.cpp"), std::string::npos);
  }
}

TEST(Error, CheckEvaluatesMessageArgumentsOnlyOnFailure) {
  int evaluations = 0;
  auto counted = [&evaluations] { return ++evaluations; };
  FACET_CHECK(true, "never formatted {}", counted());
  EXPECT_EQ(evaluations, 0);
  EXPECT_THROW(FACET_CHECK(false, "formatted {}", counted()), Error);
  EXPECT_EQ(evaluations, 1);
}

TEST(Error, ThrowAcceptsAPlainMessage) { EXPECT_THROW(FACET_THROW("plain message"), Error); }

TEST(TypedId, DefaultIsInvalidAndIdsCompareAndHash) {
  using ImageId = TypedId<struct ImageIdTag>;
  EXPECT_FALSE(ImageId().IsValid());
  EXPECT_EQ(ImageId(), ImageId::Invalid());
  EXPECT_TRUE(ImageId(0).IsValid());
  EXPECT_LT(ImageId(1), ImageId(2));
  std::unordered_set<ImageId> ids{ImageId(1), ImageId(2), ImageId(1)};
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(fmt::format("image {}", ImageId(7)), "image 7");
  // Ids of different kinds do not convert into each other.
  using PointId = TypedId<struct PointIdTag, std::uint64_t>;
  static_assert(!std::is_convertible_v<ImageId, PointId>);
  static_assert(!std::is_convertible_v<std::uint32_t, ImageId>);
}

TEST(Log, ParsesLevelsAndRejectsUnknownOnes) {
  EXPECT_EQ(ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(ParseLogLevel("off"), spdlog::level::off);
  try {
    ParseLogLevel("loud");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'loud'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("trace, debug, info"), std::string::npos);
  }
}

TEST(Log, RefusesALogFileThatCannotBeCreated) {
  // spdlog creates missing folders, but not below a regular file.
  testing::TempDir dir;
  WriteFileAtomically(dir / "file", std::string_view("x"));
  EXPECT_THROW(SetUpLogging({.file = dir / "file/log.txt"}), Error);
  SetUpLogging({});  // restore the default console logger for later tests
}

}  // namespace
}  // namespace facet
