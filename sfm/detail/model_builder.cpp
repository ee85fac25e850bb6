#include "sfm/detail/model_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace facet::sfm::detail {

using datasets::Point3DId;

ModelBuilder::ModelBuilder(const datasets::Scene& skeleton,
                           std::span<const datasets::ImageId> image_ids,
                           const CorrespondenceGraph& graph, const MapperOptions& options)
    : scene_(skeleton),
      image_ids_(image_ids.begin(), image_ids.end()),
      graph_(graph),
      options_(options) {
  const std::size_t n = image_ids_.size();
  FACET_CHECK(graph.NumImages() == n, "mapper: the graph has {} images but {} image ids were given",
              graph.NumImages(), n);
  scene_.points3d.clear();
  image_ptrs_.resize(n);
  visible_count_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto it = scene_.images.find(image_ids_[i]);
    FACET_CHECK(it != scene_.images.end(), "mapper: image id {} is not in the scene",
                image_ids_[i].value);
    image_ptrs_[i] = &it->second;
    index_of_id_[image_ids_[i].value] = static_cast<std::uint32_t>(i);
    it->second.cam_from_world.reset();
    for (auto& p : it->second.points2d) p.point3d_id = {};
    visible_count_[i].assign(it->second.points2d.size(), 0);
  }
  registered_.assign(n, 0);
  num_visible_.assign(n, 0);
  projections_.assign(n, Matrix34d::Zero());
  centers_.assign(n, Eigen::Vector3d::Zero());
}

std::uint32_t ModelBuilder::IndexOf(datasets::ImageId id) const {
  const auto it = index_of_id_.find(id.value);
  FACET_CHECK(it != index_of_id_.end(), "mapper: unknown image id {}", id.value);
  return it->second;
}

std::size_t ModelBuilder::NumRegisteredWithCamera(datasets::CameraId camera) const {
  std::size_t count = 0;
  for (std::size_t i = 0; i < image_ids_.size(); ++i) {
    if (registered_[i] && image_ptrs_[i]->camera_id == camera) ++count;
  }
  return count;
}

void ModelBuilder::Register(std::uint32_t image, const geometry::Rigid3& cam_from_world) {
  if (!registered_[image]) ++num_registered_;
  registered_[image] = 1;
  ImageAt(image).cam_from_world = cam_from_world;
  projections_[image] = cam_from_world.ToMatrix();
  centers_[image] = geometry::CameraCenter(cam_from_world);
}

void ModelBuilder::RefreshPoses() {
  for (std::size_t i = 0; i < image_ids_.size(); ++i) {
    if (!registered_[i]) continue;
    projections_[i] = image_ptrs_[i]->cam_from_world->ToMatrix();
    centers_[i] = geometry::CameraCenter(*image_ptrs_[i]->cam_from_world);
  }
}

Point3DId ModelBuilder::PointOf(std::uint32_t image, std::uint32_t point2d) const {
  return ImageAt(image).points2d[point2d].point3d_id;
}

void ModelBuilder::SetVisible(const Correspondence& obs, int delta) {
  for (const Correspondence& c : graph_.Find(obs.image, obs.point2d)) {
    auto& count = visible_count_[c.image][c.point2d];
    if (delta > 0) {
      if (count++ == 0) ++num_visible_[c.image];
    } else if (count > 0) {
      if (--count == 0) --num_visible_[c.image];
    }
  }
}

Point3DId ModelBuilder::AddPoint(const Eigen::Vector3d& xyz,
                                 std::span<const Correspondence> track) {
  const Point3DId id(next_point_id_++);
  datasets::Point3D& point = scene_.points3d[id];
  point.xyz = xyz;
  for (const Correspondence& obs : track) AddObservation(id, obs);
  return id;
}

void ModelBuilder::AddObservation(Point3DId point, const Correspondence& obs) {
  datasets::Point2D& p2 = ImageAt(obs.image).points2d[obs.point2d];
  FACET_CHECK(!p2.point3d_id.IsValid(), "mapper: keypoint {} of image {} is already triangulated",
              obs.point2d, obs.image);
  p2.point3d_id = point;
  scene_.points3d.at(point).track.push_back({image_ids_[obs.image], obs.point2d});
  ++num_observations_;
  SetVisible(obs, +1);
}

void ModelBuilder::DeleteObservation(const Correspondence& obs) {
  datasets::Point2D& p2 = ImageAt(obs.image).points2d[obs.point2d];
  if (!p2.point3d_id.IsValid()) return;
  const Point3DId id = p2.point3d_id;
  auto& track = scene_.points3d.at(id).track;
  const datasets::ImageId image_id = image_ids_[obs.image];
  std::erase_if(track, [&](const datasets::TrackElement& e) {
    return e.image_id == image_id && e.point2d_idx == obs.point2d;
  });
  p2.point3d_id = {};
  --num_observations_;
  SetVisible(obs, -1);
  if (track.size() < 2) DeletePoint(id);
}

void ModelBuilder::DeletePoint(Point3DId point) {
  const auto it = scene_.points3d.find(point);
  if (it == scene_.points3d.end()) return;
  const auto track = std::move(it->second.track);
  scene_.points3d.erase(it);
  for (const auto& e : track) {
    const std::uint32_t image = IndexOf(e.image_id);
    ImageAt(image).points2d[e.point2d_idx].point3d_id = {};
    --num_observations_;
    SetVisible({image, e.point2d_idx}, -1);
  }
}

std::optional<Eigen::Vector2d> ModelBuilder::Normalized(std::uint32_t image,
                                                        std::uint32_t point2d) const {
  const datasets::Image& img = ImageAt(image);
  return scene_.cameras.at(img.camera_id).CamFromImg(img.points2d[point2d].xy);
}

double ModelBuilder::SquaredError(const Eigen::Vector3d& xyz, const Correspondence& obs) const {
  const datasets::Image& img = ImageAt(obs.image);
  const Eigen::Vector3d x_in_cam = projections_[obs.image] * xyz.homogeneous();
  if (x_in_cam.z() <= 1e-12) return std::numeric_limits<double>::infinity();
  const auto px = scene_.cameras.at(img.camera_id).ImgFromCam(x_in_cam);
  if (!px) return std::numeric_limits<double>::infinity();
  return (*px - img.points2d[obs.point2d].xy).squaredNorm();
}

std::size_t ModelBuilder::TriangulateImage(std::uint32_t image) {
  FACET_CHECK(registered_[image], "mapper: triangulating unregistered image {}", image);
  const double max_e2 = options_.tri_max_error_px * options_.tri_max_error_px;
  const std::size_t before = num_observations_;
  const auto num_points2d = static_cast<std::uint32_t>(ImageAt(image).points2d.size());
  std::vector<Correspondence> views;
  std::vector<Matrix34d> poses;
  std::vector<Eigen::Vector2d> norms;
  std::vector<Eigen::Vector3d> centers;
  for (std::uint32_t k = 0; k < num_points2d; ++k) {
    if (PointOf(image, k).IsValid() || !graph_.HasCorrespondences(image, k)) continue;
    const auto corrs = graph_.Find(image, k);
    // Continue a track: the first existing point (of a registered correspondence) that fits.
    bool continued = false;
    for (const Correspondence& c : corrs) {
      const Point3DId p = registered_[c.image] ? PointOf(c.image, c.point2d) : Point3DId{};
      if (!p.IsValid()) continue;
      const auto& point = scene_.points3d.at(p);
      const bool image_in_track = std::any_of(
          point.track.begin(), point.track.end(),
          [&](const datasets::TrackElement& e) { return e.image_id == image_ids_[image]; });
      if (image_in_track || SquaredError(point.xyz, {image, k}) > max_e2) continue;
      AddObservation(p, {image, k});
      continued = true;
      break;
    }
    if (continued) continue;
    // A new point from this keypoint and its registered, untriangulated correspondences (one
    // keypoint per image).
    views.assign(1, {image, k});
    for (const Correspondence& c : corrs) {
      if (!registered_[c.image] || c.image == image || PointOf(c.image, c.point2d).IsValid())
        continue;
      if (std::any_of(views.begin(), views.end(),
                      [&](const Correspondence& v) { return v.image == c.image; })) {
        continue;
      }
      views.push_back(c);
    }
    if (views.size() < 2) continue;
    for (int round = 0; round < 2 && views.size() >= 2; ++round) {
      poses.clear();
      norms.clear();
      for (const Correspondence& v : views) {
        const auto uv = Normalized(v.image, v.point2d);
        if (!uv) continue;
        poses.push_back(projections_[v.image]);
        norms.push_back(*uv);
      }
      const auto xyz = TriangulateMultiView(poses, norms);
      if (!xyz) break;
      // Keep the views that fit; the new image must be one of them.
      std::vector<Correspondence> kept;
      for (const Correspondence& v : views) {
        if (SquaredError(*xyz, v) <= max_e2) kept.push_back(v);
      }
      const bool keeps_self = !kept.empty() && kept.front().image == image;
      if (kept.size() == views.size() && keeps_self) {
        centers.clear();
        for (const Correspondence& v : kept) centers.push_back(centers_[v.image]);
        if (HasTriangulationAngle(centers, *xyz, options_.tri_min_angle_deg)) {
          AddPoint(*xyz, kept);
        }
        break;
      }
      if (!keeps_self) break;
      views = std::move(kept);
    }
  }
  return num_observations_ - before;
}

bool ModelBuilder::TryMerge(Point3DId a, Point3DId b) {
  const auto& pa = scene_.points3d.at(a);
  const auto& pb = scene_.points3d.at(b);
  std::vector<Correspondence> obs;
  for (const auto* track : {&pa.track, &pb.track}) {
    for (const auto& e : *track) obs.push_back({IndexOf(e.image_id), e.point2d_idx});
  }
  // One keypoint per image in a track.
  for (std::size_t i = 0; i < obs.size(); ++i) {
    for (std::size_t j = i + 1; j < obs.size(); ++j) {
      if (obs[i].image == obs[j].image) return false;
    }
  }
  // The merged point: the longer track's point weighted by its observation count.
  const double na = static_cast<double>(pa.track.size());
  const double nb = static_cast<double>(pb.track.size());
  const Eigen::Vector3d xyz = (na * pa.xyz + nb * pb.xyz) / (na + nb);
  const double max_e2 = options_.tri_max_error_px * options_.tri_max_error_px;
  for (const Correspondence& o : obs) {
    if (SquaredError(xyz, o) > max_e2) return false;
  }
  DeletePoint(a);
  DeletePoint(b);
  AddPoint(xyz, obs);
  return true;
}

std::size_t ModelBuilder::CompleteAndMergeTracks(const std::set<Point3DId>& points) {
  const double max_e2 = options_.tri_max_error_px * options_.tri_max_error_px;
  std::size_t changes = 0;
  std::vector<Correspondence> obs;
  for (const Point3DId id : points) {
    auto it = scene_.points3d.find(id);
    if (it == scene_.points3d.end()) continue;
    obs.clear();
    for (const auto& e : it->second.track) obs.push_back({IndexOf(e.image_id), e.point2d_idx});
    for (std::size_t i = 0; i < obs.size(); ++i) {
      for (const Correspondence& c : graph_.Find(obs[i].image, obs[i].point2d)) {
        if (!registered_[c.image]) continue;
        it = scene_.points3d.find(id);
        if (it == scene_.points3d.end()) break;
        const Point3DId other = PointOf(c.image, c.point2d);
        if (other == id) continue;
        if (other.IsValid()) {
          if (TryMerge(id, other)) ++changes;
          // Either way this point's id may be gone (merged into a new one): stop here.
          if (!scene_.points3d.contains(id)) break;
          continue;
        }
        const bool image_in_track = std::any_of(
            it->second.track.begin(), it->second.track.end(),
            [&](const datasets::TrackElement& e) { return e.image_id == image_ids_[c.image]; });
        if (image_in_track || SquaredError(it->second.xyz, c) > max_e2) continue;
        AddObservation(id, c);
        obs.push_back(c);
        ++changes;
      }
      if (!scene_.points3d.contains(id)) break;
    }
  }
  return changes;
}

std::size_t ModelBuilder::FilterPoints(const std::set<Point3DId>* points) {
  const std::set<Point3DId> all = points ? std::set<Point3DId>{} : AllPoints();
  const std::set<Point3DId>& ids = points ? *points : all;
  const double max_e2 = options_.filter_max_error_px * options_.filter_max_error_px;
  std::size_t removed = 0;
  std::vector<Correspondence> bad;
  std::vector<Eigen::Vector3d> centers;
  for (const Point3DId id : ids) {
    auto it = scene_.points3d.find(id);
    if (it == scene_.points3d.end()) continue;
    bad.clear();
    double sum_error = 0.0;
    for (const auto& e : it->second.track) {
      const Correspondence o{IndexOf(e.image_id), e.point2d_idx};
      const double e2 = SquaredError(it->second.xyz, o);
      if (e2 > max_e2) {
        bad.push_back(o);
      } else {
        sum_error += std::sqrt(e2);
      }
    }
    const std::size_t good = it->second.track.size() - bad.size();
    if (good >= 2) it->second.error = sum_error / static_cast<double>(good);
    for (const Correspondence& o : bad) {
      DeleteObservation(o);
      ++removed;
    }
    it = scene_.points3d.find(id);
    if (it == scene_.points3d.end()) continue;
    centers.clear();
    for (const auto& e : it->second.track) centers.push_back(centers_[IndexOf(e.image_id)]);
    if (!HasTriangulationAngle(centers, it->second.xyz, options_.filter_min_tri_angle_deg)) {
      removed += it->second.track.size();
      DeletePoint(id);
    }
  }
  return removed;
}

std::set<Point3DId> ModelBuilder::AllPoints() const {
  std::set<Point3DId> ids;
  for (const auto& [id, p] : scene_.points3d) ids.insert(ids.end(), id);
  return ids;
}

std::set<Point3DId> ModelBuilder::PointsOf(std::span<const std::uint32_t> images) const {
  std::set<Point3DId> ids;
  for (const std::uint32_t i : images) {
    for (const auto& p : ImageAt(i).points2d) {
      if (p.point3d_id.IsValid()) ids.insert(p.point3d_id);
    }
  }
  return ids;
}

}  // namespace facet::sfm::detail
