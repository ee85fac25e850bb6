#!/usr/bin/env bash
# Packs what a bare CUDA machine needs to run facet's GPU checks without building or installing
# anything (the device machine lent to some sessions has nvcc and CMake but none of facet's
# libraries, no Vulkan loader, and cannot reach a package mirror): the facet program, the CUDA
# test binaries (*_cuda_test), viewer_test, the GPU benchmarks and viewer_fps built here with
# CUDA, plus every shared library they load that is not glibc or CUDA's (libvulkan.so.1 among
# them), into .gpu/bundle.tar.xz (about 20 MB; with --facet-only, the program alone). OpenCV's
# optional codecs (GDAL, GDCM, OpenEXR), which facet never calls, are replaced by stand-ins
# (scripts/gpu/stub_library.py).
# The NeRF-synthetic lego scene travels too, since ../shared does not: its transforms_train.json
# (transforms_test.json if present) and train/ photos are copied into .gpu/lego (about 41 MiB),
# which gpu-check.sh uses by default. Then, in the device tool: carry [".gpu"] and run
#   scripts/gpu-check.sh --prebuilt .gpu/bundle.tar.xz --phases nerf,viewer,tests
# (see gpu-check.sh for the phases). Everything carried must stay under 64 MiB with the tracked
# files: the last line prints that total.
#   scripts/gpu-bundle.sh [BUILD_DIR] [--facet-only]   (default build/release, built with CUDA)
#   FACET_LEGO_SRC=DIR: the lego folder to copy (default ../shared/data/nerf-synthetic-lego;
#   a missing folder copies nothing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build/release}"
facet_only="${2:-}"
[[ -x "$build/bin/facet" ]] || { echo "gpu-bundle.sh: build $build first (with CUDA)" >&2; exit 1; }

mkdir -p .gpu/stubs
exclude="$(git rev-parse --git-path info/exclude)"  # .git is a file in a worktree
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >>"$exclude"
binaries=("$build/bin/facet")
if [[ "$facet_only" != "--facet-only" ]]; then
  while IFS= read -r file; do binaries+=("$file"); done < <(
    find "$build/tests" -type f \( -name '*_cuda_test' -o -path '*/tests/viewer/viewer_test' \) \
      -perm -u+x
    find "$build/bench" -maxdepth 1 -type f \( -name '*cuda_bench' -o -name 'nerf_bench' \
      -o -name 'viewer_fps' \) -perm -u+x)
fi
imgcodecs="$(ldd "$build/bin/facet" | awk '/libopencv_imgcodecs/ {print $3}')"
for library in $(ldd "$imgcodecs" | awk '$1 ~ /^lib(gdal|gdcm(MSFF|DSED)|OpenEXR)/ {print $3}'); do
  name="$(basename "$library")"
  python3 scripts/gpu/stub_library.py "$imgcodecs" "$library" ".gpu/stubs/$name.c"
  cc -shared -fPIC -o ".gpu/stubs/$name" -Wl,-soname,"$name" ".gpu/stubs/$name.c"
done
# Shared libraries, resolved here; glibc's own and the CUDA driver/runtime/cuBLAS come from the
# device image.
for binary in "${binaries[@]}"; do LD_LIBRARY_PATH=.gpu/stubs ldd "$binary"; done |
  awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so|libcuda\.so|libcudart|libcublas|\.gpu/stubs' \
    >.gpu/libraries.txt
# The device image has no Vulkan loader: the programs that use Vulkan must bring it.
if [[ "$facet_only" != "--facet-only" ]] && ! grep -q '/libvulkan\.so\.1$' .gpu/libraries.txt; then
  vulkan="$(ldconfig -p | awk '$1 == "libvulkan.so.1" && /x86-64/ {print $NF; exit}')"
  [[ -n "$vulkan" ]] || { echo "gpu-bundle.sh: no libvulkan.so.1 here (apt install libvulkan1)" >&2; exit 1; }
  echo "$vulkan" >>.gpu/libraries.txt
fi
# The programs stripped of their symbol tables (a third of their size), at their paths under the
# build folder (gpu-check.sh finds bin/facet, tests/ and bench/ there).
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
for binary in "${binaries[@]}"; do
  mkdir -p "$stage/build/$(dirname "${binary#"$build"/}")"
  strip --strip-unneeded -o "$stage/build/${binary#"$build"/}" "$binary"
done
mkdir -p "$stage/.gpu/stubs"
find .gpu/stubs -name '*.so*' ! -name '*.c' -exec cp -L -t "$stage/.gpu/stubs" {} +
tar -chf - -C "$stage" build .gpu -C / $(sed 's|^/||' .gpu/libraries.txt) 2>/dev/null |
  xz -T0 -9 >.gpu/bundle.tar.xz.part
mv .gpu/bundle.tar.xz.part .gpu/bundle.tar.xz
echo "gpu-bundle.sh: ${#binaries[@]} programs and $(wc -l <.gpu/libraries.txt) libraries in" \
  ".gpu/bundle.tar.xz ($(du -h .gpu/bundle.tar.xz | cut -f1)):"
printf '  %s\n' "${binaries[@]##*/}"

# The lego scene (gpu-check.sh's default FACET_LEGO is .gpu/lego/transforms_train.json).
lego_src="${FACET_LEGO_SRC:-../shared/data/nerf-synthetic-lego}"
if [[ -f "$lego_src/transforms_train.json" && -d "$lego_src/train" ]]; then
  mkdir -p .gpu/lego
  cp -u "$lego_src/transforms_train.json" .gpu/lego/
  [[ -f "$lego_src/transforms_test.json" ]] && cp -u "$lego_src/transforms_test.json" .gpu/lego/
  cp -ru "$lego_src/train" .gpu/lego/
  echo "gpu-bundle.sh: lego in .gpu/lego ($(du -sh .gpu/lego | cut -f1))"
elif [[ ! -f .gpu/lego/transforms_train.json ]]; then
  echo "gpu-bundle.sh: no lego scene at $lego_src: the check's lego runs will be skipped"
fi
# What a device call sends: the tracked and untracked-not-ignored files, plus .gpu when carried.
tree_bytes="$( (git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null) |
  awk '{s += $1} END {print s + 0}')"
gpu_bytes="$(du -sb .gpu | cut -f1)"
total=$((tree_bytes + gpu_bytes))
echo "gpu-bundle.sh: carry size $((total / 1048576)) MiB = working tree $((tree_bytes / 1048576))" \
  "MiB + .gpu $((gpu_bytes / 1048576)) MiB (the device tool's limit: 64 MiB)"
if ((total > 64 * 1048576)); then
  echo "gpu-bundle.sh: over the 64 MiB the device tool carries: remove .gpu/lego or build less" >&2
  exit 1
fi
