#include "datasets/gaussian_splats.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/detail/ply_parser.h"
#include "datasets/ply.h"

namespace facet::datasets {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kSplatRecordBytes = 32;

int RequireScalar(const PlyElement& vertex, const std::string& name, const std::string& file) {
  const int index = vertex.FindProperty(name);
  FACET_CHECK(index >= 0,
              "cannot read 3DGS PLY '{}': its vertex element has no property '{}' (is it a 3D "
              "Gaussian Splatting file?)",
              file, name);
  FACET_CHECK(!vertex.properties[index].is_list,
              "cannot read 3DGS PLY '{}': property '{}' is a list, expected a scalar", file, name);
  return index;
}

// Column indices of f_rest_0 .. f_rest_{M-1}; M must be 0, 9, 24 or 45.
std::vector<int> FindShRest(const PlyElement& vertex, const std::string& file, int& degree) {
  constexpr std::string_view kPrefix = "f_rest_";
  std::vector<int> columns;
  std::vector<int> numbers;
  for (std::size_t p = 0; p < vertex.properties.size(); ++p) {
    const std::string& name = vertex.properties[p].name;
    if (!name.starts_with(kPrefix)) continue;
    int number = -1;
    const char* first = name.data() + kPrefix.size();
    const auto [end, ec] = std::from_chars(first, name.data() + name.size(), number);
    FACET_CHECK(ec == std::errc() && end == name.data() + name.size() && number >= 0 &&
                    !vertex.properties[p].is_list,
                "cannot read 3DGS PLY '{}': property '{}' is not a scalar f_rest_<number>", file,
                name);
    columns.push_back(static_cast<int>(p));
    numbers.push_back(number);
  }
  const int count = static_cast<int>(columns.size());
  degree = -1;
  for (int d = 0; d <= GaussianSplats::kMaxShDegree; ++d) {
    if (GaussianSplats::NumShRest(d) == count) degree = d;
  }
  FACET_CHECK(degree >= 0,
              "cannot read 3DGS PLY '{}': it has {} f_rest_* properties; expected 0, 9, 24 or 45 "
              "(SH degree 0 to 3)",
              file, count);
  std::vector<int> ordered(count, -1);
  for (int i = 0; i < count; ++i) {
    FACET_CHECK(numbers[i] < count && ordered[numbers[i]] < 0,
                "cannot read 3DGS PLY '{}': f_rest_{} is out of place; expected f_rest_0 .. "
                "f_rest_{} once each",
                file, numbers[i], count - 1);
    ordered[numbers[i]] = columns[i];
  }
  return ordered;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Clip to [0, 255] and truncate, as numpy's clip(0, 255).astype(uint8) in convert.py; NaN -> 0.
std::uint8_t ToByte(float value) {
  if (!(value > 0.0f)) return 0;
  if (value >= 255.0f) return 255;
  return static_cast<std::uint8_t>(value);
}

}  // namespace

void GaussianSplats::Resize(std::size_t count) {
  positions.resize(count, Eigen::Vector3f::Zero());
  if (!normals.empty()) normals.resize(count, Eigen::Vector3f::Zero());
  sh_dc.resize(count, Eigen::Vector3f::Zero());
  sh_rest.resize(count * static_cast<std::size_t>(std::max(NumShRest(), 0)), 0.0f);
  opacities.resize(count, 0.0f);
  log_scales.resize(count, Eigen::Vector3f::Zero());
  rotations.resize(count, Eigen::Vector4f::Zero());
}

void GaussianSplats::Check() const {
  FACET_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree,
              "GaussianSplats::sh_degree must be in [0, {}] (got {})", kMaxShDegree, sh_degree);
  const std::size_t n = positions.size();
  FACET_CHECK(normals.empty() || normals.size() == n, "GaussianSplats has {} normals for {} splats",
              normals.size(), n);
  FACET_CHECK(
      sh_dc.size() == n && opacities.size() == n && log_scales.size() == n && rotations.size() == n,
      "GaussianSplats arrays disagree: {} positions, {} sh_dc, {} opacities, {} log_scales, {} "
      "rotations",
      n, sh_dc.size(), opacities.size(), log_scales.size(), rotations.size());
  FACET_CHECK(sh_rest.size() == n * static_cast<std::size_t>(NumShRest()),
              "GaussianSplats::sh_rest has {} values; degree {} needs {} per splat ({} in all)",
              sh_rest.size(), sh_degree, NumShRest(), n * NumShRest());
}

GaussianSplats CropSplats(const GaussianSplats& splats, const Eigen::Vector3f& box_min,
                          const Eigen::Vector3f& box_max, float min_opacity) {
  splats.Check();
  FACET_CHECK(
      box_min.allFinite() && box_max.allFinite() && (box_min.array() <= box_max.array()).all(),
      "CropSplats: the box ({}, {}, {}) - ({}, {}, {}) must be finite with min <= max in "
      "every axis",
      box_min.x(), box_min.y(), box_min.z(), box_max.x(), box_max.y(), box_max.z());
  FACET_CHECK(min_opacity >= 0.0f && min_opacity <= 1.0f,
              "CropSplats: min_opacity must be in [0, 1] (got {})", min_opacity);
  GaussianSplats out;
  out.sh_degree = splats.sh_degree;
  const std::size_t rest = static_cast<std::size_t>(splats.NumShRest());
  for (std::size_t i = 0; i < splats.size(); ++i) {
    const Eigen::Vector3f& p = splats.positions[i];
    if (!((p.array() >= box_min.array()).all() && (p.array() <= box_max.array()).all())) continue;
    // The renderers' sigmoid (splatting::kernels::Sigmoid), in float.
    if (1.0f / (1.0f + std::exp(-splats.opacities[i])) < min_opacity) continue;
    out.positions.push_back(p);
    if (splats.HasNormals()) out.normals.push_back(splats.normals[i]);
    out.sh_dc.push_back(splats.sh_dc[i]);
    out.sh_rest.insert(out.sh_rest.end(), splats.sh_rest.begin() + i * rest,
                       splats.sh_rest.begin() + (i + 1) * rest);
    out.opacities.push_back(splats.opacities[i]);
    out.log_scales.push_back(splats.log_scales[i]);
    out.rotations.push_back(splats.rotations[i]);
  }
  return out;
}

GaussianSplats ReadGaussianPly(const fs::path& path, const std::function<void(double)>& progress) {
  const std::string file = path.string();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  const PlyHeader header = detail::ParsePlyHeader(bytes, file);
  const PlyElement* vertex = header.FindElement("vertex");
  FACET_CHECK(vertex != nullptr, "cannot read 3DGS PLY '{}': it has no 'vertex' element", file);

  auto require = [&](const std::string& name) { return RequireScalar(*vertex, name, file); };
  const std::array<int, 3> position = {require("x"), require("y"), require("z")};
  const std::array<int, 3> dc = {require("f_dc_0"), require("f_dc_1"), require("f_dc_2")};
  const int opacity = require("opacity");
  const std::array<int, 3> scale = {require("scale_0"), require("scale_1"), require("scale_2")};
  const std::array<int, 4> rotation = {require("rot_0"), require("rot_1"), require("rot_2"),
                                       require("rot_3")};
  const int normal_count = (vertex->FindProperty("nx") >= 0) + (vertex->FindProperty("ny") >= 0) +
                           (vertex->FindProperty("nz") >= 0);
  FACET_CHECK(normal_count == 0 || normal_count == 3,
              "cannot read 3DGS PLY '{}': it has only some of nx, ny, nz", file);
  std::array<int, 3> normal = {-1, -1, -1};
  if (normal_count == 3) normal = {require("nx"), require("ny"), require("nz")};

  GaussianSplats splats;
  const std::vector<int> rest = FindShRest(*vertex, file, splats.sh_degree);
  // The count was validated against the file length by the parser, and a splat takes at most 4
  // bytes of memory per byte of its row (56 + 4 M bytes, or 68 + 4 M with normals, against rows
  // of at least 14 + M, or 17 + M, one-byte properties; M = f_rest count): the bound of
  // detail/reader_limits.h, so the arrays can be sized up front.
  if (normal_count == 3) splats.normals.reserve(vertex->count);
  splats.Resize(vertex->count);
  std::vector<detail::PlyRowHandler> handlers(header.elements.size());
  handlers[static_cast<std::size_t>(vertex - header.elements.data())] =
      [&](const detail::PlyRow& row) {
        const std::size_t i = row.Index();
        if (progress && (i & 0xffff) == 0) progress(double(i) / double(vertex->count));
        auto get = [&row](int column) { return static_cast<float>(row.Scalar(column)); };
        for (int k = 0; k < 3; ++k) {
          splats.positions[i][k] = get(position[k]);
          splats.sh_dc[i][k] = get(dc[k]);
          splats.log_scales[i][k] = get(scale[k]);
        }
        if (normal[0] >= 0) {
          splats.normals.emplace_back(get(normal[0]), get(normal[1]), get(normal[2]));
        }
        for (int k = 0; k < 4; ++k) splats.rotations[i][k] = get(rotation[k]);
        splats.opacities[i] = get(opacity);
        float* out = splats.sh_rest.data() + i * rest.size();
        for (std::size_t k = 0; k < rest.size(); ++k) out[k] = get(rest[k]);
      };
  detail::ReadPlyData(bytes, header, file, handlers);
  if (progress) progress(1.0);
  return splats;
}

void WriteGaussianPly(const fs::path& path, const GaussianSplats& splats) {
  splats.Check();
  PlyElement vertex{.name = "vertex", .count = splats.size(), .properties = {}};
  std::vector<std::string> names = {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"};
  for (int k = 0; k < splats.NumShRest(); ++k) names.push_back("f_rest_" + std::to_string(k));
  for (const char* name :
       {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"}) {
    names.emplace_back(name);
  }
  for (const std::string& name : names) vertex.properties.push_back({.name = name});
  const PlyHeader header{.format = PlyFormat::kBinaryLittleEndian, .elements = {vertex}};
  detail::PlyEncoder encoder(header.format, detail::FormatPlyHeader(header));
  encoder.Bytes().reserve(encoder.Bytes().size() + splats.size() * names.size() * 4);
  const int rest = splats.NumShRest();
  for (std::size_t i = 0; i < splats.size(); ++i) {
    auto put = [&encoder](float value) { encoder.Put(PlyType::kFloat32, value); };
    for (int k = 0; k < 3; ++k) put(splats.positions[i][k]);
    for (int k = 0; k < 3; ++k) put(splats.HasNormals() ? splats.normals[i][k] : 0.0f);
    for (int k = 0; k < 3; ++k) put(splats.sh_dc[i][k]);
    for (int k = 0; k < rest; ++k) put(splats.sh_rest[i * rest + k]);
    put(splats.opacities[i]);
    for (int k = 0; k < 3; ++k) put(splats.log_scales[i][k]);
    for (int k = 0; k < 4; ++k) put(splats.rotations[i][k]);
  }
  WriteFileAtomically(path, std::string_view(encoder.Bytes()));
}

GaussianSplats ReadSplat(const fs::path& path) {
  const std::string file = path.string();
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  FACET_CHECK(bytes.size() % kSplatRecordBytes == 0,
              "cannot read .splat '{}': its {} bytes are not a whole number of 32-byte records; "
              "the file is truncated or not a .splat file",
              file, bytes.size());
  GaussianSplats splats;
  splats.Resize(bytes.size() / kSplatRecordBytes);
  for (std::size_t i = 0; i < splats.size(); ++i) {
    const std::uint8_t* record = bytes.data() + i * kSplatRecordBytes;
    std::array<float, 6> floats;
    std::memcpy(floats.data(), record, sizeof(floats));
    const std::uint8_t* rgba = record + 24;
    const std::uint8_t* rot = record + 28;
    for (int k = 0; k < 3; ++k) {
      splats.positions[i][k] = floats[k];
      const float scale = floats[3 + k];
      FACET_CHECK(scale >= 0.0f,
                  "cannot read .splat '{}': splat {} (byte offset {}) has scale {}; scales must be "
                  "non-negative",
                  file, i, i * kSplatRecordBytes, scale);
      splats.log_scales[i][k] = std::log(scale);
      splats.sh_dc[i][k] = ((rgba[k] + 0.5f) / 255.0f - 0.5f) / kShC0;
    }
    const float alpha = (rgba[3] + 0.5f) / 255.0f;
    splats.opacities[i] =
        rgba[3] == 255 ? kSplatSaturatedOpacity : std::log(alpha / (1.0f - alpha));
    for (int k = 0; k < 4; ++k) splats.rotations[i][k] = (rot[k] - 128.0f) / 128.0f;
  }
  return splats;
}

void WriteSplat(const fs::path& path, const GaussianSplats& splats,
                const SplatWriteOptions& options) {
  options.Check();
  splats.Check();
  std::vector<std::size_t> order(splats.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (options.sort_by_importance) {
    std::vector<float> importance(splats.size());
    for (std::size_t i = 0; i < splats.size(); ++i) {
      const float value = std::exp(splats.log_scales[i].sum()) * Sigmoid(splats.opacities[i]);
      importance[i] = std::isnan(value) ? -INFINITY : value;  // keeps the order strict and weak
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return importance[a] > importance[b]; });
  }
  std::vector<std::uint8_t> bytes(splats.size() * kSplatRecordBytes);
  for (std::size_t out = 0; out < order.size(); ++out) {
    const std::size_t i = order[out];
    std::uint8_t* record = bytes.data() + out * kSplatRecordBytes;
    std::array<float, 6> floats;
    for (int k = 0; k < 3; ++k) {
      floats[k] = splats.positions[i][k];
      floats[3 + k] = std::exp(splats.log_scales[i][k]);
    }
    std::memcpy(record, floats.data(), sizeof(floats));
    for (int k = 0; k < 3; ++k) {
      record[24 + k] = ToByte((0.5f + kShC0 * splats.sh_dc[i][k]) * 255.0f);
    }
    record[27] = ToByte(Sigmoid(splats.opacities[i]) * 255.0f);
    const float norm = splats.rotations[i].norm();
    const Eigen::Vector4f q =
        norm > 0.0f ? Eigen::Vector4f(splats.rotations[i] / norm) : Eigen::Vector4f(1, 0, 0, 0);
    for (int k = 0; k < 4; ++k) record[28 + k] = ToByte(q[k] * 128.0f + 128.0f);
  }
  WriteFileAtomically(path, bytes);
}

}  // namespace facet::datasets
