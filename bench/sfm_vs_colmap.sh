#!/usr/bin/env bash
# Side-by-side SfM benchmark: facet and COLMAP 3.8 (CPU) on the same photos, one after the other in
# one run (timings taken at different times on a shared machine are not comparable).
#
#   bench/sfm_vs_colmap.sh DIR [--ground-truth GT] [--intrinsics K.txt] [--max-image-size N]
#                              [--max-num-features N] [--refine-principal-point]
#                              [--facet PATH] [--work WORKDIR]
#
# --max-image-size and --max-num-features (defaults: COLMAP's, 3200 and 8192) apply to both tools.
#   1. facet sfm DIR -o WORK/facet (exhaustive matching), writing WORK/facet/sparse/0
#   2. COLMAP feature_extractor (one shared SIMPLE_RADIAL camera), exhaustive_matcher and mapper
#      into WORK/colmap/sparse, with GPU SIFT off and every core
# Each command runs under /usr/bin/time -v (wall time, peak resident memory). Both models are then
# evaluated with `facet eval` (against GT and K.txt when given), and a table of wall time, peak
# memory, registered images, reprojection error, camera centre and rotation errors and focal error
# is printed with the time ratio facet/COLMAP; WORK/summary.json holds the same numbers.
# Example (Strecha fountain, quarter size):
#   d=../shared/data/strecha-fountain-P11
#   bench/sfm_vs_colmap.sh $d/images_q4 --ground-truth $d/gt_dense_cameras --intrinsics $d/images_q4/K.txt
# Builds nothing: needs build/release/bin/facet (cmake --build --preset release), colmap
# (scripts/deps.sh --peers), and GNU time and jq (scripts/deps.sh).
set -euo pipefail

die() { echo "sfm_vs_colmap.sh: $*" >&2; exit 1; }
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

images="" gt="" intrinsics="" max_image_size=3200 max_num_features=8192 refine_pp=0
facet="build/release/bin/facet" work=""
while (($#)); do
  case "$1" in
    --ground-truth) gt="${2:?--ground-truth needs a path}"; shift 2 ;;
    --intrinsics) intrinsics="${2:?--intrinsics needs a path}"; shift 2 ;;
    --max-image-size) max_image_size="${2:?--max-image-size needs a number}"; shift 2 ;;
    --max-num-features) max_num_features="${2:?--max-num-features needs a number}"; shift 2 ;;
    --refine-principal-point) refine_pp=1; shift ;;
    --facet) facet="${2:?--facet needs a path}"; shift 2 ;;
    --work) work="${2:?--work needs a path}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) [[ -z "$images" ]] || die "one image folder only (got '$images' and '$1')"; images="$1"; shift ;;
  esac
done

[[ -n "$images" ]] || { usage >&2; exit 2; }
[[ -d "$images" ]] || die "image folder '$images' not found"
[[ -z "$gt" || -e "$gt" ]] || die "ground truth '$gt' not found"
[[ -z "$intrinsics" || -f "$intrinsics" ]] || die "intrinsics file '$intrinsics' not found"
[[ "$max_image_size" =~ ^[1-9][0-9]*$ ]] || die "--max-image-size must be a positive integer"
[[ "$max_num_features" =~ ^[1-9][0-9]*$ ]] || die "--max-num-features must be a positive integer"
[[ -x "$facet" ]] || die "facet binary '$facet' not found: build it first (cmake --build --preset release) or pass --facet PATH"
command -v colmap >/dev/null || die "colmap not found: install it with scripts/deps.sh --peers"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) not found: install it with scripts/deps.sh"
command -v jq >/dev/null || die "jq not found: install it with scripts/deps.sh"

if [[ -z "$work" ]]; then work="$(mktemp -d "${TMPDIR:-/tmp}/sfm_vs_colmap.XXXXXX")"; fi
mkdir -p "$work"
work="$(cd "$work" && pwd)"
images="$(cd "$images" && pwd)"
threads="$(nproc)"

# timed NAME CMD...: runs CMD under GNU time with its output in WORK/NAME.log; fails loudly.
timed() {
  local name="$1"; shift
  echo "== $name: $*" >&2
  if ! /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1; then
    tail -n 20 "$work/$name.log" >&2
    die "$name failed (full log: $work/$name.log)"
  fi
}
# Wall seconds and peak RSS (kB) from a GNU time -v report.
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; printf "%.2f", s }' "$1"
}
peak_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
# The model with the most registered images among DIR/*/ (COLMAP may write several).
largest_model() {
  local best="" best_size=-1 size m
  for m in "$1"/*/; do
    [[ -f "$m/images.bin" ]] || continue
    size=$(stat -c %s "$m/images.bin")
    if ((size > best_size)); then best="${m%/}"; best_size=$size; fi
  done
  [[ -n "$best" ]] || die "no model (images.bin) under $1"
  echo "$best"
}

# 1. facet
rm -rf "$work/facet"
facet_args=(sfm "$images" -o "$work/facet" --max-image-size "$max_image_size"
  --max-num-features "$max_num_features" --matcher exhaustive)
if ((refine_pp)); then facet_args+=(--refine-principal-point); fi
timed facet_sfm "$facet" "${facet_args[@]}"

# 2. COLMAP
rm -rf "$work/colmap"
mkdir -p "$work/colmap/sparse"
db="$work/colmap/database.db"
timed colmap_extract colmap feature_extractor --database_path "$db" --image_path "$images" \
  --ImageReader.single_camera 1 --ImageReader.camera_model SIMPLE_RADIAL \
  --SiftExtraction.use_gpu 0 --SiftExtraction.num_threads "$threads" \
  --SiftExtraction.max_image_size "$max_image_size" \
  --SiftExtraction.max_num_features "$max_num_features"
timed colmap_match colmap exhaustive_matcher --database_path "$db" \
  --SiftMatching.use_gpu 0 --SiftMatching.num_threads "$threads"
timed colmap_map colmap mapper --database_path "$db" --image_path "$images" \
  --output_path "$work/colmap/sparse" --Mapper.num_threads "$threads" \
  --Mapper.ba_refine_principal_point "$refine_pp"

# 3. Evaluation of both models with the same tool.
eval_args=()
if [[ -n "$gt" ]]; then eval_args+=(--ground-truth "$gt"); fi
if [[ -n "$intrinsics" ]]; then eval_args+=(--intrinsics "$intrinsics"); fi
for tool in facet colmap; do
  model="$(largest_model "$work/$tool/sparse")"
  echo "== eval $tool: $model" >&2
  "$facet" eval "$model" "${eval_args[@]}" --json "$work/$tool.eval.json" \
    >"$work/$tool.eval.log" 2>&1 || {
    cat "$work/$tool.eval.log" >&2
    die "facet eval failed on $model"
  }
done

facet_wall=$(wall_s "$work/facet_sfm.time")
facet_kb=$(peak_kb "$work/facet_sfm.time")
colmap_stage_s=()
colmap_kb=0
for stage in extract match map; do
  colmap_stage_s+=("$(wall_s "$work/colmap_$stage.time")")
  kb=$(peak_kb "$work/colmap_$stage.time")
  if ((kb > colmap_kb)); then colmap_kb=$kb; fi
done
colmap_wall=$(awk -v a="${colmap_stage_s[0]}" -v b="${colmap_stage_s[1]}" -v c="${colmap_stage_s[2]}" \
  'BEGIN { printf "%.2f", a + b + c }')

jq -n \
  --arg images "$images" --arg gt "$gt" --arg intrinsics "$intrinsics" \
  --argjson max_image_size "$max_image_size" --argjson max_num_features "$max_num_features" \
  --argjson refine_principal_point "$([[ $refine_pp == 1 ]] && echo true || echo false)" \
  --argjson threads "$threads" \
  --argjson facet_wall "$facet_wall" --argjson facet_kb "$facet_kb" \
  --argjson colmap_wall "$colmap_wall" --argjson colmap_kb "$colmap_kb" \
  --argjson extract "${colmap_stage_s[0]}" --argjson match "${colmap_stage_s[1]}" \
  --argjson map "${colmap_stage_s[2]}" \
  --slurpfile facet_eval "$work/facet.eval.json" --slurpfile colmap_eval "$work/colmap.eval.json" \
  '{images: $images, ground_truth: $gt, intrinsics: $intrinsics, threads: $threads,
    max_image_size: $max_image_size, max_num_features: $max_num_features,
    refine_principal_point: $refine_principal_point,
    facet: {wall_s: $facet_wall, peak_gb: ($facet_kb / 1048576), eval: $facet_eval[0]},
    colmap: {wall_s: $colmap_wall, peak_gb: ($colmap_kb / 1048576),
             stages_s: {extract: $extract, match: $match, map: $map}, eval: $colmap_eval[0]},
    time_ratio_facet_over_colmap: (if $colmap_wall > 0 then $facet_wall / $colmap_wall else null end)}' \
  >"$work/summary.json"

# The table, from summary.json; "-" where a number does not apply (no ground truth, no K.txt).
jq -r '
  def row(name; digits; f): [name, digits, (.facet | f // "-"), (.colmap | f // "-")] | @tsv;
  row("wall s"; 1; .wall_s),
  row("peak GB"; 2; .peak_gb),
  row("registered"; "s"; .eval | if .registered == null then null elif .total_gt == null
      then (.registered | tostring) else "\(.registered)/\(.total_gt)" end),
  row("reproj px"; 3; .eval.mean_reprojection_error_px),
  row("centre err mean"; 4; .eval.center_error_mean),
  row("centre err max"; 4; .eval.center_error_max),
  row("rot err mean deg"; 3; .eval.rotation_error_mean_deg),
  row("rot err max deg"; 3; .eval.rotation_error_max_deg),
  row("focal err %"; 2; .eval.cameras[0].focal_error_percent),
  row("focal px"; 1; .eval.cameras[0].params[0]),
  row("3D points"; 0; .eval.num_points)' "$work/summary.json" |
  awk -F'\t' '
    function cell(v, d) { return (d == "s" || v == "-") ? v : sprintf("%.*f", d, v) }
    BEGIN { printf "%-18s %12s %12s\n", "", "facet", "colmap" }
    { printf "%-18s %12s %12s\n", $1, cell($3, $2), cell($4, $2) }'
jq -r '"COLMAP stages: extract \(.colmap.stages_s.extract) s, match \(.colmap.stages_s.match) s, map \(.colmap.stages_s.map) s"' \
  "$work/summary.json"
awk -v f="$facet_wall" -v c="$colmap_wall" \
  'BEGIN { if (c > 0) printf "time ratio facet/colmap: %.3f\n", f / c }'
echo "summary: $work/summary.json (logs and models under $work)"
