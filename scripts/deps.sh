#!/usr/bin/env bash
# Installs every Debian package facet's build and tests need. Idempotent: checks `dpkg -s`
# first and runs `apt-get update` only when something is missing.
#   scripts/deps.sh           build + test dependencies
#   scripts/deps.sh --peers   also the peer tools used by bench/ (COLMAP, Open3D)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # core
  libtbb-dev libspdlog-dev libfmt-dev libcli11-dev
  # geometry / datasets / sfm
  libeigen3-dev libnanoflann-dev libceres-dev libopencv-dev libtinygltf-dev nlohmann-json3-dev
  # viewer
  libvulkan-dev glslc glslang-tools mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  libglfw3-dev libimgui-dev xvfb xauth
  # tests and benchmarks (Open3D is a test oracle only)
  googletest libgtest-dev libgmock-dev libbenchmark-dev libopen3d-dev
  # datasets tests: libjpeg writes the CMYK JPEGs that OpenCV cannot
  libjpeg-dev
  # pipeline tests: report.html is loaded in headless Chromium
  chromium
  # bench scripts: GNU time for wall time and peak memory, jq for their JSON
  time jq
)
peers=(colmap)

for arg in "$@"; do
  case "$arg" in
    --peers) packages+=("${peers[@]}") ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "deps.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps.sh: installing ${#missing[@]} package(s): ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps.sh: all ${#packages[@]} packages present"

# The Khronos glTF validator for the .glb tests (npm package; tests skip without it). Optional:
# only when node/npm exist, and a failed install (e.g. offline) is not fatal.
if command -v npm >/dev/null 2>&1 && [[ ! -d "$(npm root -g 2>/dev/null)/gltf-validator" ]]; then
  echo "deps.sh: installing the npm package gltf-validator"
  npm_sudo=()
  [[ $(id -u) -eq 0 ]] || npm_sudo=(sudo)
  "${npm_sudo[@]}" npm install -g --silent gltf-validator >/dev/null 2>&1 ||
    echo "deps.sh: could not install gltf-validator; glTF validation tests will skip" >&2
fi
