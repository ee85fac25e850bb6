#include "datasets/colmap_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "colmap_test_scene.h"
#include "common/temp_dir.h"
#include "core/error.h"
#include "core/file_io.h"

namespace facet::datasets {
namespace {

namespace fs = std::filesystem;
using facet::testing::ExpectScenesIdentical;
using facet::testing::kTinyCamerasTxt;
using facet::testing::kTinyImagesTxt;
using facet::testing::kTinyPoints3DTxt;
using facet::testing::RandomScene;
using facet::testing::TempDir;
using facet::testing::TinyScene;

std::string ReadText(const fs::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  return {bytes.begin(), bytes.end()};
}

void WriteText(const fs::path& path, const std::string& text) { WriteFileAtomically(path, text); }

// The message of the facet::Error `fn` throws ("" when it throws none).
template <typename Fn>
std::string ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

template <typename T>
void Append(std::vector<std::uint8_t>* bytes, T value) {  // little endian, as on x86 and ARM
  const auto* raw = reinterpret_cast<const std::uint8_t*>(&value);
  bytes->insert(bytes->end(), raw, raw + sizeof(T));
}

TEST(ColmapModel, BinaryRoundTripKeepsEverythingBitForBit) {
  TempDir dir;
  const Scene scene = RandomScene(1);
  WriteColmapModelBinary(dir.path(), scene);
  EXPECT_EQ(FindColmapModel(dir.path()), ColmapFormat::kBinary);
  ExpectScenesIdentical(scene, ReadColmapModelBinary(dir.path()));
  ExpectScenesIdentical(scene, ReadColmapModel(dir.path()));
}

// 17 significant digits identify every double (IEEE 754-2008, 5.12.2), so text loses nothing.
TEST(ColmapModel, TextRoundTripKeepsEverythingBitForBit) {
  TempDir dir;
  const Scene scene = RandomScene(2);
  WriteColmapModelText(dir.path(), scene);
  EXPECT_EQ(FindColmapModel(dir.path()), ColmapFormat::kText);
  ExpectScenesIdentical(scene, ReadColmapModelText(dir.path()));
  ExpectScenesIdentical(scene, ReadColmapModel(dir.path()));
}

TEST(ColmapModel, BinaryToTextToBinaryGivesIdenticalFiles) {
  TempDir dir;
  WriteColmapModelBinary(dir / "a", RandomScene(3));
  WriteColmapModelText(dir / "b", ReadColmapModelBinary(dir / "a"));
  WriteColmapModelBinary(dir / "c", ReadColmapModelText(dir / "b"));
  for (const char* name : {"cameras.bin", "images.bin", "points3D.bin"}) {
    EXPECT_EQ(ReadFile(dir / "a" / name), ReadFile(dir / "c" / name)) << name;
  }
}

TEST(ColmapModel, BinaryLayoutMatchesColmapSpecification) {
  TempDir dir;
  WriteColmapModelBinary(dir.path(), TinyScene());

  std::vector<std::uint8_t> cameras;
  Append<std::uint64_t>(&cameras, 1);  // count
  Append<std::uint32_t>(&cameras, 1);  // camera_id
  Append<std::int32_t>(&cameras, 1);   // model_id: PINHOLE
  Append<std::uint64_t>(&cameras, 640);
  Append<std::uint64_t>(&cameras, 480);
  for (double p : {500.0, 510.0, 320.0, 240.0}) Append<double>(&cameras, p);
  EXPECT_EQ(ReadFile(dir / "cameras.bin"), cameras);

  std::vector<std::uint8_t> images;
  Append<std::uint64_t>(&images, 1);
  Append<std::uint32_t>(&images, 2);                                 // image_id
  for (double v : {1.0, 0.0, 0.0, 0.0}) Append<double>(&images, v);  // qw qx qy qz
  for (double v : {0.5, -1.0, 2.0}) Append<double>(&images, v);      // tx ty tz
  Append<std::uint32_t>(&images, 1);                                 // camera_id
  for (char c : std::string("a.jpg")) Append<char>(&images, c);
  Append<char>(&images, '\0');
  Append<std::uint64_t>(&images, 2);  // num_points2D
  Append<double>(&images, 0.1);
  Append<double>(&images, 20.25);
  Append<std::uint64_t>(&images, 3);
  Append<double>(&images, 30.0);
  Append<double>(&images, 40.0);
  Append<std::uint64_t>(&images, 0xFFFFFFFFFFFFFFFFull);  // no 3D point
  EXPECT_EQ(ReadFile(dir / "images.bin"), images);

  std::vector<std::uint8_t> points;
  Append<std::uint64_t>(&points, 1);
  Append<std::uint64_t>(&points, 3);  // point3D_id
  for (double v : {1.0, 2.0, 3.0}) Append<double>(&points, v);
  for (std::uint8_t c : {255, 128, 0}) Append<std::uint8_t>(&points, c);
  Append<double>(&points, 0.75);      // error
  Append<std::uint64_t>(&points, 1);  // track_length
  Append<std::uint32_t>(&points, 2);  // image_id
  Append<std::uint32_t>(&points, 0);  // point2D_idx
  EXPECT_EQ(ReadFile(dir / "points3D.bin"), points);
}

TEST(ColmapModel, TextLayoutMatchesColmapWriter) {
  TempDir dir;
  WriteColmapModelText(dir.path(), TinyScene());
  EXPECT_EQ(ReadText(dir / "cameras.txt"), kTinyCamerasTxt);
  EXPECT_EQ(ReadText(dir / "images.txt"), kTinyImagesTxt);
  EXPECT_EQ(ReadText(dir / "points3D.txt"), kTinyPoints3DTxt);
}

// The writer relies on fmt's "{:.17g}" printing exactly what C's "%.17g" (COLMAP's stream) does.
TEST(ColmapModel, TextNumbersArePrintedAsPrintf17g) {
  TempDir dir;
  std::mt19937_64 rng(7);
  Scene scene = TinyScene();
  std::vector<double> values;
  for (int i = 0; i < 2000; ++i) {
    double v = 0.0;
    do {
      const std::uint64_t bits = rng();
      std::memcpy(&v, &bits, sizeof(v));
    } while (!std::isfinite(v));
    values.push_back(i % 2 == 0 ? v : std::ldexp(static_cast<double>(rng() >> 11), -53));
  }
  auto& keypoints = scene.images[ImageId(2)].points2d;
  for (std::size_t i = 0; i + 1 < values.size(); i += 2) {
    keypoints.push_back({Eigen::Vector2d(values[i], values[i + 1]), Point3DId::Invalid()});
  }
  WriteColmapModelText(dir.path(), scene);
  const std::string text = ReadText(dir / "images.txt");
  const std::string points_line = text.substr(text.find("a.jpg\n") + 6);
  std::string expected = "0.10000000000000001 20.25 3 30 40 -1";
  char buffer[64];
  for (std::size_t i = 0; i + 1 < values.size(); i += 2) {
    std::snprintf(buffer, sizeof(buffer), " %.17g %.17g -1", values[i], values[i + 1]);
    expected += buffer;
  }
  EXPECT_EQ(points_line, expected + "\n");
}

TEST(ColmapModel, ReadModelPrefersBinaryAndFallsBackToText) {
  TempDir dir;
  Scene text_scene = TinyScene();
  text_scene.images[ImageId(2)].name = "text.jpg";
  WriteColmapModelText(dir.path(), text_scene);
  EXPECT_EQ(ReadColmapModel(dir.path()).images.at(ImageId(2)).name, "text.jpg");
  WriteColmapModelBinary(dir.path(), TinyScene());
  EXPECT_EQ(ReadColmapModel(dir.path()).images.at(ImageId(2)).name, "a.jpg");
}

TEST(ColmapModel, MissingOrIncompleteModelsAreNamed) {
  TempDir dir;
  std::string message = ErrorOf([&] { ReadColmapModel(dir / "nope"); });
  EXPECT_NE(message.find("no such folder"), std::string::npos) << message;

  message = ErrorOf([&] { ReadColmapModel(dir.path()); });
  EXPECT_NE(message.find("no COLMAP model"), std::string::npos) << message;

  WriteColmapModelBinary(dir / "sparse" / "0", TinyScene());
  message = ErrorOf([&] { ReadColmapModel(dir.path()); });
  EXPECT_NE(message.find("did you mean"), std::string::npos) << message;
  EXPECT_NE(message.find("sparse/0"), std::string::npos) << message;

  fs::remove(dir / "sparse" / "0" / "points3D.bin");
  EXPECT_FALSE(FindColmapModel(dir / "sparse" / "0"));
  message = ErrorOf([&] { ReadColmapModel(dir / "sparse" / "0"); });
  EXPECT_NE(message.find("found cameras.bin, images.bin but not points3D.bin"), std::string::npos)
      << message;
}

TEST(ColmapModel, WritersSkipUnregisteredImages) {
  TempDir dir;
  Scene scene = TinyScene();
  Image unregistered;
  unregistered.id = ImageId(9);
  unregistered.name = "later.jpg";
  unregistered.camera_id = CameraId(1);
  unregistered.points2d = {{Eigen::Vector2d(1.0, 2.0), Point3DId::Invalid()}};
  scene.images[unregistered.id] = unregistered;
  WriteColmapModelBinary(dir / "bin", scene);
  WriteColmapModelText(dir / "txt", scene);
  for (const Scene& read : {ReadColmapModel(dir / "bin"), ReadColmapModel(dir / "txt")}) {
    EXPECT_EQ(read.images.size(), 1u);
    EXPECT_TRUE(read.images.at(ImageId(2)).IsRegistered());
    EXPECT_EQ(read.cameras.size(), 1u);
  }
  EXPECT_NE(ReadText(dir / "txt" / "images.txt").find("# Number of images: 1,"), std::string::npos);
}

TEST(ColmapModel, WritersRefuseObservationsOfUnregisteredImages) {
  TempDir dir;
  Scene scene = TinyScene();
  scene.images[ImageId(2)].cam_from_world.reset();
  const std::string message = ErrorOf([&] { WriteColmapModelBinary(dir.path(), scene); });
  EXPECT_NE(message.find("not registered"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir / "cameras.bin"));  // nothing written
}

TEST(ColmapModel, WritersRefuseNamesTheFormatCannotHold) {
  TempDir dir;
  Scene scene = TinyScene();
  scene.images[ImageId(2)].name = "two\nlines.jpg";
  EXPECT_THROW(WriteColmapModelText(dir.path(), scene), Error);
  EXPECT_NO_THROW(WriteColmapModelBinary(dir.path(), scene));
  scene.images[ImageId(2)].name = std::string("nul\0byte", 8);
  EXPECT_THROW(WriteColmapModelBinary(dir.path(), scene), Error);
  scene.images[ImageId(2)].name = "";
  EXPECT_THROW(WriteColmapModelBinary(dir.path(), scene), Error);
  scene.images[ImageId(2)].name = " padded.jpg";
  EXPECT_THROW(WriteColmapModelText(dir.path(), scene), Error);
}

TEST(ColmapModel, TextNamesMayContainSpaces) {
  TempDir dir;
  Scene scene = TinyScene();
  scene.images[ImageId(2)].name = "holiday photos/IMG 0001.jpg";
  WriteColmapModelText(dir.path(), scene);
  EXPECT_EQ(ReadColmapModelText(dir.path()).images.at(ImageId(2)).name,
            "holiday photos/IMG 0001.jpg");
}

// The three files are replaced together: when one cannot be written, the previous model stays
// whole, and no temporary files are left behind.
TEST(ColmapModel, FailedWriteLeavesThePreviousModelIntact) {
  for (const bool text : {false, true}) {
    SCOPED_TRACE(text ? "text" : "binary");
    TempDir dir;
    const Scene before = RandomScene(3), after = RandomScene(4);
    auto write = [&](const Scene& scene) {
      text ? WriteColmapModelText(dir.path(), scene) : WriteColmapModelBinary(dir.path(), scene);
    };
    write(before);
    const std::string last = text ? "points3D.txt" : "points3D.bin";
    // The last file's temporary cannot be created: a non-empty folder holds its name.
    fs::create_directories(dir / (last + ".tmp") / "blocker");
    EXPECT_THROW(write(after), Error);
    ExpectScenesIdentical(before, ReadColmapModel(dir.path()));
    for (const char* name : {"cameras", "images"}) {
      EXPECT_FALSE(fs::exists(dir / (name + std::string(text ? ".txt.tmp" : ".bin.tmp"))));
    }
    fs::remove_all(dir / (last + ".tmp"));
    write(after);
    ExpectScenesIdentical(after, ReadColmapModel(dir.path()));
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names.size(), 3u) << fmt::format("{}", fmt::join(names, ", "));  // no .tmp
  }
}

TEST(ColmapModel, WriterCreatesMissingFolders) {
  TempDir dir;
  WriteColmapModelBinary(dir / "out" / "sparse" / "0", TinyScene());
  EXPECT_EQ(FindColmapModel(dir / "out" / "sparse" / "0"), ColmapFormat::kBinary);
  WriteText(dir / "file", "x");
  EXPECT_THROW(WriteColmapModelText(dir / "file", TinyScene()), Error);
}

TEST(ColmapModel, UnsupportedCameraModelsAreNamedWithAWayOut) {
  TempDir dir;
  WriteColmapModelBinary(dir.path(), TinyScene());
  std::vector<std::uint8_t> cameras = ReadFile(dir / "cameras.bin");
  constexpr std::int32_t kFov = 7;
  std::memcpy(cameras.data() + 12, &kFov, 4);  // after the count and the camera id
  WriteFileAtomically(dir / "cameras.bin", cameras);
  std::string message = ErrorOf([&] { ReadColmapModel(dir.path()); });
  EXPECT_NE(message.find("cameras.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("byte 8"), std::string::npos) << message;
  EXPECT_NE(message.find("7 (FOV)"), std::string::npos) << message;
  EXPECT_NE(message.find("colmap image_undistorter"), std::string::npos) << message;

  WriteColmapModelText(dir / "txt", TinyScene());
  WriteText(dir / "txt" / "cameras.txt",
            "# comment\n1 THIN_PRISM_FISHEYE 640 480 1 1 1 1 0 0 0 0 0 0 0 0\n");
  message = ErrorOf([&] { ReadColmapModel(dir / "txt"); });
  EXPECT_NE(message.find("cameras.txt': line 2"), std::string::npos) << message;
  EXPECT_NE(message.find("THIN_PRISM_FISHEYE (id 10)"), std::string::npos) << message;
}

// A count of 2^60 must fail on the bytes left, not in the allocator.
TEST(ColmapModel, HugeCountsAreRejectedBeforeAllocating) {
  TempDir dir;
  WriteColmapModelBinary(dir.path(), TinyScene());
  struct Patch {
    const char* file;
    std::size_t offset;
  };
  constexpr Patch kPatches[] = {
      {"cameras.bin", 0},
      {"images.bin", 0},
      {"points3D.bin", 0},
      {"images.bin", 8 + 4 + 56 + 4 + 6},    // num_points2D
      {"points3D.bin", 8 + 8 + 24 + 3 + 8},  // track_length
  };
  for (const Patch& patch : kPatches) {
    const std::vector<std::uint8_t> original = ReadFile(dir / patch.file);
    std::vector<std::uint8_t> bytes = original;
    constexpr std::uint64_t kHuge = 1ull << 60;
    std::memcpy(bytes.data() + patch.offset, &kHuge, 8);
    WriteFileAtomically(dir / patch.file, bytes);
    const std::string message = ErrorOf([&] { ReadColmapModelBinary(dir.path()); });
    EXPECT_NE(message.find(fmt::format("at byte {}, {}", patch.offset, kHuge)), std::string::npos)
        << message;
    WriteFileAtomically(dir / patch.file, original);
  }
  EXPECT_NO_THROW(ReadColmapModelBinary(dir.path()));
}

TEST(ColmapModel, TextErrorsNameFileAndLine) {
  TempDir dir;
  WriteColmapModelText(dir.path(), TinyScene());
  std::string images = kTinyImagesTxt;
  images.replace(images.find("20.25"), 5, "20.2x");
  WriteText(dir / "images.txt", images);
  std::string message = ErrorOf([&] { ReadColmapModelText(dir.path()); });
  EXPECT_NE(message.find("images.txt': line 6: a keypoint Y '20.2x' is not a number"),
            std::string::npos)
      << message;

  WriteText(dir / "images.txt", std::string(kTinyImagesTxt).substr(0, images.rfind("0.1")));
  message = ErrorOf([&] { ReadColmapModelText(dir.path()); });
  EXPECT_NE(message.find("lacks its POINTS2D line"), std::string::npos) << message;
}

TEST(ColmapModel, ReadRejectsDanglingReferences) {
  TempDir dir;
  WriteColmapModelText(dir.path(), TinyScene());
  std::string points = kTinyPoints3DTxt;
  points.replace(points.find("2 0\n"), 4, "5 0\n");  // observed by a missing image
  WriteText(dir / "points3D.txt", points);
  const std::string message = ErrorOf([&] { ReadColmapModel(dir.path()); });
  EXPECT_NE(message.find("is inconsistent"), std::string::npos) << message;
  EXPECT_NE(message.find("image 5"), std::string::npos) << message;
}

TEST(ColmapModel, DuplicateIdsAndTrailingBytesAreRejected) {
  TempDir dir;
  WriteColmapModelText(dir.path(), TinyScene());
  WriteText(dir / "cameras.txt", std::string(kTinyCamerasTxt) + "1 PINHOLE 1 1 1 1 0 0\n");
  EXPECT_NE(
      ErrorOf([&] { ReadColmapModelText(dir.path()); }).find("line 5: camera id 1 appears twice"),
      std::string::npos);

  WriteColmapModelBinary(dir.path(), TinyScene());
  std::vector<std::uint8_t> bytes = ReadFile(dir / "points3D.bin");
  bytes.push_back(0);
  WriteFileAtomically(dir / "points3D.bin", bytes);
  EXPECT_NE(ErrorOf([&] { ReadColmapModelBinary(dir.path()); }).find("1 unexpected bytes"),
            std::string::npos);
}

// COLMAP renormalises quaternions on reading; so does facet unless the norm is 1 within 4 eps.
TEST(ColmapModel, NonUnitQuaternionsAreNormalisedOnRead) {
  TempDir dir;
  WriteColmapModelText(dir.path(), TinyScene());
  std::string images = kTinyImagesTxt;
  images.replace(images.find("2 1 0 0 0 "), 10, "2 0 0 0 2 ");
  WriteText(dir / "images.txt", images);
  const Eigen::Quaterniond q =
      ReadColmapModelText(dir.path()).images.at(ImageId(2)).cam_from_world->rotation;
  EXPECT_EQ(q.coeffs(), Eigen::Vector4d(0, 0, 1, 0));  // (x, y, z, w)

  images.replace(images.find("2 0 0 0 2 "), 10, "2 0 0 0 0 ");
  WriteText(dir / "images.txt", images);
  EXPECT_NE(ErrorOf([&] { ReadColmapModelText(dir.path()); }).find("zero quaternion"),
            std::string::npos);
}

}  // namespace
}  // namespace facet::datasets
