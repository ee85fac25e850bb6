// `facet convert` as a user runs it: every supported conversion and round trip on small inputs
// written by the library's writers, exit codes, and the shared real files when present.
#include "datasets/convert.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>

#include "common/run_command.h"
#include "common/temp_dir.h"
#include "datasets/colmap_model.h"
#include "datasets/colmap_test_scene.h"
#include "datasets/format_test_util.h"
#include "datasets/gaussian_splats.h"
#include "datasets/gltf.h"
#include "datasets/pcd.h"
#include "datasets/ply.h"
#include "datasets/transforms_json.h"

namespace facet {
namespace {

namespace fs = std::filesystem;
using datasets::GaussianSplats;
using datasets::Scene;
using testing::TempDir;

std::string Quote(const fs::path& path) { return "'" + path.string() + "'"; }

// Runs `facet convert INPUT -o OUTPUT EXTRA`.
testing::CommandResult Convert(const fs::path& input, const fs::path& output,
                               const std::string& extra = "") {
  return testing::RunCommand(std::string("'") + FACET_BINARY + "' convert " + Quote(input) +
                             " -o " + Quote(output) + " " + extra);
}

int Lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string FileText(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = facet::ReadFile(path);
  return {bytes.begin(), bytes.end()};
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// A scene whose cameras transforms.json can hold without changing model (PINHOLE, OPENCV,
// OPENCV_FISHEYE), with keypoints and 3D points, which transforms.json drops.
Scene JsonFriendlyScene() {
  Scene scene = testing::RandomScene(3, {.extreme_values = false});
  const std::map<datasets::CameraId, geometry::Camera> all = scene.cameras;
  scene.cameras.clear();
  const datasets::CameraId kept[] = {datasets::CameraId(11), datasets::CameraId(14),
                                     datasets::CameraId(15)};
  for (const auto id : kept) scene.cameras[id] = all.at(id);
  std::size_t i = 0;
  for (auto& [id, image] : scene.images) image.camera_id = kept[i++ % std::size(kept)];
  return scene;
}

TEST(ConvertCommand, ColmapBinaryToTextToBinaryGivesIdenticalFiles) {
  TempDir dir;
  const Scene scene = testing::RandomScene(5);
  datasets::WriteColmapModelBinary(dir / "bin", scene);

  const auto to_text = Convert(dir / "bin", dir / "txt");  // default: the other encoding
  ASSERT_EQ(to_text.exit_code, 0) << to_text.output;
  EXPECT_EQ(Lines(to_text.output), 1) << to_text.output;
  EXPECT_TRUE(Contains(to_text.output, "7 cameras, 8 images, 31 3D points")) << to_text.output;
  EXPECT_TRUE(Contains(to_text.output, "wrote COLMAP model (text)")) << to_text.output;
  testing::ExpectScenesIdentical(scene, datasets::ReadColmapModelText(dir / "txt"));

  // A model file names its folder too.
  const auto to_binary = Convert(dir / "txt" / "images.txt", dir / "bin2");
  ASSERT_EQ(to_binary.exit_code, 0) << to_binary.output;
  for (const char* file : {"cameras.bin", "images.bin", "points3D.bin"}) {
    EXPECT_EQ(facet::ReadFile(dir / "bin2" / file), facet::ReadFile(dir / "bin" / file)) << file;
  }
  // --text and --to choose the encoding when the name does not.
  ASSERT_EQ(Convert(dir / "bin", dir / "txt2", "--text").exit_code, 0);
  EXPECT_TRUE(fs::exists(dir / "txt2" / "points3D.txt"));
  ASSERT_EQ(Convert(dir / "txt", dir / "bin3", "--to colmap-bin").exit_code, 0);
  EXPECT_TRUE(fs::exists(dir / "bin3" / "points3D.bin"));
}

TEST(ConvertCommand, ColmapToTransformsJsonAndBackKeepsCamerasAndPoses) {
  TempDir dir;
  const Scene scene = JsonFriendlyScene();
  datasets::WriteColmapModelBinary(dir / "model", scene);
  const auto to_json = Convert(dir / "model", dir / "images" / "transforms.json");
  ASSERT_EQ(to_json.exit_code, 0) << to_json.output;
  EXPECT_TRUE(Contains(to_json.output, "8 frames")) << to_json.output;

  for (const char* extra : {"", "--to colmap-txt"}) {
    SCOPED_TRACE(extra);
    const fs::path back = dir / (std::string("back") + (*extra ? "_txt" : ""));
    const auto to_colmap = Convert(dir / "images" / "transforms.json", back, extra);
    ASSERT_EQ(to_colmap.exit_code, 0) << to_colmap.output;
    EXPECT_TRUE(fs::exists(back / (*extra ? "cameras.txt" : "cameras.bin")));  // default binary
    const Scene read = datasets::ReadColmapModel(back);
    EXPECT_TRUE(read.points3d.empty());
    ASSERT_EQ(read.images.size(), scene.images.size());
    ASSERT_EQ(read.cameras.size(), scene.cameras.size());
    for (const auto& [id, image] : scene.images) {
      const datasets::Image* other = read.FindImage(image.name);
      ASSERT_NE(other, nullptr) << image.name;
      EXPECT_TRUE(other->points2d.empty());
      const geometry::Camera& camera = scene.cameras.at(image.camera_id);
      const geometry::Camera& camera_read = read.cameras.at(other->camera_id);
      EXPECT_EQ(camera_read.model, camera.model);
      EXPECT_EQ(camera_read.width, camera.width);
      EXPECT_EQ(camera_read.height, camera.height);
      ASSERT_EQ(camera_read.params.size(), camera.params.size());
      for (std::size_t k = 0; k < camera.params.size(); ++k) {
        EXPECT_NEAR(camera_read.params[k], camera.params[k], 1e-9) << image.name << " param " << k;
      }
      // The json holds R^T F and the centre -R^T t; undoing it costs a few ulps of O(1) values.
      const Eigen::Matrix3d rotation = image.cam_from_world->rotation.toRotationMatrix();
      const Eigen::Matrix3d rotation_read = other->cam_from_world->rotation.toRotationMatrix();
      EXPECT_LT((rotation_read - rotation).cwiseAbs().maxCoeff(), 1e-9) << image.name;
      EXPECT_LT((other->cam_from_world->translation - image.cam_from_world->translation)
                    .cwiseAbs()
                    .maxCoeff(),
                1e-9)
          << image.name;
    }
  }
}

TEST(ConvertCommand, TransformsJsonImageNamesAreItsFilePaths) {
  TempDir dir;
  testing::WriteBytes(dir / "transforms.json", R"({
    "fl_x": 500, "fl_y": 500, "cx": 320, "cy": 240, "w": 640, "h": 480,
    "frames": [
      {"file_path": "./train/r_0", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,2],[0,0,0,1]]},
      {"file_path": "frames/a.jpg", "transform_matrix": [[1,0,0,1],[0,1,0,0],[0,0,1,2],[0,0,0,1]]}
    ]})");
  const auto result = Convert(dir / "transforms.json", dir / "sparse", "--text");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Scene scene = datasets::ReadColmapModelText(dir / "sparse");
  EXPECT_NE(scene.FindImage("train/r_0.png"), nullptr);
  EXPECT_NE(scene.FindImage("frames/a.jpg"), nullptr);
}

TEST(ConvertCommand, ColmapPointsBecomeAPointCloud) {
  TempDir dir;
  const Scene scene = testing::RandomScene(9);  // with 1e300 and subnormal coordinates
  datasets::WriteColmapModelText(dir / "model", scene);
  ASSERT_EQ(Convert(dir / "model", dir / "points.ply").exit_code, 0);
  ASSERT_EQ(Convert(dir / "model", dir / "points.pcd", "--text").exit_code, 0);
  const geometry::PointCloud ply = datasets::ReadPointCloudPly(dir / "points.ply");
  ASSERT_EQ(ply.size(), scene.points3d.size());
  std::size_t i = 0;
  for (const auto& [id, point] : scene.points3d) {
    EXPECT_EQ(ply.points[i], point.xyz) << "PLY positions are float64: exact";
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(datasets::detail::LinearToSrgb8(ply.colors[i][k]), point.color[k]);
    ++i;
  }
  EXPECT_TRUE(Contains(FileText(dir / "points.pcd"), "DATA ascii"));
}

// .ply -> .splat -> .ply for SH degrees 0 and 3; the bounds are those of the .splat encoding
// (datasets/gaussian_splats.h): colour and alpha bytes are truncated and decoded at the byte's
// centre (within half a code, 0.5 / 255), rotation bytes truncated and decoded at the code's
// start (within one code, 1 / 128), positions stored as float32 (exact), scales as float32
// exp(log s) then logged again (2^-24 relative in exp, half an ulp of |log s| < 8 in log).
TEST(ConvertCommand, GaussianPlyToSplatAndBackStaysWithinTheSplatQuantisation) {
  for (const int degree : {0, 3}) {
    for (const bool keep_order : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "degree " << degree << " keep_order " << keep_order);
      TempDir dir;
      const GaussianSplats splats = testing::SampleSplats(300, degree, true, 20 + degree);
      datasets::WriteGaussianPly(dir / "in.ply", splats);
      const std::string flags = keep_order ? "--keep-order" : "";
      const auto to_splat = Convert(dir / "in.ply", dir / "scene.splat", flags);
      ASSERT_EQ(to_splat.exit_code, 0) << to_splat.output;
      EXPECT_TRUE(Contains(to_splat.output, "300 Gaussians, SH degree " + std::to_string(degree)));
      EXPECT_EQ(fs::file_size(dir / "scene.splat"), 300u * 32);
      ASSERT_EQ(Convert(dir / "scene.splat", dir / "back.ply").exit_code, 0);
      const GaussianSplats read = datasets::ReadGaussianPly(dir / "back.ply");
      ASSERT_EQ(read.size(), splats.size());
      EXPECT_EQ(read.sh_degree, 0);

      std::map<std::tuple<float, float, float>, std::size_t> by_position;
      for (std::size_t i = 0; i < splats.size(); ++i) {
        const Eigen::Vector3f& p = splats.positions[i];
        by_position[{p.x(), p.y(), p.z()}] = i;
      }
      for (std::size_t j = 0; j < read.size(); ++j) {
        const Eigen::Vector3f& p = read.positions[j];
        const auto found = by_position.find({p.x(), p.y(), p.z()});
        ASSERT_NE(found, by_position.end()) << "splat " << j << " moved";
        const std::size_t i = found->second;
        if (keep_order) {
          EXPECT_EQ(i, j);
        }
        for (int k = 0; k < 3; ++k) {
          EXPECT_NEAR(read.log_scales[j][k], splats.log_scales[i][k], 6e-8 + 4.8e-7);
          EXPECT_NEAR(0.5f + datasets::kShC0 * read.sh_dc[j][k],
                      0.5f + datasets::kShC0 * splats.sh_dc[i][k], 0.5f / 255.0f + 1e-6f);
        }
        EXPECT_NEAR(Sigmoid(read.opacities[j]), Sigmoid(splats.opacities[i]),
                    0.5f / 255.0f + 1e-6f);
        const Eigen::Vector4f unit = splats.rotations[i].normalized();
        for (int k = 0; k < 4; ++k) {
          EXPECT_NEAR(read.rotations[j][k], unit[k], 1.0f / 128.0f + 1e-6f);
        }
      }
    }
  }
}

TEST(ConvertCommand, MeshPlyToGlbAndBackKeepsTheMeshWithinFloat32) {
  TempDir dir;
  geometry::TriangleMesh mesh = testing::SampleMesh();
  std::mt19937 rng(5);
  for (auto& v : mesh.vertices) {  // coordinates that float32 must round
    v = v * 3.7 + Eigen::Vector3d(std::uniform_real_distribution<>(-1.0, 1.0)(rng), 0.1, 1.0 / 3);
  }
  mesh.ComputeVertexNormals();
  datasets::WriteMeshPly(dir / "in.ply", mesh, {.double_positions = true});

  const auto to_glb = Convert(dir / "in.ply", dir / "mesh.glb");
  ASSERT_EQ(to_glb.exit_code, 0) << to_glb.output;
  EXPECT_TRUE(Contains(to_glb.output, "6 vertices, 8 triangles, normals, colours"))
      << to_glb.output;
  const auto to_ply = Convert(dir / "mesh.glb", dir / "back.ply", "--text");
  ASSERT_EQ(to_ply.exit_code, 0) << to_ply.output;
  EXPECT_TRUE(Contains(FileText(dir / "back.ply"), "format ascii 1.0"));

  const geometry::TriangleMesh read = datasets::ReadMeshPly(dir / "back.ply");
  ASSERT_EQ(read.vertices.size(), mesh.vertices.size());
  EXPECT_EQ(read.triangles, mesh.triangles);
  ASSERT_TRUE(read.HasVertexNormals() && read.HasVertexColors());
  for (std::size_t i = 0; i < mesh.vertices.size(); ++i) {
    for (int k = 0; k < 3; ++k) {
      // float32 rounding to nearest: relative error at most 2^-24.
      EXPECT_LE(std::abs(read.vertices[i][k] - mesh.vertices[i][k]),
                std::abs(mesh.vertices[i][k]) * std::ldexp(1.0, -24));
      // Unit normals: each component rounded (2^-24), renormalised in float (a few more ulps).
      EXPECT_NEAR(read.vertex_normals[i][k], mesh.vertex_normals[i][k], std::ldexp(1.0, -21));
      EXPECT_EQ(datasets::detail::LinearToSrgb8(read.vertex_colors[i][k]),
                datasets::detail::LinearToSrgb8(mesh.vertex_colors[i][k]));
    }
  }
}

TEST(ConvertCommand, PcdToPlyToPcdKeepsPointsNormalsAndColours) {
  TempDir dir;
  datasets::WritePcd(dir / "in.pcd", testing::SampleCloud(200, true, true),
                     datasets::PcdFormat::kBinaryCompressed);
  const geometry::PointCloud cloud = datasets::ReadPcd(dir / "in.pcd");  // float32 values
  for (const char* extra : {"", "--text"}) {
    SCOPED_TRACE(extra);
    const auto to_ply = Convert(dir / "in.pcd", dir / "cloud.ply", extra);
    ASSERT_EQ(to_ply.exit_code, 0) << to_ply.output;
    EXPECT_TRUE(Contains(to_ply.output, "202 points, normals, colours")) << to_ply.output;
    const auto to_pcd = Convert(dir / "cloud.ply", dir / "back.pcd", extra);
    ASSERT_EQ(to_pcd.exit_code, 0) << to_pcd.output;
    EXPECT_EQ(Contains(FileText(dir / "back.pcd"), "DATA ascii"), *extra != '\0');
    // Every value is a float32 and 8-bit colours survive the sRGB round trip: exact.
    for (const geometry::PointCloud& read :
         {datasets::ReadPointCloudPly(dir / "cloud.ply"), datasets::ReadPcd(dir / "back.pcd")}) {
      EXPECT_EQ(read.points, cloud.points);
      EXPECT_EQ(read.normals, cloud.normals);
      EXPECT_EQ(read.colors, cloud.colors);
    }
  }
}

TEST(ConvertCommand, ToOverridesTheOutputName) {
  TempDir dir;
  datasets::WritePcd(dir / "in.pcd", testing::SampleCloud(10, false, false));
  ASSERT_EQ(Convert(dir / "in.pcd", dir / "cloud.dat", "--to ply").exit_code, 0);
  EXPECT_EQ(datasets::ReadPointCloudPly(dir / "cloud.dat").size(), 12u);
  datasets::WriteColmapModelBinary(dir / "model", testing::TinyScene());
  ASSERT_EQ(Convert(dir / "model", dir / "frames.txt", "--to transforms").exit_code, 0);
  EXPECT_EQ(datasets::ReadTransformsJson(dir / "frames.txt").frames.size(), 1u);
}

TEST(ConvertCommand, UnsupportedPairsAreUsageErrorsListingTheConversions) {
  TempDir dir;
  datasets::WriteMeshPly(dir / "mesh.ply", testing::SampleMesh());
  datasets::WritePcd(dir / "cloud.pcd", testing::SampleCloud(10, false, false));
  datasets::WriteSplat(dir / "scene.splat", testing::SampleSplats(4, 0, false));
  testing::WriteBytes(dir / "notes.xyz", "1 2 3\n");

  const auto not_gaussian = Convert(dir / "mesh.ply", dir / "out.splat");
  EXPECT_EQ(not_gaussian.exit_code, 2) << not_gaussian.output;
  EXPECT_TRUE(Contains(not_gaussian.output, "facet: usage error: cannot convert mesh PLY"));
  EXPECT_TRUE(Contains(not_gaussian.output, "not a 3DGS PLY")) << not_gaussian.output;
  EXPECT_TRUE(Contains(not_gaussian.output, "supported conversions:")) << not_gaussian.output;
  for (const char* line :
       {"3DGS .ply                       -> .splat", "mesh .ply (with faces)          -> .glb",
        "transforms.json                 -> COLMAP model folder"}) {
    EXPECT_TRUE(Contains(not_gaussian.output, line)) << line << "\n" << not_gaussian.output;
  }
  struct Case {
    fs::path input;
    std::string output;
    std::string extra;
    std::string says;
  };
  const Case cases[] = {
      {dir / "cloud.pcd", "out.glb", "", "cannot convert PCD point cloud"},
      {dir / "cloud.pcd", "out", "", "to a COLMAP model"},
      {dir / "scene.splat", "out.obj", "", "cannot tell the output format"},
      {dir / "scene.splat", "out.ply", "--text", "--text applies to"},
      {dir / "mesh.ply", "out.pcd", "", "a mesh PLY converts to: .glb mesh"},
      {dir / "notes.xyz", "out.ply", "", "cannot tell the format of"},
  };
  for (const Case& c : cases) {
    const auto result = Convert(c.input, dir / c.output, c.extra);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_TRUE(Contains(result.output, c.says)) << c.says << "\n" << result.output;
    EXPECT_TRUE(Contains(result.output, "supported conversions:")) << result.output;
    EXPECT_FALSE(fs::exists(dir / c.output)) << c.output;
  }
  // Values CLI11 checks itself are usage errors too.
  EXPECT_EQ(Convert(dir / "cloud.pcd", dir / "x.ply", "--to obj").exit_code, 2);
}

TEST(ConvertCommand, MissingOrCorruptInputExitsOneWithOneLineNamingTheFile) {
  TempDir dir;
  const auto missing = Convert(dir / "nowhere.ply", dir / "out.glb");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_EQ(Lines(missing.output), 1) << missing.output;
  EXPECT_EQ(missing.output.rfind("facet: error: input '", 0), 0u) << missing.output;
  EXPECT_TRUE(Contains(missing.output, "nowhere.ply")) << missing.output;

  testing::WriteBytes(dir / "bad.splat", std::string(33, '\0'));  // not a multiple of 32 bytes
  testing::WriteBytes(dir / "bad.ply",
                      "ply\nformat binary_little_endian 1.0\nelement vertex 1000000\n"
                      "property float x\nproperty float y\nproperty float z\nend_header\n");
  testing::WriteBytes(dir / "bad.pcd", "VERSION 0.7\nFIELDS x y z\n");
  fs::create_directories(dir / "empty_folder");
  const std::pair<const char*, const char*> cases[] = {{"bad.splat", "out.ply"},
                                                       {"bad.ply", "out.pcd"},
                                                       {"bad.pcd", "out.ply"},
                                                       {"empty_folder", "out.json"}};
  for (const auto& [name, output] : cases) {
    const auto result = Convert(dir / name, dir / output);
    EXPECT_EQ(result.exit_code, 1) << name << "\n" << result.output;
    EXPECT_EQ(Lines(result.output), 1) << result.output;
    EXPECT_TRUE(Contains(result.output, name)) << result.output;
  }
}

TEST(ConvertCommand, HelpListsTheConversionsAndImagePathRules) {
  const auto help = testing::RunCommand(std::string("'") + FACET_BINARY + "' convert --help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  for (const char* text : {"--to", "--text", "--keep-order", "colmap-bin", "transforms.json",
                           "image_path", "-> .splat", "-> .glb", "-> .pcd"}) {
    EXPECT_TRUE(Contains(help.output, text)) << text << "\n" << help.output;
  }
  const auto top = testing::RunCommand(std::string("'") + FACET_BINARY + "' --help");
  EXPECT_TRUE(Contains(top.output, "convert")) << top.output;
}

TEST(ConvertPlan, TellsPlyKindsByTheirHeaders) {
  TempDir dir;
  datasets::WriteGaussianPly(dir / "gaussians.ply", testing::SampleSplats(3, 1, false));
  datasets::WriteMeshPly(dir / "mesh.ply", testing::SampleMesh(), datasets::PlyFormat::kAscii);
  datasets::WritePointCloudPly(dir / "points.ply", testing::SampleCloud(5, true, false));
  geometry::TriangleMesh no_faces = testing::SampleMesh();
  no_faces.triangles.clear();  // "element face 0": a point cloud
  datasets::WriteMeshPly(dir / "no_faces.ply", no_faces);
  EXPECT_EQ(datasets::DetectInputFormat(dir / "gaussians.ply"), datasets::DataFormat::kGaussianPly);
  EXPECT_EQ(datasets::DetectInputFormat(dir / "mesh.ply"), datasets::DataFormat::kMeshPly);
  EXPECT_EQ(datasets::DetectInputFormat(dir / "points.ply"), datasets::DataFormat::kPointPly);
  EXPECT_EQ(datasets::DetectInputFormat(dir / "no_faces.ply"), datasets::DataFormat::kPointPly);

  // A header longer than the first MiB is settled by the full parser.
  std::string header = "ply\nformat ascii 1.0\n";
  while (header.size() < (std::size_t{1} << 20) + 100) header += "comment padding padding\n";
  testing::WriteBytes(dir / "long.ply", header +
                                            "element vertex 1\nproperty float x\nproperty float y\n"
                                            "property float z\nelement face 1\n"
                                            "property list uchar int vertex_indices\nend_header\n"
                                            "0 0 0\n3 0 0 0\n");
  EXPECT_EQ(datasets::DetectInputFormat(dir / "long.ply"), datasets::DataFormat::kMeshPly);
  testing::WriteBytes(dir / "notes.xyz", "1 2 3\n");
  EXPECT_FALSE(datasets::DetectInputFormat(dir / "notes.xyz").has_value());
}

TEST(ConvertPlan, LibraryRefusesWhatTheCommandLineRefuses) {
  TempDir dir;
  datasets::WritePcd(dir / "cloud.pcd", testing::SampleCloud(4, false, false));
  EXPECT_TRUE(Contains(testing::ErrorMessage([] { datasets::ConvertOptions{.to = "obj"}.Check(); }),
                       "ConvertOptions::to"));
  const datasets::ConversionPlan plan =
      datasets::PlanConversion(dir / "cloud.pcd", dir / "cloud.glb", {});
  EXPECT_FALSE(plan.Supported());
  EXPECT_EQ(plan.input, datasets::DataFormat::kPcd);
  const std::string message =
      testing::ErrorMessage([&] { datasets::ConvertFile(dir / "cloud.pcd", dir / "cloud.glb"); });
  EXPECT_TRUE(Contains(message, "supported conversions:")) << message;
  EXPECT_FALSE(fs::exists(dir / "cloud.glb"));
  EXPECT_TRUE(Contains(datasets::ConvertFile(dir / "cloud.pcd", dir / "cloud.ply"), "6 points"));
}

TEST(ConvertRealData, SplatsSmallPlyToSplatAndBackKeeps9080Gaussians) {
  const fs::path path =
      testing::SharedData("splats-small/kacytran1122_try_iter7000_point_cloud.ply");
  FACET_SKIP_WITHOUT(path);
  TempDir dir;
  const auto to_splat = Convert(path, dir / "scene.splat");
  ASSERT_EQ(to_splat.exit_code, 0) << to_splat.output;
  EXPECT_TRUE(Contains(to_splat.output, "9080 Gaussians, SH degree 3")) << to_splat.output;
  EXPECT_EQ(fs::file_size(dir / "scene.splat"), 9080u * 32);
  ASSERT_EQ(Convert(dir / "scene.splat", dir / "back.ply").exit_code, 0);
  EXPECT_EQ(datasets::ReadGaussianPly(dir / "back.ply").size(), 9080u);
}

TEST(ConvertRealData, StanfordBunnyBecomesAGlbWith35947Vertices) {
  const fs::path path = testing::SharedData("stanford-bunny/bun_zipper.ply");
  FACET_SKIP_WITHOUT(path);
  TempDir dir;
  const auto result = Convert(path, dir / "bunny.glb");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const geometry::TriangleMesh mesh = datasets::ReadGlb(dir / "bunny.glb");
  EXPECT_EQ(mesh.vertices.size(), 35947u);
  EXPECT_EQ(mesh.triangles.size(), 69451u);
}

TEST(ConvertRealData, LegoTransformsBecomeAColmapModel) {
  const fs::path path = testing::SharedData("nerf-synthetic-lego/transforms_train_200.json");
  FACET_SKIP_WITHOUT(path);
  TempDir dir;
  const auto result = Convert(path, dir / "sparse");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Scene scene = datasets::ReadColmapModelBinary(dir / "sparse");
  ASSERT_EQ(scene.cameras.size(), 1u);
  EXPECT_EQ(scene.images.size(), 100u);
  EXPECT_NE(scene.FindImage("train_200/r_0.png"), nullptr);
  const geometry::Camera& camera = scene.cameras.begin()->second;
  EXPECT_EQ(camera.width, 200);
  EXPECT_NEAR(camera.FocalX(), 277.8, 0.05);  // 0.5 * 200 / tan(0.5 * camera_angle_x)
}

}  // namespace
}  // namespace facet
