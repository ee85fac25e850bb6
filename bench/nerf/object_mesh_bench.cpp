// The issue's NeRF mesh figure: "mesh of the synthetic scene's object from the NeRF: watertight,
// Chamfer to ground truth <= 1% of the bounding-box diagonal". The object alone in 36 RGBA views
// of 192x144, 1000 CPU training steps of 4096 rays, TSDF fusion of the median depth at 128 voxels
// along the scene box (tests/nerf/object_scene.h). One iteration; counters: the Chamfer, accuracy
// and completeness (mm), the Chamfer as a percentage of the diagonal, watertight (1/0), the
// components left, and the training time (s).
#include <benchmark/benchmark.h>

#include "nerf/object_scene.h"

namespace {

void BM_NerfObjectMesh(benchmark::State& state) {
  facet::nerf::test::ObjectMeshResult result;
  for (auto _ : state) result = facet::nerf::test::MeshSyntheticObject({});
  state.counters["chamfer_mm"] = 1e3 * result.distance.chamfer;
  state.counters["chamfer_pct_diagonal"] = 100.0 * result.distance.chamfer / result.diagonal;
  state.counters["accuracy_mm"] = 1e3 * result.distance.accuracy;
  state.counters["completeness_mm"] = 1e3 * result.distance.completeness;
  state.counters["watertight"] = result.watertight.watertight ? 1.0 : 0.0;
  state.counters["components"] = double(result.watertight.components);
  state.counters["training_s"] = result.training_s;
}
BENCHMARK(BM_NerfObjectMesh)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
