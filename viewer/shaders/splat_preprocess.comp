#version 460
// Per-Gaussian preprocessing for one view: a GLSL port of the CPU rasterizer's
// kernels::PreprocessGaussian (splatting/kernels/rasterize.h) with the same float math, so that
// the viewer's image matches facet's CPU render. Each step names the function it mirrors.
#extension GL_EXT_buffer_reference : require
#extension GL_GOOGLE_include_directive : require

#include "viewer/shaders/shader_io.h"

layout(local_size_x = 256) in;

layout(push_constant, std430) uniform PushConstants {
  SplatPreprocessPushConstants pc;
};

// kernels::kMinAlpha, kMaxExtentSigmas, kMaxRadius (splatting/kernels/rasterize.h).
const float kMinAlpha = 1.0 / 255.0;
const float kMaxExtentSigmas = 3.33;
const float kMaxRadius = float(1 << 20);

// kernels::QuatToRotation (project.h), as a GLSL matrix: r[col][row].
mat3 QuatToRotation(vec4 q) {  // q = (w, x, y, z)
  float inv = 1.0 / sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
  float w = q.x * inv, x = q.y * inv, y = q.z * inv, z = q.w * inv;
  return transpose(mat3(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y),
                        2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x),
                        2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)));
}

// kernels::QuatScaleToCovariance (Kerbl et al. 2023, eq. 6): Sigma = R S S^T R^T, with every
// standard deviation times `factor` (SplatDrawOptions::scale; 1 leaves the float math as is).
mat3 QuatScaleToCovariance(vec4 q, vec3 log_scale, float factor) {
  mat3 m = QuatToRotation(q);
  vec3 s = exp(log_scale) * factor;
  m[0] *= s.x;  // M = R S scales the columns
  m[1] *= s.y;
  m[2] *= s.z;
  return m * transpose(m);
}

// kernels::ShBasis and kernels::ShToColor (sh.h): colour = max(sum_k b_k(d) sh_k + 0.5, 0).
vec3 ShToColor(SplatShBuffer sh, uint base, uint degree, vec3 dir) {
  float norm = length(dir);
  vec3 d = norm > 0.0 ? dir / norm : vec3(0.0);
  float x = d.x, y = d.y, z = d.z;
  float b[16];
  b[0] = 0.28209479177387814;
  uint n = (degree + 1) * (degree + 1);
  if (degree >= 1) {
    b[1] = -0.4886025119029199 * y;
    b[2] = 0.4886025119029199 * z;
    b[3] = -0.4886025119029199 * x;
  }
  if (degree >= 2) {
    float xx = x * x, yy = y * y, zz = z * z;
    b[4] = 1.0925484305920792 * x * y;
    b[5] = -1.0925484305920792 * y * z;
    b[6] = 0.31539156525252005 * (2.0 * zz - xx - yy);
    b[7] = -1.0925484305920792 * x * z;
    b[8] = 0.5462742152960396 * (xx - yy);
    if (degree >= 3) {
      b[9] = -0.5900435899266435 * y * (3.0 * xx - yy);
      b[10] = 2.890611442640554 * x * y * z;
      b[11] = -0.4570457994644658 * y * (4.0 * zz - xx - yy);
      b[12] = 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy);
      b[13] = -0.4570457994644658 * x * (4.0 * zz - xx - yy);
      b[14] = 1.445305721320277 * z * (xx - yy);
      b[15] = -0.5900435899266435 * x * (xx - 3.0 * yy);
    }
  }
  vec3 sum = vec3(0.5);  // the reference code's offset
  for (uint k = 0; k < n; ++k) {
    uint at = base + 3 * k;
    sum += b[k] * vec3(sh.sh[at], sh.sh[at + 1], sh.sh[at + 2]);
  }
  return max(sum, vec3(0.0));
}

SplatModel model;

void Cull(uint i) {
  model.records.records[i].mean2d_radius = vec4(0.0);
  model.sort_keys.indices[i] = FACET_SPLAT_CULLED_KEY;
}

void main() {
  model = pc.model.model;
  uint i = gl_GlobalInvocationID.x;
  if (i >= model.count) return;
  SplatGaussian g = model.gaussians.gaussians[i];
  mat3 w = transpose(mat3(pc.cam_from_world_rows[0].xyz, pc.cam_from_world_rows[1].xyz,
                          pc.cam_from_world_rows[2].xyz));
  vec3 t = vec3(pc.cam_from_world_rows[0].w, pc.cam_from_world_rows[1].w,
                pc.cam_from_world_rows[2].w);
  float fx = pc.intrinsics.x, fy = pc.intrinsics.y, cx = pc.intrinsics.z, cy = pc.intrinsics.w;
  float width = pc.image.x, height = pc.image.y, near_plane = pc.image.z, low_pass = pc.image.w;

  // The viewer's crop box (SplatDrawOptions::crop; without one it spans every float).
  vec3 mean = g.mean_opacity.xyz;
  if (any(lessThan(mean, pc.crop_min_scale.xyz)) ||
      any(greaterThan(mean, pc.crop_max_opacity.xyz))) {
    Cull(i);
    return;
  }
  // kernels::ProjectGaussian (project.h): near-plane cull (also rejects NaN).
  vec3 p = w * mean + t;
  if (!(p.z >= near_plane)) {
    Cull(i);
    return;
  }
  // detail::ClampedTangent and detail::LinearizeProjection: the Jacobian of the perspective map
  // (Zwicker et al. 2002, eq. 29) at the tangent clamped to clamp_factor x the half field of view.
  float lim_u_pos = pc.clamp_factor * (width - cx) / fx;
  float lim_u_neg = pc.clamp_factor * cx / fx;
  float lim_v_pos = pc.clamp_factor * (height - cy) / fy;
  float lim_v_neg = pc.clamp_factor * cy / fy;
  float u = clamp(p.x / p.z, -lim_u_neg, lim_u_pos);
  float v = clamp(p.y / p.z, -lim_v_neg, lim_v_pos);
  float iz = 1.0 / p.z;
  vec3 j0 = vec3(fx * iz, 0.0, -fx * u * iz);
  vec3 j1 = vec3(0.0, fy * iz, -fy * v * iz);
  // Kerbl et al. 2023, eq. 5 plus the low-pass (detail::ProjectCovariance).
  mat3 covar = QuatScaleToCovariance(g.rotation, g.log_scale.xyz, pc.crop_min_scale.w);
  mat3 covar_cam = w * covar * transpose(w);
  vec3 sj0 = covar_cam * j0, sj1 = covar_cam * j1;
  vec3 c2 = vec3(dot(j0, sj0) + low_pass, dot(j0, sj1), dot(j1, sj1) + low_pass);
  float det = c2.x * c2.z - c2.y * c2.y;
  if (!(det > 0.0)) {
    Cull(i);
    return;
  }
  float idet = 1.0 / det;
  vec3 conic = vec3(c2.z * idet, -c2.y * idet, c2.x * idet);
  vec2 mean2d = vec2(fx * p.x * iz + cx, fy * p.y * iz + cy);

  // kernels::PreprocessGaussian: opacity cull (and the viewer's opacity threshold),
  // opacity-aware extent (as gsplat), image cull.
  float opacity = 1.0 / (1.0 + exp(-g.mean_opacity.w));  // kernels::Sigmoid
  if (!(opacity >= kMinAlpha) || opacity < pc.crop_max_opacity.w) {
    Cull(i);
    return;
  }
  float extent = min(sqrt(2.0 * log(opacity / kMinAlpha)), kMaxExtentSigmas);
  float rx = min(ceil(extent * sqrt(c2.x)), kMaxRadius);
  float ry = min(ceil(extent * sqrt(c2.z)), kMaxRadius);
  if (!(rx > 0.0 && ry > 0.0)) {
    Cull(i);
    return;
  }
  if (mean2d.x + rx <= 0.0 || mean2d.x - rx >= width || mean2d.y + ry <= 0.0 ||
      mean2d.y - ry >= height) {
    Cull(i);
    return;
  }
  // The view direction from the camera centre -R^T t to the mean.
  vec3 center = -(transpose(w) * t);
  vec3 color = ShToColor(model.sh, i * model.sh_stride, pc.sh_degree_flags & 0xFFu, mean - center);

  model.records.records[i].mean2d_radius = vec4(mean2d, rx, ry);
  model.records.records[i].conic_opacity = vec4(conic, opacity);
  model.records.records[i].color_depth = vec4(color, p.z);
  // Back to front, or front to back for the tile rasterizer (shader_io.h).
  uint key = floatBitsToUint(p.z);
  bool front_to_back = (pc.sh_degree_flags & FACET_SPLAT_KEYS_FRONT_TO_BACK) != 0u;
  model.sort_keys.indices[i] = front_to_back ? key : ~key;
}
