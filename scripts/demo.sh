#!/usr/bin/env bash
# The README's demo command: install dependencies, build, and run the main job, `facet
# reconstruct`, on the built-in synthetic scene, then score it against the scene's ground truth.
# It never fakes output.
#   scripts/demo.sh [OUTPUT_DIR]    (default: demo-out/; FACET_DEMO_ALL=1 also runs RGB-D SLAM)
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
# The main job: photos to splats and a watertight mesh in one command, on the built-in synthetic
# scene (40 photos of a known object in a textured room, with the exact cameras and surface).
"$facet" synth -o "$out/synthetic"
echo
# Structure from motion, undistortion, Gaussian splatting (every 8th photo held out and scored),
# and a watertight coloured mesh of the splats, with the default preset; --resume continues an
# interrupted run (and a second demo.sh reuses the first one's stages). report.html shows it all.
"$facet" reconstruct "$out/synthetic/images" -o "$out/reconstruction" --resume
echo
# The result against the ground truth: camera poses (after a similarity alignment) and the mesh
# around the object (Chamfer distance, as a percentage of the object's bounding-box diagonal).
"$facet" eval "$out/reconstruction" --ground-truth "$out/synthetic/ground_truth/sparse" \
  --mesh "$out/reconstruction/mesh.glb" --ground-truth-mesh "$out/synthetic/ground_truth/mesh.ply" \
  --crop-file "$out/synthetic/ground_truth/crop.txt" --json "$out/reconstruction/eval.json"
echo
# With FACET_DEMO_ALL=1, also RGB-D SLAM: a hand-held sequence of the same room with exact depth,
# one full orbit (754 frames at 30 Hz), tracked every second frame; the loop closes where the
# orbit began.
if [[ "${FACET_DEMO_ALL:-0}" == 1 ]]; then
  "$facet" synth --rgbd --views 754 --size 320x240 --supersampling 1 -o "$out/rgbd"
  echo
  "$facet" slam "$out/rgbd" -o "$out/slam" --every 2
  echo
fi
recon="$out/reconstruction"
echo "demo.sh: done. The reconstruction of the synthetic scene is in $recon:"
echo "  $recon/splats.ply     Gaussian splats (standard 3DGS PLY; held-out renders in $recon/renders/)"
echo "  $recon/mesh.glb       watertight coloured mesh (glTF)"
echo "  $recon/report.html    the report: open it in a browser"
echo "  $recon/sparse/0/      cameras and sparse points (COLMAP), $recon/images/ the undistorted photos"
if [[ "${FACET_DEMO_ALL:-0}" == 1 ]]; then
  echo "The RGB-D sequence is in $out/rgbd and its SLAM trajectory and mesh in $out/slam."
fi
echo "Look at it: xdg-open $recon/report.html"
echo "  open it in the viewer: $facet view $recon"
echo "  or, without a display, render a view: $facet view $recon --offscreen --camera index:0 --screenshot view.png"
