// The 3DGS photometric training loss (Kerbl et al. 2023, eq. 7):
//
//   L = (1 - lambda) * L1 + lambda * (1 - SSIM),   lambda = 0.2,
//
// with its gradient w.r.t. the rendered image, CPU path. Images are float, row-major interleaved
// (core/image.h), any 1-4 channels (RGB in training), values in [0, 1]; render and target must
// have the same size and channel count. All means run over every pixel and channel.
//
// SSIM convention, exactly that of the Inria 3DGS ssim() (utils/loss_utils.py): per channel, the
// local statistics are filtered with an 11x11 Gaussian window (sigma 1.5, normalised to sum 1),
// 'same' output size with ZERO padding (F.conv2d with padding = 5), so the border pixels see
// windows that sum to less than 1 and the zeros enter the means and variances; then
// sigma_x^2 = G*(x^2) - mu_x^2, sigma_xy = G*(xy) - mu_x mu_y, and SSIM is the per-pixel formula
// of splatting/kernels/ssim.h, averaged over all pixels and channels. The filter is separable and
// all arithmetic runs in double.
//
// Gradients: `d_render` is nullptr (value only) or a view of the render's size and channels; it is
// overwritten (not accumulated) with dLoss/drender.
#pragma once

#include "core/image.h"

namespace facet::splatting {

inline constexpr int kSsimWindowSize = 11;
inline constexpr double kSsimWindowSigma = 1.5;
inline constexpr double kDefaultLambdaDssim = 0.2;

// Mean SSIM of render against target (1 for identical images).
double Ssim(ImageView<const float> render, ImageView<const float> target);

// 1 - mean SSIM, and its gradient w.r.t. the render.
double SsimLoss(ImageView<const float> render, ImageView<const float> target,
                ImageView<float>* d_render = nullptr);

// Mean |render - target|, and its gradient sign(render - target) / N (0 where they are equal).
double L1Loss(ImageView<const float> render, ImageView<const float> target,
              ImageView<float>* d_render = nullptr);

// (1 - lambda_dssim) * L1 + lambda_dssim * (1 - SSIM), and its gradient; lambda_dssim in [0, 1].
double PhotometricLoss(ImageView<const float> render, ImageView<const float> target,
                       ImageView<float>* d_render = nullptr,
                       double lambda_dssim = kDefaultLambdaDssim);

}  // namespace facet::splatting
