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
// (McTriangulateLoop: quads by their flatter diagonal, longer loops as fans around a centroid
// vertex); `edges` also holds a fixed triangulation (ears whose new diagonal never lies
// on a face of the cube, see TriangulateLoop). Either way the right-hand normals point from
// inside (value < iso) to outside, and every crossed edge belongs to exactly one loop, so the
// triangles around a lattice edge's vertex form one fan: the surface is manifold.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "geometry/kernels/block_hash.h"

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

// One of the two faces of the cube containing edge e (face = 2 axis + side), which = 0 or 1.
FACET_HOST_DEVICE constexpr int EdgeFace(int e, int which) {
  const int a = e / 4, r = e % 4;
  return which == 0 ? 2 * ((a + 1) % 3) + (r & 1) : 2 * ((a + 2) % 3) + (r >> 1);
}

// Whether two edges lie on a common face of the cube.
FACET_HOST_DEVICE constexpr bool EdgesShareFace(int e0, int e1) {
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      if (EdgeFace(e0, i) == EdgeFace(e1, j)) return true;
    }
  }
  return false;
}

// Whether a loop of n edges is triangulated as a fan around its centroid: loops of five edges
// or more, and quads whose two diagonals both lie on faces of the cube.
template <typename Edge>
FACET_HOST_DEVICE constexpr bool LoopNeedsCentroid(const Edge* loop, int n) {
  return n >= 5 || (n == 4 && EdgesShareFace(loop[0], loop[2]) && EdgesShareFace(loop[1], loop[3]));
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
      if (LoopNeedsCentroid(loop, n)) ++table.centroid_loops[config];
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

// Whether a loop of the table is triangulated as a fan around a new centroid vertex (loops of
// five edges or more, quads whose diagonals both lie on faces of the cube).
FACET_HOST_DEVICE inline bool McLoopNeedsCentroid(const std::int8_t* loop, int n) {
  return mc_detail::LoopNeedsCentroid(loop, n);
}

// Triangles of one loop: a triangle, a quad split along a diagonal, or a fan of n.
FACET_HOST_DEVICE inline int McLoopTriangleCount(const std::int8_t* loop, int n) {
  return n == 3 ? 1 : (McLoopNeedsCentroid(loop, n) ? n : 2);
}

// Triangles of a cell with pattern `config`.
FACET_HOST_DEVICE inline int McCellTriangleCount(const McTable& table, int config) {
  int count = 0, offset = 0;
  for (int l = 0; l < table.loop_count[config]; ++l) {
    const int n = table.loop_length[config][l];
    count += McLoopTriangleCount(&table.loop_edges[config][offset], n);
    offset += n;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// ExtractSurface over a VoxelBlockGrid (geometry/marching_cubes.cpp, cuda/marching_cubes_cuda.cu):
// the per-node, per-edge and per-loop steps, shared so that both backends give the same mesh.
// A processed block's cells (i, j, k), 0 <= i, j, k < 8, reach one node into the blocks at +1
// on each axis, so each block reads an apron of 9^3 nodes; the block owns the lattice edges that
// start at its own 8^3 nodes and makes their vertices (pass 1), then the triangles of its cells
// (pass 2), looking up each edge's vertex in the block owning it.

inline constexpr int kMcApron = kBlockSize + 1;
inline constexpr int kMcApronNodes = kMcApron * kMcApron * kMcApron;
FACET_HOST_DEVICE constexpr int McApronIndex(int i, int j, int k) {
  return i + kMcApron * (j + kMcApron * k);
}

// The 8 blocks at key + (o & 1, (o >> 1) & 1, (o >> 2) & 1), o = 0..7, of a processed block
// (o = 0 is the block itself).
struct McBlockNeighbors {
  std::int32_t grid_block[8];  // index in the grid, -1 when not allocated
  std::int32_t processed[8];   // index in the list of processed blocks, -1 when not processed
  std::uint8_t outside[8];     // 1: not allocated and classified outside (closing only)
};

// The grid's voxel arrays as ExtractSurface reads them (host or device pointers).
struct McVoxelArrays {
  const float* sdf = nullptr;     // kBlockVoxels per grid block
  const float* weight = nullptr;  // kBlockVoxels per grid block
  const float* color = nullptr;   // 3 kBlockVoxels per grid block; null: no vertex colours
  // Per grid voxel, 1 when an unknown voxel is classified outside; null when not closing.
  const std::uint8_t* voxel_outside = nullptr;
  float min_weight = 0.0f;  // voxels with weight <= min_weight are unknown
  float fill_value = 0.0f;  // the value (+-) given to unknown nodes when closing: a voxel size
  bool close = false;       // unknown nodes take a side (else they are undefined)
};

// One apron node. (No default member initialisers: CUDA keeps arrays of it in shared memory.)
struct McApronNode {
  float value;
  float color[3];  // valid when has_color
  bool defined;
  bool has_color;
};

// Apron node (i, j, k), 0 <= i, j, k <= 8, of the block whose neighbours are `neighbors`.
FACET_HOST_DEVICE inline McApronNode McLoadApronNode(const McVoxelArrays& voxels,
                                                     const McBlockNeighbors& neighbors, int i,
                                                     int j, int k) {
  const int o = (i == kBlockSize ? 1 : 0) | (j == kBlockSize ? 2 : 0) | (k == kBlockSize ? 4 : 0);
  const std::int32_t block = neighbors.grid_block[o];
  McApronNode node;
  node.has_color = false;
  node.color[0] = node.color[1] = node.color[2] = 0.0f;
  if (block < 0) {
    node.defined = voxels.close;
    node.value = neighbors.outside[o] ? voxels.fill_value : -voxels.fill_value;
    return node;
  }
  const int local = LocalVoxelIndex(i % kBlockSize, j % kBlockSize, k % kBlockSize);
  const std::int64_t voxel = std::int64_t(block) * kBlockVoxels + local;
  if (voxels.weight[voxel] > voxels.min_weight) {
    node.defined = true;
    node.value = voxels.sdf[voxel];
    if (voxels.color != nullptr) {
      for (int c = 0; c < 3; ++c) node.color[c] = voxels.color[3 * voxel + c];
      node.has_color = true;
    }
  } else {
    node.defined = voxels.close;
    node.value =
        voxels.close && voxels.voxel_outside[voxel] ? voxels.fill_value : -voxels.fill_value;
  }
  return node;
}

// Pass 1. Bit `axis` is set when the edge from node (i, j, k) (< 8) along `axis` joins two
// defined nodes of opposite signs; the block makes these vertices in the order of
// LocalVoxelIndex(i, j, k), then axis.
FACET_HOST_DEVICE inline int McNodeCrossedEdges(const McApronNode* apron, int i, int j, int k) {
  const int a = McApronIndex(i, j, k);
  if (!apron[a].defined) return 0;
  const int step[3] = {1, kMcApron, kMcApron * kMcApron};
  int mask = 0;
  for (int axis = 0; axis < 3; ++axis) {
    const McApronNode& b = apron[a + step[axis]];
    if (b.defined && (apron[a].value < 0.0f) != (b.value < 0.0f)) mask |= 1 << axis;
  }
  return mask;
}

// The vertex on the crossed edge from node (i, j, k) along `axis` of block `key`: its world
// position and (when `color` is not null) its colour, interpolated where both ends have one.
FACET_HOST_DEVICE inline void McEdgeVertex(const McApronNode* apron, int i, int j, int k, int axis,
                                           const BlockKey& key, double voxel_size,
                                           double position[3], float* color) {
  const McApronNode& a = apron[McApronIndex(i, j, k)];
  const McApronNode& b = apron[McApronIndex(i + (axis == 0), j + (axis == 1), k + (axis == 2))];
  const float t = McEdgeT(a.value, b.value, 0.0f);
  const double block_size = voxel_size * kBlockSize;
  const std::int32_t key_coord[3] = {key.x, key.y, key.z};
  const int node[3] = {i, j, k};
  for (int c = 0; c < 3; ++c) {
    double p = double(node[c]);
    if (c == axis) p += double(t);
    position[c] = block_size * double(key_coord[c]) + voxel_size * p;
  }
  if (color == nullptr) return;
  for (int c = 0; c < 3; ++c) {
    if (a.has_color && b.has_color) {
      color[c] = (1.0f - t) * a.color[c] + t * b.color[c];
    } else {
      color[c] = a.has_color ? a.color[c] : (b.has_color ? b.color[c] : 0.5f);
    }
  }
}

// The pattern of cell (i, j, k) (< 8), or -1 when one of its corners is undefined.
FACET_HOST_DEVICE inline int McCellConfig(const McApronNode* apron, int i, int j, int k) {
  float v[8];
  for (int c = 0; c < 8; ++c) {
    const McApronNode& node = apron[McApronIndex(i + (c & 1), j + ((c >> 1) & 1), k + (c >> 2))];
    if (!node.defined) return -1;
    v[c] = node.value;
  }
  return McConfig(v, 0.0f);
}

// Pass 2. Edge e of cell (i, j, k) starts at node `node` (a LocalVoxelIndex) of the neighbour
// `octant` (McBlockNeighbors) and runs along `axis`.
struct McEdgeOwner {
  int octant;
  int node;
  int axis;
};
FACET_HOST_DEVICE inline McEdgeOwner McCellEdgeOwner(int e, int i, int j, int k) {
  const int axis = e / 4, r = e % 4;
  int n[3] = {i, j, k};
  n[(axis + 1) % 3] += r & 1;
  n[(axis + 2) % 3] += r >> 1;
  int octant = 0;
  for (int a = 0; a < 3; ++a) {
    if (n[a] == kBlockSize) {
      n[a] = 0;
      octant |= 1 << a;
    }
  }
  return {octant, LocalVoxelIndex(n[0], n[1], n[2]), axis};
}

// cos of the angle between the normals of triangles (a, b, c) and (a, c, d); -1 when one is
// degenerate.
FACET_HOST_DEVICE inline double McQuadFlatness(const double* a, const double* b, const double* c,
                                               const double* d) {
  double ab[3], ac[3], ad[3];
  for (int k = 0; k < 3; ++k) {
    ab[k] = b[k] - a[k];
    ac[k] = c[k] - a[k];
    ad[k] = d[k] - a[k];
  }
  const double n0[3] = {ab[1] * ac[2] - ab[2] * ac[1], ab[2] * ac[0] - ab[0] * ac[2],
                        ab[0] * ac[1] - ab[1] * ac[0]};
  const double n1[3] = {ac[1] * ad[2] - ac[2] * ad[1], ac[2] * ad[0] - ac[0] * ad[2],
                        ac[0] * ad[1] - ac[1] * ad[0]};
  const double norm = ::sqrt(n0[0] * n0[0] + n0[1] * n0[1] + n0[2] * n0[2]) *
                      ::sqrt(n1[0] * n1[0] + n1[1] * n1[1] + n1[2] * n1[2]);
  return norm > 0.0 ? (n0[0] * n1[0] + n0[1] * n1[1] + n0[2] * n1[2]) / norm : -1.0;
}

// Triangulates one loop of a cell: a triangle as is; a quad along the diagonal that keeps the
// two triangles flattest (never one lying on a face of the cube, which the neighbouring cell
// could also make); anything else, and a quad whose diagonals both lie on faces, as a fan around
// a new vertex at the loop's centroid. Ear triangulations of hexagons and longer loops fold over
// on non-planar loops; fans do not. vertex[e], position[e] (3 doubles) and color[e] (3 floats,
// or null without colours) describe the vertex on cell edge e. Writes McLoopTriangleCount
// triangles (3 indices each) to `triangles`; for a fan, the centroid vertex gets index `center`
// and its position and colour go to centroid_position and centroid_color (when colours).
FACET_HOST_DEVICE inline void McTriangulateLoop(
    const std::int8_t* loop, int n, const std::uint32_t* vertex, const double* const* position,
    const float* const* color, std::uint32_t center, std::uint32_t* triangles,
    double centroid_position[3], float centroid_color[3]) {
  const auto emit = [&](int t, std::uint32_t a, std::uint32_t b, std::uint32_t c) {
    triangles[3 * t] = a;
    triangles[3 * t + 1] = b;
    triangles[3 * t + 2] = c;
  };
  const auto v = [&](int q) { return vertex[loop[q]]; };
  const auto p = [&](int q) { return position[loop[q]]; };
  if (n == 3) {
    emit(0, v(0), v(1), v(2));
    return;
  }
  if (!McLoopNeedsCentroid(loop, n)) {  // a quad with at least one diagonal off the faces
    const bool d02 = !mc_detail::EdgesShareFace(loop[0], loop[2]);
    const bool d13 = !mc_detail::EdgesShareFace(loop[1], loop[3]);
    const bool use02 = d02 && (!d13 || McQuadFlatness(p(0), p(1), p(2), p(3)) >=
                                           McQuadFlatness(p(1), p(2), p(3), p(0)));
    if (use02) {
      emit(0, v(0), v(1), v(2));
      emit(1, v(0), v(2), v(3));
    } else {
      emit(0, v(1), v(2), v(3));
      emit(1, v(1), v(3), v(0));
    }
    return;
  }
  for (int k = 0; k < 3; ++k) {
    double sum = 0.0;
    for (int q = 0; q < n; ++q) sum += p(q)[k];
    centroid_position[k] = sum / double(n);
  }
  if (color[loop[0]] != nullptr) {
    for (int k = 0; k < 3; ++k) {
      float sum = 0.0f;
      for (int q = 0; q < n; ++q) sum += color[loop[q]][k];
      centroid_color[k] = sum / float(n);
    }
  }
  for (int q = 0; q < n; ++q) emit(q, center, v(q), v((q + 1) % n));
}

}  // namespace facet::geometry::kernels
