// The adaptive correspondence threshold of KISS-ICP (Vizzo, Guadagnino, Mersch, Wiesmann, Behley
// & Stachniss, "KISS-ICP: In Defense of Point-to-Point ICP", RA-L 2023, sec. III-C) for
// sequential registration (odometry): the deviation between the motion model's prediction and
// the pose ICP then finds bounds how far a correspondence can be off, so the threshold follows
// the observed deviations instead of a hand-tuned constant.
//
// For each registered frame, the model deviation Delta T = (R, t) (prediction^-1 * estimate, or
// any rigid correction of the prediction) gives a point displacement bound over the sensor range
// r_max (eq. 4):  delta = 2 r_max sin(theta / 2) + |t|,  theta = the angle of R.
// Deviations with delta <= min_motion (standing still, where nothing is learnt) are skipped;
// sigma = sqrt(mean delta^2) over the kept ones (eq. 5), initial_sigma until there is one, and
// the correspondence threshold is tau = 3 sigma.
#pragma once

#include "geometry/rigid3.h"

namespace facet::geometry {

class AdaptiveThreshold {
 public:
  struct Options {
    // sigma before any deviation has been kept (scene units, > 0; KISS-ICP: 2 m).
    double initial_sigma = 2.0;
    // Deviations whose displacement bound is at most this are ignored (scene units, >= 0;
    // KISS-ICP: 0.1 m).
    double min_motion = 0.1;
    // Sensor range r_max turning a rotation deviation into a displacement (scene units, > 0;
    // KISS-ICP: the cloud's maximum range, 100 m by default).
    double max_range = 100.0;

    // Throws facet::Error naming the field out of range.
    void Check() const;
  };

  // KISS-ICP's defaults (Options{}).
  AdaptiveThreshold();
  // Throws facet::Error for invalid options.
  explicit AdaptiveThreshold(const Options& options);

  // Adds one frame's model deviation (prediction^-1 * estimate). Throws facet::Error when it is
  // not finite.
  void Update(const Rigid3& model_deviation);

  // The displacement bound delta of a deviation (eq. 4), for `max_range`.
  static double ModelError(const Rigid3& model_deviation, double max_range);

  // sigma: the RMS of the kept deviations, initial_sigma before the first.
  double Sigma() const;
  // The correspondence threshold tau = 3 sigma.
  double Threshold() const { return 3.0 * Sigma(); }
  // Deviations kept so far.
  int Samples() const { return samples_; }

 private:
  Options options_;
  double sum_squared_ = 0.0;
  int samples_ = 0;
};

}  // namespace facet::geometry
