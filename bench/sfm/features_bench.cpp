// SIFT extraction on a 1024 x 768 view of the synthetic scene: facet's ExtractSift (gray
// conversion, OpenCV SIFT, deterministic selection of the strongest 8192, RootSIFT bytes)
// against OpenCV's detectAndCompute alone with the same thresholds.
#include <benchmark/benchmark.h>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "datasets/synthetic/synthetic_scene.h"
#include "sfm/features.h"

namespace facet::sfm {
namespace {

const ImageU8& View1024() {
  static const ImageU8 image = [] {
    datasets::synthetic::SynthOptions options;
    options.num_views = 8;
    options.width = 1024;
    options.height = 768;
    const datasets::synthetic::SyntheticScene scene =
        datasets::synthetic::MakeSyntheticScene(options);
    const datasets::synthetic::Renderer renderer = datasets::synthetic::MakeRenderer(scene);
    return datasets::synthetic::RenderSyntheticView(scene, renderer, 0).rgb;
  }();
  return image;
}

void BM_ExtractSift(benchmark::State& state) {
  const ImageU8& image = View1024();
  std::size_t n = 0;
  for (auto _ : state) {
    n = ExtractSift(image).keypoints.size();
    benchmark::DoNotOptimize(n);
  }
  state.counters["features"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations());
}

void BM_OpenCvSiftDetectAndCompute(benchmark::State& state) {
  const ImageU8& image = View1024();
  const cv::Mat rgb(image.height(), image.width(), CV_8UC3,
                    const_cast<std::uint8_t*>(image.data()));
  cv::Mat gray;
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
  const SiftOptions defaults;
  cv::Ptr<cv::SIFT> sift = cv::SIFT::create(defaults.max_num_features, 3,
                                            defaults.contrast_threshold, defaults.edge_threshold);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  for (auto _ : state) {
    sift->detectAndCompute(gray, cv::noArray(), keypoints, descriptors);
    benchmark::DoNotOptimize(descriptors.data);
  }
  state.counters["features"] = static_cast<double>(keypoints.size());
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_ExtractSift)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OpenCvSiftDetectAndCompute)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace facet::sfm
