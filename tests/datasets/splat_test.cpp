#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "core/error.h"
#include "datasets/detail/ply_parser.h"
#include "datasets/gaussian_splats.h"
#include "datasets/ply.h"
#include "format_test_util.h"

namespace facet::datasets {
namespace {

using testing::ErrorMessage;
using testing::SharedData;
using testing::TempDir;
using testing::WriteBytes;

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST(GaussianSplats, CheckFindsInconsistentArrays) {
  GaussianSplats splats = testing::SampleSplats(4, 2, false);
  EXPECT_NO_THROW(splats.Check());
  EXPECT_EQ(splats.NumShRest(), 24);
  splats.sh_rest.pop_back();
  EXPECT_NE(ErrorMessage([&] { splats.Check(); }).find("sh_rest"), std::string::npos);
  splats = testing::SampleSplats(4, 2, false);
  splats.sh_degree = 4;
  EXPECT_NE(ErrorMessage([&] { splats.Check(); }).find("sh_degree must be in [0, 3]"),
            std::string::npos);
}

TEST(GaussianPly, ReportsProgressWhileReading) {
  TempDir dir;
  const GaussianSplats splats = testing::SampleSplats(140000, 0, false);
  WriteGaussianPly(dir / "splats.ply", splats);
  std::vector<double> fractions;
  const GaussianSplats read =
      ReadGaussianPly(dir / "splats.ply", [&](double f) { fractions.push_back(f); });
  EXPECT_EQ(read.positions, splats.positions);
  // Every 65,536 splats (0, 65536, 131072) and the end.
  ASSERT_EQ(fractions.size(), 4u);
  EXPECT_EQ(fractions.front(), 0.0);
  EXPECT_NEAR(fractions[1], 65536.0 / 140000.0, 1e-12);
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_EQ(fractions.back(), 1.0);
}

TEST(GaussianPly, RoundTripKeepsEverythingForEveryDegree) {
  TempDir dir;
  for (int degree = 0; degree <= 3; ++degree) {
    for (const bool normals : {false, true}) {
      SCOPED_TRACE(degree);
      const GaussianSplats splats = testing::SampleSplats(25, degree, normals);
      WriteGaussianPly(dir / "splats.ply", splats);
      const GaussianSplats read = ReadGaussianPly(dir / "splats.ply");
      EXPECT_EQ(read.sh_degree, degree);
      EXPECT_EQ(read.positions, splats.positions);
      EXPECT_EQ(read.sh_dc, splats.sh_dc);
      EXPECT_EQ(read.sh_rest, splats.sh_rest);
      EXPECT_EQ(read.opacities, splats.opacities);
      EXPECT_EQ(read.log_scales, splats.log_scales);
      EXPECT_EQ(read.rotations, splats.rotations);
      // The standard layout always has nx ny nz: zeros when the scene had none.
      ASSERT_TRUE(read.HasNormals());
      for (std::size_t i = 0; i < read.size(); ++i) {
        EXPECT_EQ(read.normals[i], normals ? splats.normals[i] : Eigen::Vector3f::Zero());
      }
    }
  }
}

TEST(CropSplats, KeepsEverySplatInTheBoxAboveTheOpacityWithAllItsAttributes) {
  GaussianSplats splats = testing::SampleSplats(300, 3, /*normals=*/true);
  const Eigen::Vector3f box_min(-20.0f, -50.0f, -10.0f), box_max(30.0f, 0.0f, 50.0f);
  const float min_opacity = 0.3f;
  // On the box's bounds counts as inside.
  splats.positions[0] = box_min;
  splats.opacities[0] = 3.0f;
  splats.positions[1] = box_max;
  splats.opacities[1] = 3.0f;
  std::vector<std::size_t> expected;
  for (std::size_t i = 0; i < splats.size(); ++i) {
    const Eigen::Vector3f& p = splats.positions[i];
    bool inside = true;
    for (int k = 0; k < 3; ++k) inside = inside && p[k] >= box_min[k] && p[k] <= box_max[k];
    if (inside && Sigmoid(splats.opacities[i]) >= min_opacity) expected.push_back(i);
  }
  ASSERT_GT(expected.size(), 10u);
  ASSERT_LT(expected.size(), splats.size() / 4);
  const GaussianSplats cropped = CropSplats(splats, box_min, box_max, min_opacity);
  EXPECT_NO_THROW(cropped.Check());
  ASSERT_EQ(cropped.size(), expected.size());
  EXPECT_EQ(cropped.sh_degree, 3);
  ASSERT_TRUE(cropped.HasNormals());
  for (std::size_t j = 0; j < expected.size(); ++j) {
    const std::size_t i = expected[j];
    EXPECT_EQ(cropped.positions[j], splats.positions[i]);
    EXPECT_EQ(cropped.normals[j], splats.normals[i]);
    EXPECT_EQ(cropped.sh_dc[j], splats.sh_dc[i]);
    EXPECT_EQ(cropped.opacities[j], splats.opacities[i]);
    EXPECT_EQ(cropped.log_scales[j], splats.log_scales[i]);
    EXPECT_EQ(cropped.rotations[j], splats.rotations[i]);
    for (int c = 0; c < 3; ++c) {
      for (int k = 0; k < cropped.NumShRest() / 3; ++k) {
        EXPECT_EQ(cropped.ShRest(j, c, k), splats.ShRest(i, c, k));
      }
    }
  }
  // Without an opacity bound, a box around everything keeps everything.
  EXPECT_EQ(CropSplats(splats, Eigen::Vector3f::Constant(-50.0f), Eigen::Vector3f::Constant(50.0f))
                .size(),
            splats.size());

  // The export: the cropped splats written as PLY read back unchanged.
  TempDir dir;
  WriteGaussianPly(dir / "cropped.ply", cropped);
  const GaussianSplats read = ReadGaussianPly(dir / "cropped.ply");
  EXPECT_EQ(read.sh_degree, cropped.sh_degree);
  EXPECT_EQ(read.positions, cropped.positions);
  EXPECT_EQ(read.normals, cropped.normals);
  EXPECT_EQ(read.sh_dc, cropped.sh_dc);
  EXPECT_EQ(read.sh_rest, cropped.sh_rest);
  EXPECT_EQ(read.opacities, cropped.opacities);
  EXPECT_EQ(read.log_scales, cropped.log_scales);
  EXPECT_EQ(read.rotations, cropped.rotations);

  EXPECT_NE(ErrorMessage([&] { CropSplats(splats, box_max, box_min); }).find("min <= max"),
            std::string::npos);
  EXPECT_NE(ErrorMessage([&] {
              CropSplats(splats, box_min, Eigen::Vector3f::Constant(std::nanf("")));
            }).find("finite"),
            std::string::npos);
  EXPECT_NE(ErrorMessage([&] { CropSplats(splats, box_min, box_max, 1.5f); }).find("min_opacity"),
            std::string::npos);
  splats.opacities.pop_back();
  EXPECT_THROW(CropSplats(splats, box_min, box_max), Error);
}

TEST(GaussianPly, WritesTheInriaLayoutWithChannelMajorShRest) {
  TempDir dir;
  GaussianSplats splats = testing::SampleSplats(2, 3, false);
  for (int c = 0; c < 3; ++c) {
    for (int k = 0; k < 15; ++k) splats.ShRest(1, c, k) = 100.0f * c + k;
  }
  WriteGaussianPly(dir / "splats.ply", splats);
  const PlyHeader header = ReadPlyHeader(dir / "splats.ply");
  EXPECT_EQ(header.format, PlyFormat::kBinaryLittleEndian);
  ASSERT_EQ(header.elements.size(), 1u);
  std::vector<std::string> names;
  for (const PlyProperty& p : header.elements[0].properties) {
    EXPECT_EQ(p.type, PlyType::kFloat32);
    names.push_back(p.name);
  }
  ASSERT_EQ(names.size(), 62u);
  EXPECT_EQ(names[0], "x");
  EXPECT_EQ(names[3], "nx");
  EXPECT_EQ(names[6], "f_dc_0");
  EXPECT_EQ(names[9], "f_rest_0");
  EXPECT_EQ(names[53], "f_rest_44");
  EXPECT_EQ(names[54], "opacity");
  EXPECT_EQ(names[55], "scale_0");
  EXPECT_EQ(names[58], "rot_0");
  EXPECT_EQ(names[61], "rot_3");
  // f_rest_j of splat 1 holds channel j / 15, coefficient j % 15.
  const std::vector<std::uint8_t> bytes = facet::ReadFile(dir / "splats.ply");
  ASSERT_EQ(bytes.size(), header.data_offset + 2 * 62 * 4);
  for (int j = 0; j < 45; ++j) {
    float value = 0.0f;
    std::memcpy(&value, bytes.data() + header.data_offset + (62 + 9 + j) * 4, 4);
    EXPECT_EQ(value, 100.0f * (j / 15) + j % 15) << j;
  }
}

TEST(GaussianPly, ReadsAnyOrderAnyTypeAndExtraProperties) {
  TempDir dir;
  // Degree 1, properties shuffled, positions as double, an unknown property and element.
  std::vector<std::string> names = {"opacity", "rot_2", "extra",  "f_rest_8", "z", "scale_1",
                                    "f_dc_2",  "y",     "rot_0",  "f_dc_0",   "x", "scale_0",
                                    "rot_3",   "rot_1", "f_dc_1", "scale_2"};
  for (int k = 0; k < 8; ++k) names.push_back("f_rest_" + std::to_string(7 - k));
  PlyElement vertex{.name = "vertex", .count = 3, .properties = {}};
  for (const std::string& name : names) {
    const bool position = name == "x" || name == "y" || name == "z";
    vertex.properties.push_back(
        {.name = name, .type = position ? PlyType::kFloat64 : PlyType::kFloat32});
  }
  const PlyHeader header{
      .format = PlyFormat::kAscii,
      .elements = {
          {.name = "meta", .count = 1, .properties = {{.name = "v", .type = PlyType::kUint8}}},
          vertex}};
  detail::PlyEncoder out(header.format, detail::FormatPlyHeader(header));
  out.Put(PlyType::kUint8, 1);
  out.EndRow();
  // Value of property `name` in row i: a distinct number per (name, row).
  auto value = [&](const std::string& name, int i) {
    return static_cast<float>(std::hash<std::string>()(name) % 1000) / 8.0f + 1000.0f * i;
  };
  for (int i = 0; i < 3; ++i) {
    for (const std::string& name : names) {
      out.Put(name == "x" || name == "y" || name == "z" ? PlyType::kFloat64 : PlyType::kFloat32,
              value(name, i));
    }
    out.EndRow();
  }
  WriteBytes(dir / "shuffled.ply", out.Bytes());
  const GaussianSplats read = ReadGaussianPly(dir / "shuffled.ply");
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.sh_degree, 1);
  EXPECT_FALSE(read.HasNormals());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(read.positions[i], Eigen::Vector3f(value("x", i), value("y", i), value("z", i)));
    EXPECT_EQ(read.sh_dc[i].z(), value("f_dc_2", i));
    EXPECT_EQ(read.opacities[i], value("opacity", i));
    EXPECT_EQ(read.log_scales[i].y(), value("scale_1", i));
    EXPECT_EQ(read.rotations[i], Eigen::Vector4f(value("rot_0", i), value("rot_1", i),
                                                 value("rot_2", i), value("rot_3", i)));
    for (int j = 0; j < 9; ++j) {
      EXPECT_EQ(read.sh_rest[i * 9 + j], value("f_rest_" + std::to_string(j), i));
    }
  }
}

std::string GaussianHeader(const std::vector<std::string>& names) {
  std::string text = "ply\nformat binary_little_endian 1.0\nelement vertex 0\n";
  for (const std::string& name : names) text += "property float " + name + "\n";
  return text + "end_header\n";
}

std::vector<std::string> BaseNames() {
  return {"x",       "y",       "z",       "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
          "scale_0", "scale_1", "scale_2", "rot_0",  "rot_1",  "rot_2",  "rot_3"};
}

TEST(GaussianPly, RefusesOtherShCountsGapsAndMissingProperties) {
  TempDir dir;
  auto error = [&](const std::vector<std::string>& names) {
    WriteBytes(dir / "bad.ply", GaussianHeader(names));
    return ErrorMessage([&] { ReadGaussianPly(dir / "bad.ply"); });
  };
  std::vector<std::string> names = BaseNames();
  for (int k = 0; k < 8; ++k) names.push_back("f_rest_" + std::to_string(k));
  EXPECT_NE(error(names).find("8 f_rest_* properties; expected 0, 9, 24 or 45"), std::string::npos);
  names.push_back("f_rest_9");
  EXPECT_NE(error(names).find("f_rest_9 is out of place"), std::string::npos);
  names = BaseNames();
  names.erase(names.begin() + 6);  // opacity
  EXPECT_NE(error(names).find("no property 'opacity'"), std::string::npos);
  names = BaseNames();
  names.push_back("nx");
  EXPECT_NE(error(names).find("only some of nx, ny, nz"), std::string::npos);
}

TEST(Splat, EncodesRecordsAsConvertPy) {
  TempDir dir;
  GaussianSplats splats;
  splats.Resize(1);
  splats.positions[0] = {1.0f, -2.0f, 3.5f};
  splats.log_scales[0] = {0.0f, std::log(0.5f), std::log(2.0f)};
  splats.sh_dc[0] = {0.0f, 10.0f, -10.0f};         // 127.5 -> 127; clipped to 255 and 0
  splats.opacities[0] = 0.0f;                      // sigmoid 0.5 -> 127
  splats.rotations[0] = {2.0f, 0.0f, 0.0f, 0.0f};  // normalised (1, 0, 0, 0): 256 -> 255, 128
  WriteSplat(dir / "one.splat", splats);
  const std::vector<std::uint8_t> bytes = facet::ReadFile(dir / "one.splat");
  ASSERT_EQ(bytes.size(), 32u);
  float floats[6];
  std::memcpy(floats, bytes.data(), 24);
  EXPECT_EQ(floats[0], 1.0f);
  EXPECT_EQ(floats[2], 3.5f);
  EXPECT_EQ(floats[3], 1.0f);
  EXPECT_NEAR(floats[4], 0.5f, 1e-7f);
  EXPECT_NEAR(floats[5], 2.0f, 2e-7f);
  const std::vector<std::uint8_t> tail(bytes.begin() + 24, bytes.end());
  EXPECT_EQ(tail, (std::vector<std::uint8_t>{127, 255, 0, 127, 255, 128, 128, 128}));
}

TEST(Splat, RoundTripStaysWithinTheQuantisation) {
  TempDir dir;
  const GaussianSplats splats = testing::SampleSplats(200, 2, false);
  WriteSplat(dir / "scene.splat", splats, {.sort_by_importance = false});
  const GaussianSplats read = ReadSplat(dir / "scene.splat");
  ASSERT_EQ(read.size(), splats.size());
  EXPECT_EQ(read.sh_degree, 0);
  EXPECT_TRUE(read.sh_rest.empty());
  for (std::size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read.positions[i], splats.positions[i]);
    for (int k = 0; k < 3; ++k) {
      // exp then log in float: 2^-24 relative error in exp, half an ulp of |s| < 8 in log.
      EXPECT_NEAR(read.log_scales[i][k], splats.log_scales[i][k], 6e-8 + 4.8e-7);
      // Truncation to a byte + decoding at the byte's centre: within half a code, plus rounding.
      EXPECT_NEAR(0.5f + kShC0 * read.sh_dc[i][k], 0.5f + kShC0 * splats.sh_dc[i][k],
                  0.5f / 255.0f + 1e-6f);
    }
    EXPECT_NEAR(Sigmoid(read.opacities[i]), Sigmoid(splats.opacities[i]), 0.5f / 255.0f + 1e-6f);
    const Eigen::Vector4f unit = splats.rotations[i].normalized();
    for (int k = 0; k < 4; ++k) {
      EXPECT_NEAR(read.rotations[i][k], unit[k], 1.0f / 128.0f + 1e-6f);
    }
  }
}

TEST(Splat, SortsByImportanceLikeConvertPy) {
  TempDir dir;
  GaussianSplats splats = testing::SampleSplats(50, 0, false);
  WriteSplat(dir / "sorted.splat", splats);
  const GaussianSplats read = ReadSplat(dir / "sorted.splat");
  ASSERT_EQ(read.size(), splats.size());
  auto importance = [&](std::size_t i) {
    return std::exp(splats.log_scales[i].sum()) * Sigmoid(splats.opacities[i]);
  };
  // Every input splat appears once (positions are exact and distinct), in decreasing importance.
  std::vector<bool> seen(splats.size(), false);
  float previous = INFINITY;
  for (std::size_t out = 0; out < read.size(); ++out) {
    const auto it =
        std::find(splats.positions.begin(), splats.positions.end(), read.positions[out]);
    ASSERT_NE(it, splats.positions.end());
    const auto i = static_cast<std::size_t>(it - splats.positions.begin());
    EXPECT_FALSE(seen[i]);
    seen[i] = true;
    EXPECT_LE(importance(i), previous);
    previous = importance(i);
  }
}

TEST(Splat, MalformedFilesAreRefused) {
  TempDir dir;
  WriteBytes(dir / "short.splat", std::string(33, '\0'));
  EXPECT_NE(ErrorMessage([&] {
              ReadSplat(dir / "short.splat");
            }).find("33 bytes are not a whole number of 32-byte records"),
            std::string::npos);
  std::string record(64, '\0');
  const float negative = -1.0f;
  std::memcpy(record.data() + 32 + 16, &negative, 4);
  WriteBytes(dir / "negative.splat", record);
  EXPECT_NE(ErrorMessage([&] {
              ReadSplat(dir / "negative.splat");
            }).find("splat 1 (byte offset 32) has scale -1"),
            std::string::npos);
  WriteBytes(dir / "empty.splat", "");
  EXPECT_EQ(ReadSplat(dir / "empty.splat").size(), 0u);
}

TEST(GaussianRealData, InriaPlyHas9080GaussiansOfDegree3) {
  const auto path = SharedData("splats-small/kacytran1122_try_iter7000_point_cloud.ply");
  FACET_SKIP_WITHOUT(path);
  const GaussianSplats splats = ReadGaussianPly(path);
  EXPECT_EQ(splats.size(), 9080u);
  EXPECT_EQ(splats.sh_degree, 3);
  EXPECT_EQ(splats.sh_rest.size(), 9080u * 45);
  EXPECT_NO_THROW(splats.Check());
  // Splat 0 as Python's struct module reads it.
  EXPECT_EQ(splats.positions[0],
            Eigen::Vector3f(7.31924295425415f, -16.327651977539062f, 19.468027114868164f));
  EXPECT_EQ(splats.opacities[0], -4.595119953155518f);
  EXPECT_EQ(splats.rotations[0].x(), 0.9921094179153442f);  // rot_0 = w
  EXPECT_EQ(splats.positions.back(),
            Eigen::Vector3f(125.80455780029297f, -145.33041381835938f, 231.2917022705078f));
}

TEST(GaussianRealData, SplatFileHas22764SplatsAndReencodesItsBytes) {
  const auto path = SharedData("splats-small/kacytran1122_try_model.splat");
  FACET_SKIP_WITHOUT(path);
  const GaussianSplats splats = ReadSplat(path);
  ASSERT_EQ(splats.size(), 22764u);
  EXPECT_EQ(splats.positions[0],
            Eigen::Vector3f(29.070545196533203f, -113.86222839355469f, -135.1973114013672f));
  // Decoding at the centre of each colour/alpha code and re-encoding gives the same bytes.
  TempDir dir;
  WriteSplat(dir / "again.splat", splats, {.sort_by_importance = false});
  const std::vector<std::uint8_t> original = facet::ReadFile(path);
  const std::vector<std::uint8_t> again = facet::ReadFile(dir / "again.splat");
  ASSERT_EQ(again.size(), original.size());
  int differing = 0;
  for (std::size_t i = 0; i < splats.size(); ++i) {
    const std::size_t at = i * 32;
    differing += std::memcmp(&original[at], &again[at], 12) != 0;           // positions
    differing += std::memcmp(&original[at + 24], &again[at + 24], 4) != 0;  // RGBA
  }
  EXPECT_EQ(differing, 0);
}

}  // namespace
}  // namespace facet::datasets
