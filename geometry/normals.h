// Normal estimation and orientation for point clouds without normals (the input of screened
// Poisson reconstruction, geometry/poisson.h).
//
// EstimateNormals fits a plane to each point's neighbourhood (principal component analysis: the
// normal is the eigenvector of the neighbourhood covariance with the smallest eigenvalue). The
// sign of such a normal is arbitrary; the Orient* functions make the signs consistent, either
// from where the points were seen (a viewpoint or camera centres) or, without any, by
// propagating the orientation along a minimum spanning tree of the k-nearest-neighbour graph
// (Hoppe et al., "Surface Reconstruction from Unorganized Points", SIGGRAPH 1992, Sec. 3.3).
#pragma once

#include <Eigen/Core>

#include <vector>

#include "geometry/point_cloud.h"

namespace facet::geometry {

struct NormalEstimationOptions {
  // Neighbours per point, the point itself included (>= 3).
  int knn = 30;
  // When > 0, only neighbours within this distance (scene units) are used, at most `knn` of
  // them; a point with fewer than 3 such neighbours falls back to its 3 nearest.
  double radius = 0.0;

  void Check() const;
};

// Replaces cloud.normals by unit PCA normals. When the cloud already had normals, each new normal
// is flipped to agree with the old one (so a re-estimate keeps a known orientation); otherwise
// the signs are arbitrary until one of the Orient* functions below runs. Parallel. Throws
// facet::Error for fewer than 3 points, non-finite coordinates or invalid options.
void EstimateNormals(PointCloud& cloud, const NormalEstimationOptions& options = {});

// Flips each normal to face `viewpoint` (n . (viewpoint - p) >= 0): right for a single scan.
// Throws facet::Error when the cloud has no normals.
void OrientNormalsTowardsViewpoint(PointCloud& cloud, const Eigen::Vector3d& viewpoint);

// Flips each normal to face the nearest of `camera_centers` (world coordinates): right for points
// triangulated from photos taken around an object. Throws facet::Error when the cloud has no
// normals or there are no centres.
void OrientNormalsTowardsCameras(PointCloud& cloud,
                                 const std::vector<Eigen::Vector3d>& camera_centers);

// Consistent orientation without a viewpoint (Hoppe 1992): a minimum spanning tree of the
// symmetric k-nearest-neighbour graph with edge cost 1 - |n_i . n_j| (so the tree follows
// smoothly varying normals), traversed from a seed, flipping each child that disagrees with its
// parent. Each connected component is seeded at its point of largest z, whose normal is turned
// to +z (outwards: no surface lies above that point). Closed surfaces end up with outward normals
// when the sampling is dense relative to the thinnest feature. Throws facet::Error when the cloud
// has no normals or knn < 2.
void OrientNormalsConsistently(PointCloud& cloud, int knn = 16);

}  // namespace facet::geometry
