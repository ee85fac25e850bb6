// The inline SVG plots of report.html: the top-down view of cameras and points, and the training
// curves. Each returns one <svg> element that scales with the page (viewBox, no fixed size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/report.h"

namespace facet::pipeline {

struct ScenePlotSvg {
  std::string svg;                // empty when there is nothing to draw
  std::int64_t points_drawn = 0;  // after subsampling and cropping to the plot
  std::int64_t cameras_drawn = 0;
};

// Points and cameras projected onto the plane orthogonal to geometry::UpFromCameras(cameras), seen
// from above, the plot's horizontal axis along the scene's longest extent. The frame covers the
// cameras and the points between their 2nd and 98th percentiles (stray points fall outside and are
// dropped). At most `max_points` points, evenly subsampled; their colours quantised to 4 bits a
// channel so points of one colour share one <path>.
ScenePlotSvg RenderScenePlotSvg(const ReportScenePlot& scene, int max_points);

// A line chart with axes, ticks, grid, axis labels and (for several series) a legend; empty when
// the curve has no finite point.
std::string RenderCurveSvg(const ReportCurve& curve);

// Ticks at 1, 2 or 5 times a power of ten covering [lo, hi], about `target` of them.
std::vector<double> NiceTicks(double lo, double hi, int target);

}  // namespace facet::pipeline
