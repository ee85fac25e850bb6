// Marching cubes case table, generated at compile time, and the per-cell math shared by the CPU
// extraction (geometry/marching_cubes.cpp) and CUDA kernels.
//
// Cell layout: corner c = x + 2 y + 4 z with x, y, z in {0, 1}. Edge e = 4 a + r runs along axis
// a (0 = x, 1 = y, 2 = z) from the corner with coordinate 0 on a and (r & 1, r >> 1) on the axes
// (a + 1) % 3 and (a + 2) % 3, to the corner with coordinate 1 on a.
//
// How the table is made (instead of typing Lorensen & Cline's 256 cases): for each corner-sign
// pattern, every face of the cube is cut by segments joining its crossed edges; on an ambiguous
// face (two diagonal inside corners) each inside corner is cut off by its own segment, a rule that
// depends only on the face, so two cells sharing a face always cut it the same way (no cracks,
// unlike the classic table). Each segment is oriented so that, seen from outside the cell, inside
// lies on its left; the segments then chain into closed loops around the cube (each crossed edge
// starts one segment and ends another). The loops are kept for triangulation at run time
// (geometry/marching_cubes.cpp: quads by their flatter diagonal, longer loops as fans around a
// centroid vertex); `edges` also holds a fixed triangulation (ears whose new diagonal never lies
// on a face of the cube, see TriangulateLoop). Either way the right-hand normals point from
// inside (value < iso) to outside, and every crossed edge belongs to exactly one loop, so the
// triangles around a lattice edge's vertex form one fan: the surface is manifold.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace facet::geometry::kernels {

inline constexpr int kMcMaxTriangles = 12;  // checked by a static_assert below

struct McTable {
  // Per pattern (bit c set when corner c is inside), triangles as triples of edge indices.
  std::int8_t edges[256][3 * kMcMaxTriangles] = {};
  std::uint8_t triangle_count[256] = {};
  // The same patterns as loops of edges (concatenated), for triangulation chosen at run time.
  std::int8_t loop_edges[256][12] = {};
  std::uint8_t loop_length[256][4] = {};
  std::uint8_t loop_count[256] = {};
  // Loops that get a vertex at their centroid (see McLoopNeedsCentroid).
  std::uint8_t centroid_loops[256] = {};
};

namespace mc_detail {

constexpr int CornerCoord(int corner, int axis) { return (corner >> axis) & 1; }
constexpr int CornerAt(int x, int y, int z) { return x | (y << 1) | (z << 2); }

// The corner at the start (end = false) or the end of edge e.
constexpr int EdgeCorner(int e, bool end) {
  const int a = e / 4, r = e % 4;
  int c[3] = {0, 0, 0};
  c[a] = end ? 1 : 0;
  c[(a + 1) % 3] = r & 1;
  c[(a + 2) % 3] = r >> 1;
  return CornerAt(c[0], c[1], c[2]);
}

// The edge joining two corners that differ in exactly one coordinate.
constexpr int EdgeBetween(int p, int q) {
  const int diff = p ^ q;
  const int a = diff == 1 ? 0 : (diff == 2 ? 1 : 2);
  const int base = p < q ? p : q;
  return 4 * a + CornerCoord(base, (a + 1) % 3) + 2 * CornerCoord(base, (a + 2) % 3);
}

// Twice the coordinates of an edge's midpoint.
constexpr void EdgeMid2(int e, int out[3]) {
  const int p = EdgeCorner(e, false), q = EdgeCorner(e, true);
  for (int k = 0; k < 3; ++k) out[k] = CornerCoord(p, k) + CornerCoord(q, k);
}

// The two faces of the cube containing edge e (face = 2 axis + side).
constexpr bool EdgesShareFace(int e0, int e1) {
  const auto face = [](int e, int which) {
    const int a = e / 4, r = e % 4;
    return which == 0 ? 2 * ((a + 1) % 3) + (r & 1) : 2 * ((a + 2) % 3) + (r >> 1);
  };
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      if (face(e0, i) == face(e1, j)) return true;
    }
  }
  return false;
}

// Triangulates a loop of edge vertices by clipping ears, never adding a diagonal between two
// vertices on a common face of the cube: such an edge could also be made by the neighbouring
// cell and end up shared by four triangles. Backtracks over the choice of ear; false when no
// such triangulation exists.
constexpr bool TriangulateLoop(const int* loop, int n, int (*out)[3], int& count) {
  if (n == 3) {
    out[count][0] = loop[0];
    out[count][1] = loop[1];
    out[count][2] = loop[2];
    ++count;
    return true;
  }
  for (int i = 0; i < n; ++i) {
    const int prev = loop[(i + n - 1) % n], cur = loop[i], nxt = loop[(i + 1) % n];
    if (EdgesShareFace(prev, nxt)) continue;
    int rest[12] = {};
    int m = 0;
    for (int k = 0; k < n; ++k) {
      if (k != i) rest[m++] = loop[k];
    }
    const int saved = count;
    out[count][0] = prev;
    out[count][1] = cur;
    out[count][2] = nxt;
    ++count;
    if (TriangulateLoop(rest, m, out, count)) return true;
    count = saved;
  }
  return false;
}

// Where the next loop of `config` starts in loop_edges.
constexpr int LoopOffset(const McTable& table, int config) {
  int offset = 0;
  for (int l = 0; l < table.loop_count[config]; ++l) offset += table.loop_length[config][l];
  return offset;
}

constexpr McTable MakeMcTable() {
  McTable table{};
  for (int config = 0; config < 256; ++config) {
    auto inside = [config](int corner) { return ((config >> corner) & 1) != 0; };
    int next[12] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    for (int face = 0; face < 6; ++face) {
      const int a = face / 2, side = face % 2, u = (a + 1) % 3, v = (a + 2) % 3;
      int q[4] = {};
      const int uv[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
      for (int k = 0; k < 4; ++k) {
        int c[3] = {0, 0, 0};
        c[a] = side;
        c[u] = uv[k][0];
        c[v] = uv[k][1];
        q[k] = CornerAt(c[0], c[1], c[2]);
      }
      // Face edge k joins q[k] and q[k + 1].
      int crossed[4] = {};
      int num_crossed = 0;
      for (int k = 0; k < 4; ++k) {
        if (inside(q[k]) != inside(q[(k + 1) % 4])) crossed[num_crossed++] = k;
      }
      int segments[2][2] = {};
      int num_segments = 0;
      if (num_crossed == 2) {
        segments[0][0] = crossed[0];
        segments[0][1] = crossed[1];
        num_segments = 1;
      } else if (num_crossed == 4) {
        for (int k = 0; k < 4; ++k) {
          if (!inside(q[k])) continue;
          segments[num_segments][0] = (k + 3) % 4;
          segments[num_segments][1] = k;
          ++num_segments;
        }
      }
      int normal[3] = {0, 0, 0};
      normal[a] = side ? 1 : -1;
      for (int s = 0; s < num_segments; ++s) {
        int ea = EdgeBetween(q[segments[s][0]], q[(segments[s][0] + 1) % 4]);
        int eb = EdgeBetween(q[segments[s][1]], q[(segments[s][1] + 1) % 4]);
        // Orient so that (normal x d) points away from the inside corner of edge ea.
        int pa[3] = {}, pb[3] = {};
        EdgeMid2(ea, pa);
        EdgeMid2(eb, pb);
        const int in_corner =
            inside(EdgeCorner(ea, false)) ? EdgeCorner(ea, false) : EdgeCorner(ea, true);
        int d[3] = {}, r[3] = {};
        for (int k = 0; k < 3; ++k) {
          d[k] = pb[k] - pa[k];
          r[k] = 4 * CornerCoord(in_corner, k) - (pa[k] + pb[k]);
        }
        const int cross[3] = {normal[1] * d[2] - normal[2] * d[1],
                              normal[2] * d[0] - normal[0] * d[2],
                              normal[0] * d[1] - normal[1] * d[0]};
        if (cross[0] * r[0] + cross[1] * r[1] + cross[2] * r[2] > 0) {
          const int t = ea;
          ea = eb;
          eb = t;
        }
        next[ea] = eb;
      }
    }
    // Chain the segments into loops and triangulate each.
    bool used[12] = {};
    int count = 0;
    for (int start = 0; start < 12; ++start) {
      if (next[start] < 0 || used[start]) continue;
      int loop[12] = {};
      int n = 0;
      for (int e = start; !used[e]; e = next[e]) {
        used[e] = true;
        loop[n++] = e;
      }
      for (int k = 0; k < n; ++k) {
        table.loop_edges[config][LoopOffset(table, config) + k] = std::int8_t(loop[k]);
      }
      table.loop_length[config][table.loop_count[config]++] = std::uint8_t(n);
      if (n >= 5 ||
          (n == 4 && EdgesShareFace(loop[0], loop[2]) && EdgesShareFace(loop[1], loop[3]))) {
        ++table.centroid_loops[config];
      }
      int triangles[12][3] = {};
      int num_triangles = 0;
      if (!TriangulateLoop(loop, n, triangles, num_triangles)) {
        table.triangle_count[config] = 0xFF;  // rejected by the static_assert below
        return table;
      }
      for (int t = 0; t < num_triangles; ++t) {
        for (int k = 0; k < 3; ++k) {
          table.edges[config][3 * count + k] = std::int8_t(triangles[t][k]);
        }
        ++count;
      }
    }
    table.triangle_count[config] = std::uint8_t(count);
  }
  return table;
}

constexpr bool TableIsClosed(const McTable& table) {
  // Every loop was triangulated (no 0xFF marker), no pattern exceeds the triangle budget, and
  // the all-in / all-out patterns are empty.
  if (table.triangle_count[0] != 0 || table.triangle_count[255] != 0) return false;
  for (int config = 0; config < 256; ++config) {
    if (table.triangle_count[config] > kMcMaxTriangles) return false;
  }
  return true;
}

}  // namespace mc_detail

inline constexpr McTable kMcTable = mc_detail::MakeMcTable();
static_assert(mc_detail::TableIsClosed(kMcTable));

// The pattern of a cell: bit c set when corner c's value is below `iso` (inside). A value equal
// to iso counts as outside, so a vertex never sits on a lattice node of the opposite sign.
FACET_HOST_DEVICE inline int McConfig(const float v[8], float iso) {
  int config = 0;
  for (int c = 0; c < 8; ++c) config |= (v[c] < iso ? 1 : 0) << c;
  return config;
}

// Where the iso-level crosses the edge from value va (t = 0) to vb (t = 1), kept in
// [kMcMinT, 1 - kMcMinT] so that vertices never coincide with lattice nodes.
inline constexpr float kMcMinT = 1e-3f;
FACET_HOST_DEVICE inline float McEdgeT(float va, float vb, float iso) {
  const float t = (iso - va) / (vb - va);
  return t < kMcMinT ? kMcMinT : (t > 1.0f - kMcMinT ? 1.0f - kMcMinT : t);
}

}  // namespace facet::geometry::kernels
