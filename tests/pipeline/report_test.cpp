#include "pipeline/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

#include "common/browser.h"
#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "pipeline/report_images.h"
#include "pipeline/report_svg.h"

namespace facet::pipeline {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

ImageU8 Gradient(int width, int height, int offset) {
  ImageU8 image(width, height, 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image(x, y, 0) = static_cast<std::uint8_t>((x * 255) / std::max(1, width - 1));
      image(x, y, 1) = static_cast<std::uint8_t>((y * 255) / std::max(1, height - 1));
      image(x, y, 2) = static_cast<std::uint8_t>(std::clamp(128 + offset, 0, 255));
    }
  }
  return image;
}

// A run with every section: 2 held-out views (3 images each), 2 thumbnails, 3 curves, the scene.
ReportData FullData() {
  ReportData data;
  data.title = "garden";
  data.subtitle = "photos/ · 2024-05-01";
  data.summary = {{"Images registered", "24 / 24"},
                  {"Points", FormatCount(48211)},
                  {"Reprojection error", "0.61 px"},
                  {"Gaussians", FormatCount(312004)},
                  {"Held-out PSNR / SSIM", "27.4 dB / 0.874"},
                  {"Mesh faces", FormatCount(401112)},
                  {"Watertight", "yes"}};
  data.stages = {{"sfm", "done", 42.5, 812, "24 images, 48,211 points"},
                 {"splat", "skipped (resumed)", 0, 0, "read splats.ply"},
                 {"mesh", "done", 130.2, 2300, "401,112 faces"}};
  for (int i = 0; i < 2000; ++i) {
    const double a = 0.37 * i, r = 1.5 * std::sqrt(i / 2000.0);
    data.scene.points.emplace_back(r * std::cos(a), r * std::sin(a), 0.1 * std::sin(3 * a));
    data.scene.point_colours.push_back({static_cast<std::uint8_t>(i % 256), 120, 200});
  }
  for (int k = 0; k < 12; ++k) {
    const double a = 2 * M_PI * k / 12;
    data.scene.cam_from_world.push_back(geometry::LookAt({4 * std::cos(a), 4 * std::sin(a), 1.5},
                                                         Eigen::Vector3d::Zero(), {0, 0, 1}));
  }
  data.held_out = {{"IMG_0007.jpg", Gradient(48, 32, 10), Gradient(48, 32, 0), 27.1, 0.88},
                   {"IMG_0015.jpg", Gradient(48, 32, -20), Gradient(48, 32, 0), 24.3, 0.81}};
  ReportCurve loss{"Loss", "iteration", "loss", {}, true};
  ReportCurve psnr{"Held-out PSNR", "iteration", "PSNR (dB)", {}, false};
  ReportCurve count{"Gaussians", "iteration", "count", {}, false};
  loss.series.push_back({"train", {}});
  psnr.series.push_back({"train", {}});
  psnr.series.push_back({"held-out", {}});
  count.series.push_back({"Gaussians", {}});
  for (int it = 0; it <= 30000; it += 100) {
    loss.series[0].second.emplace_back(it, 0.3 * std::exp(-it / 5000.0) + 0.02);
    psnr.series[0].second.emplace_back(it, 30 - 12 * std::exp(-it / 4000.0));
    if (it % 1000 == 0) psnr.series[1].second.emplace_back(it, 27 - 12 * std::exp(-it / 4000.0));
    count.series[0].second.emplace_back(it, 1e5 + 2e5 * std::min(1.0, it / 15000.0));
  }
  data.curves = {loss, psnr, count};
  data.mesh_thumbnails = {{"front", Gradient(64, 48, 0)}, {"top", Gradient(64, 48, 40)}};
  data.warnings = {"3 images were not registered"};
  return data;
}

TEST(Report, FullDataHasEverySectionAndNothingExternal) {
  const std::string html = RenderReportHtml(FullData());
  for (const char* id :
       {"warnings", "summary", "stages", "scene", "held-out", "training", "mesh"}) {
    EXPECT_NE(html.find(fmt::format("<section id=\"{}\"", id)), std::string::npos) << id;
  }
  EXPECT_EQ(Count(html, "<img "), 2 * 3 + 2);
  EXPECT_EQ(Count(html, "src=\"data:image/png;base64,"), 8);
  EXPECT_NE(html.find("data-images-total=\"8\""), std::string::npos);
  EXPECT_EQ(Count(html, "<svg "), 1 + 3);
  EXPECT_NE(html.find("data-svgs-total=\"4\""), std::string::npos);
  // Self-contained: no links, stylesheets, scripts or images from elsewhere.
  for (const char* external : {"<link", "src=\"http", "href=", "url(", "@import", "src=\"//"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  // Numbers formatted, stages and their times shown.
  EXPECT_NE(html.find("48,211"), std::string::npos);
  EXPECT_NE(html.find("42.5 s"), std::string::npos);
  EXPECT_NE(html.find("2 min 10 s"), std::string::npos);
  EXPECT_NE(html.find("2.25 GiB"), std::string::npos);
  EXPECT_NE(html.find("PSNR 27.10 dB"), std::string::npos);
  EXPECT_NE(html.find("badge skipped"), std::string::npos);
  // Small images stay small: well under a megabyte.
  EXPECT_LT(html.size(), 400u * 1024);
}

TEST(Report, EscapesEveryString) {
  const std::string evil = "<script>alert('x')</script> & \"co\"";
  ReportData data = FullData();
  data.title = data.subtitle = evil;
  data.summary[0].label = data.summary[0].value = evil;
  data.stages[0].name = data.stages[0].detail = evil;
  data.stages[0].status = "failed";
  data.held_out[0].name = evil;
  data.curves[1].title = data.curves[1].x_label = data.curves[1].series[1].first = evil;
  data.mesh_thumbnails[0].first = evil;
  data.warnings[0] = evil;
  const std::string html = RenderReportHtml(data);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("'x'"), std::string::npos);
  EXPECT_GT(Count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"),
            10);
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST(Report, FailedRunKeepsStagesAndOmitsEmptySections) {
  ReportData data;
  data.stages = {{"sfm", "done", 3.2, 100, ""},
                 {"splat", "failed", 1.0, 0, "CUDA out of memory"},
                 {"mesh", "not run", 0, 0, ""}};
  const std::string html = RenderReportHtml(data);
  EXPECT_NE(html.find("<section id=\"stages\""), std::string::npos);
  EXPECT_NE(html.find("Stage splat failed.</b> CUDA out of memory"), std::string::npos);
  EXPECT_NE(html.find("badge notrun"), std::string::npos);
  for (const char* id : {"summary", "scene", "held-out", "training", "mesh"}) {
    EXPECT_EQ(html.find(fmt::format("<section id=\"{}\"", id)), std::string::npos) << id;
  }
  EXPECT_NE(html.find("data-images-total=\"0\""), std::string::npos);
  EXPECT_EQ(Count(html, "<img "), 0);
  EXPECT_LT(html.size(), 20u * 1024);
  // A curve without a finite point is left out too.
  data.curves = {{"Loss", "iteration", "loss", {{"train", {{0, NAN}, {1, -1.0}}}}, true}};
  EXPECT_EQ(RenderReportHtml(data).find("<section id=\"training\""), std::string::npos);
}

TEST(Report, DownscalesAndThinsHeldOutViews) {
  ReportData data;
  for (int i = 0; i < 20; ++i) {
    data.held_out.push_back(
        {fmt::format("view{:02}", i), Gradient(1000, 500, 0), Gradient(1000, 500, 5), 30.0, 0.9});
  }
  ReportOptions options;
  options.max_held_out_views = 4;
  const std::string html = RenderReportHtml(data, options);
  EXPECT_EQ(Count(html, "<img "), 12);
  EXPECT_EQ(Count(html, "width=\"400\" height=\"200\""), 12);
  EXPECT_NE(html.find("4 of 20 shown"), std::string::npos);
  // Evenly spaced, first and last included.
  for (const char* name : {"view00", "view06", "view13", "view19"}) {
    EXPECT_NE(html.find(name), std::string::npos) << name;
  }
  data.held_out[3].render = Gradient(999, 500, 0);
  EXPECT_THROW(RenderReportHtml(data, options), Error);
  options.error_gain = 0;
  EXPECT_THROW(options.Check(), Error);
}

TEST(ReportImages, ErrorMapIsTheColouredMagnifiedMeanAbsoluteDifference) {
  ImageU8 render(3, 1, 3), photo(3, 1, 3);
  const std::uint8_t r[3][3] = {{10, 20, 30}, {100, 100, 100}, {0, 0, 0}};
  const std::uint8_t p[3][3] = {{10, 20, 30}, {130, 70, 100}, {255, 255, 255}};
  for (int x = 0; x < 3; ++x) {
    for (int c = 0; c < 3; ++c) render(x, 0, c) = r[x][c], photo(x, 0, c) = p[x][c];
  }
  const ImageU8 map = ErrorMap(render, photo, 4.0);
  ASSERT_EQ(map.channels(), 3);
  const double expected_t[3] = {0.0, 4.0 * (30 + 30 + 0) / (3 * 255.0), 1.0};
  for (int x = 0; x < 3; ++x) {
    const auto colour = ErrorColour(expected_t[x]);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(map(x, 0, c), colour[c]) << x << "," << c;
  }
  // Gray against RGB compares the replicated gray; alpha is ignored.
  ImageU8 gray(1, 1, 1, 50), rgba(1, 1, 4, 50);
  rgba(0, 0, 3) = 0;
  EXPECT_EQ(ErrorMap(gray, rgba, 4.0)(0, 0, 0), ErrorColour(0)[0]);
  EXPECT_THROW(ErrorMap(ImageU8(2, 1, 3), ImageU8(1, 2, 3), 4.0), Error);
  // The colour scale's ends and its monotonic brightness.
  EXPECT_EQ(ErrorColour(0), (std::array<std::uint8_t, 3>{0, 0, 4}));
  EXPECT_EQ(ErrorColour(1), (std::array<std::uint8_t, 3>{252, 255, 164}));
  double previous = -1;
  for (int i = 0; i <= 100; ++i) {
    const auto c = ErrorColour(i / 100.0);
    const double luma = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    EXPECT_GT(luma, previous) << i;
    previous = luma;
  }
}

TEST(ReportImages, Base64MatchesRfc4648) {
  auto encode = [](std::string_view s) {
    return Base64({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  };
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "Zg==");
  EXPECT_EQ(encode("fo"), "Zm8=");
  EXPECT_EQ(encode("foo"), "Zm9v");
  EXPECT_EQ(encode("foob"), "Zm9vYg==");
  EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
  EXPECT_TRUE(PngDataUri(ImageU8(2, 2, 3)).starts_with("data:image/png;base64,iVBORw0KGgo"));
}

TEST(Report, FormatsNumbersForPeople) {
  EXPECT_EQ(FormatDuration(0.42), "0.42 s");
  EXPECT_EQ(FormatDuration(12.34), "12.3 s");
  EXPECT_EQ(FormatDuration(245), "4 min 05 s");
  EXPECT_EQ(FormatDuration(7380), "2 h 03 min");
  EXPECT_EQ(FormatDuration(0), "\xE2\x80\x93");
  EXPECT_EQ(FormatDuration(NAN), "\xE2\x80\x93");
  EXPECT_EQ(FormatMebibytes(512.3), "512 MiB");
  EXPECT_EQ(FormatMebibytes(1280), "1.25 GiB");
  EXPECT_EQ(FormatMebibytes(20480), "20.0 GiB");
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(-1234), "-1,234");
  auto expect_ticks = [](const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12);
  };
  expect_ticks(NiceTicks(0, 1, 5), {0, 0.2, 0.4, 0.6, 0.8, 1});
  expect_ticks(NiceTicks(3, 97, 5), {20, 40, 60, 80});
  expect_ticks(NiceTicks(-0.013, 0.021, 4), {-0.01, 0, 0.01, 0.02});
}

TEST(Report, UpIsTheCamerasMeanMinusY) {
  const Eigen::Vector3d up = Eigen::Vector3d(0.3, -1.0, 0.2).normalized();
  std::vector<geometry::Rigid3> cams;
  for (int k = 0; k < 8; ++k) {
    const double a = 2 * M_PI * k / 8;
    const Eigen::Vector3d eye =
        3 * (up.unitOrthogonal() * std::cos(a) + up.cross(up.unitOrthogonal()) * std::sin(a)) +
        0.5 * up;
    cams.push_back(geometry::LookAt(eye, Eigen::Vector3d::Zero(), up));
  }
  // Cameras look slightly down, so their -y axes tilt, but symmetrically around up.
  EXPECT_LT((geometry::UpFromCameras(cams) - up).norm(), 1e-9);
  EXPECT_EQ(geometry::UpFromCameras(std::vector<geometry::Rigid3>{}), Eigen::Vector3d::UnitZ());
  // One upright and one upside-down camera cancel out: the fallback.
  const geometry::Rigid3 upright = geometry::LookAt({1, 0, 0}, Eigen::Vector3d::Zero(), {0, 1, 0});
  const geometry::Rigid3 flipped = geometry::LookAt({1, 0, 0}, Eigen::Vector3d::Zero(), {0, -1, 0});
  EXPECT_EQ(geometry::UpFromCameras(std::vector<geometry::Rigid3>{upright, flipped}),
            Eigen::Vector3d::UnitZ());
}

TEST(ReportSvg, ScenePlotSubsamplesPointsAndDrawsEveryCamera) {
  ReportScenePlot scene = FullData().scene;
  for (int i = 0; i < 50000; ++i) scene.points.emplace_back(std::sin(i), std::cos(1.3 * i), 0.0);
  scene.point_colours.clear();
  const ScenePlotSvg plot = RenderScenePlotSvg(scene, 20000);
  EXPECT_LE(plot.points_drawn, 20000);
  EXPECT_GT(plot.points_drawn, 15000);  // only strays beyond the 2nd-98th percentiles are cut
  EXPECT_EQ(plot.cameras_drawn, 12);
  EXPECT_EQ(Count(plot.svg, "Z\"/>"), 12);  // one wedge per camera (they look sideways)
  EXPECT_TRUE(plot.svg.starts_with("<svg "));
  EXPECT_TRUE(RenderScenePlotSvg({}, 100).svg.empty());
  // Points alone (no cameras) still plot, seen down +z.
  ReportScenePlot points_only;
  points_only.points = {{0, 0, 0}, {1, 0, 0}, {0, 1, 5}};
  EXPECT_EQ(RenderScenePlotSvg(points_only, 100).points_drawn, 3);
}

TEST(ReportSvg, CurveHasAxesLegendAndSkipsNonFinitePoints) {
  ReportCurve curve{"PSNR", "iteration", "dB", {}, false};
  curve.series = {{"train", {{0, 10}, {100, 20}, {200, NAN}, {300, 25}}},
                  {"held-out", {{0, 9}, {300, 22}}}};
  const std::string svg = RenderCurveSvg(curve);
  EXPECT_EQ(Count(svg, "stroke-linejoin=\"round\""), 2);       // one line per series
  EXPECT_NE(svg.find(">held-out</text>"), std::string::npos);  // legend
  EXPECT_NE(svg.find(">iteration</text>"), std::string::npos);
  for (const char* nan : {" nan", "Mnan", "Lnan", "nan "})
    EXPECT_EQ(svg.find(nan), std::string::npos);
  // Log scale: decades as ticks, y <= 0 left out.
  ReportCurve loss{"Loss", "iteration", "loss", {{"train", {{0, 0.5}, {1, 0.004}, {2, 0}}}}, true};
  const std::string log_svg = RenderCurveSvg(loss);
  for (const char* tick : {">0.001</text>", ">0.01</text>", ">0.1</text>", ">1</text>"}) {
    EXPECT_NE(log_svg.find(tick), std::string::npos) << tick;
  }
  EXPECT_EQ(log_svg.find(">train</text>"), std::string::npos);  // one series: no legend
}

// ---- In a real browser: headless Chromium loads the page and reports what it drew ----

// Loads `html` from a file in headless Chromium and returns the DOM after the load event.
std::string LoadInChromium(const std::string& chromium, const std::string& html) {
  const testing::TempDir dir;
  const std::filesystem::path page = dir / "report.html";
  WriteFileAtomically(page, html);
  return testing::LoadPageInChromium(chromium, page);
}

TEST(ReportBrowser, LoadsEveryImageAndPlotWithoutErrors) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (scripts/deps.sh installs it)";
  const std::string dom = LoadInChromium(chromium, RenderReportHtml(FullData()));
  ASSERT_EQ(testing::BodyAttribute(dom, "data-report-ready"), 1) << dom.substr(0, 2000);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-images-total"), 8);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-images-found"), 8);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-images-loaded"), 8);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-svgs-total"), 4);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-svgs-rendered"), 4);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-js-errors"), 0);
}

// The check above can fail: a corrupt image is counted as not loaded, and as an error.
TEST(ReportBrowser, NoticesABrokenImage) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (scripts/deps.sh installs it)";
  std::string html = RenderReportHtml(FullData());
  const std::string prefix = "data:image/png;base64,";
  const std::size_t at = html.find(prefix);
  ASSERT_NE(at, std::string::npos);
  html.replace(at + prefix.size(), 8, "AAAAAAAA");  // the PNG signature no longer matches
  const std::string dom = LoadInChromium(chromium, html);
  ASSERT_EQ(testing::BodyAttribute(dom, "data-report-ready"), 1);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-images-found"), 8);
  EXPECT_EQ(testing::BodyAttribute(dom, "data-images-loaded"), 7);
  EXPECT_GE(testing::BodyAttribute(dom, "data-js-errors"), 1);
}

}  // namespace
}  // namespace facet::pipeline
