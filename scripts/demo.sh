#!/usr/bin/env bash
# The README's demo command: install dependencies, build, and run the most complete stage facet
# has on its built-in synthetic scene. It grows with the pipeline; it never fakes output.
#   scripts/demo.sh [OUTPUT_DIR]    (default: demo-out/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-demo-out}"

bash scripts/deps.sh
preset="${FACET_PRESET:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" --target facet
facet="build/$preset/bin/facet"

echo
"$facet" --version
echo
# The pipeline as it stands: the built-in synthetic scene (photos of a known object with
# ground-truth cameras and mesh), structure from motion on its photos, the result scored against
# the ground truth, a Gaussian splatting scene trained on it, and a watertight mesh of the splats.
# Later stages run on it here as they land.
"$facet" synth -o "$out/synthetic"
echo
"$facet" sfm "$out/synthetic/images" -o "$out/sfm"
echo
"$facet" eval "$out/sfm" --ground-truth "$out/synthetic/ground_truth/sparse" \
  --json "$out/sfm/eval.json"
echo
# 3D Gaussian Splatting on the posed photos, at half size to keep the demo short; every 8th view is
# held out and scored, with side-by-side pictures in splats/renders/.
"$facet" splat "$out/sfm" -o "$out/splats/splats.ply" --iters 2000 --max-size 320 --eval
echo
# A watertight, coloured mesh of the whole scene (room and object) by TSDF fusion of the splats'
# depth and colour rendered at the SfM cameras, 256 voxels along the scene's diagonal, decimated
# to 300,000 triangles.
"$facet" mesh "$out/splats/splats.ply" --model "$out/sfm" -o "$out/mesh/mesh.glb" \
  --render-size 320 --resolution 256 --faces 300000 --summary "$out/mesh/mesh_summary.json"
echo
# RGB-D SLAM: a hand-held sequence of the same room with exact depth, one full orbit (754 frames
# at 30 Hz), tracked every second frame; the loop closes where the orbit began.
"$facet" synth --rgbd --views 754 --size 320x240 --supersampling 1 -o "$out/rgbd"
echo
"$facet" slam "$out/rgbd" -o "$out/slam" --every 2
echo
echo "demo.sh: the synthetic scene is in $out/synthetic, its reconstruction in $out/sfm, the"
echo "Gaussian splats in $out/splats, the mesh in $out/mesh; the RGB-D sequence in $out/rgbd and"
echo "its SLAM trajectory and mesh in $out/slam:"
for entry in "$out"/synthetic/* "$out"/sfm/* "$out"/splats/* "$out"/mesh/* "$out"/slam/*; do
  if [[ -d "$entry" ]]; then
    echo "  $entry/  ($(find "$entry" -type f | wc -l) files)"
  else
    echo "  $entry"
  fi
done
