#include "datasets/transforms_json.h"

#include <Eigen/Geometry>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "core/error.h"
#include "core/file_io.h"
#include "core/image_io.h"
#include "datasets/exif.h"

namespace facet::datasets {
namespace fs = std::filesystem;
using geometry::Camera;
using geometry::CameraModelId;
using nlohmann::json;

namespace {

constexpr std::uint64_t kMaxJsonBytes = std::uint64_t{1} << 30;
constexpr double kMaxImageSide = 1 << 20;  // pixels; larger sizes are surely corrupt

// F = diag(1, -1, -1): OpenGL camera axes <-> COLMAP camera axes (see the header).
const Eigen::Matrix3d kFlipYZ = Eigen::Vector3d(1.0, -1.0, -1.0).asDiagonal();

// Intrinsics fields as given at one level (top or frame); per-frame values override the top.
struct Intrinsics {
  std::map<std::string, double> numbers{};  // fl_x, camera_angle_x, w, k1, ...
  std::optional<std::string> camera_model{};
};

constexpr std::array<const char*, 14> kNumberKeys = {"camera_angle_x",
                                                     "camera_angle_y",
                                                     "fl_x",
                                                     "fl_y",
                                                     "cx",
                                                     "cy",
                                                     "w",
                                                     "h",
                                                     "k1",
                                                     "k2",
                                                     "k3",
                                                     "k4",
                                                     "p1",
                                                     "p2"};

// Reads the intrinsics fields present in `object` into `out` (overriding). `where` names the
// file and level for messages.
void ReadIntrinsics(const json& object, const std::string& where, Intrinsics* out) {
  for (const char* key : kNumberKeys) {
    const auto it = object.find(key);
    if (it == object.end()) continue;
    FACET_CHECK(it->is_number() && std::isfinite(it->get<double>()),
                "{}: \"{}\" must be a finite number (fix or remove it)", where, key);
    out->numbers[key] = it->get<double>();
  }
  if (const auto it = object.find("camera_model"); it != object.end()) {
    FACET_CHECK(it->is_string(), "{}: \"camera_model\" must be a string", where);
    out->camera_model = it->get<std::string>();
  }
}

// Builds the camera for one frame; `probe_size` reads the first image's size when w/h are absent.
template <typename ProbeSize>
Camera MakeCamera(const Intrinsics& in, const std::string& where, ProbeSize&& probe_size) {
  auto get = [&](const char* key) -> std::optional<double> {
    const auto it = in.numbers.find(key);
    return it == in.numbers.end() ? std::nullopt : std::optional<double>(it->second);
  };
  Camera camera;
  const auto w = get("w"), h = get("h");
  FACET_CHECK(w.has_value() == h.has_value(), "{}: give both \"w\" and \"h\", or neither", where);
  if (w && h) {
    FACET_CHECK(*w >= 1 && *h >= 1 && *w <= kMaxImageSide && *h <= kMaxImageSide &&
                    *w == std::floor(*w) && *h == std::floor(*h),
                "{}: image size w={} h={} must be positive integers", where, *w, *h);
    camera.width = static_cast<int>(*w);
    camera.height = static_cast<int>(*h);
  } else {
    std::tie(camera.width, camera.height) = probe_size();
  }
  auto focal_from_angle = [&](const char* key, int size) -> std::optional<double> {
    const auto angle = get(key);
    if (!angle) return std::nullopt;
    FACET_CHECK(*angle > 0.0 && *angle < M_PI, "{}: \"{}\" = {} must be in (0, pi) radians", where,
                key, *angle);
    return 0.5 * size / std::tan(0.5 * *angle);
  };
  std::optional<double> fx = get("fl_x");
  if (!fx) fx = focal_from_angle("camera_angle_x", camera.width);
  FACET_CHECK(fx.has_value(), "{}: no focal length (give \"fl_x\" or \"camera_angle_x\")", where);
  std::optional<double> fy = get("fl_y");
  if (!fy) fy = focal_from_angle("camera_angle_y", camera.height);
  if (!fy) fy = fx;
  FACET_CHECK(*fx > 0.0 && *fy > 0.0, "{}: focal lengths must be positive (fl_x={}, fl_y={})",
              where, *fx, *fy);
  const double cx = get("cx").value_or(0.5 * camera.width);
  const double cy = get("cy").value_or(0.5 * camera.height);
  const double k1 = get("k1").value_or(0.0), k2 = get("k2").value_or(0.0);
  const double k3 = get("k3").value_or(0.0), k4 = get("k4").value_or(0.0);
  const double p1 = get("p1").value_or(0.0), p2 = get("p2").value_or(0.0);

  const std::string model = in.camera_model.value_or("");
  if (model == "OPENCV_FISHEYE" || model == "FISHEYE") {
    FACET_CHECK(p1 == 0.0 && p2 == 0.0,
                "{}: a fisheye camera has no tangential distortion (p1={}, p2={})", where, p1, p2);
    camera.model = CameraModelId::kOpenCVFisheye;
    camera.params = {*fx, *fy, cx, cy, k1, k2, k3, k4};
    return camera;
  }
  FACET_CHECK(model.empty() || model == "OPENCV" || model == "PINHOLE" ||
                  model == "SIMPLE_PINHOLE" || model == "SIMPLE_RADIAL" || model == "RADIAL",
              "{}: camera_model \"{}\" is not supported (facet reads perspective OPENCV-style and "
              "OPENCV_FISHEYE cameras)",
              where, model);
  FACET_CHECK(k4 == 0.0,
              "{}: perspective k4 = {} (an r^8 radial term) has no COLMAP camera model; "
              "re-calibrate without it",
              where, k4);
  if (k3 != 0.0) {
    camera.model = CameraModelId::kFullOpenCV;
    camera.params = {*fx, *fy, cx, cy, k1, k2, p1, p2, k3, 0.0, 0.0, 0.0};
  } else if (model == "OPENCV" || k1 != 0.0 || k2 != 0.0 || p1 != 0.0 || p2 != 0.0) {
    camera.model = CameraModelId::kOpenCV;
    camera.params = {*fx, *fy, cx, cy, k1, k2, p1, p2};
  } else {
    camera.model = CameraModelId::kPinhole;
    camera.params = {*fx, *fy, cx, cy};
  }
  return camera;
}

// transform_matrix (3x4 or 4x4 camera-to-world, OpenGL axes) -> cam_from_world, COLMAP axes.
geometry::Rigid3 CamFromWorld(const json& matrix, double tolerance, const std::string& where) {
  FACET_CHECK(matrix.is_array() && (matrix.size() == 3 || matrix.size() == 4),
              "{}: \"transform_matrix\" must be an array of 3 or 4 rows", where);
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  for (std::size_t r = 0; r < matrix.size(); ++r) {
    const json& row = matrix[r];
    FACET_CHECK(row.is_array() && row.size() == 4,
                "{}: \"transform_matrix\" row {} must hold 4 numbers", where, r);
    for (std::size_t c = 0; c < 4; ++c) {
      FACET_CHECK(row[c].is_number() && std::isfinite(row[c].get<double>()),
                  "{}: \"transform_matrix\"[{}][{}] is not a finite number", where, r, c);
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = row[c].get<double>();
    }
  }
  FACET_CHECK(m.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1), 1e-9),
              "{}: the last row of \"transform_matrix\" must be 0 0 0 1", where);
  const Eigen::Matrix3d r_gl = m.topLeftCorner<3, 3>();
  const double error =
      (r_gl.transpose() * r_gl - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
  FACET_CHECK(error <= tolerance && r_gl.determinant() > 0.0,
              "{}: \"transform_matrix\" is not a rigid transform (|R^T R - I| = {:.2g}, det R = "
              "{:.6g}); scaled poses are not supported",
              where, error, r_gl.determinant());
  const Eigen::Matrix3d world_from_cam = r_gl * kFlipYZ;
  const Eigen::Quaterniond cam_from_world_rotation =
      Eigen::Quaterniond(world_from_cam.transpose()).normalized();
  const Eigen::Vector3d center = m.topRightCorner<3, 1>();
  return {cam_from_world_rotation, -(cam_from_world_rotation * center)};
}

// "./train/r_0" -> "train/r_0.png".
std::string ImageName(const std::string& file_path) {
  fs::path path = fs::path(file_path).lexically_normal();
  if (!path.has_extension()) path += ".png";
  return path.generic_string();
}

}  // namespace

void TransformsReadOptions::Check() const {
  FACET_CHECK(
      background.allFinite() && background.minCoeff() >= 0.0f && background.maxCoeff() <= 1.0f,
      "TransformsReadOptions::background must be sRGB-encoded RGB in [0, 1] (got {} {} {})",
      background[0], background[1], background[2]);
  FACET_CHECK(rotation_tolerance >= 0.0 && rotation_tolerance < 1.0,
              "TransformsReadOptions::rotation_tolerance must be in [0, 1) (got {})",
              rotation_tolerance);
}

void TransformsWriteOptions::Check() const {}

TransformsDataset ReadTransformsJson(const fs::path& path, const TransformsReadOptions& options) {
  options.Check();
  const std::vector<std::uint8_t> bytes = ReadFile(path, kMaxJsonBytes);
  json root;
  try {
    root = json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    FACET_THROW("cannot parse '{}' as JSON: {}", path.string(), e.what());
  }
  const std::string file = fmt::format("'{}'", path.string());
  FACET_CHECK(root.is_object(), "{}: the top level must be a JSON object", file);
  Intrinsics top;
  ReadIntrinsics(root, file, &top);
  const auto frames = root.find("frames");
  FACET_CHECK(frames != root.end() && frames->is_array() && !frames->empty(),
              "{}: no \"frames\" array (is this a transforms.json?)", file);

  TransformsDataset dataset;
  dataset.background = options.background;
  const fs::path folder = path.parent_path();
  std::optional<std::pair<int, int>> probed;
  std::map<std::tuple<int, int, int, std::vector<double>>, CameraId> camera_ids;
  for (std::size_t i = 0; i < frames->size(); ++i) {
    const json& frame = (*frames)[i];
    std::string where = fmt::format("{} frame {}", file, i);
    FACET_CHECK(frame.is_object(), "{}: must be an object", where);
    const auto file_path = frame.find("file_path");
    FACET_CHECK(file_path != frame.end() && file_path->is_string(),
                "{}: \"file_path\" is missing or not a string", where);
    where += fmt::format(" (\"{}\")", file_path->get<std::string>());
    const std::string name = ImageName(file_path->get<std::string>());

    Intrinsics intrinsics = top;
    ReadIntrinsics(frame, where, &intrinsics);
    const Camera camera = MakeCamera(intrinsics, where, [&]() {
      if (!probed) {
        // The first frame's image; this runs at most once.
        const fs::path image_path =
            dataset.frames.empty() ? folder / name : dataset.frames[0].image_path;
        try {
          const ImageHeader header = ReadImageHeader(image_path);
          probed = std::make_pair(header.Width(), header.Height());
        } catch (const Error& e) {
          FACET_THROW("{}: no \"w\"/\"h\" given, and the image size cannot be read: {}", where,
                      e.what());
        }
      }
      return *probed;
    });
    camera.Check();
    const auto key =
        std::make_tuple(static_cast<int>(camera.model), camera.width, camera.height, camera.params);
    auto [it, inserted] =
        camera_ids.try_emplace(key, CameraId(static_cast<std::uint32_t>(camera_ids.size() + 1)));
    if (inserted) dataset.scene.cameras[it->second] = camera;

    const auto matrix = frame.find("transform_matrix");
    FACET_CHECK(matrix != frame.end(), "{}: \"transform_matrix\" is missing", where);
    Image image;
    image.id = ImageId(static_cast<std::uint32_t>(i + 1));
    image.name = name;
    image.camera_id = it->second;
    image.cam_from_world = CamFromWorld(*matrix, options.rotation_tolerance, where);
    FACET_CHECK(dataset.scene.FindImage(name) == nullptr, "{}: image \"{}\" appears twice", where,
                name);
    dataset.scene.images[image.id] = image;

    TransformsFrame out;
    out.image_id = image.id;
    out.image_path = folder / name;
    if (const auto mask = frame.find("mask_path"); mask != frame.end()) {
      FACET_CHECK(mask->is_string(), "{}: \"mask_path\" must be a string", where);
      out.mask_path = folder / ImageName(mask->get<std::string>());
    }
    dataset.frames.push_back(std::move(out));
  }
  return dataset;
}

namespace {

// The transforms.json intrinsics of a camera (see WriteTransformsJson for the mapping).
json IntrinsicsJson(const Camera& camera, const std::string& where) {
  camera.Check();
  const std::vector<double>& p = camera.params;
  json out;
  out["w"] = camera.width;
  out["h"] = camera.height;
  out["fl_x"] = camera.FocalX();
  out["fl_y"] = camera.FocalY();
  const Eigen::Vector2d c = camera.PrincipalPoint();
  out["cx"] = c.x();
  out["cy"] = c.y();
  auto distortion = [&](double k1, double k2, double k3, double k4, double p1, double p2) {
    out["k1"] = k1, out["k2"] = k2, out["k3"] = k3, out["k4"] = k4, out["p1"] = p1, out["p2"] = p2;
  };
  switch (camera.model) {
    case CameraModelId::kSimplePinhole:
    case CameraModelId::kPinhole:
      out["camera_model"] = "PINHOLE";
      break;
    case CameraModelId::kSimpleRadial:
      out["camera_model"] = "OPENCV";
      distortion(p[3], 0.0, 0.0, 0.0, 0.0, 0.0);
      break;
    case CameraModelId::kRadial:
      out["camera_model"] = "OPENCV";
      distortion(p[3], p[4], 0.0, 0.0, 0.0, 0.0);
      break;
    case CameraModelId::kOpenCV:
      out["camera_model"] = "OPENCV";
      distortion(p[4], p[5], 0.0, 0.0, p[6], p[7]);
      break;
    case CameraModelId::kFullOpenCV:
      FACET_CHECK(p[9] == 0.0 && p[10] == 0.0 && p[11] == 0.0,
                  "{}: FULL_OPENCV camera with rational coefficients k4-k6 = {} {} {} cannot be "
                  "written to transforms.json (which has no field for them)",
                  where, p[9], p[10], p[11]);
      out["camera_model"] = "OPENCV";
      distortion(p[4], p[5], p[8], 0.0, p[6], p[7]);
      break;
    case CameraModelId::kOpenCVFisheye:
      out["camera_model"] = "OPENCV_FISHEYE";
      distortion(p[4], p[5], p[6], p[7], 0.0, 0.0);
      break;
  }
  return out;
}

}  // namespace

void WriteTransformsJson(const fs::path& path, const Scene& scene,
                         const TransformsWriteOptions& options) {
  options.Check();
  const std::string file = fmt::format("'{}'", path.string());
  std::vector<const Image*> written;
  for (const auto& [id, image] : scene.images) {
    FACET_CHECK(image.IsRegistered() || options.skip_unregistered,
                "cannot write {}: image \"{}\" has no pose (register it, or skip unregistered "
                "images)",
                file, image.name);
    if (!image.IsRegistered()) continue;
    FACET_CHECK(scene.cameras.count(image.camera_id) == 1,
                "cannot write {}: image \"{}\" refers to missing camera {}", file, image.name,
                image.camera_id);
    written.push_back(&image);
  }
  FACET_CHECK(!written.empty(), "cannot write {}: the scene has no registered images", file);
  bool shared = true;
  for (const Image* image : written) shared &= image->camera_id == written[0]->camera_id;

  auto camera_json = [&](CameraId id) {
    return IntrinsicsJson(scene.cameras.at(id),
                          fmt::format("cannot write {}: camera {}", file, id));
  };
  json root = shared ? camera_json(written[0]->camera_id) : json::object();
  json frames = json::array();
  for (const Image* image : written) {
    json frame = shared ? json::object() : camera_json(image->camera_id);
    frame["file_path"] = image->name;
    const Eigen::Matrix3d cam_from_world = image->cam_from_world->rotation.toRotationMatrix();
    const Eigen::Vector3d center = geometry::CameraCenter(*image->cam_from_world);
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
    m.topLeftCorner<3, 3>() = cam_from_world.transpose() * kFlipYZ;
    m.topRightCorner<3, 1>() = center;
    json rows = json::array();
    for (int r = 0; r < 4; ++r) rows.push_back({m(r, 0), m(r, 1), m(r, 2), m(r, 3)});
    frame["transform_matrix"] = std::move(rows);
    frames.push_back(std::move(frame));
  }
  root["frames"] = std::move(frames);
  WriteFileAtomically(path, std::string_view(root.dump(2) + "\n"));
}

ImageU8 LoadRgbaOverBackground(const fs::path& path, const Eigen::Vector3f& background) {
  FACET_CHECK(
      background.allFinite() && background.minCoeff() >= 0.0f && background.maxCoeff() <= 1.0f,
      "the background colour for '{}' must be sRGB in [0, 1]", path.string());
  const ImageU8 source = ReadImage<std::uint8_t>(path);
  if (source.channels() == 3) return source;
  ImageU8 out(source.width(), source.height(), 3);
  const bool gray = source.channels() <= 2;
  const bool alpha = source.channels() == 2 || source.channels() == 4;
  for (int y = 0; y < source.height(); ++y) {
    for (int x = 0; x < source.width(); ++x) {
      const float a = alpha ? source(x, y, source.channels() - 1) / 255.0f : 1.0f;
      for (int c = 0; c < 3; ++c) {
        const float colour = source(x, y, gray ? 0 : c);
        // In sRGB code values, as the NeRF-synthetic loaders blend (transforms_json.h).
        const float blended = a * colour + (1.0f - a) * 255.0f * background[c];
        out(x, y, c) = static_cast<std::uint8_t>(std::lround(std::clamp(blended, 0.0f, 255.0f)));
      }
    }
  }
  return out;
}

}  // namespace facet::datasets
