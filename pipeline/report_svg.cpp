#include "pipeline/report_svg.h"

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace facet::pipeline {
namespace {

constexpr const char* kPalette[] = {"#2563eb", "#dc2626", "#16a34a",
                                    "#9333ea", "#ea580c", "#0891b2"};

// The value at fraction q of the sorted values (nearest rank); values is reordered.
double Percentile(std::vector<double>& values, double q) {
  const auto k = static_cast<std::size_t>(std::lround(q * double(values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

// A tick label with as many decimals as the tick step needs; thousands and millions shortened.
std::string FormatTick(double v, double step) {
  if (std::abs(v) < 1e-12 * std::max(1.0, std::abs(step))) return "0";
  const double a = std::abs(v);
  if (a >= 1e6 && step >= 1e5) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e3 && step >= 1e3) return fmt::format("{:g}k", v / 1e3);
  if (a < 1e-3 || a >= 1e9) return fmt::format("{:.2g}", v);
  const int decimals = std::clamp(-static_cast<int>(std::floor(std::log10(step) + 1e-9)), 0, 6);
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::ceil(lo / step - 1e-9);
  for (double k = first; k * step <= hi + 1e-9 * step; k += 1) {
    ticks.push_back(k == 0 ? 0.0 : k * step);
  }
  return ticks;
}

ScenePlotSvg RenderScenePlotSvg(const ReportScenePlot& scene, int max_points) {
  ScenePlotSvg out;
  if (scene.points.empty() && scene.cam_from_world.empty()) return out;
  const Eigen::Vector3d up = geometry::UpFromCameras(scene.cam_from_world);
  // Any basis of the ground plane, then rotated to the principal axis of what is drawn.
  Eigen::Vector3d a = up.unitOrthogonal();
  Eigen::Vector3d b = up.cross(a);
  std::vector<Eigen::Vector2d> cams;
  for (const auto& pose : scene.cam_from_world) {
    const Eigen::Vector3d c = geometry::CameraCenter(pose);
    cams.emplace_back(c.dot(a), c.dot(b));
  }
  const std::size_t stride =
      std::max<std::size_t>(1, (scene.points.size() + max_points - 1) / std::max(1, max_points));
  std::vector<std::size_t> picked;
  for (std::size_t i = 0; i < scene.points.size(); i += stride) {
    if (scene.points[i].allFinite()) picked.push_back(i);
  }
  std::vector<Eigen::Vector2d> pts;
  pts.reserve(picked.size());
  for (const std::size_t i : picked)
    pts.emplace_back(scene.points[i].dot(a), scene.points[i].dot(b));

  if (pts.empty() && cams.empty()) return out;
  Eigen::Vector2d mean = Eigen::Vector2d::Zero();
  for (const auto& p : pts) mean += p;
  for (const auto& c : cams) mean += c;
  mean /= double(pts.size() + cams.size());
  Eigen::Matrix2d cov = Eigen::Matrix2d::Zero();
  for (const auto& p : pts) cov += (p - mean) * (p - mean).transpose();
  for (const auto& c : cams) cov += (c - mean) * (c - mean).transpose();
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(cov);
  Eigen::Vector2d major = eig.eigenvectors().col(1);
  if (!major.allFinite() || major.norm() < 0.5) major = Eigen::Vector2d::UnitX();
  const Eigen::Vector3d u = (major.x() * a + major.y() * b).normalized();  // screen right
  const Eigen::Vector3d w = up.cross(u);  // screen up, seen from above (u, w, up right-handed)
  auto project = [&](const Eigen::Vector3d& x) { return Eigen::Vector2d(x.dot(u), x.dot(w)); };

  // The frame: robust extent of the points, and every camera.
  Eigen::Vector2d lo = Eigen::Vector2d::Constant(std::numeric_limits<double>::infinity());
  Eigen::Vector2d hi = -lo;
  std::vector<Eigen::Vector2d> proj_pts;
  proj_pts.reserve(picked.size());
  for (const std::size_t i : picked) proj_pts.push_back(project(scene.points[i]));
  // Fewer than 50 points: all of them (percentiles of so few would crop real points).
  if (!proj_pts.empty()) {
    const bool robust = proj_pts.size() >= 50;
    for (int d = 0; d < 2; ++d) {
      std::vector<double> v;
      v.reserve(proj_pts.size());
      for (const auto& p : proj_pts) v.push_back(p[d]);
      lo[d] = Percentile(v, robust ? 0.02 : 0.0);
      hi[d] = Percentile(v, robust ? 0.98 : 1.0);
    }
  }
  std::vector<Eigen::Vector2d> proj_cams;
  for (const auto& pose : scene.cam_from_world) {
    proj_cams.push_back(project(geometry::CameraCenter(pose)));
    lo = lo.cwiseMin(proj_cams.back());
    hi = hi.cwiseMax(proj_cams.back());
  }
  Eigen::Vector2d extent = hi - lo;
  const double size = std::max({extent.x(), extent.y(), 1e-9});
  extent = extent.cwiseMax(0.05 * size);
  const Eigen::Vector2d centre = 0.5 * (lo + hi);

  constexpr double kWidth = 760.0;
  constexpr double kPad = 24.0;
  const double height = std::clamp(kWidth * extent.y() / extent.x(), 320.0, 640.0);
  const double scale = std::min((kWidth - 2 * kPad) / extent.x(), (height - 2 * kPad) / extent.y());
  auto to_svg = [&](const Eigen::Vector2d& p) {
    return Eigen::Vector2d(kWidth / 2 + scale * (p.x() - centre.x()),
                           height / 2 - scale * (p.y() - centre.y()));
  };
  auto inside = [&](const Eigen::Vector2d& s) {
    return s.x() >= 1 && s.x() <= kWidth - 1 && s.y() >= 1 && s.y() <= height - 1;
  };

  std::string& svg = out.svg;
  svg = fmt::format(
      "<svg class=\"plot scene\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>Top-down view of cameras and points</title>"
      "<rect x=\"0.5\" y=\"0.5\" width=\"{:.0f}\" height=\"{:.0f}\" rx=\"6\" fill=\"#fbfbfd\" "
      "stroke=\"#d5d9e0\"/>",
      kWidth, height, kWidth - 1, height - 1);
  // Points: one path per quantised colour, a round-capped zero-length segment per point.
  std::map<std::uint32_t, std::string> paths;
  for (std::size_t k = 0; k < picked.size(); ++k) {
    const Eigen::Vector2d s = to_svg(proj_pts[k]);
    if (!inside(s)) continue;
    std::uint32_t key = 0x4a6fa5;
    if (scene.point_colours.size() == scene.points.size()) {
      const auto& c = scene.point_colours[picked[k]];
      key = (std::uint32_t(c[0] >> 4) * 0x11 << 16) | (std::uint32_t(c[1] >> 4) * 0x11 << 8) |
            (std::uint32_t(c[2] >> 4) * 0x11);
    }
    fmt::format_to(std::back_inserter(paths[key]), "M{:.0f} {:.0f}h0", s.x(), s.y());
    ++out.points_drawn;
  }
  svg += "<g stroke-width=\"2.4\" stroke-linecap=\"round\" fill=\"none\">";
  for (const auto& [key, d] : paths)
    svg += fmt::format("<path stroke=\"#{:06x}\" d=\"{}\"/>", key, d);
  svg += "</g><g fill=\"#ef4444\" fill-opacity=\"0.75\" stroke=\"#991b1b\" stroke-width=\"1\">";
  // Cameras: a wedge from the centre opening along the viewing direction, or a dot for cameras
  // looking straight up or down.
  for (std::size_t k = 0; k < proj_cams.size(); ++k) {
    const Eigen::Vector2d s = to_svg(proj_cams[k]);
    const Eigen::Vector3d z_in_world =
        scene.cam_from_world[k].rotation.inverse() * Eigen::Vector3d::UnitZ();
    Eigen::Vector2d dir(z_in_world.dot(u), -z_in_world.dot(w));  // svg y grows downwards
    ++out.cameras_drawn;
    if (dir.norm() < 0.3) {
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\"/>", s.x(), s.y());
      continue;
    }
    dir.normalize();
    const Eigen::Vector2d side(-dir.y(), dir.x());
    constexpr double kLength = 16.0;
    const Eigen::Vector2d p1 = s + kLength * (dir + 0.55 * side);
    const Eigen::Vector2d p2 = s + kLength * (dir - 0.55 * side);
    svg += fmt::format("<path d=\"M{:.1f} {:.1f}L{:.1f} {:.1f}L{:.1f} {:.1f}Z\"/>", s.x(), s.y(),
                       p1.x(), p1.y(), p2.x(), p2.y());
  }
  svg += "</g></svg>";
  return out;
}

std::string RenderCurveSvg(const ReportCurve& curve) {
  // Finite points per series, y in log10 when asked; long series thinned to ~1500 points.
  std::vector<std::pair<std::string, std::vector<Eigen::Vector2d>>> series;
  Eigen::Vector2d lo = Eigen::Vector2d::Constant(std::numeric_limits<double>::infinity());
  Eigen::Vector2d hi = -lo;
  for (const auto& [name, values] : curve.series) {
    std::vector<Eigen::Vector2d> kept;
    const std::size_t stride = std::max<std::size_t>(1, values.size() / 1500);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i % stride != 0 && i + 1 != values.size()) continue;
      double y = values[i].second;
      if (curve.log_y) y = y > 0 ? std::log10(y) : std::numeric_limits<double>::quiet_NaN();
      const Eigen::Vector2d p(values[i].first, y);
      if (!p.allFinite()) continue;
      kept.push_back(p);
      lo = lo.cwiseMin(p);
      hi = hi.cwiseMax(p);
    }
    if (!kept.empty()) series.emplace_back(name, std::move(kept));
  }
  if (series.empty()) return {};

  // Axis ranges: x as the data, y widened to whole tick steps (whole decades when logarithmic).
  if (hi.x() <= lo.x()) hi.x() = lo.x() + 1.0;
  std::vector<double> y_ticks;
  if (curve.log_y) {
    lo.y() = std::floor(lo.y());
    hi.y() = std::max(std::ceil(hi.y()), lo.y() + 1.0);
    const int every = std::max(1, static_cast<int>(std::ceil((hi.y() - lo.y()) / 6.0)));
    for (double e = lo.y(); e <= hi.y() + 1e-9; e += every) y_ticks.push_back(e);
  } else {
    if (hi.y() <= lo.y()) {
      const double pad = std::max(1e-9, 0.05 * std::abs(lo.y()));
      lo.y() -= pad;
      hi.y() += pad;
    }
    y_ticks = NiceTicks(lo.y(), hi.y(), 5);
    const double step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : hi.y() - lo.y();
    lo.y() = std::floor(lo.y() / step + 1e-9) * step;
    hi.y() = std::ceil(hi.y() / step - 1e-9) * step;
    y_ticks = NiceTicks(lo.y(), hi.y(), 5);
  }
  const std::vector<double> x_ticks = NiceTicks(lo.x(), hi.x(), 6);
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : hi.x() - lo.x();
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : hi.y() - lo.y();

  constexpr double kW = 520, kH = 300, kLeft = 64, kRight = 14, kTop = 14, kBottom = 46;
  auto sx = [&](double x) {
    return kLeft + (x - lo.x()) / (hi.x() - lo.x()) * (kW - kLeft - kRight);
  };
  auto sy = [&](double y) {
    return kH - kBottom - (y - lo.y()) / (hi.y() - lo.y()) * (kH - kTop - kBottom);
  };

  std::string svg = fmt::format(
      "<svg class=\"plot curve\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\"><title>{}</title>",
      kW, kH, HtmlEscape(curve.title));
  svg += "<g stroke=\"#e5e7eb\" stroke-width=\"1\">";
  for (const double t : y_ticks)
    svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", kLeft,
                       kW - kRight, sy(t), sy(t));
  for (const double t : x_ticks)
    svg += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\"/>", sx(t), sx(t),
                       kTop, kH - kBottom);
  svg += fmt::format(
      "</g><path d=\"M{0} {1}V{2}H{3}\" fill=\"none\" stroke=\"#6b7280\" stroke-width=\"1\"/>",
      kLeft, kTop, kH - kBottom, kW - kRight);
  svg += "<g fill=\"#4b5563\">";
  for (const double t : y_ticks) {
    const std::string label =
        curve.log_y ? FormatTick(std::pow(10.0, t), std::pow(10.0, t)) : FormatTick(t, y_step);
    svg += fmt::format(
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
        kLeft - 6, sy(t), label);
  }
  for (const double t : x_ticks) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", sx(t),
                       kH - kBottom + 16, FormatTick(t, x_step));
  }
  svg +=
      fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" fill=\"#111827\">{}</text>",
                  kLeft + (kW - kLeft - kRight) / 2, kH - 8, HtmlEscape(curve.x_label));
  svg += fmt::format(
      "<text transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#111827\">{}</text></g>",
      kTop + (kH - kTop - kBottom) / 2, HtmlEscape(curve.y_label));

  for (std::size_t k = 0; k < series.size(); ++k) {
    std::string d;
    for (std::size_t i = 0; i < series[k].second.size(); ++i) {
      const Eigen::Vector2d& p = series[k].second[i];
      fmt::format_to(std::back_inserter(d), "{}{:.1f} {:.1f}", i == 0 ? 'M' : 'L', sx(p.x()),
                     sy(p.y()));
    }
    if (series[k].second.size() == 1) d += "h0.01";  // one point: a dot (round caps)
    svg += fmt::format(
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" stroke-linejoin=\"round\" "
        "stroke-linecap=\"round\"/>",
        d, kPalette[k % std::size(kPalette)]);
  }
  // Legend, top right inside the plot, when there is more than one series.
  if (series.size() > 1) {
    std::size_t longest = 0;
    for (const auto& s : series) longest = std::max(longest, s.first.size());
    const double box_w = 34 + 7.0 * double(longest);
    const double x0 = kW - kRight - box_w - 6, y0 = kTop + 6;
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" rx=\"4\" fill=\"#ffffff\" "
        "fill-opacity=\"0.9\" stroke=\"#e5e7eb\"/>",
        x0, y0, box_w, 8 + 16 * series.size());
    for (std::size_t k = 0; k < series.size(); ++k) {
      const double y = y0 + 12 + 16.0 * double(k);
      svg += fmt::format(
          "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
          "stroke-width=\"2.5\"/><text x=\"{:.1f}\" y=\"{:.1f}\" dominant-baseline=\"middle\" "
          "fill=\"#111827\">{}</text>",
          x0 + 8, x0 + 24, y, y, kPalette[k % std::size(kPalette)], x0 + 30, y,
          HtmlEscape(series[k].first));
    }
  }
  svg += "</svg>";
  return svg;
}

}  // namespace facet::pipeline
