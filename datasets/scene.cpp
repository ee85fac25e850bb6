#include "datasets/scene.h"

#include <algorithm>

#include "core/error.h"

namespace facet::datasets {

std::size_t Scene::NumRegisteredImages() const {
  return static_cast<std::size_t>(std::count_if(
      images.begin(), images.end(), [](const auto& entry) { return entry.second.IsRegistered(); }));
}

const Image* Scene::FindImage(const std::string& name) const {
  for (const auto& [id, image] : images) {
    if (image.name == name) return &image;
  }
  return nullptr;
}

void Scene::Check() const {
  for (const auto& [id, camera] : cameras) camera.Check();
  for (const auto& [id, image] : images) {
    FACET_CHECK(image.id == id, "image {} is stored under id {}", image.id, id);
    FACET_CHECK(cameras.contains(image.camera_id),
                "image {} ('{}') uses camera {}, which is missing", id, image.name,
                image.camera_id);
    for (std::size_t k = 0; k < image.points2d.size(); ++k) {
      const Point3DId pid = image.points2d[k].point3d_id;
      FACET_CHECK(!pid.IsValid() || points3d.contains(pid),
                  "keypoint {} of image {} observes 3D point {}, which is missing", k, id, pid);
    }
  }
  for (const auto& [pid, point] : points3d) {
    for (const TrackElement& element : point.track) {
      const auto image = images.find(element.image_id);
      FACET_CHECK(image != images.end(), "3D point {} is observed by image {}, which is missing",
                  pid, element.image_id);
      FACET_CHECK(element.point2d_idx < image->second.points2d.size(),
                  "3D point {} is observed by keypoint {} of image {}, which has only {}", pid,
                  element.point2d_idx, element.image_id, image->second.points2d.size());
      FACET_CHECK(image->second.points2d[element.point2d_idx].point3d_id == pid,
                  "3D point {} and keypoint {} of image {} do not refer to each other", pid,
                  element.point2d_idx, element.image_id);
    }
  }
}

}  // namespace facet::datasets
