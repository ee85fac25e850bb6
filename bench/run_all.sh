#!/usr/bin/env bash
# Every side-by-side benchmark that can run on this machine, one after the other, summarised in one
# table: component | facet | peer | ratio (peer / facet: facet faster or better by x) | quality |
# command. Rows that cannot run say why (peer not installed, shared data absent, no GPU) and the
# script goes on; a failed benchmark says so and points at its log.
#
#   bench/run_all.sh [--quick] [--build DIR] [--out DIR] [--threads N]
#
#   --quick        smallest inputs and one repeat each: a few minutes on 2 cores (for checking the
#                  script; the figures of record come from the full run)
#   --build DIR    CMake build folder (default build/release; configured with `cmake --preset
#                  release` when it does not exist yet); the bench targets are built in it first
#   --out DIR      where the table (summary.md, summary.json), logs/ and work/ go (default bench-out)
#   --threads N    threads for every tool (default: all cores)
#
# Rows: SfM against COLMAP (bench/sfm_vs_colmap.sh on Strecha fountain-P11; full run also at full
# size), SfM peak memory (bench/sfm_memory.sh), `facet synth` speed (bench/synth_speed.sh), ICP,
# screened Poisson and TSDF integration against Open3D (build/.../bench/{icp,poisson,tsdf}_vs_open3d),
# RGB-D tracking against Open3D's trajectory (rgbd_tracking), 3DGS training speed against
# OpenSplat's published CPU figure (splat_speed) and quality (bench/splat_quality.sh), the whole
# pipeline (`facet synth`, then `facet reconstruct --preset fast|default`: per-stage seconds and
# held-out PSNR), the viewer's splat FPS (viewer_fps, 100k and 1M random splats at 1280x720) and,
# when nvidia-smi finds a GPU, scripts/gpu-check.sh's figures (CUDA trainer against the CPU one,
# lego 800x800, CUDA TSDF, viewer FPS at 1920x1080).
# Needs cmake, GNU time and jq (scripts/deps.sh); COLMAP from scripts/deps.sh --peers.
set -uo pipefail

die() { echo "run_all.sh: $*" >&2; exit 1; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || die "cannot find the repository"
quick=0 build="$root/build/release" out="bench-out" threads="$(nproc)"
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --build) build="${2:?--build needs a folder}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"
[[ "$build" == /* ]] || build="$PWD/$build"  # both relative to where the script was started
[[ "$out" == /* ]] || out="$PWD/$out"
cd "$root" || die "cannot enter $root"
command -v jq >/dev/null || die "jq not found: install it with scripts/deps.sh"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) not found: install it with scripts/deps.sh"
command -v cmake >/dev/null || die "cmake not found"

mkdir -p "$out/logs" "$out/work"
out="$(cd "$out" && pwd)"
rows="$out/rows.jsonl"
: >"$rows"
data="../shared/data"
facet="$build/bin/facet"
bin="$build/bench"
mode=$([[ $quick == 1 ]] && echo quick || echo full)
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS="$threads"  # fair to Open3D (BUILD-NOTES.md)

# row COMPONENT FACET PEER RATIO QUALITY COMMAND: one line of the table.
row() {
  jq -cn --arg component "$1" --arg facet "$2" --arg peer "$3" --arg ratio "$4" \
    --arg quality "$5" --arg command "$6" \
    '{component: $component, facet: $facet, peer: $peer, ratio: $ratio, quality: $quality,
      command: $command}' >>"$rows"
}
# skip COMPONENT WHY COMMAND: a row that did not run, and why.
skip() { row "$1" "$2" "-" "-" "-" "$3"; echo "-- $1: $2" >&2; }
# logged NAME CMD...: runs CMD with its output in logs/NAME.log; seconds in $wall.
wall=0
logged() {
  local name="$1" start status
  shift
  echo "== $name: $*" >&2
  start=$(date +%s%N)
  "$@" >"$out/logs/$name.log" 2>&1
  status=$?
  wall=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
  ((status == 0)) || echo "   failed (status $status): $out/logs/$name.log" >&2
  return $status
}
failed() { skip "$1" "failed: see logs/$2.log" "$3"; }
# jqr FILE FILTER: one value from a JSON file; numbers rounded through the jq functions below.
jqr() {
  jq -r 'def f(n): if . == null then "-" else (. * pow(10; n) | round) / pow(10; n) | tostring end;
         def x: if . == null then "-" else "\((. * 100 | round) / 100)x" end;'"$2" "$1"
}

# 1. Build what the rows need.
targets=(facet icp_vs_open3d poisson_vs_open3d tsdf_vs_open3d rgbd_tracking splat_speed viewer_fps)
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  [[ "$build" == "$root/build/release" ]] || die "$build is not a configured build folder"
  logged configure cmake --preset release || die "configure failed: $out/logs/configure.log"
fi
logged build cmake --build "$build" --target "${targets[@]}" -j "$threads" ||
  die "build failed: $out/logs/build.log"
echo "== built in $wall s" >&2

# 2. SfM against COLMAP on Strecha fountain-P11 (quarter size; the full run adds full size).
fountain="$data/strecha-fountain-P11"
sfm_sets=(images_q4)
((quick)) || sfm_sets+=(images)
for set in "${sfm_sets[@]}"; do
  name="SfM vs COLMAP (fountain-P11 $set)"
  cmd=(bench/sfm_vs_colmap.sh "$fountain/$set" --ground-truth "$fountain/gt_dense_cameras"
    --facet "$facet" --work "$out/work/sfm_$set")
  [[ -f "$fountain/$set/K.txt" ]] && cmd+=(--intrinsics "$fountain/$set/K.txt")
  if [[ ! -d "$fountain/$set" ]]; then
    skip "$name" "skipped: no $fountain/$set" "${cmd[*]}"
  elif ! command -v colmap >/dev/null; then
    skip "$name" "skipped: colmap not installed (scripts/deps.sh --peers)" "${cmd[*]}"
  elif logged "sfm_$set" "${cmd[@]}"; then
    s="$out/work/sfm_$set/summary.json"
    row "$name" "$(jqr "$s" '.facet.wall_s | f(1)') s" "$(jqr "$s" '.colmap.wall_s | f(1)') s" \
      "$(jqr "$s" '.colmap.wall_s / .facet.wall_s | x')" \
      "$(jqr "$s" '"registered \(.facet.eval.registered)/\(.colmap.eval.registered) of \(.facet.eval.total_gt // "?"), centre err mean \(.facet.eval.center_error_mean * 1000 | f(1))/\(.colmap.eval.center_error_mean * 1000 | f(1)) mm, rot \(.facet.eval.rotation_error_mean_deg | f(2))/\(.colmap.eval.rotation_error_mean_deg | f(2)) deg (facet/COLMAP)"')" \
      "${cmd[*]}"
  else
    failed "$name" "sfm_$set" "${cmd[*]}"
  fi
done

# 3. SfM peak memory on synthetic photos (issue 4: under 4 GiB for 100 photos of ~1 MP).
mem_args=()
((quick)) && mem_args=(--views 12 --size 640x480)
cmd=(bench/sfm_memory.sh --facet "$facet" --work "$out/work/sfm_memory" "${mem_args[@]}")
name="SfM peak memory ($( ((quick)) && echo "12 x 640x480" || echo "100 x 1152x864"))"
if logged sfm_memory "${cmd[@]}"; then
  s="$out/work/sfm_memory/summary.json"
  row "$name" "$(jqr "$s" '.peak_gib | f(2)') GiB, $(jqr "$s" '.wall_s | f(1)') s" "-" "-" \
    "$(jqr "$s" '"limit 4 GiB; registered \(.eval.registered)/\(.views), reproj \(.eval.mean_reprojection_error_px | f(3)) px"')" \
    "${cmd[*]}"
else
  failed "$name" sfm_memory "${cmd[*]}"
fi

# 4. The synthetic scene's rendering speed (budget 20 s on 2 cores).
cmd=(bench/synth_speed.sh "$facet" "$( ((quick)) && echo 1 || echo 3)")
if logged synth_speed "${cmd[@]}"; then
  best=$(sed -n 's/.*= \([0-9.]*\) s (budget.*/\1/p' "$out/logs/synth_speed.log")
  row "facet synth (40 x 640x480, 2 threads)" "$(awk -v s="$best" 'BEGIN { printf "%.1f", s }') s" "-" "-" "budget 20 s" "${cmd[*]}"
else
  failed "facet synth (40 x 640x480)" synth_speed "${cmd[*]}"
fi

# 5. ICP against Open3D (fragments point-to-plane and colored, bunny point-to-plane).
cmd=("$bin/icp_vs_open3d" --threads "$threads" --json "$out/work/icp.json")
((quick)) && cmd+=(--repeat 1 --bunny-points 50000) || cmd+=(--repeat 5)
if logged icp "${cmd[@]}"; then
  s="$out/work/icp.json"
  n=$(jq '.registrations | length' "$s")
  for ((i = 0; i < n; ++i)); do
    r=".registrations[$i]"
    row "ICP vs Open3D ($(jqr "$s" "$r.name"), $(jqr "$s" "$r.source_points") pts)" \
      "$(jqr "$s" "$r.facet.seconds * 1000 | f(1)") ms" \
      "$(jqr "$s" "$r.open3d.seconds * 1000 | f(1)") ms" \
      "$(jqr "$s" "$r.open3d.seconds / $r.facet.seconds | x")" \
      "$(jqr "$s" "\"inlier RMSE \($r.facet.inlier_rmse | f(7))/\($r.open3d.inlier_rmse | f(7)), rotation diff \($r.rotation_difference_rad | if . < 1e-9 then \"< 1e-9\" else . * 1e9 | round / 1e9 end) rad\"")" \
      "${cmd[*]}"
  done
  for missing in $(jq -r '.skipped[]' "$s"); do
    skip "ICP vs Open3D ($missing)" "skipped: no $data/$missing" "${cmd[*]}"
  done
else
  failed "ICP vs Open3D" icp "${cmd[*]}"
fi

# 6. Screened Poisson against Open3D (PoissonRecon) on the Stanford bunny.
bunny="$data/stanford-bunny/bun_zipper.ply"
cmd=("$bin/poisson_vs_open3d" --threads "$threads" --json "$out/work/poisson.json")
((quick)) && cmd+=(--depth 7 --repeat 1 --samples 50000) || cmd+=(--depth 8 --repeat 3)
name="Poisson vs Open3D (bunny, depth $( ((quick)) && echo 7 || echo 8))"
if [[ ! -f "$bunny" ]]; then
  skip "$name" "skipped: no $bunny" "${cmd[*]}"
elif logged poisson "${cmd[@]}"; then
  s="$out/work/poisson.json"
  row "$name" "$(jqr "$s" '.facet.seconds | f(3)') s" "$(jqr "$s" '.open3d.seconds | f(3)') s" \
    "$(jqr "$s" '.open3d.seconds / .facet.seconds | x')" \
    "$(jqr "$s" '"Chamfer \(.facet.chamfer_percent_of_diagonal | f(3))/\(.open3d.chamfer_percent_of_diagonal | f(3))% of diagonal (floor \(.floor.chamfer_percent_of_diagonal | f(3))), watertight \(.facet.watertight)/\(.open3d.watertight)"')" \
    "${cmd[*]}"
else
  failed "$name" poisson "${cmd[*]}"
fi

# 7. TSDF integration against Open3D's ScalableTSDFVolume, and frame-to-model RGB-D tracking
#    against Open3D's trajectory, on the living room.
room="$data/rgbd-livingroom"
frames=$( ((quick)) && echo 30 || echo 0)
cmd=("$bin/tsdf_vs_open3d" "$room" --threads "$threads" --frames "$frames" --json "$out/work/tsdf.json")
name="TSDF integration vs Open3D (living room, $( ((quick)) && echo "30 frames" || echo "all frames"))"
if [[ ! -d "$room/depth" ]]; then
  skip "$name" "skipped: no $room" "${cmd[*]}"
elif logged tsdf "${cmd[@]}"; then
  s="$out/work/tsdf.json"
  row "$name" "$(jqr "$s" '.facet.frames_per_s | f(1)') frames/s" \
    "$(jqr "$s" '.open3d.frames_per_s | f(1)') frames/s" \
    "$(jqr "$s" '.open3d.integrate_s / .facet.integrate_s | x')" \
    "$(jqr "$s" '"mesh \(.facet.mesh_s | f(2))/\(.open3d.mesh_s | f(2)) s, \(.facet.triangles)/\(.open3d.triangles) triangles (facet closed)"')" \
    "${cmd[*]}"
else
  failed "$name" tsdf "${cmd[*]}"
fi
cmd=("$bin/rgbd_tracking" "$room" --threads "$threads" --frames "$frames" --json "$out/work/tracking.json")
name="RGB-D tracking (living room, $( ((quick)) && echo "30 frames" || echo "all frames"))"
if [[ ! -d "$room/depth" ]]; then
  skip "$name" "skipped: no $room" "${cmd[*]}"
elif logged tracking "${cmd[@]}"; then
  s="$out/work/tracking.json"
  row "$name" "$(jqr "$s" '.tracking_frames_per_s | f(1)') frames/s" "-" "-" \
    "$(jqr "$s" '"ATE \(.ate_rmse_m * 1000 | f(1)) mm vs Open3D trajectory; \(.frames_per_s_with_integration | f(1)) frames/s with integration"')" \
    "${cmd[*]}"
else
  failed "$name" tracking "${cmd[*]}"
fi

# 8. The whole pipeline on the synthetic scene (facet only): facet synth, then facet reconstruct.
preset=$( ((quick)) && echo fast || echo default)
synth="$out/work/synth"
cmd=("$facet" reconstruct "$synth/images" -o "$out/work/reconstruct" --preset "$preset" --force)
name="facet reconstruct (synthetic scene, --preset $preset)"
if logged synth "$facet" --quiet synth -o "$synth" && logged reconstruct "${cmd[@]}"; then
  stages="$out/work/reconstruct/stages.json"
  row "$name" "$wall s" "-" "-" \
    "$(jqr "$out/work/reconstruct/splats_summary.json" '"held-out PSNR \(.eval.mean_psnr | f(2)) dB, SSIM \(.eval.mean_ssim | f(3))"'); $(
      jq -r '[(.stages // .)[] | "\(.name) \((.seconds * 10 | round) / 10)"] | join(", ") | . + " s"' "$stages")" \
    "facet synth -o X && ${cmd[*]}"
else
  failed "$name" reconstruct "facet synth -o X && ${cmd[*]}"
fi

# 9. 3DGS training: speed at a fixed count against OpenSplat's published CPU figure (0.56 it/s at
#    640x481 with 2,937 Gaussians, 2 cores), on the synthetic scene; quality on lego 200x200.
cmd=("$bin/splat_speed" "$synth/transforms.json" --max-size 640 --gaussians 2937 --threads "$threads"
  --json "$out/work/splat_speed.json")
((quick)) && cmd+=(--iters 10 --warmup 2)
name="3DGS training speed (640x480, 2,937 Gaussians)"
if [[ ! -f "$synth/transforms.json" ]]; then
  skip "$name" "skipped: no synthetic scene (see logs/synth.log)" "${cmd[*]}"
elif logged splat_speed "${cmd[@]}"; then
  s="$out/work/splat_speed.json"
  row "$name" "$(jqr "$s" '.it_per_s | f(2)') it/s" "0.56 it/s (OpenSplat CPU, published)" \
    "$(jqr "$s" '.it_per_s / 0.56 | x')" "$(jqr "$s" '"\(.threads) threads, \(.width)x\(.height)"')" \
    "${cmd[*]}"
else
  failed "$name" splat_speed "${cmd[*]}"
fi
cmd=(bench/splat_quality.sh lego --facet "$facet" --threads "$threads" --work "$out/work/splat_quality")
((quick)) && cmd+=(--iters 300)
name="3DGS quality (lego 200x200, $( ((quick)) && echo 300 || echo 6,000) iterations)"
if [[ ! -f "$data/nerf-synthetic-lego/transforms_train_200.json" ]]; then
  skip "$name" "skipped: no $data/nerf-synthetic-lego" "${cmd[*]}"
elif logged splat_quality "${cmd[@]}"; then
  s="$out/work/splat_quality/lego/bench.json"
  row "$name" "$(jqr "$s" '.wall_s | f(1)') s" "-" "-" \
    "$(jqr "$s" '"held-out PSNR \(.mean_psnr | f(2)) dB, SSIM \(.mean_ssim | f(3)), \(.gaussians) Gaussians"')" \
    "${cmd[*]}"
else
  failed "$name" splat_quality "${cmd[*]}"
fi

# 10. The viewer (issue 9): splat frames per second (preprocess + GPU sort + tile lists + compute
#     blend, no readback) on random Gaussians at 1280x720, on the Vulkan device it picks (lavapipe
#     without a GPU, hence --allow-cpu; the H200 figure at 1920x1080 comes from
#     scripts/gpu-check.sh).
cmd=("$bin/viewer_fps" --allow-cpu --splats 100000,1000000 --size 1280x720
  --json "$out/work/viewer_fps.json")
((quick)) && cmd+=(--frames 3 --warmup 1) || cmd+=(--frames 20 --warmup 2)
if logged viewer_fps "${cmd[@]}"; then
  s="$out/work/viewer_fps.json"
  n=$(jq '.runs | length' "$s")
  for ((i = 0; i < n; ++i)); do
    r=".runs[$i]"
    row "Viewer FPS ($(jqr "$s" "$r.splats") splats, $(jqr "$s" '"\(.width)x\(.height)"'))" \
      "$(jqr "$s" "$r.frames_per_s | f(1)") frames/s" "-" "-" \
      "$(jqr "$s" "\"\($r.ms_per_frame | f(2)) ms/frame, \($r.visible) visible, \(.raster) raster, \(.device)\"")" \
      "${cmd[*]}"
  done
else
  failed "Viewer FPS" viewer_fps "${cmd[*]}"
fi

# 11. GPU: scripts/gpu-check.sh (its own CUDA build in build/gpu, logs in build/gpu-check).
gpu_out="build/gpu-check"
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  cmd=(scripts/gpu-check.sh --no-deps)
  OUT="" logged gpu_check "${cmd[@]}"
  gpu_status=$?
  g="$gpu_out"
  if [[ -f "$g/synth_splat_cuda.json" && -f "$g/synth_splat_cpu.json" ]]; then
    cuda_its=$(jq '.iterations / .seconds' "$g/synth_splat_cuda.json")
    cpu_its=$(jq '.iterations / .seconds' "$g/synth_splat_cpu.json")
    row "GPU 3DGS training (synthetic 640x480)" "$(jqr "$g/synth_splat_cuda.json" '.iterations / .seconds | f(1)') it/s" \
      "$(jqr "$g/synth_splat_cpu.json" '.iterations / .seconds | f(1)') it/s (facet CPU, $(nproc) cores)" \
      "$(jq -rn "$cpu_its as \$c | $cuda_its / \$c * 100 | round / 100 | tostring + \"x\"")" \
      "$(jqr "$g/synth_splat_cuda.json" '"held-out PSNR \(.eval.mean_psnr | f(2)) dB"')" "${cmd[*]}"
  fi
  if [[ -f "$g/lego800_summary.json" ]]; then
    row "GPU 3DGS lego 800x800" "$(jqr "$g/lego800_summary.json" '.seconds | f(1)') s" "-" "-" \
      "$(jqr "$g/lego800_summary.json" '"held-out PSNR \(.eval.mean_psnr | f(2)) dB, SSIM \(.eval.mean_ssim | f(3)), \(.iterations) iterations"')" \
      "${cmd[*]}"
  fi
  if [[ -f "$g/lego_nerf.json" ]]; then
    row "GPU NeRF lego 800x800" "$(jqr "$g/lego_nerf.json" '.training_seconds | f(1)') s" "-" "-" \
      "$(jqr "$g/lego_nerf.json" '"held-out PSNR \(.held_out_psnr | f(2)) dB, \(.steps) steps"')" "${cmd[*]}"
  fi
  if [[ -f "$g/viewer_fps.json" ]]; then
    v="$g/viewer_fps.json"
    row "GPU viewer FPS ($(jqr "$v" '.runs[0].splats') splats, $(jqr "$v" '"\(.width)x\(.height)"'))" \
      "$(jqr "$v" '.runs[0].frames_per_s | f(1)') frames/s" "-" "-" \
      "$(jqr "$v" '"\(.runs[0].ms_per_frame | f(2)) ms/frame, target >= 300 frames/s, \(.device)"')" \
      "${cmd[*]}"
  fi
  for scene in room synth_mesh; do
    [[ -f "$g/${scene}_cuda.json" && -f "$g/${scene}_cpu.json" ]] || continue
    row "GPU TSDF mesh ($scene)" "$(jqr "$g/${scene}_cuda.json" '.seconds | f(2)') s" \
      "$(jqr "$g/${scene}_cpu.json" '.seconds | f(2)') s (facet CPU)" \
      "$(jq -rn --slurpfile a "$g/${scene}_cuda.json" --slurpfile b "$g/${scene}_cpu.json" \
        '$b[0].seconds / $a[0].seconds * 100 | round / 100 | tostring + "x"')" \
      "$(jq -rn --slurpfile a "$g/${scene}_cuda.json" --slurpfile b "$g/${scene}_cpu.json" \
        '"triangles \($a[0].triangles)/\($b[0].triangles) (CUDA/CPU), watertight \($a[0].watertight)"')" \
      "${cmd[*]}"
  done
  ((gpu_status == 0)) || skip "GPU check" "failed (status $gpu_status): see logs/gpu_check.log and $g" "${cmd[*]}"
else
  skip "GPU benchmarks" "skipped: no GPU (nvidia-smi finds none)" "scripts/gpu-check.sh"
fi

# 12. The table: Markdown and JSON into --out, and on the terminal.
jq -s --arg mode "$mode" --argjson threads "$threads" --arg host "$(uname -n)" \
  --arg date "$(date -u +%FT%TZ)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null)" \
  '{mode: $mode, threads: $threads, host: $host, date: $date, commit: $commit, rows: .}' \
  "$rows" >"$out/summary.json"
jq -r '"# facet benchmarks (\(.mode), \(.threads) threads, \(.host), \(.date), \(.commit))\n",
  "| component | facet | peer | ratio (peer/facet) | quality | command |",
  "|---|---|---|---|---|---|",
  (.rows[] | "| \(.component) | \(.facet) | \(.peer) | \(.ratio) | \(.quality) | `\(.command)` |")' \
  "$out/summary.json" >"$out/summary.md"
echo
jq -r '["component", "facet", "peer", "ratio", "quality"], (.rows[] | [.component, .facet, .peer,
  .ratio, .quality]) | @tsv' "$out/summary.json" | column -t -s $'\t'
echo
echo "run_all.sh: $out/summary.md and summary.json (commands in them; logs in $out/logs)"
