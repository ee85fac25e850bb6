// RGB-D SLAM on the synthetic hand-held sequence (exact depth and ground truth): a full orbit of
// the room closes its loop and the trajectory stays within a centimetre of the truth; frames that
// cannot be read are reported, not fused; bad input is refused.
#include "sfm/slam.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "datasets/synthetic/synthetic_scene.h"
#include "geometry/mesh_checks.h"
#include "geometry/pose_metrics.h"

namespace facet::sfm {
namespace {

using datasets::synthetic::SyntheticScene;

// A synthetic hand-held sequence: every `stride`-th frame of `frames` at 30 Hz, rendered once.
struct Sequence {
  SyntheticScene synthetic;
  std::vector<SlamFrame> frames;
  std::vector<geometry::Rigid3> gt_cam_from_world;

  SlamFrameSource Source() const {
    SlamFrameSource source;
    source.camera = synthetic.scene.cameras.at(datasets::CameraId(1));
    source.count = static_cast<int>(frames.size());
    source.load = [this](int i) { return frames[std::size_t(i)]; };
    return source;
  }
};

Sequence MakeSequence(int frames, int stride, int width, int height) {
  datasets::synthetic::SynthOptions options;
  options.rgbd = true;
  options.num_views = frames;
  options.width = width;
  options.height = height;
  options.supersampling = 1;
  Sequence sequence;
  sequence.synthetic = datasets::synthetic::MakeSyntheticScene(options);
  const datasets::synthetic::Renderer renderer =
      datasets::synthetic::MakeRenderer(sequence.synthetic);
  for (int i = 0; i < frames; i += stride) {
    datasets::synthetic::RenderedView view =
        datasets::synthetic::RenderSyntheticView(sequence.synthetic, renderer, i);
    sequence.frames.push_back({std::move(view.depth), std::move(view.rgb)});
    const datasets::ImageId id = sequence.synthetic.image_order[std::size_t(i)];
    sequence.gt_cam_from_world.push_back(*sequence.synthetic.scene.images.at(id).cam_from_world);
  }
  return sequence;
}

double Ate(const SlamResult& result, const std::vector<geometry::Rigid3>& gt) {
  std::vector<geometry::Rigid3> estimated;
  for (const SlamFrameResult& frame : result.frames) {
    estimated.push_back(frame.world_from_cam.Inverse());
  }
  const auto errors = geometry::ComputeAbsolutePoseErrors(estimated, gt, {.estimate_scale = false});
  EXPECT_TRUE(errors.has_value());
  return errors ? errors->ate_rmse : 1e9;
}

// The full orbit around the object (radius 1.7 m, 25 s at 30 Hz), every third frame: the camera
// returns to where it started, so the last keyframes must close the loop with the first.
TEST(Slam, FullOrbitClosesTheLoopWithinACentimetre) {
  const Sequence sequence = MakeSequence(754, 3, 160, 120);
  SlamOptions options;
  options.voxel_size = 0.02;
  const SlamResult result = RunSlam(sequence.Source(), options);
  ASSERT_EQ(result.frames.size(), sequence.frames.size());
  EXPECT_EQ(result.lost_frames, 0);
  EXPECT_EQ(result.missing_frames, 0);
  const int kept = static_cast<int>(
      std::count_if(result.loops.begin(), result.loops.end(), [](auto& l) { return l.kept; }));
  EXPECT_GE(kept, 1) << "no loop closed";
  // A loop joins the orbit's two ends (frames a quarter of the sequence or more apart).
  EXPECT_TRUE(std::any_of(result.loops.begin(), result.loops.end(), [&](const SlamLoop& l) {
    return l.kept && std::abs(l.source_frame - l.target_frame) > int(result.frames.size()) / 2;
  }));
  const double ate = Ate(result, sequence.gt_cam_from_world);
  EXPECT_LT(ate, 0.01);
  RecordProperty("ate_rmse_m", std::to_string(ate));
  RecordProperty("frames_per_second", std::to_string(result.timings.frames_per_second));

  ASSERT_TRUE(result.map.has_value());
  const geometry::TriangleMesh mesh = result.map->ExtractMesh();
  EXPECT_TRUE(geometry::CheckWatertight(mesh).watertight);
}

TEST(Slam, MissingFramesAreReportedAndSkipped) {
  const Sequence sequence = MakeSequence(40, 2, 160, 120);
  SlamFrameSource source = sequence.Source();
  const auto load = source.load;
  source.load = [load](int i) {
    if (i == 0 || i == 7) FACET_THROW("frame {} is unreadable", i);
    SlamFrame frame = load(i);
    if (i == 12) std::fill(frame.depth_m.data(), frame.depth_m.data() + frame.depth_m.size(), 0.f);
    return frame;
  };
  const SlamResult result = RunSlam(source, {});
  EXPECT_EQ(result.missing_frames, 3);
  EXPECT_EQ(result.frames[0].status, SlamFrameStatus::kMissing);
  EXPECT_EQ(result.frames[7].status, SlamFrameStatus::kMissing);
  EXPECT_EQ(result.frames[12].status, SlamFrameStatus::kMissing);
  EXPECT_EQ(result.lost_frames, 0);
  // The world is the first readable frame's camera: compare the others relative to it.
  for (std::size_t i = 1; i < result.frames.size(); ++i) {
    if (result.frames[i].status == SlamFrameStatus::kMissing) continue;
    const geometry::Rigid3 gt_first_from_cam =
        sequence.gt_cam_from_world[1] * sequence.gt_cam_from_world[i].Inverse();
    EXPECT_LT((result.frames[i].world_from_cam.translation - gt_first_from_cam.translation).norm(),
              0.01)
        << "frame " << i;
  }
}

TEST(Slam, BadInputIsRefused) {
  const Sequence sequence = MakeSequence(2, 1, 64, 48);
  SlamFrameSource source = sequence.Source();
  SlamFrameSource empty = source;
  empty.count = 0;
  EXPECT_THROW(RunSlam(empty, {}), Error);
  SlamFrameSource unreadable = source;
  unreadable.load = [](int) -> SlamFrame { FACET_THROW("no such file"); };
  EXPECT_THROW(RunSlam(unreadable, {}), Error);
  SlamFrameSource distorted = source;
  distorted.camera = geometry::Camera::Create(geometry::CameraModelId::kSimpleRadial, 50.0, 64, 48);
  EXPECT_THROW(RunSlam(distorted, {}), Error);
  SlamFrameSource wrong_size = source;
  wrong_size.camera.width = 32;
  EXPECT_THROW(RunSlam(wrong_size, {}), Error);
  SlamOptions options;
  options.voxel_size = 0.0;
  EXPECT_THROW(RunSlam(source, options), Error);
}

}  // namespace
}  // namespace facet::sfm
