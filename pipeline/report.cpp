#include "pipeline/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "core/error.h"
#include "core/file_io.h"
#include "core/version.h"
#include "pipeline/report_images.h"
#include "pipeline/report_svg.h"

namespace facet::pipeline {
namespace {

constexpr const char* kCss = R"css(
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f5f8;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.wrap{max-width:1200px;margin:0 auto;padding:0 24px}
header{background:linear-gradient(135deg,#1e3a8a,#2563eb);color:#fff;padding:26px 0 22px}
header h1{margin:0;font-size:26px;font-weight:650;letter-spacing:-.01em}
header p{margin:4px 0 0;opacity:.85}
main{padding:4px 0 24px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:20px 0;box-shadow:0 1px 2px rgba(16,24,40,.05)}
h2{font-size:18px;margin:0 0 4px}
.lead{color:var(--muted);margin:0 0 14px;font-size:14px}
table{border-collapse:collapse;width:100%}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tfoot td{font-weight:600;border-bottom:none}
td.detail{color:#374151;font-size:14px}
table.summary tbody{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
table.summary tr{display:flex;flex-direction:column-reverse;justify-content:flex-end;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fafbfc}
table.summary th,table.summary td{border:none;padding:0}
table.summary td{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
table.summary th{text-transform:none;letter-spacing:0;font-size:13px;font-weight:500}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.done{background:#dcfce7;color:#166534}.badge.skipped{background:#e0e7ff;color:#3730a3}
.badge.failed{background:#fee2e2;color:#991b1b}.badge.notrun{background:#f3f4f6;color:#6b7280}
.bar{width:120px;height:8px;border-radius:4px;background:#eef0f4;overflow:hidden}
.bar span{display:block;height:100%;background:var(--accent)}
.alert{border-left:4px solid #f59e0b;background:#fffbeb;padding:10px 14px;border-radius:6px;margin:8px 0}
.alert.error{border-color:#dc2626;background:#fef2f2}
figure{margin:0}
figcaption{color:var(--muted);font-size:13px;margin-top:6px}
svg.plot{width:100%;height:auto;display:block}
.scene{max-width:760px}
figcaption.title{color:var(--fg);font-weight:600;font-size:14px;margin:0 0 4px}
.views{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:22px}
.triple{display:grid;grid-template-columns:repeat(3,1fr);gap:6px}
.triple div{font-size:12px;color:var(--muted);text-align:center}
.triple img,.thumbs img{width:100%;height:auto;display:block;border-radius:4px;background:#eee}
.view figcaption b{color:var(--fg);font-weight:600}
.scale{display:flex;align-items:center;gap:8px;font-size:12px;color:var(--muted);margin:0 0 14px}
.scale span.ramp{width:160px;height:10px;border-radius:3px;background:linear-gradient(90deg,#000004,#280b54,#65156e,#9f2a63,#d44842,#f57d15,#fcffa4)}
.curves{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:22px}
.thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}
.thumbs img{border:1px solid var(--line);border-radius:8px}
footer{color:var(--muted);font-size:12px;padding:0 0 28px}
@media (max-width:640px){.views,.curves{grid-template-columns:1fr}.wrap{padding:0 12px}}
)css";

// Counts what the browser made of the page into <body> (see report.h).
constexpr const char* kScript = R"js(
(function () {
  var errors = 0;
  window.addEventListener('error', function () { errors++; }, true);
  window.addEventListener('load', function () {
    var body = document.body, images = document.images, loaded = 0, drawn = 0;
    for (var i = 0; i < images.length; i++) {
      if (images[i].complete && images[i].naturalWidth > 0) loaded++;
    }
    var svgs = document.querySelectorAll('svg');
    for (var j = 0; j < svgs.length; j++) {
      var box = svgs[j].getBoundingClientRect();
      if (box.width > 0 && box.height > 0) drawn++;
    }
    body.setAttribute('data-images-loaded', loaded);
    body.setAttribute('data-images-found', images.length);
    body.setAttribute('data-svgs-rendered', drawn);
    body.setAttribute('data-js-errors', errors);
    body.setAttribute('data-report-ready', '1');
  });
})();
)js";

std::string StatusClass(const std::string& status) {
  if (status.starts_with("done")) return "done";
  if (status.starts_with("skipped")) return "skipped";
  if (status.starts_with("failed")) return "failed";
  return "notrun";
}

// The page being built: its HTML and the number of <img> and <svg> elements in it.
struct Page {
  std::string html;
  int images = 0;
  int svgs = 0;

  void Image(const ImageU8& image, const std::string& alt) {
    html += fmt::format("<img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\" loading=\"eager\">",
                        PngDataUri(image), image.width(), image.height(), HtmlEscape(alt));
    ++images;
  }
  void Svg(const std::string& svg) {
    html += svg;
    ++svgs;
  }
};

void Warnings(const ReportData& data, Page& page) {
  std::vector<const ReportStage*> failed;
  for (const auto& stage : data.stages) {
    if (StatusClass(stage.status) == "failed") failed.push_back(&stage);
  }
  if (failed.empty() && data.warnings.empty()) return;
  page.html += "<section id=\"warnings\"><h2>Attention</h2>";
  for (const ReportStage* stage : failed) {
    page.html += fmt::format("<div class=\"alert error\"><b>Stage {} failed.</b> {}</div>",
                             HtmlEscape(stage->name), HtmlEscape(stage->detail));
  }
  for (const auto& warning : data.warnings) {
    page.html += fmt::format("<div class=\"alert\">{}</div>", HtmlEscape(warning));
  }
  page.html += "</section>";
}

void Summary(const ReportData& data, Page& page) {
  if (data.summary.empty()) return;
  page.html +=
      "<section id=\"summary\"><h2>Summary</h2><p class=\"lead\">The run at a "
      "glance.</p><table class=\"summary\"><tbody>";
  for (const auto& row : data.summary) {
    page.html += fmt::format("<tr><td>{}</td><th scope=\"row\">{}</th></tr>", HtmlEscape(row.value),
                             HtmlEscape(row.label));
  }
  page.html += "</tbody></table></section>";
}

void Stages(const ReportData& data, Page& page) {
  if (data.stages.empty()) return;
  double total = 0.0;
  for (const auto& stage : data.stages) total += stage.seconds > 0 ? stage.seconds : 0.0;
  page.html +=
      "<section id=\"stages\"><h2>Stages</h2><p class=\"lead\">Wall time and peak memory of each "
      "stage; resumed stages were read back from an earlier run.</p><table><thead><tr>"
      "<th>Stage</th><th>Status</th><th class=\"num\">Time</th><th></th>"
      "<th class=\"num\">Peak memory</th><th>Detail</th></tr></thead><tbody>";
  for (const auto& stage : data.stages) {
    const double share = total > 0 && stage.seconds > 0 ? 100.0 * stage.seconds / total : 0.0;
    page.html += fmt::format(
        "<tr><td>{}</td><td><span class=\"badge {}\">{}</span></td><td class=\"num\">{}</td>"
        "<td><div class=\"bar\" title=\"{:.0f}% of the run\"><span style=\"width:{:.1f}%\">"
        "</span></div></td><td class=\"num\">{}</td><td class=\"detail\">{}</td></tr>",
        HtmlEscape(stage.name), StatusClass(stage.status), HtmlEscape(stage.status),
        FormatDuration(stage.seconds), share, share, FormatMebibytes(stage.peak_memory_mib),
        HtmlEscape(stage.detail));
  }
  page.html += fmt::format(
      "</tbody><tfoot><tr><td>Total</td><td></td><td class=\"num\">{}</td><td></td><td></td>"
      "<td></td></tr></tfoot></table></section>",
      FormatDuration(total));
}

void Scene(const ReportData& data, const ReportOptions& options, Page& page) {
  const ScenePlotSvg plot = RenderScenePlotSvg(data.scene, options.max_plot_points);
  if (plot.svg.empty()) return;
  page.html += "<section id=\"scene\"><h2>Cameras and points</h2><figure class=\"scene\">";
  page.Svg(plot.svg);
  const std::int64_t points = static_cast<std::int64_t>(data.scene.points.size());
  page.html += fmt::format(
      "<figcaption>Seen from above (the up direction estimated from the cameras). {} points{}, "
      "{} cameras: each red wedge opens in its camera's viewing direction.</figcaption>"
      "</figure></section>",
      FormatCount(points),
      plot.points_drawn < points ? fmt::format(" ({} drawn)", FormatCount(plot.points_drawn)) : "",
      FormatCount(plot.cameras_drawn));
}

void HeldOut(const ReportData& data, const ReportOptions& options, Page& page) {
  if (data.held_out.empty()) return;
  const int n = static_cast<int>(data.held_out.size());
  const int shown = std::min(n, options.max_held_out_views);
  page.html += fmt::format(
      "<section id=\"held-out\"><h2>Held-out views</h2><p class=\"lead\">Renders of views left "
      "out of training, beside the photos{}.</p><div class=\"scale\">error map: <span>0</span>"
      "<span class=\"ramp\"></span><span>&ge; {:.0f}% mean absolute error</span></div>"
      "<div class=\"views\">",
      shown < n ? fmt::format(" ({} of {} shown)", shown, n) : "", 100.0 / options.error_gain);
  for (int k = 0; k < shown; ++k) {
    const int i = shown == 1 ? 0 : static_cast<int>(std::lround(double(k) * (n - 1) / (shown - 1)));
    const ReportView& view = data.held_out[i];
    const ImageU8 error = ErrorMap(view.render, view.photo, options.error_gain);
    const std::string name = view.name.empty() ? fmt::format("view {}", i + 1) : view.name;
    page.html += "<figure class=\"view\"><div class=\"triple\">";
    const std::pair<const char*, ImageU8> cells[] = {
        {"Render", ToRgb(view.render)}, {"Photo", ToRgb(view.photo)}, {"Error", error}};
    for (const auto& [label, image] : cells) {
      page.html += fmt::format("<div>{}", label);
      page.Image(DownscaleToWidth(image, options.max_image_width), name + " " + label);
      page.html += "</div>";
    }
    page.html += fmt::format(
        "</div><figcaption><b>{}</b> &middot; PSNR {:.2f} dB &middot; SSIM {:.3f}</figcaption>"
        "</figure>",
        HtmlEscape(name), view.psnr, view.ssim);
  }
  page.html += "</div></section>";
}

void Curves(const ReportData& data, Page& page) {
  std::vector<std::pair<const ReportCurve*, std::string>> plots;
  for (const auto& curve : data.curves) {
    std::string svg = RenderCurveSvg(curve);
    if (!svg.empty()) plots.emplace_back(&curve, std::move(svg));
  }
  if (plots.empty()) return;
  page.html +=
      "<section id=\"training\"><h2>Training</h2><p class=\"lead\">How the model "
      "improved over the iterations.</p><div class=\"curves\">";
  for (const auto& [curve, svg] : plots) {
    page.html += fmt::format("<figure><figcaption class=\"title\">{}{}</figcaption>",
                             HtmlEscape(curve->title), curve->log_y ? " (log scale)" : "");
    page.Svg(svg);
    page.html += "</figure>";
  }
  page.html += "</div></section>";
}

void Mesh(const ReportData& data, const ReportOptions& options, Page& page) {
  if (data.mesh_thumbnails.empty()) return;
  page.html +=
      "<section id=\"mesh\"><h2>Mesh</h2><p class=\"lead\">The extracted surface from "
      "several directions.</p><div class=\"thumbs\">";
  for (const auto& [caption, image] : data.mesh_thumbnails) {
    page.html += "<figure>";
    page.Image(DownscaleToWidth(ToRgb(image), options.max_image_width), caption);
    page.html += fmt::format("<figcaption>{}</figcaption></figure>", HtmlEscape(caption));
  }
  page.html += "</div></section>";
}

}  // namespace

void ReportOptions::Check() const {
  FACET_CHECK(max_image_width >= 16, "ReportOptions::max_image_width must be >= 16 (got {})",
              max_image_width);
  FACET_CHECK(max_held_out_views >= 1, "ReportOptions::max_held_out_views must be >= 1 (got {})",
              max_held_out_views);
  FACET_CHECK(max_plot_points >= 1, "ReportOptions::max_plot_points must be >= 1 (got {})",
              max_plot_points);
  FACET_CHECK(error_gain > 0 && std::isfinite(error_gain),
              "ReportOptions::error_gain must be positive (got {})", error_gain);
}

std::string RenderReportHtml(const ReportData& data, const ReportOptions& options) {
  options.Check();
  for (const auto& view : data.held_out) {
    FACET_CHECK(view.render.width() == view.photo.width() &&
                    view.render.height() == view.photo.height() && !view.photo.empty(),
                "held-out view '{}': the render is {}x{} but the photo {}x{} (render at the "
                "photo's size)",
                view.name, view.render.width(), view.render.height(), view.photo.width(),
                view.photo.height());
  }
  Page body;
  Warnings(data, body);
  Summary(data, body);
  Stages(data, body);
  Scene(data, options, body);
  HeldOut(data, options, body);
  Curves(data, body);
  Mesh(data, options, body);

  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"generator\" content=\"facet {}\"><title>{}</title><style>{}</style>"
      "<script>{}</script></head>\n<body data-images-total=\"{}\" data-svgs-total=\"{}\">"
      "<header><div class=\"wrap\"><h1>{}</h1>{}</div></header><main class=\"wrap\">",
      Version(), HtmlEscape(data.title), kCss, kScript, body.images, body.svgs,
      HtmlEscape(data.title),
      data.subtitle.empty() ? "" : fmt::format("<p>{}</p>", HtmlEscape(data.subtitle)));
  html += body.html;
  html += fmt::format(
      "</main><footer class=\"wrap\">Made by facet {} ({}). This page is self-contained: it "
      "loads nothing from the network.</footer></body></html>\n",
      Version(), HtmlEscape(GitRevision()));
  return html;
}

void WriteReport(const ReportData& data, const std::filesystem::path& path,
                 const ReportOptions& options) {
  WriteFileAtomically(path, RenderReportHtml(data, options));
}

std::string FormatDuration(double seconds) {
  if (!(seconds > 0)) return "\xE2\x80\x93";  // an en dash
  if (seconds < 10) return fmt::format("{:.2f} s", seconds);
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const auto whole = static_cast<std::int64_t>(std::lround(seconds));
  if (whole < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
  return fmt::format("{} h {:02} min", whole / 3600, (whole % 3600) / 60);
}

std::string FormatMebibytes(double mib) {
  if (!(mib > 0)) return "\xE2\x80\x93";  // an en dash
  if (mib < 1024) return fmt::format("{:.0f} MiB", mib);
  if (mib < 10 * 1024) return fmt::format("{:.2f} GiB", mib / 1024);
  return fmt::format("{:.1f} GiB", mib / 1024);
}

std::string FormatCount(std::int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -(n + 1) + 1ull : std::uint64_t(n));
  std::string out = n < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace facet::pipeline
