#!/usr/bin/env bash
# Quality benchmarks of `facet splat` (issue 5's figures), each timed end to end with GNU time:
#   lego       NeRF-synthetic lego at 200x200 (../shared/data/nerf-synthetic-lego,
#              transforms_train_200.json), random initialisation, white background, every 8th
#              view held out; default (Inria) densification, 6,000 iterations. Target: held-out
#              PSNR >= 30 dB within 10 minutes on 2 CPU cores.
#   synthetic  the built-in synthetic scene (`facet synth`, 40 views at 640x480) posed by
#              `facet sfm`, initialised from its sparse cloud; default (Inria) densification,
#              3,000 iterations. Target: held-out PSNR >= 28 dB.
#
#   bench/splat_quality.sh [lego|synthetic|all] [--facet PATH] [--work DIR] [--threads N]
#                          [--iters N]
# --iters replaces both iteration counts (a shorter run for a quick check; the targets above are
# for the defaults). Prints each run's held-out PSNR/SSIM, wall time and peak memory, and writes
# them to WORK/<name>/bench.json (wall_s, peak_mib, iterations); the summaries (per-view
# figures, loss curve, stage times) are WORK/<name>/splats_summary.json and the side-by-side
# pictures WORK/<name>/renders/. Needs build/release/bin/facet, GNU time and jq (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "splat_quality.sh: $*" >&2; exit 1; }
which="all" facet="build/release/bin/facet" work="" threads=0 iters=""
while (($#)); do
  case "$1" in
    lego|synthetic|all) which="$1" ;;
    --facet) facet="$2"; shift ;;
    --work) work="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --iters) iters="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (--help)" ;;
  esac
  shift
done
[[ -z "$iters" || "$iters" =~ ^[1-9][0-9]*$ ]] || die "--iters must be a positive integer"
[[ -x "$facet" ]] || die "no facet binary at $facet (cmake --build --preset release)"
command -v jq >/dev/null || die "jq is missing (scripts/deps.sh)"
[[ -x /usr/bin/time ]] || die "GNU time is missing (scripts/deps.sh)"
work="${work:-$(mktemp -d /tmp/splat-quality.XXXXXX)}"
mkdir -p "$work"
data="../shared/data"

report() {  # name, folder
  local summary="$2/splats_summary.json" wall rss
  wall="$(grep 'Elapsed (wall clock)' "$2/time.txt" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident' "$2/time.txt" | awk '{print $NF}')"
  jq --arg wall "$wall" --argjson rss "$rss" \
    '{name: "'"$1"'", iterations, gaussians, mean_psnr: .eval.mean_psnr, mean_ssim: .eval.mean_ssim,
      wall_s: ($wall | split(":") | map(tonumber) | reduce .[] as $p (0; . * 60 + $p)),
      peak_mib: ($rss / 1024)}' "$summary" >"$2/bench.json"
  printf '%-10s held-out PSNR %6.2f dB  SSIM %.4f  %s Gaussians  wall %s  peak %d MiB\n' "$1" \
    "$(jq '.eval.mean_psnr' "$summary")" "$(jq '.eval.mean_ssim' "$summary")" \
    "$(jq '.gaussians' "$summary")" "$wall" "$((rss / 1024))"
}

if [[ "$which" == lego || "$which" == all ]]; then
  json="$data/nerf-synthetic-lego/transforms_train_200.json"
  [[ -f "$json" ]] || die "missing $json"
  out="$work/lego"
  mkdir -p "$out"
  /usr/bin/time -v -o "$out/time.txt" "$facet" --threads "$threads" splat "$json" \
    -o "$out/splats.ply" --iters "${iters:-6000}" --eval
  report lego "$out"
fi

if [[ "$which" == synthetic || "$which" == all ]]; then
  out="$work/synthetic"
  mkdir -p "$out"
  "$facet" --quiet synth -o "$work/synth"
  "$facet" --quiet sfm "$work/synth/images" -o "$work/synth-sfm"
  /usr/bin/time -v -o "$out/time.txt" "$facet" --threads "$threads" splat "$work/synth-sfm" \
    -o "$out/splats.ply" --iters "${iters:-3000}" --eval
  report synthetic "$out"
fi
echo "splat_quality.sh: results in $work"
