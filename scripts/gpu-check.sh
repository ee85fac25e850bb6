#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU: builds with CUDA for sm_90, runs the CUDA tests
# (label "gpu"), the benchmarks and the viewer's FPS, and copies logs and results into $OUT when it
# is set.
#   scripts/gpu-check.sh [--no-deps]          (--no-deps: the machine cannot reach a package mirror)
#   scripts/gpu-check.sh --prebuilt BUNDLE    (no build: the programs and libraries packed by
#                                              scripts/gpu-bundle.sh on a machine with the deps)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-build/gpu-check}"
mkdir -p "$out"
status=0
prebuilt=""
if [[ "${1:-}" == "--prebuilt" ]]; then
  prebuilt="${2:?--prebuilt needs the bundle made by scripts/gpu-bundle.sh}"
elif [[ "${1:-}" != "--no-deps" ]]; then
  bash scripts/deps.sh || echo "gpu-check.sh: deps.sh failed; trying with what is installed"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$out/gpu.txt"

if [[ -n "$prebuilt" ]]; then
  root=/tmp/facet-gpu
  rm -rf "$root" && mkdir -p "$root"
  python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" \
    "$prebuilt" "$root" || exit 1
  export LD_LIBRARY_PATH="$root/.gpu/stubs:$root/lib/x86_64-linux-gnu:$root/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  build="$(dirname "$(dirname "$(find "$root" -path '*/bin/facet' | head -n 1)")")"
  "$build/bin/facet" --version 2>&1 | tee "$out/version.txt"
  # No CTest files travel: run each CUDA test binary itself.
  for test in $(find "$build/tests" -name '*_cuda_test' -type f | sort); do
    name="$(basename "$test")"
    "$test" --gtest_output="json:$out/$name.json" >"$out/$name.log" 2>&1 || status=1
    grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests? ran" "$out/$name.log" | sed "s/^/$name: /"
  done
fi
if [[ -z "$prebuilt" ]]; then
  build=build/gpu
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="${CUDACXX:-/usr/local/cuda/bin/nvcc}" \
    2>&1 | tee "$out/configure.log" || status=1
  cmake --build "$build" -j "$(nproc)" 2>&1 | tail -n 200 >"$out/build.log" || status=1
  "$build/bin/facet" --version 2>&1 | tee "$out/version.txt"
  ctest --test-dir "$build" -L gpu --output-on-failure 2>&1 | tee "$out/ctest-gpu.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
fi

for bench in "$build"/bench/*_bench; do
  [[ -x "$bench" ]] || continue
  name="$(basename "$bench")"
  "$bench" --benchmark_min_time=0.2 --benchmark_out="$out/$name.json" \
    --benchmark_out_format=json 2>&1 | tee "$out/$name.txt" || status=1
done
# The viewer's splat path (issue 9; target >= 300 FPS for 1M splats at 1920x1080 on an H200): the
# compute tile rasterizer, then the quads it replaced for comparison (fewer frames: they are
# slow there). It uses the Vulkan device VulkanContext picks (the NVIDIA one when its ICD is
# installed); viewer_fps prints the device and refuses lavapipe (no --allow-cpu here).
if [[ -x "$build/bench/viewer_fps" ]]; then
  timeout 300 "$build/bench/viewer_fps" --splats 1000000 --full-hd --frames 200 --warmup 20 \
    --json "$out/viewer_fps.json" 2>&1 | tee "$out/viewer_fps.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  timeout 300 "$build/bench/viewer_fps" --splats 1000000 --full-hd --frames 20 --warmup 2 \
    --raster quads --json "$out/viewer_fps_quads.json" 2>&1 | tee "$out/viewer_fps_quads.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
fi
# Without shared data: the built-in synthetic scene trained on the GPU (beside a short CPU run for
# the speed ratio), and a synthetic RGB-D sequence meshed with the CUDA TSDF and marching cubes
# beside the CPU (the triangle counts must agree).
synth=/tmp/facet-synth
rm -rf "$synth"
"$build/bin/facet" synth -o "$synth/scene" --views 40 --quiet >"$out/synth.log" 2>&1 || status=1
for device in cuda cpu; do
  iters=7000
  [[ "$device" == cpu ]] && iters=300
  /usr/bin/time -v "$build/bin/facet" --device "$device" splat "$synth/scene" \
    -o "$synth/splats_$device/splats.ply" --iters "$iters" --eval >"$out/synth_splat_$device.log" 2>&1 ||
    status=1
  tail -n 5 "$out/synth_splat_$device.log"
  cp "$synth/splats_$device/splats_summary.json" "$out/synth_splat_$device.json" 2>/dev/null
done
"$build/bin/facet" synth -o "$synth/rgbd" --rgbd --views 120 --size 320x240 --supersampling 1 \
  --quiet >>"$out/synth.log" 2>&1 || status=1
for device in cpu cuda; do
  "$build/bin/facet" --device "$device" mesh "$synth/rgbd" -o "$synth/rgbd_$device.ply" \
    --summary "$out/synth_mesh_$device.json" >"$out/synth_mesh_$device.log" 2>&1 || status=1
done
grep -h -E '"(triangles|watertight|seconds)"' "$out"/synth_mesh_*.json
rm -rf "$synth"
# The CUDA trainer end to end on NeRF-synthetic lego at 800x800 when the shared data is there
# (target: held-out PSNR >= 35 dB in under 3 minutes on an H200, peak GPU memory reported).
lego="${FACET_LEGO:-../shared/data/nerf-synthetic-lego/transforms_train.json}"
if [[ -f "$lego" ]]; then
  rm -rf "$out/lego800"
  /usr/bin/time -v "$build/bin/facet" --device cuda splat "$lego" -o "$out/lego800/splats.ply" \
    --iters 30000 --eval >"$out/lego800.log" 2>&1 || status=1
  tail -n 40 "$out/lego800.log"
  cp "$out/lego800/splats_summary.json" "$out/lego800_summary.json" 2>/dev/null || status=1
  # Large: keep the summary and three side-by-side renders.
  mkdir -p "$out/lego800_renders"
  find "$out/lego800/renders" -name '*.png' 2>/dev/null | sort | head -n 3 |
    xargs -r cp -t "$out/lego800_renders"
  rm -rf "$out/lego800"
fi
# The CUDA NeRF trainer on lego at 800x800 (target: held-out PSNR >= 33 dB within 60 s of
# training on an H200); the summary's psnr_curve has the held-out PSNR against training seconds.
if [[ -f "$lego" ]]; then
  /usr/bin/time -v "$build/bin/facet" --device cuda nerf "$lego" -o "$out/lego_nerf.bin" \
    --steps "${FACET_NERF_STEPS:-4000}" --rays 8192 --eval-every 500 --max-size 800 \
    --summary "$out/lego_nerf.json" >"$out/lego_nerf.log" 2>&1 || status=1
  tail -n 30 "$out/lego_nerf.log"
  jq -c '{steps, training_seconds, held_out_psnr, psnr_curve}' "$out/lego_nerf.json" || status=1
  rm -f "$out/lego_nerf.bin"
fi
# facet mesh with the CUDA TSDF integration and marching cubes on the RGB-D living room, beside
# the CPU run (the summaries' triangle counts must agree; times in the logs).
room=../shared/data/rgbd-livingroom
if [[ -d "$room" ]]; then
  for device in cpu cuda; do
    /usr/bin/time -v "$build/bin/facet" --device "$device" mesh "$room" -o "$out/room_$device.ply" \
      --summary "$out/room_$device.json" >"$out/room_$device.log" 2>&1 || status=1
  done
  rm -f "$out"/room_*.ply
  jq -c '{triangles, watertight, seconds}' "$out"/room_cpu.json "$out"/room_cuda.json || status=1
fi
if [[ -n "${OUT:-}" ]]; then
  # The device tool returns at most 8 files: everything in one archive.
  tar -czf /tmp/gpu-check.tar.gz -C "$out" . && find "$out" -mindepth 1 -delete &&
    mv /tmp/gpu-check.tar.gz "$out/"
fi
echo "gpu-check.sh: results in $out (status $status)"
exit "$status"
