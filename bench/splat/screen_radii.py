#!/usr/bin/env python3
# Screen radii of a trained 3DGS .ply seen from 4 held-out views (every 8th frame) at 200, 400, 800 px:
# the share of visible (Gaussian, view) pairs over the 20-px screen-size prune (splatting/densify.h
# max_screen_size), with facet's opacity-aware radius (splatting/kernels/rasterize.h). Pure Python.
#   bench/splat/screen_radii.py SPLATS.ply TRANSFORMS.json
# (the model: e.g. facet splat transforms_train.json -o splats.ply --max-size 200 --iters 3000)
import json, math, struct, sys
ply, transforms = sys.argv[1], sys.argv[2]
data = open(ply, 'rb').read()
head_end = data.index(b'end_header\n') + len(b'end_header\n')
header = data[:head_end].decode().split('\n')
n = 0; props = []
for line in header:
    if line.startswith('element vertex'): n = int(line.split()[2])
    if line.startswith('property float'): props.append(line.split()[2])
stride = 4 * len(props)
idx = {p: i for i, p in enumerate(props)}
t = json.load(open(transforms))
angle = t['camera_angle_x']
frames = t['frames'][::8][:4]
def matmul(a, b): return [[sum(a[i][k]*b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]
gs = []
for i in range(n):
    v = struct.unpack_from('<%df' % len(props), data, head_end + i * stride)
    gs.append(v)
for size in (200, 400, 800):
    f = 0.5 * size / math.tan(0.5 * angle)
    over = vis = 0
    for fr in frames:
        c2w = fr['transform_matrix']
        R = [[c2w[r][c] for c in range(3)] for r in range(3)]
        C = [c2w[r][3] for r in range(3)]
        # world->camera (OpenCV: flip y, z of Blender's camera frame)
        Rt = [[R[c][r] for c in range(3)] for r in range(3)]
        flip = [[1,0,0],[0,-1,0],[0,0,-1]]
        W = matmul(flip, Rt)
        for v in gs:
            p = [v[idx['x']] - C[0], v[idx['y']] - C[1], v[idx['z']] - C[2]]
            x, y, z = [sum(W[r][k]*p[k] for k in range(3)) for r in range(3)]
            if z < 0.2: continue
            s = [math.exp(v[idx['scale_%d' % k]]) for k in range(3)]
            qw, qx, qy, qz = [v[idx['rot_%d' % k]] for k in range(4)]
            qn = math.sqrt(qw*qw+qx*qx+qy*qy+qz*qz); qw, qx, qy, qz = qw/qn, qx/qn, qy/qn, qz/qn
            Rq = [[1-2*(qy*qy+qz*qz), 2*(qx*qy-qw*qz), 2*(qx*qz+qw*qy)],
                  [2*(qx*qy+qw*qz), 1-2*(qx*qx+qz*qz), 2*(qy*qz-qw*qx)],
                  [2*(qx*qz-qw*qy), 2*(qy*qz+qw*qx), 1-2*(qx*qx+qy*qy)]]
            M = [[Rq[r][k]*s[k] for k in range(3)] for r in range(3)]
            Sig = matmul(M, [[M[c][r] for c in range(3)] for r in range(3)])
            J = [[f/z, 0, -f*x/(z*z)], [0, f/z, -f*y/(z*z)]]
            T = matmul(J, W)
            cov = matmul(matmul(T, Sig), [[T[c][r] for c in range(2)] for r in range(3)])
            a, c = cov[0][0] + 0.3, cov[1][1] + 0.3
            o = 1 / (1 + math.exp(-v[idx['opacity']]))
            if o * 255 < 1: continue
            ext = min(math.sqrt(2 * math.log(o * 255)), 3.33)
            r = max(math.ceil(ext * math.sqrt(a)), math.ceil(ext * math.sqrt(c)))
            u, w = f * x / z + size / 2, f * y / z + size / 2
            if u + r <= 0 or u - r >= size or w + r <= 0 or w - r >= size: continue
            vis += 1
            over += r > 20
    print(f"{size}x{size}: {over} of {vis} visible (Gaussian, view) pairs over 20 px ({100.0*over/max(vis,1):.1f}%)")
