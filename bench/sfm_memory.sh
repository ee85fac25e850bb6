#!/usr/bin/env bash
# Peak memory and wall time of `facet sfm` on 100 synthetic photos of about 1 megapixel (issue 4:
# peak memory under 4 GiB). Renders the set with `facet synth` first (cached in WORK/photos).
#   bench/sfm_memory.sh [--facet PATH] [--work DIR] [--views N] [--size WxH]
set -euo pipefail
facet="build/release/bin/facet" work="${TMPDIR:-/tmp}/facet_sfm_memory" views=100 size=1152x864
while (($#)); do
  case "$1" in
    --facet) facet="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --views) views="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    *) echo "sfm_memory.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[[ -x "$facet" ]] || { echo "sfm_memory.sh: '$facet' not found; build it first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "sfm_memory.sh: GNU time missing (scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$work"
if [[ ! -f "$work/photos/transforms.json" ]]; then
  "$facet" --quiet synth -o "$work/photos" --views "$views" --size "$size"
fi
rm -rf "$work/out"
/usr/bin/time -v "$facet" --quiet sfm "$work/photos/images" -o "$work/out" 2>"$work/time.log"
peak_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.log")
wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/time.log")
"$facet" --quiet eval "$work/out" --ground-truth "$work/photos/ground_truth/sparse" | tee "$work/eval.txt"
awk -v kb="$peak_kb" -v wall="$wall" -v n="$views" -v s="$size" \
  'BEGIN { printf "facet sfm on %d photos of %s: wall %s, peak memory %.2f GiB (limit 4)\n", n, s, wall, kb / 1048576 }'
