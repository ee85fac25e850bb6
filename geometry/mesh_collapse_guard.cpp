#include "geometry/mesh_collapse_guard.h"

#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "core/parallel_for.h"
#include "geometry/detail/triangle_pairs.h"

namespace facet::geometry::detail {
namespace {

using kernels::Vec3;

// Cell coordinates per axis, per level: 20 bits each, and 4 for the level (kLevels = 16).
constexpr int kAxisBits = 20;
constexpr std::int64_t kAxisCells = std::int64_t{1} << kAxisBits;

kernels::Vec3 ToVec3(const Eigen::Vector3d& x) { return {x.x(), x.y(), x.z()}; }

// Zero-area triangles are skipped, as FindSelfIntersections skips them.
bool ZeroArea(const Eigen::Vector3d& p0, const Eigen::Vector3d& p1, const Eigen::Vector3d& p2) {
  return (p1 - p0).cross(p2 - p0).squaredNorm() == 0.0;
}

using detail::PositionOf;
using detail::SharedVertices;

using Plane = OrientPlane;

Plane PlaneOf(const Vec3* c) {
  const Vec3 ab = c[1] - c[0], ac = c[2] - c[0];
  return {c[0], kernels::Cross(ab, ac), kernels::Dot(ab, ab) * kernels::Dot(ac, ac)};
}

// The sign Orient3d(c[0], c[1], c[2], x) certainly returns, or 0 when it might return 0 or the
// other sign: the same determinant, against 2x Orient3d's rounding bound (a margin far above the
// few ulps by which the two evaluations can differ). No square root, the normal computed once.
int ClearSide(const Plane& plane, const Vec3& x) {
  const Vec3 d = x - plane.origin;
  const double det = kernels::Dot(plane.normal, d);
  if (!(det * det > 4e-24 * plane.scale * kernels::Dot(d, d))) return 0;
  return det > 0.0 ? 1 : -1;
}

// Whether the points are all clearly on one side of the plane.
bool ClearlyOneSide(const Plane& plane, const Vec3& x, const Vec3& y) {
  const int side = ClearSide(plane, x);
  return side != 0 && ClearSide(plane, y) == side;
}

// FindSelfIntersections' test for triangles i < j (corners s of i, t of j, their planes ps, pt)
// that share fewer than two vertices. Pairs whose planes clearly separate them, as the first
// orientation tests of the predicates would find, are answered without the predicates.
bool PairIntersects(const Eigen::Matrix<std::uint32_t, 3, 1>& ti, const Vec3* s, const Plane& ps,
                    const Eigen::Matrix<std::uint32_t, 3, 1>& tj, const Vec3* t, const Plane& pt,
                    int shared) {
  if (shared == 1) {
    const int si = PositionOf(ti, tj), sj = PositionOf(tj, ti);
    if (ClearlyOneSide(pt, s[(si + 1) % 3], s[(si + 2) % 3]) &&
        ClearlyOneSide(ps, t[(sj + 1) % 3], t[(sj + 2) % 3])) {
      return false;
    }
  } else {
    // TrianglesIntersect first places t's corners against s's plane.
    const int side = ClearSide(ps, t[0]);
    if (side != 0 && ClearSide(ps, t[1]) == side && ClearSide(ps, t[2]) == side) return false;
  }
  return detail::TrianglePairIntersects(ti, s, tj, t, shared);
}

}  // namespace

std::uint64_t IntersectionGuard::Key(int level, const Eigen::Vector3d& x) const {
  const double inv = 1.0 / std::ldexp(cell_, level);
  std::uint64_t key = static_cast<std::uint64_t>(level) << (3 * kAxisBits);
  for (int axis = 0; axis < 3; ++axis) {
    // Clamping is monotone, so boxes that overlap still share a cell.
    const double c = std::floor((x[axis] - origin_[axis]) * inv);
    const auto i =
        static_cast<std::int64_t>(std::clamp(c, 0.0, static_cast<double>(kAxisCells - 1)));
    key |= static_cast<std::uint64_t>(i) << (kAxisBits * (2 - axis));
  }
  return key;
}

IntersectionGuard::Entry IntersectionGuard::MakeEntry(std::uint32_t triangle, const Box& box) {
  Entry e{triangle, {}, {}};
  for (int axis = 0; axis < 3; ++axis) {
    e.lo[axis] = std::nextafter(static_cast<float>(box.lo[axis]), -HUGE_VALF);
    e.hi[axis] = std::nextafter(static_cast<float>(box.hi[axis]), HUGE_VALF);
  }
  return e;
}

int IntersectionGuard::LevelOf(const Box& box) const {
  const double extent = (box.hi - box.lo).maxCoeff();
  int level = 0;
  while (level + 1 < kLevels && std::ldexp(cell_, level) < extent) ++level;
  return level;
}

template <typename Fn>
void IntersectionGuard::ForEachCell(const Box& box, int level, Fn&& fn) const {
  const std::uint64_t lo = Key(level, box.lo), hi = Key(level, box.hi);
  constexpr std::uint64_t kMask = kAxisCells - 1;
  const std::uint64_t base = static_cast<std::uint64_t>(level) << (3 * kAxisBits);
  const std::uint64_t x0 = (lo >> (2 * kAxisBits)) & kMask, x1 = (hi >> (2 * kAxisBits)) & kMask;
  const std::uint64_t y0 = (lo >> kAxisBits) & kMask, y1 = (hi >> kAxisBits) & kMask;
  const std::uint64_t z0 = lo & kMask, z1 = hi & kMask;
  for (std::uint64_t x = x0; x <= x1; ++x) {
    for (std::uint64_t y = y0; y <= y1; ++y) {
      for (std::uint64_t z = z0; z <= z1; ++z) {
        fn(base | (x << (2 * kAxisBits)) | (y << kAxisBits) | z);
      }
    }
  }
}

std::size_t IntersectionGuard::Find(std::uint64_t key) const {
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t h = key * 0x9E3779B97F4A7C15ull;
  std::size_t i = static_cast<std::size_t>(h ^ (h >> 29)) & mask;
  while (slots_[i].key != key && slots_[i].key != kEmpty) i = (i + 1) & mask;
  return i;
}

void IntersectionGuard::Rehash(std::size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  for (const Slot& s : old) {
    if (s.key != kEmpty) slots_[Find(s.key)] = s;
  }
}

void IntersectionGuard::Insert(std::uint32_t triangle, const Box& box) {
  const int level = LevelOf(box);
  ++level_count_[static_cast<std::size_t>(level)];
  ForEachCell(box, level, [&](std::uint64_t key) {
    if (2 * (used_slots_ + 1) > slots_.size()) Rehash(2 * slots_.size());
    Slot& slot = slots_[Find(key)];
    if (slot.key == kEmpty) {
      slot.key = key;
      ++used_slots_;
    }
    extra_.push_back({MakeEntry(triangle, box), slot.extra});
    slot.extra = static_cast<std::uint32_t>(extra_.size() - 1);
  });
}

void IntersectionGuard::Build(CollapsibleMesh& mesh) {
  const std::size_t nt = mesh.NumTriangles();
  // Bounding box and mean edge length of the live triangles.
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity());
  Eigen::Vector3d hi = -lo;
  double edge_sum = 0.0;
  std::size_t live = 0;
  std::vector<Box> boxes(nt);
  std::vector<double> edges(nt, 0.0);
  ParallelFor(
      static_cast<std::int64_t>(nt),
      [&](std::int64_t i) {
        const auto t = static_cast<std::uint32_t>(i);
        if (!mesh.TriangleAlive(t)) return;
        const auto& tri = mesh.Triangle(t);
        const Eigen::Vector3d &p0 = mesh.Position(tri[0]), &p1 = mesh.Position(tri[1]),
                              &p2 = mesh.Position(tri[2]);
        boxes[t] = {p0.cwiseMin(p1).cwiseMin(p2), p0.cwiseMax(p1).cwiseMax(p2)};
        edges[t] = (p1 - p0).norm() + (p2 - p1).norm() + (p0 - p2).norm();
      },
      /*grain=*/4096);
  for (std::uint32_t t = 0; t < nt; ++t) {
    if (!mesh.TriangleAlive(t)) continue;
    lo = lo.cwiseMin(boxes[t].lo);
    hi = hi.cwiseMax(boxes[t].hi);
    edge_sum += edges[t];
    ++live;
  }
  built_triangles_ = live;
  const double extent = live > 0 ? (hi - lo).maxCoeff() : 1.0;
  cell_ = live > 0 ? 2.0 * edge_sum / (3.0 * static_cast<double>(live)) : 1.0;
  // The finest level spans the box in fewer than 2^20 cells, the coarsest in one (boxes leave it
  // by little: the collapses place vertices near their edges).
  cell_ = std::max({cell_, 2.0 * extent / static_cast<double>(kAxisCells),
                    extent / std::ldexp(1.0, kLevels - 2), std::numeric_limits<double>::min()});
  origin_ = live > 0 ? Eigen::Vector3d(lo - Eigen::Vector3d::Constant(0.25 * extent))
                     : Eigen::Vector3d::Zero();
  pad_ = 1e-9 * (extent + origin_.cwiseAbs().maxCoeff());
  level_count_.fill(0);

  // (key, triangle) for every cell of every live triangle, sorted by key.
  std::vector<std::uint32_t> offsets(nt + 1, 0);
  std::vector<std::uint8_t> levels(nt, 0);
  ParallelFor(
      static_cast<std::int64_t>(nt),
      [&](std::int64_t i) {
        const auto t = static_cast<std::size_t>(i);
        if (!mesh.TriangleAlive(static_cast<std::uint32_t>(t))) return;
        levels[t] = static_cast<std::uint8_t>(LevelOf(boxes[t]));
        std::uint32_t count = 0;
        ForEachCell(boxes[t], levels[t], [&](std::uint64_t) { ++count; });
        offsets[t + 1] = count;
      },
      /*grain=*/4096);
  for (std::size_t t = 0; t < nt; ++t) {
    offsets[t + 1] += offsets[t];
    if (mesh.TriangleAlive(static_cast<std::uint32_t>(t))) ++level_count_[levels[t]];
  }
  std::vector<std::pair<std::uint64_t, std::uint32_t>> entries(offsets.back());
  ParallelFor(
      static_cast<std::int64_t>(nt),
      [&](std::int64_t i) {
        const auto t = static_cast<std::size_t>(i);
        std::size_t out = offsets[t];
        if (out == offsets[t + 1]) return;
        ForEachCell(boxes[t], levels[t], [&](std::uint64_t key) {
          entries[out++] = {key, static_cast<std::uint32_t>(t)};
        });
      },
      /*grain=*/4096);
  oneapi::tbb::parallel_sort(entries.begin(), entries.end());

  std::size_t cells = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    cells += i == 0 || entries[i].first != entries[i - 1].first ? 1 : 0;
  }
  slots_.assign(std::bit_ceil(std::max<std::size_t>(64, 2 * cells)), Slot{});
  used_slots_ = cells;
  sorted_.resize(entries.size());
  extra_.clear();
  for (std::size_t begin = 0; begin < entries.size();) {
    std::size_t end = begin;
    while (end < entries.size() && entries[end].first == entries[begin].first) {
      sorted_[end] = MakeEntry(entries[end].second, boxes[entries[end].second]);
      ++end;
    }
    Slot& slot = slots_[Find(entries[begin].first)];
    slot.key = entries[begin].first;
    slot.begin = static_cast<std::uint32_t>(begin);
    slot.end = static_cast<std::uint32_t>(end);
    begin = end;
  }
  stamp_.assign(nt, 0);
  stamp_value_ = 0;
}

void IntersectionGuard::Update(CollapsibleMesh& mesh, std::uint32_t a) {
  for (const std::uint32_t t : mesh.TrianglesOf(a)) {
    const auto& tri = mesh.Triangle(t);
    const Eigen::Vector3d &p0 = mesh.Position(tri[0]), &p1 = mesh.Position(tri[1]),
                          &p2 = mesh.Position(tri[2]);
    Insert(t, {p0.cwiseMin(p1).cwiseMin(p2), p0.cwiseMax(p1).cwiseMax(p2)});
  }
}

bool IntersectionGuard::CollapseIntersects(CollapsibleMesh& mesh, std::uint32_t a, std::uint32_t b,
                                           const Eigen::Vector3d& p) {
  // The new vertex's ring: the triangles of a and b but the (one or two) on the edge.
  ring_.clear();
  for (const std::uint32_t v : {a, b}) {
    for (const std::uint32_t t : mesh.TrianglesOf(v)) {
      const auto& tri = mesh.Triangle(t);
      const bool has_a = tri[0] == a || tri[1] == a || tri[2] == a;
      const bool has_b = tri[0] == b || tri[1] == b || tri[2] == b;
      if (has_a && has_b) continue;
      RingTriangle r;
      r.id = t;
      Eigen::Vector3d x[3];
      for (int k = 0; k < 3; ++k) {
        const bool moved = tri[k] == a || tri[k] == b;
        r.index[k] = moved ? a : tri[k];
        x[k] = moved ? p : mesh.Position(tri[k]);
        r.corner[k] = ToVec3(x[k]);
      }
      r.degenerate = ZeroArea(x[0], x[1], x[2]);
      r.plane = PlaneOf(r.corner);
      r.box = {x[0].cwiseMin(x[1]).cwiseMin(x[2]) - Eigen::Vector3d::Constant(pad_),
               x[0].cwiseMax(x[1]).cwiseMax(x[2]) + Eigen::Vector3d::Constant(pad_)};
      ring_.push_back(r);
    }
  }
  // Within the ring: all share the new vertex; those sharing only it must not cross.
  for (std::size_t i = 0; i < ring_.size(); ++i) {
    if (ring_[i].degenerate) continue;
    for (std::size_t j = i + 1; j < ring_.size(); ++j) {
      if (ring_[j].degenerate) continue;
      const RingTriangle &s = ring_[i], &t = ring_[j];
      const int shared = SharedVertices(s.index, t.index);
      if (shared >= 2) continue;
      const bool lower = s.id < t.id;
      const RingTriangle &first = lower ? s : t, &second = lower ? t : s;
      if (PairIntersects(first.index, first.corner, first.plane, second.index, second.corner,
                         second.plane, shared)) {
        return true;
      }
    }
  }
  // The live triangles near the ring that are not in it (nor on the edge: they use a or b).
  if (++stamp_value_ == 0) {
    std::fill(stamp_.begin(), stamp_.end(), 0);
    stamp_value_ = 1;
  }
  candidates_.clear();
  Box around{Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity()),
             Eigen::Vector3d::Constant(-std::numeric_limits<double>::infinity())};
  for (const RingTriangle& r : ring_) {
    if (r.degenerate) continue;
    around.lo = around.lo.cwiseMin(r.box.lo);
    around.hi = around.hi.cwiseMax(r.box.hi);
  }
  if (!(around.lo.array() <= around.hi.array()).all()) return false;
  for (int level = 0; level < kLevels; ++level) {
    if (level_count_[static_cast<std::size_t>(level)] == 0) continue;
    ForEachCell(around, level, [&](std::uint64_t key) {
      const Slot& slot = slots_[Find(key)];
      if (slot.key == kEmpty) return;
      const auto visit = [&](const Entry& entry) {
        for (int axis = 0; axis < 3; ++axis) {
          if (entry.lo[axis] > around.hi[axis] || entry.hi[axis] < around.lo[axis]) return;
        }
        const std::uint32_t t = entry.triangle;
        if (stamp_[t] == stamp_value_) return;
        stamp_[t] = stamp_value_;
        if (!mesh.TriangleAlive(t)) return;
        const auto& tri = mesh.Triangle(t);
        if (tri[0] == a || tri[1] == a || tri[2] == a || tri[0] == b || tri[1] == b ||
            tri[2] == b) {
          return;
        }
        candidates_.push_back(t);
      };
      for (std::uint32_t i = slot.begin; i < slot.end; ++i) visit(sorted_[i]);
      for (std::uint32_t e = slot.extra; e != kNone; e = extra_[e].next) visit(extra_[e].entry);
    });
  }
  for (const std::uint32_t c : candidates_) {
    const auto& tri = mesh.Triangle(c);
    const Eigen::Vector3d &p0 = mesh.Position(tri[0]), &p1 = mesh.Position(tri[1]),
                          &p2 = mesh.Position(tri[2]);
    const Eigen::Vector3d lo = p0.cwiseMin(p1).cwiseMin(p2), hi = p0.cwiseMax(p1).cwiseMax(p2);
    if ((lo.array() > around.hi.array()).any() || (hi.array() < around.lo.array()).any() ||
        ZeroArea(p0, p1, p2)) {
      continue;
    }
    const Vec3 corner[3] = {ToVec3(p0), ToVec3(p1), ToVec3(p2)};
    const Plane plane = PlaneOf(corner);
    for (const RingTriangle& r : ring_) {
      if (r.degenerate || (lo.array() > r.box.hi.array()).any() ||
          (hi.array() < r.box.lo.array()).any()) {
        continue;
      }
      const int shared = SharedVertices(r.index, tri);
      if (shared >= 2) continue;
      const bool lower = r.id < c;
      const bool hit = lower
                           ? PairIntersects(r.index, r.corner, r.plane, tri, corner, plane, shared)
                           : PairIntersects(tri, corner, plane, r.index, r.corner, r.plane, shared);
      if (hit) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace facet::geometry::detail
