// Per-point math of mesh-to-SDF conversion, shared by the CPU loops and a CUDA port: the distance
// from a point to a triangle, the solid angle a triangle subtends at a point, and the hierarchical
// generalized winding number of a triangle soup over a flattened BVH. Plain doubles, no Eigen.
//
// Generalized winding number (Jacobson, Kavan and Sorkine-Hornung, "Robust Inside-Outside
// Segmentation using Generalized Winding Numbers", SIGGRAPH 2013): w(q) = sum over triangles of
// their signed solid angle at q, divided by 4 pi. It is 1 inside and 0 outside a closed,
// outward-oriented surface, and degrades gracefully (smoothly, away from the surface) for open,
// self-intersecting or multiply covered ones, so thresholding it at 1/2 gives a consistent
// inside even for meshes with holes.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "geometry/kernels/triangle_queries.h"

namespace facet::geometry::kernels::mesh_sdf {

// The point type of the shared triangle queries (kernels/triangle_queries.h: closest point,
// point-triangle distance), whose vector helpers this file uses too.
using Point3 = Vec3;

FACET_HOST_DEVICE inline double Norm(const Point3& a) { return sqrt(Dot(a, a)); }

// Signed solid angle (steradians, in [-2 pi, 2 pi]) of triangle (a, b, c) seen from q, positive
// when q is on the side the right-hand normal points away from (inside a counter-clockwise,
// outward-oriented closed mesh). Van Oosterom and Strackee, "The Solid Angle of a Plane
// Triangle", IEEE TBME 1983: tan(Omega / 2) = det[a b c] / (|a||b||c| + (a.b)|c| + (a.c)|b| +
// (b.c)|a|) with a, b, c relative to q; atan2 picks the right branch. 0 in the triangle's plane.
FACET_HOST_DEVICE inline double TriangleSolidAngle(const Point3& q, const Point3& a,
                                                   const Point3& b, const Point3& c) {
  const Point3 qa = a - q, qb = b - q, qc = c - q;
  const double la = Norm(qa), lb = Norm(qb), lc = Norm(qc);
  const double det = Dot(qa, Cross(qb, qc));
  // In the triangle's plane (det = 0) it is seen edge-on; atan2(+-0, negative) would give an
  // arbitrary +-2 pi for a point on the triangle, where the solid angle is undefined.
  if (det == 0.0) return 0.0;
  const double den = la * lb * lc + Dot(qa, qb) * lc + Dot(qa, qc) * lb + Dot(qb, qc) * la;
  return 2.0 * atan2(det, den);
}

// A node of the winding-number BVH, flattened depth first: an inner node's left child is the
// next node and its right child is `right`. The expansion data follow Barill, Dickson, Schmidt,
// Levin and Jacobson, "Fast Winding Numbers for Soups and Clouds", SIGGRAPH 2018, Sec. 3, with
// the area integrals over each (flat) triangle taken exactly.
struct WindingNode {
  double center[3];       // p~: area-weighted centroid of the node's triangles
  double area_normal[3];  // N = sum_t a_t n_t (area times unit normal)
  double moment[9];       // M = sum_t a_t (c_t - p~) n_t^T, row-major (c_t: centroid)
  // C_i = sum_t a_t n_t,i Q_t, Q_t = (1 / a_t) int_t (x - p~)(x - p~)^T dA
  //     = (c_t - p~)(c_t - p~)^T + sum_corners (v - c_t)(v - c_t)^T / 12; per i the symmetric
  // 3x3 Q as (xx, xy, xz, yy, yz, zz).
  double moment2[18];
  double radius;       // max distance from p~ to any corner of the node's triangles
  std::int32_t first;  // leaf: its triangles are first .. first + count - 1 (BVH order)
  std::int32_t count;  // 0 for an inner node
  std::int32_t right;  // inner node: index of the right child
};

// Solid angle of a node's triangles seen from q, by the second-order Taylor expansion of the
// dipole kernel f(r) = r / |r|^3 = -grad(1 / |r|) about r = p~ - q (Barill et al. 2018, eq. 9):
//   Omega ~ N.f(r) + sum_ij M_ji df_i/dr_j + 1/2 sum_ijk C_ijk d2f_i/dr_j dr_k,
//   df_i/dr_j = delta_ij / |r|^3 - 3 r_i r_j / |r|^5,
//   d2f_i/dr_j dr_k = 15 r_i r_j r_k / |r|^7 - 3 (delta_ij r_k + delta_ik r_j + delta_jk r_i) /
//   |r|^5.
// The truncation error of a node of radius R at distance d is O((R / d)^3) of its contribution.
FACET_HOST_DEVICE inline double NodeSolidAngleFarField(const WindingNode& node, const Point3& q) {
  const double r[3] = {node.center[0] - q.x, node.center[1] - q.y, node.center[2] - q.z};
  const double r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
  const double inv_r = 1.0 / sqrt(r2);
  const double inv_r3 = inv_r / r2;
  const double inv_r5 = inv_r3 / r2;
  const double inv_r7 = inv_r5 / r2;
  const double* m = node.moment;
  const double order0 =
      (node.area_normal[0] * r[0] + node.area_normal[1] * r[1] + node.area_normal[2] * r[2]) *
      inv_r3;
  const double trace = m[0] + m[4] + m[8];
  const double rmr = r[0] * (m[0] * r[0] + m[1] * r[1] + m[2] * r[2]) +
                     r[1] * (m[3] * r[0] + m[4] * r[1] + m[5] * r[2]) +
                     r[2] * (m[6] * r[0] + m[7] * r[1] + m[8] * r[2]);
  const double order1 = trace * inv_r3 - 3.0 * rmr * inv_r5;
  double order2 = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double* c = node.moment2 + 6 * i;  // xx, xy, xz, yy, yz, zz
    const double qr[3] = {c[0] * r[0] + c[1] * r[1] + c[2] * r[2],
                          c[1] * r[0] + c[3] * r[1] + c[4] * r[2],
                          c[2] * r[0] + c[4] * r[1] + c[5] * r[2]};
    const double rqr = r[0] * qr[0] + r[1] * qr[1] + r[2] * qr[2];
    order2 +=
        15.0 * r[i] * rqr * inv_r7 - 3.0 * (2.0 * qr[i] + r[i] * (c[0] + c[3] + c[5])) * inv_r5;
  }
  return order0 + order1 + 0.5 * order2;
}

// Depth of the traversal stack; a median-split BVH over fewer than 2^31 triangles is shallower.
inline constexpr int kWindingStackSize = 64;

// Generalized winding number at q of the triangles `corners` (9 doubles per triangle, BVH order)
// under the BVH `nodes`: a node farther than beta times its radius contributes its expansion,
// a nearer leaf its exact solid angles (Barill et al. 2018, Sec. 3.3; beta = 2 there).
FACET_HOST_DEVICE inline double WindingNumber(const WindingNode* nodes, const double* corners,
                                              double beta, const Point3& q) {
  constexpr double kInvFourPi = 0.07957747154594767;
  std::int32_t stack[kWindingStackSize];
  int top = 0;
  stack[top++] = 0;
  double omega = 0.0;
  while (top > 0) {
    const WindingNode& node = nodes[stack[--top]];
    const Point3 r{node.center[0] - q.x, node.center[1] - q.y, node.center[2] - q.z};
    const double far = beta * node.radius;
    if (Dot(r, r) > far * far) {
      omega += NodeSolidAngleFarField(node, q);
    } else if (node.count > 0) {
      for (std::int32_t t = node.first; t < node.first + node.count; ++t) {
        const double* v = corners + 9 * std::int64_t(t);
        omega += TriangleSolidAngle(q, {v[0], v[1], v[2]}, {v[3], v[4], v[5]}, {v[6], v[7], v[8]});
      }
    } else {
      stack[top++] = node.right;
      stack[top++] = std::int32_t(&node - nodes) + 1;
    }
  }
  return omega * kInvFourPi;
}

}  // namespace facet::geometry::kernels::mesh_sdf
