// Triangulation of a 3D point from two or more posed views, and the checks that decide whether a
// triangulated point is trustworthy (positive depth, reprojection error, triangulation angle).
#pragma once

#include <Eigen/Core>

#include <optional>
#include <span>

#include "geometry/rigid3.h"

namespace facet::sfm {

using Matrix34d = Eigen::Matrix<double, 3, 4>;

// Linear (DLT) triangulation from normalised image coordinates (u, v) and world-to-camera poses
// as 3x4 matrices [R | t] (Hartley & Zisserman, "Multiple View Geometry", 2nd ed., sec. 12.2):
// the homogeneous least-squares solution of u P3 - P1 = 0, v P3 - P2 = 0 over all views.
// std::nullopt with fewer than 2 views or when the solution is at infinity.
std::optional<Eigen::Vector3d> TriangulateMultiView(std::span<const Matrix34d> cams_from_world,
                                                    std::span<const Eigen::Vector2d> points_norm);

// The angle in degrees at `point` between the rays from two camera centres.
double TriangulationAngleDeg(const Eigen::Vector3d& center1, const Eigen::Vector3d& center2,
                             const Eigen::Vector3d& point);

// The largest angle between any two of the rays from `centers` to `point` (degrees).
double MaxTriangulationAngleDeg(std::span<const Eigen::Vector3d> centers,
                                const Eigen::Vector3d& point);
// Whether some two of those rays meet at `min_angle_deg` or more. Stops at the first such pair,
// so long tracks (checked after every global BA) rarely cost the quadratic number of pairs.
bool HasTriangulationAngle(std::span<const Eigen::Vector3d> centers, const Eigen::Vector3d& point,
                           double min_angle_deg);

}  // namespace facet::sfm
