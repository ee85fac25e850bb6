#include "core/file_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/temp_dir.h"
#include "core/error.h"

namespace facet {
namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(WriteFileAtomically, WritesBytesAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const auto path = dir / "out.bin";
  const std::vector<std::uint8_t> bytes = {0, 1, 2, 255, 254};
  WriteFileAtomically(path, std::span<const std::uint8_t>(bytes));
  EXPECT_EQ(ReadFile(path), bytes);
  EXPECT_FALSE(std::filesystem::exists(dir / "out.bin.tmp"));
}

TEST(WriteFileAtomically, ReplacesAnExistingFile) {
  testing::TempDir dir;
  const auto path = dir / "model.txt";
  WriteFileAtomically(path, std::string_view("first version, longer than the second"));
  WriteFileAtomically(path, std::string_view("second"));
  EXPECT_EQ(Slurp(path), "second");
}

TEST(WriteFileAtomically, LeavesTheOldFileIntactWhenTheWriterThrowsMidway) {
  testing::TempDir dir;
  const auto path = dir / "splats.ply";
  WriteFileAtomically(path, std::string_view("the previous, complete output"));

  EXPECT_THROW(WriteFileAtomically(path,
                                   [](std::ostream& out) {
                                     out << std::string(1 << 20, 'x');  // half-written new data
                                     throw std::runtime_error("interrupted");
                                   }),
               std::runtime_error);
  EXPECT_EQ(Slurp(path), "the previous, complete output");
  EXPECT_FALSE(std::filesystem::exists(dir / "splats.ply.tmp"));
}

TEST(WriteFileAtomically, LeavesNoFileWhenTheFirstWriteThrows) {
  testing::TempDir dir;
  const auto path = dir / "new.bin";
  EXPECT_THROW(WriteFileAtomically(path, [](std::ostream&) { FACET_THROW("writer failed"); }),
               Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir / "new.bin.tmp"));
}

TEST(WriteFileAtomically, MissingFolderIsAClearError) {
  testing::TempDir dir;
  try {
    WriteFileAtomically(dir / "no/such/folder/out.txt", std::string_view("x"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST(ReadFile, ErrorsNameTheFile) {
  testing::TempDir dir;
  try {
    ReadFile(dir / "missing.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.bin"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ReadFile(dir.path()), Error);  // a folder is not a file
}

TEST(ReadFile, RefusesFilesOverTheLimit) {
  testing::TempDir dir;
  WriteFileAtomically(dir / "big.bin", std::string_view("0123456789"));
  EXPECT_EQ(ReadFile(dir / "big.bin", 10).size(), 10u);
  EXPECT_THROW(ReadFile(dir / "big.bin", 9), Error);
}

TEST(ReadFile, ReadsEmptyFiles) {
  testing::TempDir dir;
  WriteFileAtomically(dir / "empty", std::string_view());
  EXPECT_TRUE(ReadFile(dir / "empty").empty());
}

}  // namespace
}  // namespace facet
