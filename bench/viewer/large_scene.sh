#!/usr/bin/env bash
# large_scene.sh: how `facet view` opens a multi-million-splat file (issue 9: "a 5M-splat file
# loads with a progress bar and stays responsive"). Writes N random SH-3 Gaussians as a 3DGS .ply
# (viewer_fps --write-ply), opens it in the window under xvfb-run for one frame, and prints the
# viewer's load line: the read time, how many frames the window drew while the file was read on
# the loader thread and the longest of them (the window's responsiveness), and the GPU upload.
#
#   bench/viewer/large_scene.sh [N=5000000] [BUILD=build/release]
set -euo pipefail
count=${1:-5000000}
build=${2:-build/release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/viewer_fps" --splats "$count" --write-ply "$work/large.ply"
ls -l "$work/large.ply" | awk '{printf "large_scene: %.2f GB file\n", $5 / 1e9}'
start=$(date +%s.%N)
xvfb-run -a -s "-screen 0 1280x720x24" "$build/bin/facet" view "$work/large.ply" --frames 1 \
  --size 640x360 2>&1 | grep -E "read|GPU|frames|error" || true
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "large_scene: window open to closed after one frame: %.1f s\n", e - s }'
