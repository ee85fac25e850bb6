#include "core/progress.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"

namespace facet {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  double now = 100.0;
  std::function<double()> Function() {
    return [this] { return now; };
  }
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

TEST(ProgressBar, NonTerminalPrintsAPlainLineEveryFewSeconds) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressBar bar(100, {.label = "matching",
                          .unit = "pairs",
                          .out = &out,
                          .tty = false,
                          .line_interval_s = 5.0,
                          .clock = clock.Function()});
    clock.now += 1.0;
    bar.Add(10);  // too soon for a line
    EXPECT_EQ(out.str(), "");
    clock.now += 4.0;
    bar.Add(15);  // 25 done in 5 s: 5 pairs/s, 75 left -> 15 s
    clock.now += 1.0;
    bar.Add(5);  // within the interval again
    clock.now += 4.0;
    bar.Finish();
  }
  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(lines[0], "matching: 25/100  25%, 5.0 pairs/s, ETA 15s");
  EXPECT_EQ(lines[1], "matching: 30/100  30%, 3.0 pairs/s, done in 10s");
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
}

TEST(ProgressBar, StatusFollowsTheRateAndChanges) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressBar bar(10, {.label = "splat",
                         .out = &out,
                         .tty = false,
                         .line_interval_s = 1.0,
                         .clock = clock.Function()});
    bar.SetStatus("loss 0.50");
    clock.now += 1.0;
    bar.Add(2);
    bar.SetStatus("loss 0.25");
    clock.now += 1.0;
    bar.Finish();
  }
  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(lines[0], "splat: 2/10  20%, 2.0 it/s, ETA 4.0s, loss 0.50");
  EXPECT_EQ(lines[1], "splat: 2/10  20%, 1.0 it/s, done in 2.0s, loss 0.25");
}

TEST(ProgressBar, TerminalRedrawsOneLineInPlace) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(4, {.label = "features",
                      .unit = "images",
                      .out = &out,
                      .tty = true,
                      .redraw_interval_s = 0.1,
                      .bar_width = 8,
                      .clock = clock.Function()});
  clock.now += 2.0;
  bar.Add();
  clock.now += 2.0;
  bar.Add();
  bar.Finish();
  const std::string text = out.str();
  // Initial draw, two updates and the final state, each starting with a carriage return and
  // erasing the rest of the line; one newline at the very end.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 4) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("\rfeatures [##......] 1/4  25%, 2.0 s/images, ETA 6.0s\x1b[K"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\rfeatures [####....] 2/4  50%, 2.0 s/images, done in 4.0s\x1b[K\n"),
            std::string::npos)
      << text;
}

TEST(ProgressBar, TerminalDoesNotRedrawFasterThanTheInterval) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(1000,
                  {.out = &out, .tty = true, .redraw_interval_s = 0.5, .clock = clock.Function()});
  for (int i = 0; i < 1100; ++i) {
    clock.now += 0.001;  // 1.1 s in all: redraws at 0.5 s and 1.0 s
    bar.Add();
  }
  const std::string text = out.str();
  // The initial draw plus one redraw per half second: exactly 3.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3) << text;
}

TEST(ProgressBar, UnknownTotalShowsCountAndRateOnly) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(0, {.label = "frames", .out = &out, .tty = false, .clock = clock.Function()});
  clock.now += 2.0;
  bar.Add(500);
  bar.Finish();
  EXPECT_EQ(out.str(), "frames: 500, 250 it/s, done in 2.0s\n");
}

TEST(ProgressBar, QuietPrintsNothing) {
  std::ostringstream out;
  SetProgressQuiet(true);
  {
    ProgressBar bar(10, {.out = &out, .tty = true});
    bar.Add(10);
  }
  SetProgressQuiet(false);
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBar, CountsEveryIncrementFromParallelLoops) {
  std::ostringstream out;
  ProgressBar bar(200000, {.out = &out, .tty = false, .line_interval_s = 0.001});
  ParallelFor(200000, [&](std::int64_t) { bar.Add(); });
  EXPECT_EQ(bar.count(), 200000);
  bar.Finish();
  const auto lines = Lines(out.str());
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("200000/200000 100%"), std::string::npos) << lines.back();
}

TEST(ProgressBar, FinishIsIdempotent) {
  std::ostringstream out;
  ProgressBar bar(1, {.out = &out, .tty = false});
  bar.Add();
  bar.Finish();
  bar.Finish();
  EXPECT_EQ(Lines(out.str()).size(), 1u);
}

TEST(ProgressBar, OptionsAreChecked) {
  EXPECT_THROW(ProgressBar(10, {.bar_width = -3}), Error);
  EXPECT_THROW(ProgressBar(10, {.line_interval_s = -1.0}), Error);
}

TEST(ProgressBar, FormatsDurationsCompactly) {
  EXPECT_EQ(ProgressBar::FormatDuration(3.21), "3.2s");
  EXPECT_EQ(ProgressBar::FormatDuration(42.0), "42s");
  EXPECT_EQ(ProgressBar::FormatDuration(125.0), "2m05s");
  EXPECT_EQ(ProgressBar::FormatDuration(3720.0), "1h02m");
  EXPECT_EQ(ProgressBar::FormatDuration(-1.0), "--");
}

}  // namespace
}  // namespace facet
