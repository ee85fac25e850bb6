// `facet eval` as a user runs it: models that are the ground truth seen through a known similarity
// (errors ~0), with one image turned by a known angle, with images missing, in sparse/N folders,
// and the ground truth as a COLMAP model, Strecha cameras (../shared/data) and transforms.json.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "core/file_io.h"
#include "datasets/benchmarks.h"
#include "datasets/colmap_model.h"
#include "datasets/ply.h"
#include "datasets/synthetic/world.h"
#include "datasets/transforms_json.h"
#include "geometry/mesh_checks.h"
#include "geometry/sim3.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using datasets::Scene;
using geometry::Rigid3;
using testing::TempDir;

const fs::path kData = FACET_SOURCE_DIR "/../shared/data";
constexpr double kDegToRad = std::numbers::pi / 180.0;

std::string Quote(const fs::path& path) { return fmt::format("'{}'", path.string()); }

testing::CommandResult Eval(const fs::path& model, const fs::path& gt, const std::string& extra) {
  return testing::RunCommand(std::string("'") + FACET_BINARY + "' eval " + Quote(model) +
                             " --ground-truth " + Quote(gt) + " " + extra);
}

nlohmann::json ReadJson(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
}

Rigid3 LookAt(const Eigen::Vector3d& center, const Eigen::Vector3d& target) {
  const Eigen::Vector3d z = (target - center).normalized();
  const Eigen::Vector3d x = Eigen::Vector3d::UnitZ().cross(z).normalized();
  Eigen::Matrix3d world_from_cam;
  world_from_cam << x, z.cross(x), z;
  const Eigen::Matrix3d r = world_from_cam.transpose();
  return {Eigen::Quaterniond(r), -(r * center)};
}

// Eight cameras on a ring around 40 points, keypoints at the exact projections. Names 0000.jpg ...
Scene GroundTruthScene() {
  Scene scene;
  const geometry::Camera camera{.model = geometry::CameraModelId::kSimpleRadial,
                                .width = 640,
                                .height = 480,
                                .params = {500.0, 320.0, 240.0, -0.05}};
  scene.cameras[datasets::CameraId(1)] = camera;
  for (std::uint32_t i = 0; i < 8; ++i) {
    const double a = 2.0 * std::numbers::pi * i / 8.0;
    datasets::Image& image = scene.images[datasets::ImageId(i + 1)];
    image.id = datasets::ImageId(i + 1);
    image.name = fmt::format("{:04d}.jpg", i);
    image.camera_id = datasets::CameraId(1);
    image.cam_from_world =
        LookAt({5.0 * std::cos(a), 5.0 * std::sin(a), 1.0 + 0.2 * std::sin(3 * a)}, {0, 0, 0});
  }
  for (std::uint64_t p = 0; p < 40; ++p) {
    const double t = double(p);
    const Eigen::Vector3d x(std::sin(1.3 * t), std::cos(0.7 * t), 0.5 * std::sin(2.1 * t));
    datasets::Point3D& point = scene.points3d[datasets::Point3DId(p + 1)];
    point.xyz = x;
    for (auto& [id, image] : scene.images) {
      const auto xy = camera.ImgFromCam(*image.cam_from_world * x);
      if (!xy) continue;
      point.track.push_back({id, static_cast<std::uint32_t>(image.points2d.size())});
      image.points2d.push_back({*xy, datasets::Point3DId(p + 1)});
    }
  }
  scene.Check();
  return scene;
}

// The same scene in another world: new = s R old + t (an SfM gauge).
Scene Transformed(const Scene& scene, const geometry::Sim3& new_from_old) {
  Scene out = scene;
  for (auto& [id, image] : out.images) {
    image.cam_from_world = geometry::TransformPose(new_from_old, *image.cam_from_world);
  }
  for (auto& [id, point] : out.points3d) point.xyz = new_from_old * point.xyz;
  return out;
}

geometry::Sim3 Gauge() {
  return {2.5, Eigen::Quaterniond(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized())),
          Eigen::Vector3d(3.0, -1.0, 0.5)};
}

TEST(EvalCommand, GroundTruthUnderASimilarityHasNoError) {
  TempDir dir;
  const Scene gt = GroundTruthScene();
  datasets::WriteColmapModelText(dir / "gt", gt);
  datasets::WriteColmapModelBinary(dir / "model", Transformed(gt, Gauge()));
  const auto run = Eval(dir / "model", dir / "gt", "--json " + Quote(dir / "eval.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("registered     8 / 8"), std::string::npos) << run.output;
  const nlohmann::json j = ReadJson(dir / "eval.json");
  EXPECT_EQ(j["registered"], 8);
  EXPECT_EQ(j["total_gt"], 8);
  EXPECT_TRUE(j["not_registered"].empty());
  EXPECT_LT(j["center_error_mean"].get<double>(), 1e-9);
  EXPECT_LT(j["center_error_max"].get<double>(), 1e-9);
  EXPECT_LT(j["rotation_error_mean_deg"].get<double>(), 1e-6);
  EXPECT_LT(j["rotation_error_max_deg"].get<double>(), 1e-6);
  EXPECT_LT(j["mean_reprojection_error_px"].get<double>(), 1e-9);  // exact keypoints
  EXPECT_EQ(j["num_points"], 40);
  std::size_t observations = 0;
  for (const auto& [id, point] : gt.points3d) observations += point.track.size();
  EXPECT_DOUBLE_EQ(j["mean_track_length"].get<double>(), observations / 40.0);
  ASSERT_EQ(j["cameras"].size(), 1u);
  EXPECT_EQ(j["cameras"][0]["model"], "SIMPLE_RADIAL");
  EXPECT_EQ(j["cameras"][0]["params"].get<std::vector<double>>(),
            gt.cameras.begin()->second.params);
}

TEST(EvalCommand, ReportsAKnownRotationErrorAndMissingImages) {
  TempDir dir;
  const Scene gt = GroundTruthScene();
  datasets::WriteColmapModelBinary(dir / "gt", gt);
  Scene model = Transformed(gt, Gauge());
  // Image 3 turned by 2 degrees about its own centre (the centre, so the alignment, unchanged).
  Rigid3& pose = *model.images.at(datasets::ImageId(3)).cam_from_world;
  const Eigen::Vector3d center = geometry::CameraCenter(pose);
  pose.rotation = Eigen::Quaterniond(Eigen::AngleAxisd(
                      2.0 * kDegToRad, Eigen::Vector3d(0.3, -1, 0.2).normalized())) *
                  pose.rotation;
  pose.translation = -(pose.rotation * center);
  // Image 8 not registered: its observations go, as COLMAP's models drop them.
  const datasets::ImageId dropped(8);
  for (auto& [id, point] : model.points3d) {
    std::erase_if(point.track,
                  [&](const datasets::TrackElement& e) { return e.image_id == dropped; });
  }
  model.images.erase(dropped);
  datasets::WriteColmapModelText(dir / "model", model);

  const auto run = Eval(dir / "model", dir / "gt", "--json " + Quote(dir / "eval.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = ReadJson(dir / "eval.json");
  EXPECT_EQ(j["registered"], 7);
  EXPECT_EQ(j["total_gt"], 8);
  EXPECT_EQ(j["not_registered"], nlohmann::json::array({"0007.jpg"}));
  EXPECT_NEAR(j["rotation_error_max_deg"].get<double>(), 2.0, 1e-6);
  EXPECT_NEAR(j["rotation_error_mean_deg"].get<double>(), 2.0 / 7.0, 1e-6);
  EXPECT_LT(j["center_error_max"].get<double>(), 1e-9);
  EXPECT_GT(j["mean_reprojection_error_px"].get<double>(), 1.0);  // 2° is ~17 px at f = 500
  EXPECT_NE(run.output.find("not registered 0007.jpg"), std::string::npos) << run.output;
}

TEST(EvalCommand, PicksTheLargestModelAndMatchesByStem) {
  TempDir dir;
  const Scene gt = GroundTruthScene();
  datasets::WriteColmapModelBinary(dir / "gt", gt);
  Scene renamed = Transformed(gt, Gauge());
  for (auto& [id, image] : renamed.images) {
    image.name = fmt::format("images/{}.png", fs::path(image.name).stem().string());
  }
  Scene small = renamed;
  for (std::uint32_t i = 4; i <= 8; ++i) {
    for (auto& [id, point] : small.points3d) {
      std::erase_if(point.track, [&](const datasets::TrackElement& e) {
        return e.image_id == datasets::ImageId(i);
      });
    }
    small.images.erase(datasets::ImageId(i));
  }
  datasets::WriteColmapModelBinary(dir / "run" / "sparse" / "0", small);
  datasets::WriteColmapModelBinary(dir / "run" / "sparse" / "1", renamed);
  const auto run = Eval(dir / "run", dir / "gt", "--json " + Quote(dir / "eval.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = ReadJson(dir / "eval.json");
  EXPECT_EQ(j["registered"], 8);
  EXPECT_LT(j["center_error_max"].get<double>(), 1e-9);
  EXPECT_NE(run.output.find("sparse/1"), std::string::npos) << run.output;
}

TEST(EvalCommand, WithoutGroundTruthReportsTheModelsOwnFigures) {
  TempDir dir;
  Scene model = GroundTruthScene();
  model.cameras.begin()->second = {.model = geometry::CameraModelId::kPinhole,
                                   .width = 640,
                                   .height = 480,
                                   .params = {490.0, 490.0, 320.0, 240.0}};  // focal 2 % short
  datasets::WriteColmapModelBinary(dir / "model", model);
  WriteFileAtomically(dir / "K.txt", std::string_view("500 0 319.5\n0 500 239.5\n0 0 1\n"));
  const auto run = testing::RunCommand(std::string("'") + FACET_BINARY + "' eval " +
                                       Quote(dir / "model") + " --intrinsics " +
                                       Quote(dir / "K.txt") + " --json " + Quote(dir / "e.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = ReadJson(dir / "e.json");
  EXPECT_EQ(j["registered"], model.NumRegisteredImages());
  EXPECT_TRUE(j["total_gt"].is_null());
  EXPECT_TRUE(j["center_error_mean"].is_null());
  EXPECT_EQ(j["num_points"], model.points3d.size());
  EXPECT_NEAR(j["cameras"][0]["focal_error_percent"].get<double>(), -2.0, 1e-9);
  EXPECT_NE(run.output.find("no --ground-truth"), std::string::npos) << run.output;
}

TEST(EvalCommand, DtuCamerasGroundTruth) {
  TempDir dir;
  const Scene gt = GroundTruthScene();
  // IDR/NeuS cameras.txt: per view "view i", P = K [R | t] as 4x4, then a scale matrix. The
  // model's images are named like DTU's, 000000.png, ...
  std::string text = "# DTU-style cameras\n";
  Scene model = Transformed(gt, Gauge());
  int view = 0;
  for (auto& [id, image] : model.images) {
    const geometry::Rigid3& pose = *gt.images.at(id).cam_from_world;
    Eigen::Matrix3d k;
    k << 2000.0, 0.0, 800.0, 0.0, 2000.0, 600.0, 0.0, 0.0, 1.0;
    const Eigen::Matrix<double, 3, 4> p = k * pose.ToMatrix();
    text += fmt::format("view {}\n", view);
    for (int r = 0; r < 3; ++r) {
      text += fmt::format("{:.17g} {:.17g} {:.17g} {:.17g}\n", p(r, 0), p(r, 1), p(r, 2), p(r, 3));
    }
    text += "0 0 0 1\n1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n";
    image.name = fmt::format("{:06d}.png", view++);
  }
  WriteFileAtomically(dir / "cameras.txt", text);
  datasets::WriteColmapModelBinary(dir / "model", model);
  const auto run = Eval(dir / "model", dir / "cameras.txt", "--json " + Quote(dir / "e.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = ReadJson(dir / "e.json");
  EXPECT_EQ(j["registered"], 8);
  EXPECT_LT(j["rotation_error_max_deg"].get<double>(), 1e-6);
  EXPECT_LT(j["center_error_max"].get<double>(), 1e-6);
  EXPECT_NE(run.output.find("DTU cameras"), std::string::npos) << run.output;
}

TEST(EvalCommand, TransformsJsonGroundTruthAndFocalError) {
  TempDir dir;
  Scene gt = GroundTruthScene();
  gt.cameras.begin()->second = {.model = geometry::CameraModelId::kPinhole,
                                .width = 640,
                                .height = 480,
                                .params = {500.0, 500.0, 320.0, 240.0}};
  datasets::WriteTransformsJson(dir / "transforms.json", gt);
  Scene model = Transformed(gt, Gauge());
  model.cameras.begin()->second.params = {510.0, 510.0, 320.0, 240.0};  // focal 2 % long
  datasets::WriteColmapModelBinary(dir / "model", model);
  WriteFileAtomically(dir / "K.txt", std::string_view("500 0 319.5\n0 500 239.5\n0 0 1\n"));
  const auto run =
      Eval(dir / "model", dir / "transforms.json",
           "--intrinsics " + Quote(dir / "K.txt") + " --json " + Quote(dir / "e.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = ReadJson(dir / "e.json");
  EXPECT_EQ(j["registered"], 8);
  EXPECT_LT(j["rotation_error_max_deg"].get<double>(), 1e-6);
  EXPECT_NEAR(j["cameras"][0]["focal_error_percent"].get<double>(), 2.0, 1e-9);
  EXPECT_NE(run.output.find("focal +2.00 %"), std::string::npos) << run.output;
}

TEST(EvalCommand, StrechaGroundTruthFromSharedData) {
  const fs::path folder = kData / "strecha-fountain-P11" / "gt_dense_cameras";
  if (!fs::is_directory(folder)) GTEST_SKIP() << "no " << folder;
  TempDir dir;
  // A model made of the true cameras at quarter size (as from images_q4), in another gauge.
  Scene model;
  std::uint32_t id = 1;
  for (const auto& [name, camera] : datasets::ReadStrechaCameras(folder, {.image_scale = 0.25})) {
    model.cameras[datasets::CameraId(id)] = camera.camera;
    datasets::Image& image = model.images[datasets::ImageId(id)];
    image.id = datasets::ImageId(id);
    image.name = name;
    image.camera_id = datasets::CameraId(id);
    image.cam_from_world = geometry::TransformPose(Gauge(), camera.cam_from_world);
    ++id;
  }
  datasets::WriteColmapModelBinary(dir / "model", model);
  const auto run = Eval(dir / "model", folder,
                        "--intrinsics " + Quote(folder.parent_path() / "images_q4" / "K.txt") +
                            " --json " + Quote(dir / "e.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = ReadJson(dir / "e.json");
  EXPECT_EQ(j["registered"], 11);
  EXPECT_EQ(j["total_gt"], 11);
  EXPECT_LT(j["center_error_max"].get<double>(), 1e-9);  // metres
  EXPECT_LT(j["rotation_error_max_deg"].get<double>(), 1e-6);
  EXPECT_TRUE(j["mean_reprojection_error_px"].is_null());  // no 3D points
  // images_q4/K.txt is the ground truth's K / 4 (written with 2 decimals).
  for (const auto& camera : j["cameras"]) {
    EXPECT_LT(std::abs(camera["focal_error_percent"].get<double>()), 1e-3);
  }
}

TEST(EvalCommand, MissingOrUnknownInputsAreClearErrors) {
  TempDir dir;
  datasets::WriteColmapModelBinary(dir / "gt", GroundTruthScene());
  const auto no_model = Eval(dir / "nowhere", dir / "gt", "");
  EXPECT_EQ(no_model.exit_code, 1) << no_model.output;
  EXPECT_NE(no_model.output.find("nowhere"), std::string::npos) << no_model.output;
  fs::create_directories(dir / "empty");
  const auto empty = Eval(dir / "empty", dir / "gt", "");
  EXPECT_EQ(empty.exit_code, 1) << empty.output;
  EXPECT_NE(empty.output.find("no COLMAP model"), std::string::npos) << empty.output;
  const auto unknown_gt = Eval(dir / "gt", dir / "empty", "");
  EXPECT_EQ(unknown_gt.exit_code, 2) << unknown_gt.output;
  WriteFileAtomically(dir / "K.txt", std::string_view("1 2 3\n"));
  const auto bad_k = Eval(dir / "gt", dir / "gt", "--intrinsics " + Quote(dir / "K.txt"));
  EXPECT_EQ(bad_k.exit_code, 1) << bad_k.output;
  EXPECT_NE(bad_k.output.find("K.txt"), std::string::npos) << bad_k.output;
}

}  // namespace
}  // namespace facet

namespace facet {
namespace {

// The synthetic object, coarse, in the ground truth's frame and (moved by the model's gauge) in
// the model's frame.
TEST(EvalCommand, MeshIsAlignedByTheCamerasCroppedAndCompared) {
  TempDir dir;
  const Scene gt = GroundTruthScene();
  datasets::WriteColmapModelText(dir / "gt", gt);
  datasets::WriteColmapModelBinary(dir / "model", Transformed(gt, Gauge()));
  const geometry::TriangleMesh truth = datasets::synthetic::MakeObjectMesh(0.02);
  datasets::WriteMeshPly(dir / "truth.ply", truth);
  geometry::TriangleMesh moved = truth;
  for (Eigen::Vector3d& v : moved.vertices) v = Gauge() * v;
  datasets::WriteMeshPly(dir / "moved.ply", moved);

  auto run =
      Eval(dir / "model", dir / "gt",
           fmt::format("--mesh {} --ground-truth-mesh {} --json {}", Quote(dir / "moved.ply"),
                       Quote(dir / "truth.ply"), Quote(dir / "eval.json")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json j = ReadJson(dir / "eval.json")["mesh"];
  const double diagonal = j["diagonal"].get<double>();
  EXPECT_NEAR(diagonal, geometry::ComputeBounds(truth.vertices).Extent().norm(), 1e-6);  // floats
  // The same surface: only the 200,000 random samples per surface differ (~4 mm apart).
  EXPECT_LT(j["chamfer_percent_of_diagonal"].get<double>(), 0.25) << run.output;
  EXPECT_GT(j["f_score"].get<double>(), 0.99);
  EXPECT_TRUE(j["aligned"].get<bool>());
  // (This coarse isosurface of the object crosses itself where the mug's wall is thinner than
  // its 2 cm grid.)
  EXPECT_EQ(j["watertight"].get<bool>(), geometry::CheckWatertight(truth).watertight);

  // A surface moved by 3 cm along each axis (in the ground truth's frame): every point of it is
  // 3 to 5.2 cm from where it was, nearer to other parts of the surface at most.
  geometry::TriangleMesh shifted = truth;
  for (Eigen::Vector3d& v : shifted.vertices) v = Gauge() * (v + Eigen::Vector3d::Constant(0.03));
  datasets::WriteMeshPly(dir / "shifted.ply", shifted);
  // A crop that keeps the top half of the object only.
  const geometry::Bounds3 bounds = geometry::ComputeBounds(truth.vertices);
  const double middle = 0.5 * (bounds.min.z() + bounds.max.z());
  std::ofstream(dir / "crop.txt") << "# top half\n"
                                  << bounds.min.x() - 1 << ' ' << bounds.min.y() - 1 << ' '
                                  << middle << ' ' << bounds.max.x() + 1 << ' '
                                  << bounds.max.y() + 1 << ' ' << bounds.max.z() + 1 << "\n";
  run = Eval(dir / "model", dir / "gt",
             fmt::format("--mesh {} --ground-truth-mesh {} --crop-file {} --json {}",
                         Quote(dir / "shifted.ply"), Quote(dir / "truth.ply"),
                         Quote(dir / "crop.txt"), Quote(dir / "eval.json")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  j = ReadJson(dir / "eval.json")["mesh"];
  EXPECT_TRUE(j["cropped"].get<bool>());
  EXPECT_GT(j["chamfer"].get<double>(), 0.01);
  EXPECT_LT(j["chamfer"].get<double>(), 0.052);
  EXPECT_LT(j["f_score"].get<double>(), 0.5);  // mostly beyond the 7 mm threshold

  // A crop box that holds nothing, and a malformed one, are clear errors.
  run = Eval(dir / "model", dir / "gt",
             fmt::format("--mesh {} --ground-truth-mesh {} --crop 100 100 100 101 101 101",
                         Quote(dir / "moved.ply"), Quote(dir / "truth.ply")));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("crop box"), std::string::npos) << run.output;
  run = Eval(dir / "model", dir / "gt",
             fmt::format("--mesh {} --ground-truth-mesh {} --crop 1 1 1 0 0 0",
                         Quote(dir / "moved.ply"), Quote(dir / "truth.ply")));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  run = Eval(dir / "model", dir / "gt", fmt::format("--mesh {}", Quote(dir / "moved.ply")));
  EXPECT_EQ(run.exit_code, 2) << run.output;  // --mesh needs --ground-truth-mesh
}

}  // namespace
}  // namespace facet
