// report.html: the one page a person opens after `facet reconstruct`. Plain data in, one
// self-contained HTML file out: every image is an inline PNG data URI and every plot inline SVG,
// so the page opens offline, from a mail attachment or a copied folder, with no network at all.
//
// Sections, each left out when its data is empty (a failed run still gets its stages and the
// failure): warnings, summary table, stages (status, time, peak memory), a top-down plot of the
// cameras and points, held-out renders beside their photos with error maps, training curves,
// mesh thumbnails.
//
// The page carries a small script that, after the window's load event, writes what a browser
// made of it into <body>: data-images-loaded (images complete with a natural width),
// data-images-total, data-svgs-rendered (inline SVGs with a non-empty box), data-svgs-total,
// data-js-errors (errors caught by window's error listener, failed image loads included) and
// data-report-ready="1". Tests read these from a headless browser's DOM.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/image.h"
#include "geometry/rigid3.h"

namespace facet::pipeline {

// One line of the summary table; the value is shown as given (see the Format* helpers below).
struct ReportRow {
  std::string label;
  std::string value;
};

// One stage of the run, in order.
struct ReportStage {
  std::string name;              // "sfm", "splat", "mesh", ...
  std::string status;            // "done", "skipped (resumed)", "failed" or "not run"
  double seconds = 0.0;          // wall time; <= 0 or NaN shows as a dash
  double peak_memory_mib = 0.0;  // peak resident memory; <= 0 or NaN shows as a dash
  std::string detail;            // one line: what it made, or why it failed
};

// A line plot: one or more named series of (x, y) points over a shared pair of axes.
struct ReportCurve {
  std::string title;  // "Loss", "Held-out PSNR", "Gaussians"
  std::string x_label;
  std::string y_label;
  std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> series;
  bool log_y = false;  // log10 y axis; points with y <= 0 are then left out
};

// A held-out view: the model's render beside the photo. The report computes the error map (the
// per-pixel mean absolute RGB difference, magnified and colour-mapped, see ErrorMap). render and
// photo must have the same size (1, 3 or 4 channels; alpha is ignored).
struct ReportView {
  std::string name;
  ImageU8 render;
  ImageU8 photo;
  double psnr = 0.0;  // dB
  double ssim = 0.0;
};

// The top-down plot: points projected onto the plane orthogonal to the scene's up
// (geometry::UpFromCameras), cameras drawn as small wedges opening in their viewing direction.
struct ReportScenePlot {
  std::vector<Eigen::Vector3d> points;                     // world frame
  std::vector<std::array<std::uint8_t, 3>> point_colours;  // sRGB, one per point, or empty
  std::vector<geometry::Rigid3> cam_from_world;
};

struct ReportData {
  std::string title = "facet reconstruction";
  std::string subtitle;  // e.g. the input folder and the date
  std::vector<ReportRow> summary;
  std::vector<ReportStage> stages;
  ReportScenePlot scene;
  std::vector<ReportView> held_out;
  std::vector<ReportCurve> curves;
  std::vector<std::pair<std::string, ImageU8>> mesh_thumbnails;  // caption, image
  std::vector<std::string> warnings;                             // shown at the top, highlighted
};

struct ReportOptions {
  // Images wider than this are downscaled (area averaging) before embedding, to keep the file
  // small; the page shows them at most this wide anyway.
  int max_image_width = 400;
  // At most this many held-out views are shown, evenly spaced through the list.
  int max_held_out_views = 12;
  // Points drawn in the top-down plot at most (evenly subsampled); an SVG of more gets slow.
  int max_plot_points = 20000;
  // The error map shows |render - photo| * error_gain (a mean error of 255 / gain saturates).
  double error_gain = 4.0;

  void Check() const;
};

// The whole page. Throws facet::Error for a held-out view whose render and photo differ in size.
std::string RenderReportHtml(const ReportData& data, const ReportOptions& options = {});

// Renders and writes `path` atomically (core/file_io.h); the parent folder must exist.
void WriteReport(const ReportData& data, const std::filesystem::path& path,
                 const ReportOptions& options = {});

// ---- Building blocks, public for the orchestrator and the tests ----

// The error map of a held-out view: 3-channel sRGB, each pixel the colour map (ErrorColour) of
// min(1, gain * mean_c |render_c - photo_c| / 255) over the RGB channels. Throws facet::Error when
// the sizes differ.
ImageU8 ErrorMap(const ImageU8& render, const ImageU8& photo, double gain);

// The error map's colour scale at t in [0, 1] (clamped): black through purple and orange to pale
// yellow (matplotlib's "inferno"), brightness rising monotonically with t.
std::array<std::uint8_t, 3> ErrorColour(double t);

// "0.42 s", "12.3 s", "4 min 05 s", "2 h 03 min"; a dash for <= 0 or NaN.
std::string FormatDuration(double seconds);
// "512 MiB", "1.25 GiB"; a dash for <= 0 or NaN.
std::string FormatMebibytes(double mib);
// 1234567 -> "1,234,567".
std::string FormatCount(std::int64_t n);
// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace facet::pipeline
