// McDeviceExtraction: the device arrays and kernels of ExtractSurface's CUDA path. Every kernel
// runs one thread block per processed voxel block (a grid-stride loop over the blocks) with one
// thread per cell, i.e. per owned node: thread t is node (t % 8, t / 8 % 8, t / 64), so the order
// of the threads is the CPU loops' order (LocalVoxelIndex) and block-wide prefix sums give each
// cell's place in the output.
//   1. CountKernel: a node's crossed owned edges (mask and rank of its first vertex in the
//      block), and the block's numbers of edge vertices, loop centroids and triangles;
//      DeviceScan turns the numbers into each block's first vertex and triangle.
//   2. VertexKernel: the edge vertices (positions and colours).
//   3. TriangleKernel: per cell and loop, the triangles (looking up each edge's vertex in the
//      block owning it, through its node's code) and the centroid vertices of fans.
#include <cub/block/block_scan.cuh>
#include <cub/device/device_scan.cuh>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/cuda_check.h"
#include "geometry/cuda/marching_cubes_cuda.h"

namespace facet::geometry::detail {
namespace {

using kernels::kBlockSize;
using kernels::kBlockVoxels;
using kernels::McApronNode;
// Vertex and triangle counts and their prefix sums (a type CUB scans).
using Offset = unsigned long long;

// The case table in device memory, initialised at compile time from the host's constexpr one.
__device__ constexpr kernels::McTable kDeviceMcTable = kernels::kMcTable;

constexpr int kThreads = kBlockVoxels;  // one thread per cell of a block
using BlockScan = cub::BlockScan<int, kThreads>;
// Thread blocks launched; each walks the voxel blocks blockIdx.x, + gridDim.x, ...
constexpr std::int64_t kMaxGrid = 65536;

void Require(bool ok, const std::string& message) {
  if (!ok) [[unlikely]]
    FACET_THROW(message);
}

// A device array of n elements (uninitialised), freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void Allocate(std::int64_t n) {
    cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
    if (n > 0) FACET_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), Bytes(n)));
    size_ = n;
  }
  void Upload(const T* host, std::int64_t n) {
    Allocate(n);
    if (n > 0) FACET_CUDA_CHECK(cudaMemcpy(data_, host, Bytes(n), cudaMemcpyHostToDevice));
  }
  void Zero() {
    if (size_ > 0) FACET_CUDA_CHECK(cudaMemset(data_, 0, Bytes(size_)));
  }
  void Download(T* host, std::int64_t n) const {
    Require(n >= 0 && n <= size_, "McDeviceExtraction: download past the end of a device array");
    if (n > 0) FACET_CUDA_CHECK(cudaMemcpy(host, data_, Bytes(n), cudaMemcpyDeviceToHost));
  }
  T* data() const { return data_; }

 private:
  static std::size_t Bytes(std::int64_t n) { return sizeof(T) * std::size_t(n); }
  T* data_ = nullptr;
  std::int64_t size_ = 0;
};

// What the kernels read and write (device pointers).
struct Args {
  kernels::McVoxelArrays voxels;
  const kernels::BlockKey* blocks = nullptr;             // per processed block
  const kernels::McBlockNeighbors* neighbors = nullptr;  // per processed block
  std::int64_t block_count = 0;
  double voxel_size = 0.0;
  // Per processed block and node: (rank of the node's first vertex in the block) << 3 | mask
  // of its crossed owned edges (bit = axis).
  std::uint16_t* node_codes = nullptr;
  std::int32_t* edge_counts = nullptr;  // per processed block: its edge vertices
  Offset* vertex_counts = nullptr;      // per processed block + 1: edge vertices + centroids
  Offset* triangle_counts = nullptr;    // per processed block + 1
  Offset* vertex_base = nullptr;        // exclusive prefix sums of the counts
  Offset* triangle_base = nullptr;
  double* vertices = nullptr;          // 3 per vertex
  float* colors = nullptr;             // 3 per vertex; null without colour
  std::uint32_t* triangles = nullptr;  // 3 per triangle
  int* error = nullptr;                // set when a crossed edge has no vertex
};

__device__ void LoadApron(const Args& args, std::int64_t b, McApronNode* apron) {
  const kernels::McBlockNeighbors& neighbors = args.neighbors[b];
  for (int a = int(threadIdx.x); a < kernels::kMcApronNodes; a += int(blockDim.x)) {
    const int i = a % kernels::kMcApron, j = (a / kernels::kMcApron) % kernels::kMcApron,
              k = a / (kernels::kMcApron * kernels::kMcApron);
    apron[a] = kernels::McLoadApronNode(args.voxels, neighbors, i, j, k);
  }
}

__device__ int CellCentroids(int config) {
  return config >= 0 ? kDeviceMcTable.centroid_loops[config] : 0;
}
__device__ int CellTriangles(int config) {
  return config >= 0 ? kernels::McCellTriangleCount(kDeviceMcTable, config) : 0;
}

__global__ void __launch_bounds__(kThreads) CountKernel(Args args) {
  __shared__ McApronNode apron[kernels::kMcApronNodes];
  __shared__ typename BlockScan::TempStorage scan;
  const int t = int(threadIdx.x);
  const int i = t % kBlockSize, j = (t / kBlockSize) % kBlockSize,
            k = t / (kBlockSize * kBlockSize);
  for (std::int64_t b = blockIdx.x; b < args.block_count; b += gridDim.x) {
    __syncthreads();  // the previous block's apron and scan storage are no longer read
    LoadApron(args, b, apron);
    __syncthreads();
    const int crossed = kernels::McNodeCrossedEdges(apron, i, j, k);
    const int config = kernels::McCellConfig(apron, i, j, k);
    int rank = 0, edges = 0, unused = 0, centroids = 0, triangles = 0;
    BlockScan(scan).ExclusiveSum(__popc(crossed), rank, edges);
    args.node_codes[b * kBlockVoxels + t] = std::uint16_t((rank << 3) | crossed);
    __syncthreads();
    BlockScan(scan).ExclusiveSum(CellCentroids(config), unused, centroids);
    __syncthreads();
    BlockScan(scan).ExclusiveSum(CellTriangles(config), unused, triangles);
    if (t == 0) {
      args.edge_counts[b] = edges;
      args.vertex_counts[b] = Offset(edges) + Offset(centroids);
      args.triangle_counts[b] = Offset(triangles);
    }
  }
}

__global__ void __launch_bounds__(kThreads) VertexKernel(Args args) {
  __shared__ McApronNode apron[kernels::kMcApronNodes];
  const int t = int(threadIdx.x);
  const int i = t % kBlockSize, j = (t / kBlockSize) % kBlockSize,
            k = t / (kBlockSize * kBlockSize);
  for (std::int64_t b = blockIdx.x; b < args.block_count; b += gridDim.x) {
    __syncthreads();
    LoadApron(args, b, apron);
    __syncthreads();
    const int code = args.node_codes[b * kBlockVoxels + t];
    Offset index = args.vertex_base[b] + Offset(code >> 3);
    for (int axis = 0; axis < 3; ++axis) {
      if (!(code & (1 << axis))) continue;
      kernels::McEdgeVertex(apron, i, j, k, axis, args.blocks[b], args.voxel_size,
                            args.vertices + 3 * index,
                            args.colors != nullptr ? args.colors + 3 * index : nullptr);
      ++index;
    }
  }
}

__global__ void __launch_bounds__(kThreads) TriangleKernel(Args args) {
  __shared__ McApronNode apron[kernels::kMcApronNodes];
  __shared__ typename BlockScan::TempStorage scan;
  const kernels::McTable& table = kDeviceMcTable;
  const int t = int(threadIdx.x);
  const int i = t % kBlockSize, j = (t / kBlockSize) % kBlockSize,
            k = t / (kBlockSize * kBlockSize);
  for (std::int64_t b = blockIdx.x; b < args.block_count; b += gridDim.x) {
    __syncthreads();
    LoadApron(args, b, apron);
    __syncthreads();
    const int config = kernels::McCellConfig(apron, i, j, k);
    int centroid_rank = 0, triangle_rank = 0;
    BlockScan(scan).ExclusiveSum(CellCentroids(config), centroid_rank);
    __syncthreads();
    BlockScan(scan).ExclusiveSum(CellTriangles(config), triangle_rank);
    if (config < 0 || table.loop_count[config] == 0) continue;  // all threads reach the next sync

    const kernels::McBlockNeighbors& neighbors = args.neighbors[b];
    Offset center = args.vertex_base[b] + Offset(args.edge_counts[b]) + Offset(centroid_rank);
    Offset triangle = args.triangle_base[b] + Offset(triangle_rank);
    int offset = 0;
    for (int l = 0; l < table.loop_count[config]; ++l) {
      const int n = table.loop_length[config][l];
      const std::int8_t* loop = &table.loop_edges[config][offset];
      offset += n;
      std::uint32_t edge_vertex[12] = {};
      const double* edge_position[12] = {};
      const float* edge_color[12] = {};
      bool resolved = true;
      for (int q = 0; q < n; ++q) {
        const int e = loop[q];
        const kernels::McEdgeOwner owner = kernels::McCellEdgeOwner(e, i, j, k);
        const std::int32_t nb = neighbors.processed[owner.octant];
        const int code =
            nb >= 0 ? args.node_codes[std::int64_t(nb) * kBlockVoxels + owner.node] : 0;
        if (!(code & (1 << owner.axis))) {
          resolved = false;
          break;
        }
        const Offset index = args.vertex_base[nb] + Offset(code >> 3) +
                             Offset(__popc(code & ((1 << owner.axis) - 1)));
        edge_vertex[e] = std::uint32_t(index);
        edge_position[e] = args.vertices + 3 * index;
        edge_color[e] = args.colors != nullptr ? args.colors + 3 * index : nullptr;
      }
      if (!resolved) {
        *args.error = 1;
        break;
      }
      double centroid[3];
      float centroid_color[3];
      kernels::McTriangulateLoop(loop, n, edge_vertex, edge_position, edge_color,
                                 std::uint32_t(center), args.triangles + 3 * triangle, centroid,
                                 centroid_color);
      triangle += Offset(kernels::McLoopTriangleCount(loop, n));
      if (kernels::McLoopNeedsCentroid(loop, n)) {
        for (int c = 0; c < 3; ++c) args.vertices[3 * center + c] = centroid[c];
        if (args.colors != nullptr) {
          for (int c = 0; c < 3; ++c) args.colors[3 * center + c] = centroid_color[c];
        }
        ++center;
      }
    }
  }
}

// out[i] = in[0] + ... + in[i - 1], i < n.
void ExclusiveSum(const Offset* in, Offset* out, std::int64_t n) {
  std::size_t temp_bytes = 0;
  FACET_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, in, out, n));
  DeviceBuffer<unsigned char> temp;
  temp.Allocate(std::int64_t(temp_bytes));
  FACET_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, in, out, n));
}

unsigned GridSize(std::int64_t blocks) { return unsigned(std::min(blocks, kMaxGrid)); }

}  // namespace

struct McDeviceExtraction::Impl {
  DeviceBuffer<float> sdf, weight, color;
  DeviceBuffer<std::uint8_t> voxel_outside;
  DeviceBuffer<kernels::BlockKey> blocks;
  DeviceBuffer<kernels::McBlockNeighbors> neighbors;
  DeviceBuffer<std::uint16_t> node_codes;
  DeviceBuffer<std::int32_t> edge_counts;
  DeviceBuffer<Offset> vertex_counts, triangle_counts, vertex_base, triangle_base;
  DeviceBuffer<double> vertices;
  DeviceBuffer<float> colors;
  DeviceBuffer<std::uint32_t> triangles;
  DeviceBuffer<int> error;
  Args args;
  bool with_color = false;
  bool counted = false;
  std::int64_t vertex_total = 0, triangle_total = 0;
};

McDeviceExtraction::McDeviceExtraction() : impl_(std::make_unique<Impl>()) {}
McDeviceExtraction::~McDeviceExtraction() = default;

std::int64_t McDeviceExtraction::triangle_count() const { return impl_->triangle_total; }

std::int64_t McDeviceExtraction::Count(const McCudaInput& input) {
  Impl& d = *impl_;
  const std::int64_t n = input.block_count;
  Require(n >= 0 && input.grid_voxels >= 0 && (n == 0 || input.neighbors != nullptr) &&
              (n == 0 || input.blocks != nullptr),
          "McDeviceExtraction::Count: bad input arrays");
  Require(!input.voxels.close || input.voxels.voxel_outside != nullptr,
          "McDeviceExtraction::Count: closing needs the voxels' outside flags");
  d.with_color = input.voxels.color != nullptr;
  d.sdf.Upload(input.voxels.sdf, input.grid_voxels);
  d.weight.Upload(input.voxels.weight, input.grid_voxels);
  if (d.with_color) d.color.Upload(input.voxels.color, 3 * input.grid_voxels);
  if (input.voxels.close) d.voxel_outside.Upload(input.voxels.voxel_outside, input.grid_voxels);
  d.blocks.Upload(input.blocks, n);
  d.neighbors.Upload(input.neighbors, n);
  d.node_codes.Allocate(n * kBlockVoxels);
  d.edge_counts.Allocate(n);
  // One more (zero) count than blocks, so that the exclusive sums end with the totals.
  d.vertex_counts.Allocate(n + 1);
  d.triangle_counts.Allocate(n + 1);
  d.vertex_counts.Zero();
  d.triangle_counts.Zero();
  d.vertex_base.Allocate(n + 1);
  d.triangle_base.Allocate(n + 1);

  Args& args = d.args;
  args = Args{};
  args.voxels = input.voxels;
  args.voxels.sdf = d.sdf.data();
  args.voxels.weight = d.weight.data();
  args.voxels.color = d.with_color ? d.color.data() : nullptr;
  args.voxels.voxel_outside = input.voxels.close ? d.voxel_outside.data() : nullptr;
  args.blocks = d.blocks.data();
  args.neighbors = d.neighbors.data();
  args.block_count = n;
  args.voxel_size = input.voxel_size;
  args.node_codes = d.node_codes.data();
  args.edge_counts = d.edge_counts.data();
  args.vertex_counts = d.vertex_counts.data();
  args.triangle_counts = d.triangle_counts.data();
  args.vertex_base = d.vertex_base.data();
  args.triangle_base = d.triangle_base.data();

  if (n > 0) {
    CountKernel<<<GridSize(n), kThreads>>>(args);
    FACET_CUDA_CHECK_LAUNCH();
  }
  ExclusiveSum(d.vertex_counts.data(), d.vertex_base.data(), n + 1);
  ExclusiveSum(d.triangle_counts.data(), d.triangle_base.data(), n + 1);
  unsigned long long totals[2] = {0, 0};
  FACET_CUDA_CHECK(
      cudaMemcpy(&totals[0], d.vertex_base.data() + n, sizeof(Offset), cudaMemcpyDeviceToHost));
  FACET_CUDA_CHECK(
      cudaMemcpy(&totals[1], d.triangle_base.data() + n, sizeof(Offset), cudaMemcpyDeviceToHost));
  d.vertex_total = std::int64_t(totals[0]);
  d.triangle_total = std::int64_t(totals[1]);
  d.counted = true;
  return d.vertex_total;
}

void McDeviceExtraction::Extract(double* vertices, float* colors, std::uint32_t* triangles) {
  Impl& d = *impl_;
  Require(d.counted, "McDeviceExtraction::Extract called before Count");
  Require(d.vertex_total < std::int64_t(0xFFFFFFFFll),
          "the extracted surface has more than 2^32 vertices");
  d.vertices.Allocate(3 * d.vertex_total);
  d.colors.Allocate(d.with_color ? 3 * d.vertex_total : 0);
  d.triangles.Allocate(3 * d.triangle_total);
  d.error.Allocate(1);
  d.error.Zero();
  Args& args = d.args;
  args.vertices = d.vertices.data();
  args.colors = d.with_color ? d.colors.data() : nullptr;
  args.triangles = d.triangles.data();
  args.error = d.error.data();
  if (args.block_count > 0) {
    VertexKernel<<<GridSize(args.block_count), kThreads>>>(args);
    FACET_CUDA_CHECK_LAUNCH();
    TriangleKernel<<<GridSize(args.block_count), kThreads>>>(args);
    FACET_CUDA_CHECK_LAUNCH();
  }
  FACET_CUDA_CHECK(cudaDeviceSynchronize());
  int error = 0;
  d.error.Download(&error, 1);
  Require(error == 0, "marching cubes (CUDA): a crossed edge has no vertex");
  d.vertices.Download(vertices, 3 * d.vertex_total);
  if (d.with_color && colors != nullptr) d.colors.Download(colors, 3 * d.vertex_total);
  d.triangles.Download(triangles, 3 * d.triangle_total);
}

}  // namespace facet::geometry::detail
