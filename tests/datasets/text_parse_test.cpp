// The token rules every text reader of datasets/ shares (datasets/detail/text_parse.h).
#include "datasets/detail/text_parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/file_io.h"

namespace facet::datasets::detail {
namespace {

TEST(TextParse, SplitWordsSplitsOnEveryKindOfLineSpace) {
  const std::vector<std::string_view> words = SplitWords(" \tply\vformat\f ascii  1.0\r");
  ASSERT_EQ(words.size(), 4u);
  EXPECT_EQ(words[0], "ply");
  EXPECT_EQ(words[1], "format");
  EXPECT_EQ(words[2], "ascii");
  EXPECT_EQ(words[3], "1.0");
  EXPECT_TRUE(SplitWords("").empty());
  EXPECT_TRUE(SplitWords(" \t\r").empty());
}

TEST(TextParse, SplitLinesNumbersLinesAndSkipsCommentsAndBlanks) {
  const std::string text = "# header\n\n1 2\r\n  # indented comment\n3\t4 5";
  const std::vector<TextLine> lines = SplitLines(text);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].number, 3);
  EXPECT_EQ(lines[0].fields, (std::vector<std::string_view>{"1", "2"}));
  EXPECT_EQ(lines[1].number, 5);
  EXPECT_EQ(lines[1].fields, (std::vector<std::string_view>{"3", "4", "5"}));
}

TEST(TextParse, ParseNumberTakesWholeTokensWithOneOptionalPlus) {
  EXPECT_EQ(ParseNumber<int>("42"), 42);
  EXPECT_EQ(ParseNumber<int>("+42"), 42);
  EXPECT_EQ(ParseNumber<int>("-42"), -42);
  EXPECT_EQ(ParseNumber<double>("+1.5e3"), 1500.0);
  EXPECT_EQ(ParseNumber<double>("-.25"), -0.25);
  for (const char* bad : {"", "+", "+-1", "++1", "1x", " 1", "1 ", "0x10", "--1"}) {
    EXPECT_FALSE(ParseNumber<int>(bad).has_value()) << bad;
    EXPECT_FALSE(ParseNumber<double>(bad).has_value()) << bad;
  }
}

TEST(TextParse, ParseNumberRefusesIntegersOutOfRangeInsteadOfWrapping) {
  EXPECT_FALSE(ParseNumber<std::uint64_t>("-1").has_value());
  EXPECT_FALSE(ParseNumber<std::uint64_t>("18446744073709551616").has_value());  // 2^64
  EXPECT_EQ(ParseNumber<std::uint64_t>("18446744073709551615"),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(ParseNumber<std::int32_t>("2147483648").has_value());
  EXPECT_FALSE(ParseNumber<int>("1.0").has_value());
}

TEST(TextParse, ParseNumberKeepsNonFiniteFloatsForTheCallerToJudge) {
  EXPECT_TRUE(std::isnan(*ParseNumber<double>("nan")));
  EXPECT_TRUE(std::isinf(*ParseNumber<double>("-inf")));
  EXPECT_TRUE(std::isinf(*ParseNumber<double>("+inf")));
  EXPECT_FALSE(ParseNumber<float>("1e39").has_value());  // overflows float: refused, not inf
  // The throwing form used by the line-oriented readers insists on finite numbers.
  EXPECT_THROW(ParseNumber<double>("nan", "list.txt", 3), Error);
  EXPECT_EQ(ParseNumber<double>("+2.5", "list.txt", 3), 2.5);
  try {
    ParseNumber<int>("12a", "list.txt", 7);
    ADD_FAILURE() << "12a was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'list.txt' line 7"), std::string::npos) << e.what();
  }
}

TEST(FileIo, LowercaseExtensionIgnoresCaseAndKeepsTheDot) {
  EXPECT_EQ(LowercaseExtension("photos/IMG_01.JPG"), ".jpg");
  EXPECT_EQ(LowercaseExtension("a.b/scene.Ply"), ".ply");
  EXPECT_EQ(LowercaseExtension("sparse/0"), "");
  EXPECT_EQ(LowercaseExtension("archive.tar.GZ"), ".gz");
}

}  // namespace
}  // namespace facet::datasets::detail
