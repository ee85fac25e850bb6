#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU: builds with CUDA for sm_90, runs the CUDA tests
# (label "gpu") and the benchmarks, and copies logs and results into $OUT when it is set.
#   scripts/gpu-check.sh [--no-deps]   (--no-deps: the machine cannot reach a package mirror)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-build/gpu-check}"
mkdir -p "$out"
status=0

if [[ "${1:-}" != "--no-deps" ]]; then
  bash scripts/deps.sh || echo "gpu-check.sh: deps.sh failed; trying with what is installed"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$out/gpu.txt"

build=build/gpu
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACET_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="${CUDACXX:-/usr/local/cuda/bin/nvcc}" \
  2>&1 | tee "$out/configure.log" || status=1
cmake --build "$build" -j "$(nproc)" 2>&1 | tail -n 200 >"$out/build.log" || status=1
"$build/bin/facet" --version 2>&1 | tee "$out/version.txt"

ctest --test-dir "$build" -L gpu --output-on-failure 2>&1 | tee "$out/ctest-gpu.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

for bench in "$build"/bench/*_bench; do
  [[ -x "$bench" ]] || continue
  name="$(basename "$bench")"
  "$bench" --benchmark_min_time=0.2 --benchmark_out="$out/$name.json" \
    --benchmark_out_format=json 2>&1 | tee "$out/$name.txt" || status=1
done
echo "gpu-check.sh: results in $out (status $status)"
exit "$status"
