#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU: runs the CUDA tests, the NeRF and splat
# trainers on lego, the viewer's tests and FPS on the GPU's Vulkan driver, and the benchmarks, in
# phases, most important first, each under its own time limit, so that one 600-s command of the
# device tool brings back the key figures even when a later phase runs out of time.
#
# On the device tool (one command, at most 600 s; the bundle and lego made by
# scripts/gpu-bundle.sh here, carry [".gpu"]):
#   scripts/gpu-check.sh --prebuilt .gpu/bundle.tar.xz --phases nerf,viewer,tests
# (about 5 minutes; limits 240 + 180 + 150 s), then, with time left, another command with
#   --phases lego-splat,bench   (limits 420 + 150 s; splat and mesh after them when time allows)
#
#   scripts/gpu-check.sh [--no-deps] [--prebuilt BUNDLE] [--phases LIST]
#     --prebuilt BUNDLE  no build: the programs and libraries packed by scripts/gpu-bundle.sh
#     --no-deps          (building) the machine cannot reach a package mirror
#     --phases LIST      comma-separated, run in the order given; default all, in this order:
#       nerf        nerf_trainer_cuda_test, nerf_cuda_test, then facet nerf on lego 800x800 for
#                   60 s of training (held-out PSNR; target >= 33 dB)              limit 240 s
#       viewer      viewer_fps on 1M splats at 1920x1080 (target >= 300 FPS; compute tile
#                   rasterizer, then the quads), then viewer_test (FACET_REQUIRE_VULKAN=1: no
#                   device fails)                                                  limit 180 s
#       tests       the other *_cuda_test binaries (each at most 120 s)            limit 150 s
#       bench       the benchmarks in the build's bench/ (*_bench, each at most 40 s) limit 150 s
#       splat       the synthetic scene trained on the GPU and, briefly, the CPU   limit 150 s
#       mesh        a synthetic RGB-D sequence (and, where ../shared is, the RGB-D living room)
#                   meshed on the CPU and the GPU                                  limit 180 s
#       lego-splat  facet splat on lego 800x800, 30,000 iterations (target >= 35 dB; with
#                   screen-size pruning off, more Gaussians than the 52k of stop 15) limit 420 s
#     FACET_PHASE_LIMIT_<NAME>=S overrides a limit (NAME upper case, '-' as '_').
# Environment: FACET_LEGO (default .gpu/lego/transforms_train.json when it exists, else
# ../shared/data/nerf-synthetic-lego/transforms_train.json), FACET_NERF_STEPS (the NeRF run's
# step cap; default 100000: the 60 s stop it first, and --max-seconds plans the learning-rate
# schedule for the steps expected in them), OUT (the device tool's folder).
#
# Output: one line per phase as it ends ("gpu-check: phase NAME ok|FAILED|TIMEOUT in S s: key
# figures"), also appended to $OUT/summary.txt; each phase's logs and JSON go into
# $OUT/gpu-check.tar.gz, rewritten after every phase (the tool returns at most 8 files), so a
# command stopped at its limit still returns what finished; the phase running then leaves its log
# in $OUT/running.log. Without OUT everything is written to build/gpu-check/.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
script="$PWD/scripts/gpu-check.sh"
all_phases=(nerf viewer tests bench splat mesh lego-splat)
declare -A limit=([nerf]=240 [viewer]=180 [tests]=150 [bench]=150 [splat]=150 [mesh]=180
  [lego-splat]=420)

# --- One phase, run by the driver below in a child process under `timeout` ---

# Prints a JSON file's fields (python3: the device image has no jq).
json_fields() {
  python3 - "$@" <<'EOF'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"(no {sys.argv[1]}: {e})")
    sys.exit(1)
print(", ".join(f"{k} {json.dumps(data.get(k))}" for k in sys.argv[2:] if k in data))
EOF
}

# A GoogleTest binary: log, JSON, one line; fails the phase on a failure.
run_gtest() {
  local test="$1" seconds="$2" name
  name="$(basename "$test")"
  timeout --foreground -k 5 "$seconds" "$test" --gtest_output="json:$results/$name.json" >"$results/$name.log" 2>&1
  local rc=$?
  # The totals ("[  PASSED  ] 5 tests." ...) and the first failed tests' names.
  local totals failed
  totals="$(grep -E '^\[  (PASSED  |FAILED  |SKIPPED )\] [0-9]+ tests?' "$results/$name.log" |
    sed -E 's/^\[ +([A-Z]+) +\] ([0-9]+) tests?.*/\2 \1/' | tr 'A-Z\n' 'a-z ')"
  failed="$(grep -E '^\[  FAILED  \] [A-Za-z_0-9/]+\.[A-Za-z_0-9/]+' "$results/$name.log" |
    awk '{print $4}' | sort -u | head -n 5 | tr '\n' ' ')"
  echo "$name: exit $rc; ${totals:-no totals (crashed?)}${failed:+; failed: $failed}"
  return "$rc"
}

phase_nerf() {
  local status=0
  for name in nerf_trainer_cuda_test nerf_cuda_test; do
    local test
    test="$(find "$build/tests" -name "$name" -type f | head -n 1)"
    if [[ -z "$test" ]]; then echo "$name: not built"; status=1; continue; fi
    run_gtest "$test" 90 || status=1
  done
  if [[ ! -f "$lego" ]]; then
    echo "nerf: no lego scene at $lego (FACET_LEGO): skipped"
    return 1
  fi
  # The fused MLP kernels unless their tests failed above (then the figure comes from cuBLAS).
  local mlp=auto
  if cat "$results"/nerf_*cuda_test.log 2>/dev/null | grep -qE '^\[  FAILED  \] .*(Fused|MlpCuda)'; then
    mlp=cublas
  fi
  echo "lego nerf: --cuda-mlp $mlp"
  # 60 s of training steps (--max-seconds; evaluations not counted), a held-out evaluation every
  # 4000 steps for the curve (13 views at 800x800 each: wall time, not training time), no
  # checkpoints (150 MB each); the snapshot goes to /tmp.
  "$build/bin/facet" --device cuda nerf "$lego" -o /tmp/facet-gpu-lego/nerf.bin --cuda-mlp "$mlp" \
    --steps "${FACET_NERF_STEPS:-100000}" --max-seconds 60 --rays 8192 --max-size 800 \
    --eval-every 4000 --checkpoint-every 0 --summary "$results/lego_nerf.json" \
    >"$results/lego_nerf.log" 2>&1 || status=1
  rm -rf /tmp/facet-gpu-lego
  tail -n 5 "$results/lego_nerf.log"
  echo "lego nerf: $(json_fields "$results/lego_nerf.json" held_out_psnr steps training_seconds \
    seconds planned_steps cuda_mlp gpu_buffer_bytes psnr_curve)" || status=1
  return "$status"
}

phase_viewer() {
  local status=0 test
  # The figure first: the compute tile rasterizer, then the quads it replaced (fewer frames: they
  # are slow on a GPU with few raster units). viewer_fps prints the device and refuses lavapipe.
  if [[ -x "$build/bench/viewer_fps" ]]; then
    timeout --foreground -k 5 90 "$build/bench/viewer_fps" --splats 1000000 --full-hd \
      --frames 200 --warmup 20 --json "$results/viewer_fps.json" >"$results/viewer_fps.txt" 2>&1 ||
      status=1
    tail -n 8 "$results/viewer_fps.txt"
    timeout --foreground -k 5 45 "$build/bench/viewer_fps" --splats 1000000 --full-hd \
      --frames 20 --warmup 2 --raster quads --json "$results/viewer_fps_quads.json" \
      >"$results/viewer_fps_quads.txt" 2>&1 || status=1
    tail -n 8 "$results/viewer_fps_quads.txt"
  else
    echo "viewer_fps: not built"
    status=1
  fi
  test="$(find "$build/tests" -name viewer_test -type f | head -n 1)"
  if [[ -n "$test" ]]; then
    export FACET_REQUIRE_VULKAN=1
    run_gtest "$test" 40 || status=1
  else
    echo "viewer_test: not built"
    status=1
  fi
  return "$status"
}

phase_tests() {
  local status=0
  for test in $(find "$build/tests" -name '*_cuda_test' -type f | sort); do
    case "$(basename "$test")" in nerf_trainer_cuda_test | nerf_cuda_test) continue ;; esac
    run_gtest "$test" 120 || status=1
  done
  return "$status"
}

phase_bench() {
  local status=0
  for bench in "$build"/bench/*_bench; do
    [[ -x "$bench" ]] || continue
    local name
    name="$(basename "$bench")"
    timeout --foreground -k 5 40 "$bench" --benchmark_min_time=0.2 --benchmark_out="$results/$name.json" \
      --benchmark_out_format=json >"$results/$name.txt" 2>&1 || status=1
    echo "$name: $(grep -c -E '^BM_|^[A-Za-z].*/' "$results/$name.txt") results"
  done
  return "$status"
}

phase_splat() {
  # The built-in synthetic scene trained on the GPU, beside a short CPU run for the speed ratio.
  local status=0 synth=/tmp/facet-synth-splat
  rm -rf "$synth"
  "$build/bin/facet" synth -o "$synth/scene" --views 40 --quiet >"$results/synth.log" 2>&1 || return 1
  for device in cuda cpu; do
    local iters=7000
    [[ "$device" == cpu ]] && iters=300
    "$build/bin/facet" --device "$device" splat "$synth/scene" -o "$synth/splats_$device/splats.ply" \
      --iters "$iters" --eval >"$results/synth_splat_$device.log" 2>&1 || status=1
    cp "$synth/splats_$device/splats_summary.json" "$results/synth_splat_$device.json" 2>/dev/null
    echo "synthetic splat $device: $(tail -n 1 "$results/synth_splat_$device.log")"
  done
  rm -rf "$synth"
  return "$status"
}

phase_mesh() {
  # A synthetic RGB-D sequence meshed with the CUDA TSDF and marching cubes beside the CPU (the
  # triangle counts must agree).
  local status=0 synth=/tmp/facet-synth-mesh
  rm -rf "$synth"
  "$build/bin/facet" synth -o "$synth/rgbd" --rgbd --views 120 --size 320x240 --supersampling 1 \
    --quiet >"$results/synth_rgbd.log" 2>&1 || return 1
  for device in cpu cuda; do
    "$build/bin/facet" --device "$device" mesh "$synth/rgbd" -o "$synth/rgbd_$device.ply" \
      --summary "$results/synth_mesh_$device.json" >"$results/synth_mesh_$device.log" 2>&1 ||
      status=1
    echo "synthetic mesh $device: $(json_fields "$results/synth_mesh_$device.json" triangles \
      watertight seconds)" || status=1
  done
  rm -rf "$synth"
  # The RGB-D living room where the shared data is (not on the device machine).
  local room=../shared/data/rgbd-livingroom
  if [[ -d "$room" ]]; then
    for device in cpu cuda; do
      "$build/bin/facet" --device "$device" mesh "$room" -o "/tmp/facet-room_$device.ply" \
        --summary "$results/room_$device.json" >"$results/room_$device.log" 2>&1 || status=1
      rm -f "/tmp/facet-room_$device.ply"
      echo "room mesh $device: $(json_fields "$results/room_$device.json" triangles \
        watertight seconds)"
    done
  fi
  return "$status"
}

phase_lego-splat() {
  if [[ ! -f "$lego" ]]; then
    echo "lego-splat: no lego scene at $lego (FACET_LEGO): skipped"
    return 1
  fi
  local status=0 work=/tmp/facet-gpu-lego-splat
  rm -rf "$work"
  "$build/bin/facet" --device cuda splat "$lego" -o "$work/splats.ply" --iters 30000 --eval \
    >"$results/lego_splat.log" 2>&1 || status=1
  tail -n 5 "$results/lego_splat.log"
  # lego800_*: the names bench/run_all.sh reads.
  cp "$work/splats_summary.json" "$results/lego800_summary.json" 2>/dev/null || status=1
  echo "lego splat: $(json_fields "$results/lego800_summary.json" iterations seconds eval \
    peak_gpu_memory_bytes)"
  # Three side-by-side renders; the rest is large.
  mkdir -p "$results/lego800_renders"
  find "$work/renders" -name '*.png' 2>/dev/null | sort | head -n 3 |
    xargs -r cp -t "$results/lego800_renders"
  rm -rf "$work"
  return "$status"
}

if [[ "${1:-}" == "--run-phase" ]]; then
  # The child: the driver exported build, results and lego.
  build="$FACET_GPU_BUILD" results="$FACET_GPU_RESULTS" lego="$FACET_GPU_LEGO"
  "phase_$2"
  exit $?
fi

# --- The driver ---

prebuilt="" deps=1 phases="$(IFS=,; echo "${all_phases[*]}")"
while (($#)); do
  case "$1" in
    --prebuilt) prebuilt="${2:?--prebuilt needs the bundle made by scripts/gpu-bundle.sh}"; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --phases) phases="${2:?--phases needs a list such as nerf,viewer,tests}"; shift 2 ;;
    *) echo "gpu-check.sh: unknown argument '$1' (see the header of $script)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a selected <<<"$phases"
for phase in "${selected[@]}"; do
  [[ -n "${limit[$phase]:-}" ]] || {
    echo "gpu-check.sh: unknown phase '$phase' (phases: ${all_phases[*]})" >&2
    exit 2
  }
done

if [[ -n "${OUT:-}" ]]; then
  results=/tmp/facet-gpu-check
  rm -rf "$results"
else
  results="$PWD/build/gpu-check"
fi
mkdir -p "$results"
started=$SECONDS
# Everything finished so far into $OUT (atomically: a stop mid-way keeps the last archive).
pack() {
  [[ -n "${OUT:-}" ]] || return 0
  tar -czf "$OUT/gpu-check.tar.gz.part" -C "$results" . && mv "$OUT/gpu-check.tar.gz.part" "$OUT/gpu-check.tar.gz"
}
say() {
  echo "gpu-check: $*"
  [[ -z "${OUT:-}" ]] || echo "$*" >>"$OUT/summary.txt"
}

if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$results/gpu.txt" 2>&1
else
  echo "no nvidia-smi" >"$results/gpu.txt"
fi
say "GPU: $(head -n 1 "$results/gpu.txt")"
# The NVIDIA Vulkan and EGL drivers of the device image (no loader looks there by default).
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[[ -f $icd ]] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[[ -f $egl ]] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl

if [[ -n "$prebuilt" ]]; then
  root=/tmp/facet-gpu
  rm -rf "$root" && mkdir -p "$root"
  python3 -c "import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extraction_filter = getattr(tarfile, 'fully_trusted_filter', None); t.extractall(sys.argv[2])" \
    "$prebuilt" "$root" || { say "cannot unpack $prebuilt"; exit 1; }
  export LD_LIBRARY_PATH="$root/.gpu/stubs:$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu:$root/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  build="$(dirname "$(dirname "$(find "$root" -path '*/bin/facet' | head -n 1)")")"
else
  ((deps)) && { bash scripts/deps.sh || echo "gpu-check.sh: deps.sh failed; trying with what is installed"; }
  build=build/gpu
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="${CUDACXX:-/usr/local/cuda/bin/nvcc}" \
    >"$results/configure.log" 2>&1 || { say "configure failed"; pack; exit 1; }
  cmake --build "$build" -j "$(nproc)" >"$results/build.log" 2>&1 || { say "build failed"; pack; exit 1; }
  build="$(cd "$build" && pwd)"
fi
"$build/bin/facet" --version >"$results/version.txt" 2>&1
say "facet: $(head -n 1 "$results/version.txt"); Vulkan ICD: ${VK_DRIVER_FILES:-default search}; setup $((SECONDS - started)) s"

lego="${FACET_LEGO:-}"
if [[ -z "$lego" ]]; then
  lego=../shared/data/nerf-synthetic-lego/transforms_train.json
  [[ -f .gpu/lego/transforms_train.json ]] && lego=.gpu/lego/transforms_train.json
fi
[[ "$lego" == /* ]] || lego="$PWD/$lego"
export FACET_GPU_BUILD="$build" FACET_GPU_RESULTS="$results" FACET_GPU_LEGO="$lego"
pack

status=0
for phase in "${selected[@]}"; do
  var="FACET_PHASE_LIMIT_${phase^^}"
  seconds="${!var:-${limit[$phase]}}"
  begin=$SECONDS
  log="$results/phase_$phase.log"
  [[ -n "${OUT:-}" ]] && log="$OUT/running.log"
  timeout -k 10 "$seconds" bash "$script" --run-phase "$phase" >"$log" 2>&1
  rc=$?
  [[ -n "${OUT:-}" ]] && mv "$log" "$results/phase_$phase.log"
  case $rc in
    0) verdict=ok ;;
    124 | 137) verdict="TIMEOUT (limit $seconds s)"; status=1 ;;
    *) verdict=FAILED; status=1 ;;
  esac
  # The phase's key lines: test verdicts and figures, not its whole log.
  figures="$(grep -E '^(lego|synthetic|[a-z_]+_test:|[a-z_]+_bench:|viewer_fps|nerf:|lego-splat:)|fps|FPS|PSNR|[Ee]rror' \
    "$results/phase_$phase.log" | tail -n 12 | tr '\n' ';' | sed 's/;/; /g')"
  say "phase $phase $verdict in $((SECONDS - begin)) s: $figures"
  pack
done
where="$results"
[[ -n "${OUT:-}" ]] && where="\$OUT/gpu-check.tar.gz"
say "done in $((SECONDS - started)) s (status $status); logs in $where"
exit "$status"
