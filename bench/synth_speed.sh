#!/usr/bin/env bash
# Times `facet synth` on its defaults (40 views at 640x480) with 2 threads, the issue's budget
# being 20 s on 2 cores. Usage: bench/synth_speed.sh [build/release/bin/facet] [runs]
set -euo pipefail
facet="${1:-build/release/bin/facet}"
runs="${2:-3}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
best_ms=""
for ((r = 1; r <= runs; ++r)); do
  rm -rf "$out/synth"
  start=$(date +%s%N)
  "$facet" --threads 2 --quiet synth -o "$out/synth"
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "run $r: $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
  if [[ -z "$best_ms" || $ms -lt $best_ms ]]; then best_ms=$ms; fi
done
echo "synth, 40 views 640x480, 2 threads: best of $runs = $((best_ms / 1000)).$(printf '%03d' $((best_ms % 1000))) s (budget 20 s)"
