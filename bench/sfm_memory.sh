#!/usr/bin/env bash
# Peak memory and wall time of `facet sfm` on 100 synthetic photos of about 1 megapixel (issue 4:
# peak memory under 4 GiB). Renders the set with `facet synth` first (cached in WORK/photos).
#   bench/sfm_memory.sh [--facet PATH] [--work DIR] [--views N] [--size WxH]
# The figures (views, size, wall_s, peak_gib, and `facet eval`'s against the synthetic ground
# truth) also go to WORK/summary.json.
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
command -v jq >/dev/null || { echo "sfm_memory.sh: jq missing (scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$work"
# A cached set of another size or count is rendered again.
if [[ "$(cat "$work/photos/.bench_args" 2>/dev/null)" != "$views $size" ]]; then
  rm -rf "$work/photos"
  "$facet" --quiet synth -o "$work/photos" --views "$views" --size "$size"
  echo "$views $size" >"$work/photos/.bench_args"
fi
rm -rf "$work/out"
/usr/bin/time -v "$facet" --quiet sfm "$work/photos/images" -o "$work/out" 2>"$work/time.log"
peak_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.log")
wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/time.log")
"$facet" --quiet eval "$work/out" --ground-truth "$work/photos/ground_truth/sparse" \
  --json "$work/eval.json" | tee "$work/eval.txt"
wall_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {
  n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; printf "%.2f", s }' \
  "$work/time.log")
jq -n --argjson views "$views" --arg size "$size" --argjson wall_s "$wall_s" \
  --argjson peak_kb "$peak_kb" --slurpfile eval "$work/eval.json" \
  '{views: $views, size: $size, wall_s: $wall_s, peak_gib: ($peak_kb / 1048576), eval: $eval[0]}' \
  >"$work/summary.json"
awk -v kb="$peak_kb" -v wall="$wall" -v n="$views" -v s="$size" \
  'BEGIN { printf "facet sfm on %d photos of %s: wall %s, peak memory %.2f GiB (limit 4)\n", n, s, wall, kb / 1048576 }'
