// Helpers shared by the COLMAP binary and text readers/writers (datasets/colmap_model.h).
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "datasets/scene.h"
#include "geometry/rigid3.h"

namespace facet::datasets::detail {

inline constexpr const char* kCamerasBin = "cameras.bin";
inline constexpr const char* kImagesBin = "images.bin";
inline constexpr const char* kPoints3DBin = "points3D.bin";
inline constexpr const char* kCamerasTxt = "cameras.txt";
inline constexpr const char* kImagesTxt = "images.txt";
inline constexpr const char* kPoints3DTxt = "points3D.txt";

// "camera model 7 (FOV) is not supported by facet; ..." with what to do about it. `model` is
// COLMAP's numeric id or name, whichever the file holds.
std::string UnsupportedCameraModelMessage(int model_id);
std::string UnsupportedCameraModelMessage(const std::string& model_name);

// The pose from COLMAP's (qw, qx, qy, qz, tx, ty, tz): std::nullopt when a value is not finite or
// the quaternion is zero. The quaternion is renormalised only when its norm is off 1 by more than
// 4 machine epsilons, so a quaternion that is unit to double precision keeps its bits.
std::optional<geometry::Rigid3> PoseFromColmap(const std::array<double, 7>& qvec_tvec);
// (qw, qx, qy, qz, tx, ty, tz), as stored.
std::array<double, 7> PoseToColmap(const geometry::Rigid3& cam_from_world);

// Throws unless `scene` can be written as a COLMAP model (see colmap_model.h). `text` adds the
// rules for names in images.txt.
void CheckWritable(const Scene& scene, bool text);

// COLMAP's ComputeNumObservations: keypoints of registered images that observe a 3D point.
std::size_t NumObservations(const Scene& scene);

// Scene::Check, with the model folder named in the message.
void CheckReadScene(const Scene& scene, const std::filesystem::path& folder);

// Creates `folder` when missing; throws when it cannot, or when it is a file.
void PrepareOutputFolder(const std::filesystem::path& folder);

}  // namespace facet::datasets::detail
