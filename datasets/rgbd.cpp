#include "datasets/rgbd.h"

#include <Eigen/Geometry>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/file_io.h"
#include "datasets/detail/text_parse.h"
#include "datasets/exif.h"

namespace facet::datasets {
namespace fs = std::filesystem;
using geometry::Camera;
using geometry::CameraModelId;
using geometry::Rigid3;

namespace {

using detail::ParseNumber;
using detail::ReadText;
using detail::SplitLines;
using detail::TextLine;

constexpr std::int64_t kMaxDepthPixels = std::int64_t{1} << 28;  // 16k x 16k

// A TUM list file (rgb.txt / depth.txt): (timestamp, path) sorted by time.
std::vector<std::pair<double, fs::path>> ReadTumList(const fs::path& path) {
  FACET_CHECK(fs::is_regular_file(path),
              "'{}' is missing: a TUM RGB-D folder has rgb.txt and depth.txt (check the folder)",
              path.string());
  std::vector<std::pair<double, fs::path>> list;
  const std::string text = ReadText(path);  // the lines are views into it
  for (const TextLine& line : SplitLines(text)) {
    FACET_CHECK(line.fields.size() == 2,
                "'{}' line {}: expected \"timestamp filename\", found {} fields", path.string(),
                line.number, line.fields.size());
    list.emplace_back(ParseNumber<double>(line.fields[0], path, line.number),
                      path.parent_path() / std::string(line.fields[1]));
  }
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return list;
}

struct TimedPose {
  double time = 0.0;
  Rigid3 world_from_cam{};
};

std::vector<TimedPose> ReadTumGroundTruth(const fs::path& path) {
  std::vector<TimedPose> poses;
  const std::string text = ReadText(path);  // the lines are views into it
  for (const TextLine& line : SplitLines(text)) {
    FACET_CHECK(line.fields.size() == 8,
                "'{}' line {}: expected \"timestamp tx ty tz qx qy qz qw\", found {} fields",
                path.string(), line.number, line.fields.size());
    double v[8];
    for (int i = 0; i < 8; ++i) v[i] = ParseNumber<double>(line.fields[i], path, line.number);
    const Eigen::Quaterniond q(v[7], v[4], v[5], v[6]);
    FACET_CHECK(std::abs(q.norm() - 1.0) < 1e-2,
                "'{}' line {}: the quaternion has norm {:.4f}, not 1", path.string(), line.number,
                q.norm());
    poses.push_back({v[0], Rigid3(q.normalized(), Eigen::Vector3d(v[1], v[2], v[3]))});
  }
  std::stable_sort(poses.begin(), poses.end(),
                   [](const TimedPose& a, const TimedPose& b) { return a.time < b.time; });
  return poses;
}

// The ground-truth pose at time t (see TumReadOptions), or nullopt.
std::optional<Rigid3> PoseAt(const std::vector<TimedPose>& poses, double t,
                             const TumReadOptions& options) {
  const auto after = std::lower_bound(
      poses.begin(), poses.end(), t, [](const TimedPose& p, double time) { return p.time < time; });
  if (after != poses.end() && after != poses.begin()) {
    const TimedPose& a = *(after - 1);
    const TimedPose& b = *after;
    if (b.time - a.time <= options.max_groundtruth_gap_s && b.time > a.time) {
      const double s = (t - a.time) / (b.time - a.time);
      return Rigid3(a.world_from_cam.rotation.slerp(s, b.world_from_cam.rotation).normalized(),
                    (1.0 - s) * a.world_from_cam.translation + s * b.world_from_cam.translation);
    }
  }
  std::optional<Rigid3> nearest;
  double best = options.max_groundtruth_dt_s;
  for (auto it : {after, after == poses.begin() ? poses.end() : after - 1}) {
    if (it != poses.end() && std::abs(it->time - t) <= best) {
      best = std::abs(it->time - t);
      nearest = it->world_from_cam;
    }
  }
  return nearest;
}

// TUM's published calibration (file formats page, "Intrinsic Camera Calibration of the Kinect"),
// chosen by the sequence's folder name. TUM calibrated with ROS (OpenCV's pixel convention), so
// the numbers go through CameraFromOpenCvIntrinsics.
Camera TumDefaultCamera(const fs::path& folder) {
  fs::path normal = folder.lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();  // "a/b/" -> "a/b"
  const std::string name = normal.filename().string();
  using geometry::CameraFromOpenCvIntrinsics;
  if (name.find("freiburg1") != std::string::npos) {
    return CameraFromOpenCvIntrinsics(517.3, 516.5, 318.6, 255.3, 640, 480,
                                      {0.2624, -0.9531, -0.0054, 0.0026, 1.1633});
  }
  if (name.find("freiburg2") != std::string::npos) {
    return CameraFromOpenCvIntrinsics(520.9, 521.0, 325.1, 249.7, 640, 480,
                                      {0.2312, -0.7849, -0.0033, -0.0001, 0.9172});
  }
  if (name.find("freiburg3") != std::string::npos) {
    return CameraFromOpenCvIntrinsics(535.4, 539.2, 320.1, 247.6, 640, 480);
  }
  return CameraFromOpenCvIntrinsics(525.0, 525.0, 319.5, 239.5, 640, 480);
}

void CheckCameraMatchesImage(const Camera& camera, const fs::path& image) {
  camera.Check();
  const ImageHeader header = ReadImageHeader(image);
  FACET_CHECK(header.Width() == camera.width && header.Height() == camera.height,
              "the camera is {}x{} but '{}' is {}x{} (pass the intrinsics of these images)",
              camera.width, camera.height, image.string(), header.Width(), header.Height());
}

std::vector<fs::path> SortedImages(const fs::path& folder) {
  std::vector<fs::path> files;
  try {
    for (const auto& entry : fs::directory_iterator(folder)) {
      const std::string ext = LowercaseExtension(entry.path());
      if (entry.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg")) {
        files.push_back(entry.path());
      }
    }
  } catch (const fs::filesystem_error& e) {
    FACET_THROW("cannot list the images in '{}': {}", folder.string(), e.what());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

void TumReadOptions::Check() const {
  FACET_CHECK(max_association_dt_s > 0.0,
              "TumReadOptions::max_association_dt_s must be positive (got {})",
              max_association_dt_s);
  FACET_CHECK(max_groundtruth_gap_s > 0.0,
              "TumReadOptions::max_groundtruth_gap_s must be positive (got {})",
              max_groundtruth_gap_s);
  FACET_CHECK(max_groundtruth_dt_s >= 0.0,
              "TumReadOptions::max_groundtruth_dt_s must be >= 0 (got {})", max_groundtruth_dt_s);
  if (camera) camera->Check();
}

void RedwoodReadOptions::Check() const {
  FACET_CHECK(depth_scale > 0.0 && std::isfinite(depth_scale),
              "RedwoodReadOptions::depth_scale must be positive (got {})", depth_scale);
}

RgbdSequence ReadTumSequence(const fs::path& folder, const TumReadOptions& options) {
  options.Check();
  const auto colors = ReadTumList(folder / "rgb.txt");
  const auto depths = ReadTumList(folder / "depth.txt");

  // associate.py: all pairs within the window, taken greedily by increasing |dt|, each once.
  struct Pair {
    double dt;
    std::size_t color, depth;
  };
  std::vector<Pair> candidates;
  std::size_t first = 0;
  for (std::size_t c = 0; c < colors.size(); ++c) {
    const double t = colors[c].first;
    while (first < depths.size() && depths[first].first < t - options.max_association_dt_s) {
      ++first;
    }
    for (std::size_t d = first;
         d < depths.size() && depths[d].first <= t + options.max_association_dt_s; ++d) {
      candidates.push_back({std::abs(depths[d].first - t), c, d});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Pair& a, const Pair& b) { return a.dt < b.dt; });
  std::vector<bool> color_used(colors.size()), depth_used(depths.size());
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (const Pair& p : candidates) {
    if (color_used[p.color] || depth_used[p.depth]) continue;
    color_used[p.color] = depth_used[p.depth] = true;
    pairs.emplace_back(p.color, p.depth);
  }
  std::sort(pairs.begin(), pairs.end());
  FACET_CHECK(!pairs.empty(),
              "'{}': no colour image has a depth image within {} s ({} colour, {} depth entries)",
              folder.string(), options.max_association_dt_s, colors.size(), depths.size());

  std::vector<TimedPose> ground_truth;
  if (fs::exists(folder / "groundtruth.txt")) {
    ground_truth = ReadTumGroundTruth(folder / "groundtruth.txt");
  }
  RgbdSequence sequence;
  sequence.depth_scale = 5000.0;
  if (options.camera) {
    sequence.camera = *options.camera;
  } else if (fs::is_regular_file(folder / "cameras.txt")) {
    sequence.camera = ReadSequenceCameraFile(folder / "cameras.txt");
  } else {
    sequence.camera = TumDefaultCamera(folder);
  }
  for (const auto& [c, d] : pairs) {
    RgbdFrame frame;
    frame.timestamp = colors[c].first;
    frame.color_path = colors[c].second;
    frame.depth_timestamp = depths[d].first;
    frame.depth_path = depths[d].second;
    frame.world_from_cam = PoseAt(ground_truth, frame.timestamp, options);
    sequence.frames.push_back(std::move(frame));
  }
  CheckCameraMatchesImage(sequence.camera, sequence.frames[0].color_path);
  return sequence;
}

Camera ReadSequenceCameraFile(const fs::path& path) {
  const std::string text = ReadText(path);  // the lines are views into it
  const std::vector<TextLine> lines = SplitLines(text);
  FACET_CHECK(lines.size() == 1,
              "'{}' holds {} camera lines; an RGB-D sequence's cameras.txt holds exactly one "
              "(\"CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]\")",
              path.string(), lines.size());
  const TextLine& line = lines[0];
  FACET_CHECK(line.fields.size() >= 4,
              "'{}' line {}: expected \"CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]\", found {} fields",
              path.string(), line.number, line.fields.size());
  ParseNumber<int>(line.fields[0], path, line.number);  // the id: any integer
  const std::optional<CameraModelId> model = geometry::CameraModelFromName(line.fields[1]);
  FACET_CHECK(model.has_value(),
              "'{}' line {}: camera model \"{}\" is not one facet implements (SIMPLE_PINHOLE, "
              "PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, OPENCV_FISHEYE, FULL_OPENCV)",
              path.string(), line.number, line.fields[1]);
  Camera camera;
  camera.model = *model;
  camera.width = ParseNumber<int>(line.fields[2], path, line.number);
  camera.height = ParseNumber<int>(line.fields[3], path, line.number);
  FACET_CHECK(static_cast<int>(line.fields.size()) - 4 == geometry::CameraModelNumParams(*model),
              "'{}' line {}: a {} camera has {} parameters ({}), found {}", path.string(),
              line.number, camera.ModelName(), geometry::CameraModelNumParams(*model),
              geometry::CameraModelParamsInfo(*model), line.fields.size() - 4);
  for (std::size_t i = 4; i < line.fields.size(); ++i) {
    camera.params.push_back(ParseNumber<double>(line.fields[i], path, line.number));
  }
  try {
    camera.Check();
  } catch (const Error& e) {
    FACET_THROW("'{}' line {}: {}", path.string(), line.number, e.what());
  }
  return camera;
}

void WriteSequenceCameraFile(const fs::path& path, const Camera& camera) {
  camera.Check();
  std::string text =
      "# Camera list with one line of data per camera:\n"
      "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
      "# Number of cameras: 1\n";
  text += fmt::format("1 {} {} {}", camera.ModelName(), camera.width, camera.height);
  for (double p : camera.params) text += fmt::format(" {:.17g}", p);
  text += '\n';
  WriteFileAtomically(path, std::string_view(text));
}

RgbdSequence ReadRedwoodSequence(const fs::path& folder, const Camera& intrinsics,
                                 const RedwoodReadOptions& options) {
  options.Check();
  fs::path color_folder;
  for (const char* name : {"image", "color", "rgb"}) {
    if (fs::is_directory(folder / name)) {
      color_folder = folder / name;
      break;
    }
  }
  FACET_CHECK(!color_folder.empty() && fs::is_directory(folder / "depth"),
              "'{}' is not a Redwood/Open3D RGB-D folder: it needs image/ (or color/, rgb/) and "
              "depth/ sub-folders",
              folder.string());
  const std::vector<fs::path> colors = SortedImages(color_folder);
  const std::vector<fs::path> depths = SortedImages(folder / "depth");
  FACET_CHECK(!colors.empty() && colors.size() == depths.size(),
              "'{}': {} colour and {} depth images; they are paired by index, so the counts must "
              "be equal and non-zero",
              folder.string(), colors.size(), depths.size());
  RgbdSequence sequence;
  sequence.camera = intrinsics;
  sequence.depth_scale = options.depth_scale;
  for (std::size_t i = 0; i < colors.size(); ++i) {
    RgbdFrame frame;
    frame.color_path = colors[i];
    frame.depth_path = depths[i];
    frame.timestamp = frame.depth_timestamp = static_cast<double>(i);
    sequence.frames.push_back(std::move(frame));
  }
  CheckCameraMatchesImage(sequence.camera, colors[0]);
  if (!options.trajectory_log.empty()) {
    const fs::path log = options.trajectory_log.is_absolute() ? options.trajectory_log
                                                              : folder / options.trajectory_log;
    for (const TrajectoryEntry& entry : ReadTrajectoryLog(log)) {
      const int index = entry.metadata[0];
      FACET_CHECK(index >= 0 && static_cast<std::size_t>(index) < colors.size(),
                  "'{}': an entry names frame {}, but '{}' has {} frames", log.string(), index,
                  folder.string(), colors.size());
      Eigen::Matrix<double, 3, 4> m = entry.world_from_cam.topRows<3>();
      sequence.frames[static_cast<std::size_t>(index)].world_from_cam = Rigid3::FromMatrix(m);
    }
  }
  return sequence;
}

std::vector<TrajectoryEntry> ReadTrajectoryLog(const fs::path& path) {
  const std::string text = ReadText(path);  // the lines are views into it
  const std::vector<TextLine> lines = SplitLines(text);
  std::vector<TrajectoryEntry> entries;
  for (std::size_t i = 0; i < lines.size(); i += 5) {
    FACET_CHECK(lines[i].fields.size() == 3,
                "'{}' line {}: expected three integers starting an entry, found {} fields",
                path.string(), lines[i].number, lines[i].fields.size());
    FACET_CHECK(i + 5 <= lines.size(),
                "'{}' line {}: the entry is truncated (a 4x4 matrix must follow)", path.string(),
                lines[i].number);
    TrajectoryEntry entry;
    for (int k = 0; k < 3; ++k) {
      entry.metadata[k] = ParseNumber<int>(lines[i].fields[k], path, lines[i].number);
    }
    for (int r = 0; r < 4; ++r) {
      const TextLine& row = lines[i + 1 + r];
      FACET_CHECK(row.fields.size() == 4, "'{}' line {}: expected 4 numbers, found {}",
                  path.string(), row.number, row.fields.size());
      for (int c = 0; c < 4; ++c) {
        entry.world_from_cam(r, c) = ParseNumber<double>(row.fields[c], path, row.number);
      }
    }
    const Eigen::Matrix3d r = entry.world_from_cam.topLeftCorner<3, 3>();
    const double error = (r.transpose() * r - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
    FACET_CHECK(error <= 1e-4 && r.determinant() > 0.0 &&
                    entry.world_from_cam.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1), 1e-9),
                "'{}' lines {}-{}: the matrix is not a rigid transform (|R^T R - I| = {:.2g})",
                path.string(), lines[i + 1].number, lines[i + 4].number, error);
    entries.push_back(entry);
  }
  return entries;
}

void WriteTrajectoryLog(const fs::path& path, const std::vector<TrajectoryEntry>& entries) {
  std::string text;
  for (const TrajectoryEntry& e : entries) {
    text += fmt::format("{} {} {}\n", e.metadata[0], e.metadata[1], e.metadata[2]);
    for (int r = 0; r < 4; ++r) {
      const auto& m = e.world_from_cam;
      text += fmt::format("{:.8f} {:.8f} {:.8f} {:.8f}\n", m(r, 0), m(r, 1), m(r, 2), m(r, 3));
    }
  }
  WriteFileAtomically(path, std::string_view(text));
}

void WriteTumTrajectory(const fs::path& path, const std::vector<double>& timestamps,
                        const std::vector<geometry::Rigid3>& world_from_cam) {
  FACET_CHECK(timestamps.size() == world_from_cam.size(),
              "a TUM trajectory needs one timestamp per pose (got {} and {})", timestamps.size(),
              world_from_cam.size());
  std::string text = "# timestamp tx ty tz qx qy qz qw\n";
  for (std::size_t i = 0; i < timestamps.size(); ++i) {
    const Eigen::Vector3d& t = world_from_cam[i].translation;
    const Eigen::Quaterniond& q = world_from_cam[i].rotation;
    text += fmt::format("{:.6f} {:.9f} {:.9f} {:.9f} {:.9f} {:.9f} {:.9f} {:.9f}\n", timestamps[i],
                        t.x(), t.y(), t.z(), q.x(), q.y(), q.z(), q.w());
  }
  WriteFileAtomically(path, std::string_view(text));
}

ImageF32 LoadDepthMeters(const fs::path& path, double scale) {
  FACET_CHECK(scale > 0.0 && std::isfinite(scale),
              "the depth scale for '{}' must be positive (got {})", path.string(), scale);
  // Check the header before decoding, so that a corrupt size never reaches the allocator.
  const ImageHeader header = ReadImageHeader(path);
  FACET_CHECK(header.format == ImageFormat::kPng && header.channels == 1 && header.bit_depth == 16,
              "depth image '{}' must be a 16-bit single-channel PNG (it has {} channel(s) of {} "
              "bits): depth maps store integer units, e.g. millimetres",
              path.string(), header.channels, header.bit_depth);
  FACET_CHECK(std::int64_t{header.stored_width} * header.stored_height <= kMaxDepthPixels,
              "depth image '{}' claims {}x{} pixels, more than facet reads (the file is corrupt?)",
              path.string(), header.stored_width, header.stored_height);
  std::vector<std::uint8_t> bytes = ReadFile(path);
  FACET_CHECK(!bytes.empty() && bytes.size() < (std::size_t{1} << 31),
              "cannot read depth image '{}': {} bytes (empty, or too large for the decoder)",
              path.string(), bytes.size());
  cv::Mat depth;
  try {
    depth = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, bytes.data()),
                         cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    FACET_THROW("cannot decode depth image '{}': {}", path.string(), e.what());
  }
  FACET_CHECK(!depth.empty(), "cannot decode depth image '{}': not a valid image file",
              path.string());
  FACET_CHECK(depth.type() == CV_16UC1,
              "depth image '{}' must be 16-bit single-channel (it has {} channel(s) of {} bits): "
              "depth maps store integer units, e.g. millimetres",
              path.string(), depth.channels(), depth.elemSize1() * 8);
  ImageF32 meters(depth.cols, depth.rows, 1);
  for (int y = 0; y < depth.rows; ++y) {
    const std::uint16_t* row = depth.ptr<std::uint16_t>(y);
    for (int x = 0; x < depth.cols; ++x) meters(x, y) = static_cast<float>(row[x] / scale);
  }
  return meters;
}

}  // namespace facet::datasets
