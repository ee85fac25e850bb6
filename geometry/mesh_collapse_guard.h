// IntersectionGuard: keeps edge collapses (mesh_collapse.h) from making a surface cross itself
// (internal to geometry/, used by DecimateQuadric).
//
// A collapse (a, b) -> p replaces the triangles around a and b by the one-ring of the new vertex
// at p; every other triangle stays as it was. So if the mesh did not intersect itself before, it
// does not after exactly when no triangle of that ring meets a triangle outside it (and no two
// triangles of the ring cross each other). CollapseIntersects tests those pairs with the same
// predicates and the same rules as FindSelfIntersections (geometry/mesh_intersections.h):
// triangles sharing an edge never count, triangles sharing one vertex count when an edge of one
// passes through the other, others when they touch; zero-area triangles are skipped. The
// triangles near the ring come from a multi-level uniform grid hash: a triangle is listed, at the
// level whose cells are at least as large as its bounding box (cell size h0 2^level, h0 twice the
// mean edge length when built), in the at most 8 cells its box overlaps. Moved triangles are
// listed again where they now are (Update); entries of dead or moved triangles go stale and are
// filtered on lookup, and Build() starts afresh.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <vector>

#include "geometry/kernels/triangle_queries.h"
#include "geometry/mesh_collapse.h"

namespace facet::geometry::detail {

// The plane of a triangle (c0, c1, c2) as kernels::Orient3d(c0, c1, c2, x) sees it.
struct OrientPlane {
  kernels::Vec3 origin, normal;  // c0, (c1 - c0) x (c2 - c0)
  double scale;                  // |c1 - c0|^2 |c2 - c0|^2
};

class IntersectionGuard {
 public:
  // Indexes the live triangles of `mesh`, with a cell size from their current mean edge length.
  void Build(CollapsibleMesh& mesh);
  // Live triangles when Build() last ran, and entries added since.
  std::size_t BuiltTriangles() const { return built_triangles_; }
  std::size_t AddedEntries() const { return extra_.size(); }

  // Whether collapsing (a, b) into one vertex at p would make a triangle of the new vertex's ring
  // intersect another triangle (as FindSelfIntersections counts it). Call after
  // mesh.CanCollapse(a, b, p, ...) returned true.
  bool CollapseIntersects(CollapsibleMesh& mesh, std::uint32_t a, std::uint32_t b,
                          const Eigen::Vector3d& p);
  // Lists the triangles around `a` where they are now (after a collapse that kept a).
  void Update(CollapsibleMesh& mesh, std::uint32_t a);

 private:
  static constexpr int kLevels = 16;
  struct Box {
    Eigen::Vector3d lo, hi;
  };
  struct Slot {
    std::uint64_t key = kEmpty;
    std::uint32_t begin = 0, end = 0;  // range in sorted_
    std::uint32_t extra = kNone;       // head of a list in extra_
  };
  // A triangle and its bounding box when listed (rounded outwards), to skip far ones unread.
  struct Entry {
    std::uint32_t triangle;
    float lo[3], hi[3];
  };
  struct Extra {
    Entry entry;
    std::uint32_t next;
  };
  struct RingTriangle {
    std::uint32_t id;
    Eigen::Matrix<std::uint32_t, 3, 1> index;  // b renamed to a
    kernels::Vec3 corner[3];
    Box box;
    bool degenerate;
    OrientPlane plane;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  static Entry MakeEntry(std::uint32_t triangle, const Box& box);
  int LevelOf(const Box& box) const;
  // Calls fn(key) for the cells of `box` at `level`.
  template <typename Fn>
  void ForEachCell(const Box& box, int level, Fn&& fn) const;
  std::uint64_t Key(int level, const Eigen::Vector3d& x) const;
  std::size_t Find(std::uint64_t key) const;  // slot index, or the empty slot to fill
  void Insert(std::uint32_t triangle, const Box& box);
  void Rehash(std::size_t capacity);

  double cell_ = 1.0;  // h0
  double pad_ = 0.0;   // boxes grow by this (rounding)
  Eigen::Vector3d origin_ = Eigen::Vector3d::Zero();
  std::array<std::size_t, kLevels> level_count_{};
  std::vector<Slot> slots_;
  std::size_t used_slots_ = 0;
  std::vector<Entry> sorted_;
  std::vector<Extra> extra_;
  std::size_t built_triangles_ = 0;

  // Per-query scratch.
  std::vector<std::uint32_t> stamp_;
  std::uint32_t stamp_value_ = 0;
  std::vector<RingTriangle> ring_;
  std::vector<std::uint32_t> candidates_;
};

}  // namespace facet::geometry::detail
