// Per-triangle geometric predicates shared by the CPU code (TriangleBvh, FindSelfIntersections)
// and CUDA kernels that want them (e.g. distance from grid points to a mesh): the closest point of
// a triangle to a point, and whether two triangles intersect. Plain structs and FACET_HOST_DEVICE
// functions, no Eigen or CUDA types.
#pragma once

#include <cmath>

#include "core/host_device.h"

namespace facet::geometry::kernels {

struct Vec3 {
  double x = 0.0, y = 0.0, z = 0.0;
};

FACET_HOST_DEVICE inline Vec3 operator+(const Vec3& a, const Vec3& b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
FACET_HOST_DEVICE inline Vec3 operator-(const Vec3& a, const Vec3& b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
FACET_HOST_DEVICE inline Vec3 operator*(double s, const Vec3& a) {
  return {s * a.x, s * a.y, s * a.z};
}
FACET_HOST_DEVICE inline double Dot(const Vec3& a, const Vec3& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
FACET_HOST_DEVICE inline Vec3 Cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
FACET_HOST_DEVICE inline double Component(const Vec3& a, int axis) {
  return axis == 0 ? a.x : (axis == 1 ? a.y : a.z);
}

// Squared distance from p to the segment [a, b] (a point when a == b).
FACET_HOST_DEVICE inline double PointSegmentSquaredDistance(const Vec3& p, const Vec3& a,
                                                            const Vec3& b) {
  const Vec3 ab = b - a, ap = p - a;
  const double len_sq = Dot(ab, ab);
  double t = len_sq > 0.0 ? Dot(ap, ab) / len_sq : 0.0;
  t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
  const Vec3 d = ap - t * ab;
  return Dot(d, d);
}

// The point of triangle (a, b, c) closest to p, by the Voronoi regions of its vertices, edges and
// face (Ericson, "Real-Time Collision Detection", 2005, Sec. 5.1.5). Degenerate triangles
// (collinear or coincident corners) fall back to the nearest of their edges.
FACET_HOST_DEVICE inline Vec3 ClosestPointOnTriangle(const Vec3& p, const Vec3& a, const Vec3& b,
                                                     const Vec3& c) {
  const Vec3 ab = b - a, ac = c - a, ap = p - a;
  const double d1 = Dot(ab, ap), d2 = Dot(ac, ap);
  if (d1 <= 0.0 && d2 <= 0.0) return a;
  const Vec3 bp = p - b;
  const double d3 = Dot(ab, bp), d4 = Dot(ac, bp);
  if (d3 >= 0.0 && d4 <= d3) return b;
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0) return a + (d1 / (d1 - d3)) * ab;
  const Vec3 cp = p - c;
  const double d5 = Dot(ab, cp), d6 = Dot(ac, cp);
  if (d6 >= 0.0 && d5 <= d6) return c;
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0) return a + (d2 / (d2 - d6)) * ac;
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0) {
    return b + ((d4 - d3) / ((d4 - d3) + (d5 - d6))) * (c - b);
  }
  const double sum = va + vb + vc;
  if (!(sum > 0.0)) {  // zero area: the nearest of the three edges
    const double e0 = PointSegmentSquaredDistance(p, a, b);
    const double e1 = PointSegmentSquaredDistance(p, b, c);
    const double e2 = PointSegmentSquaredDistance(p, c, a);
    const Vec3 u = e0 <= e1 && e0 <= e2 ? a : (e1 <= e2 ? b : c);
    const Vec3 v = e0 <= e1 && e0 <= e2 ? b : (e1 <= e2 ? c : a);
    const Vec3 uv = v - u;
    const double len_sq = Dot(uv, uv);
    double t = len_sq > 0.0 ? Dot(p - u, uv) / len_sq : 0.0;
    t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    return u + t * uv;
  }
  return a + (vb / sum) * ab + (vc / sum) * ac;
}

FACET_HOST_DEVICE inline double PointTriangleSquaredDistance(const Vec3& p, const Vec3& a,
                                                             const Vec3& b, const Vec3& c) {
  const Vec3 d = p - ClosestPointOnTriangle(p, a, b, c);
  return Dot(d, d);
}

// Sign of the volume of tetrahedron (a, b, c, d) (positive when d is on the side of the
// right-hand normal of (a, b, c)), as 0 when it is within rounding of zero: the determinant is
// compared with a bound proportional to the product of the edge lengths, as the static filter of
// Shewchuk's orient3d ("Adaptive Precision Floating-Point Arithmetic and Fast Robust Geometric
// Predicates", 1997) but without the exact fallback.
FACET_HOST_DEVICE inline int Orient3d(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d) {
  const Vec3 ab = b - a, ac = c - a, ad = d - a;
  const double det = Dot(Cross(ab, ac), ad);
  const double bound = 1e-12 * std::sqrt(Dot(ab, ab) * Dot(ac, ac) * Dot(ad, ad));
  return det > bound ? 1 : (det < -bound ? -1 : 0);
}

// Sign of the signed area of (a, b, c) in the plane of coordinates (u, v), 0 within rounding.
FACET_HOST_DEVICE inline int Orient2d(const Vec3& a, const Vec3& b, const Vec3& c, int u, int v) {
  const double abu = Component(b, u) - Component(a, u), abv = Component(b, v) - Component(a, v);
  const double acu = Component(c, u) - Component(a, u), acv = Component(c, v) - Component(a, v);
  const double det = abu * acv - abv * acu;
  const double bound = 1e-12 * std::sqrt((abu * abu + abv * abv) * (acu * acu + acv * acv));
  return det > bound ? 1 : (det < -bound ? -1 : 0);
}

// Whether the closed segments pq and rs of the (u, v) plane have a point in common.
FACET_HOST_DEVICE inline bool SegmentsIntersect2d(const Vec3& p, const Vec3& q, const Vec3& r,
                                                  const Vec3& s, int u, int v) {
  const int o1 = Orient2d(p, q, r, u, v), o2 = Orient2d(p, q, s, u, v);
  const int o3 = Orient2d(r, s, p, u, v), o4 = Orient2d(r, s, q, u, v);
  if (o1 * o2 < 0 && o3 * o4 < 0) return true;
  auto on_segment = [u, v](const Vec3& a, const Vec3& b, const Vec3& x) {
    const double lo_u = fmin(Component(a, u), Component(b, u));
    const double hi_u = fmax(Component(a, u), Component(b, u));
    const double lo_v = fmin(Component(a, v), Component(b, v));
    const double hi_v = fmax(Component(a, v), Component(b, v));
    return Component(x, u) >= lo_u && Component(x, u) <= hi_u && Component(x, v) >= lo_v &&
           Component(x, v) <= hi_v;
  };
  return (o1 == 0 && on_segment(p, q, r)) || (o2 == 0 && on_segment(p, q, s)) ||
         (o3 == 0 && on_segment(r, s, p)) || (o4 == 0 && on_segment(r, s, q));
}

// Whether point x lies in the closed triangle (a, b, c) of the (u, v) plane.
FACET_HOST_DEVICE inline bool PointInTriangle2d(const Vec3& x, const Vec3& a, const Vec3& b,
                                                const Vec3& c, int u, int v) {
  const int o1 = Orient2d(a, b, x, u, v), o2 = Orient2d(b, c, x, u, v),
            o3 = Orient2d(c, a, x, u, v);
  return (o1 >= 0 && o2 >= 0 && o3 >= 0) || (o1 <= 0 && o2 <= 0 && o3 <= 0);
}

// Coplanar triangles: intersect when an edge of one crosses an edge of the other, or one contains
// the other. Projected on the coordinate plane where the common normal `n` is largest.
FACET_HOST_DEVICE inline bool CoplanarTrianglesIntersect(const Vec3 t[3], const Vec3 s[3],
                                                         const Vec3& n) {
  const double ax = fabs(n.x), ay = fabs(n.y), az = fabs(n.z);
  const int drop = (ax >= ay && ax >= az) ? 0 : (ay >= az ? 1 : 2);
  const int u = drop == 0 ? 1 : 0, v = drop == 2 ? 1 : 2;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (SegmentsIntersect2d(t[i], t[(i + 1) % 3], s[j], s[(j + 1) % 3], u, v)) return true;
    }
  }
  return PointInTriangle2d(t[0], s[0], s[1], s[2], u, v) ||
         PointInTriangle2d(s[0], t[0], t[1], t[2], u, v);
}

// The interval that triangle t (vertex signs `o` relative to the other triangle's plane, not all
// equal) cuts on the line of the two planes, as parameters along `dir`: the two edges whose end
// points are on opposite sides (or on the plane) are intersected with the plane (Moller, "A Fast
// Triangle-Triangle Intersection Test", 1997, Sec. 2).
FACET_HOST_DEVICE inline void PlaneCrossingInterval(const Vec3 t[3], const double dist[3],
                                                    const int o[3], const Vec3& dir, double* lo,
                                                    double* hi) {
  // The vertex alone on its side is the apex; the interval runs along its two edges.
  int apex = 0;
  if (o[0] == o[1]) {
    apex = 2;
  } else if (o[0] == o[2]) {
    apex = 1;
  } else if (o[1] == o[2]) {
    apex = 0;
  } else {
    apex = o[0] != 0 ? 0 : 1;  // one vertex on the plane, two on either side: start off it
  }
  const Vec3& p = t[apex];
  const Vec3& q = t[(apex + 1) % 3];
  const Vec3& r = t[(apex + 2) % 3];
  const double dp = dist[apex], dq = dist[(apex + 1) % 3], dr = dist[(apex + 2) % 3];
  const double pp = Dot(p, dir), pq = Dot(q, dir), pr = Dot(r, dir);
  const double a = dp == dq ? pp : pp + (pq - pp) * dp / (dp - dq);
  const double b = dp == dr ? pp : pp + (pr - pp) * dp / (dp - dr);
  *lo = fmin(a, b);
  *hi = fmax(a, b);
}

// Whether the closed triangles t and s have a point in common (touching counts). Orientation
// tests decide on which side of each other's plane the vertices lie; crossing triangles are then
// compared by their intervals on the line where the planes meet (Moller 1997), coplanar ones in
// 2D. Degenerate (zero-area) triangles are reported as not intersecting.
FACET_HOST_DEVICE inline bool TrianglesIntersect(const Vec3 t[3], const Vec3 s[3]) {
  const Vec3 nt = Cross(t[1] - t[0], t[2] - t[0]);
  const Vec3 ns = Cross(s[1] - s[0], s[2] - s[0]);
  if (Dot(nt, nt) == 0.0 || Dot(ns, ns) == 0.0) return false;
  int os[3], ot[3];
  for (int k = 0; k < 3; ++k) os[k] = Orient3d(t[0], t[1], t[2], s[k]);
  if ((os[0] > 0 && os[1] > 0 && os[2] > 0) || (os[0] < 0 && os[1] < 0 && os[2] < 0)) return false;
  if (os[0] == 0 && os[1] == 0 && os[2] == 0) return CoplanarTrianglesIntersect(t, s, nt);
  for (int k = 0; k < 3; ++k) ot[k] = Orient3d(s[0], s[1], s[2], t[k]);
  if ((ot[0] > 0 && ot[1] > 0 && ot[2] > 0) || (ot[0] < 0 && ot[1] < 0 && ot[2] < 0)) return false;
  if (ot[0] == 0 && ot[1] == 0 && ot[2] == 0) return CoplanarTrianglesIntersect(t, s, nt);
  // Signed distances (up to the planes' normal lengths) for the interpolation; vertices the
  // orientation test put on the plane are snapped onto it.
  double dt[3], ds[3];
  for (int k = 0; k < 3; ++k) {
    dt[k] = ot[k] == 0 ? 0.0 : Dot(ns, t[k] - s[0]);
    ds[k] = os[k] == 0 ? 0.0 : Dot(nt, s[k] - t[0]);
  }
  const Vec3 dir = Cross(nt, ns);
  double t_lo, t_hi, s_lo, s_hi;
  PlaneCrossingInterval(t, dt, ot, dir, &t_lo, &t_hi);
  PlaneCrossingInterval(s, ds, os, dir, &s_lo, &s_hi);
  return t_lo <= s_hi && s_lo <= t_hi;
}

// Whether the segment pq passes through the interior of triangle (a, b, c): its end points
// strictly on opposite sides of the plane and the crossing point strictly inside the triangle
// (beyond rounding). Used for triangles that share a vertex, where contacts at or along the
// shared vertex's edges must not count, only a proper crossing.
FACET_HOST_DEVICE inline bool SegmentCrossesTriangle(const Vec3& p, const Vec3& q, const Vec3& a,
                                                     const Vec3& b, const Vec3& c) {
  const int op = Orient3d(a, b, c, p), oq = Orient3d(a, b, c, q);
  if (op * oq >= 0) return false;
  const int o1 = Orient3d(p, q, a, b), o2 = Orient3d(p, q, b, c), o3 = Orient3d(p, q, c, a);
  return o1 != 0 && o1 == o2 && o2 == o3;
}

}  // namespace facet::geometry::kernels
