// Shapley weights of the single-leaf game (Laberge & Pequignot): with s features satisfied
// by x only and m by z only, each x-only feature gets +v*(s-1)! m!/(s+m)! and each z-only
// feature -v*s! (m-1)!/(s+m)!.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace assay::core {

class ShapleyWeights {
 public:
  // Tabulated up to s + m <= 256; larger (very deep, wide paths) use lgamma.
  explicit ShapleyWeights(int max_n) : n_(std::min(max_n, 256) + 1), plus_(n_ * n_, 0.0), minus_(n_ * n_, 0.0) {
    for (int s = 0; s < n_; ++s) {
      for (int m = 0; m < n_; ++m) {
        if (s + m >= n_) continue;
        const double c = binom(s + m, m);
        if (s >= 1) plus_[s * n_ + m] = 1.0 / (s * c);    // (s-1)! m! / (s+m)!
        if (m >= 1) minus_[s * n_ + m] = 1.0 / (m * c);   // s! (m-1)! / (s+m)!
      }
    }
  }
  // Weight of an x-only feature (0 when s == 0).
  double plus(int s, int m) const {
    if (s + m < n_) return plus_[s * n_ + m];
    return s >= 1 ? std::exp(std::lgamma(s) + std::lgamma(m + 1) - std::lgamma(s + m + 1)) : 0.0;
  }
  // Weight of a z-only feature (0 when m == 0).
  double minus(int s, int m) const {
    if (s + m < n_) return minus_[s * n_ + m];
    return m >= 1 ? std::exp(std::lgamma(s + 1) + std::lgamma(m) - std::lgamma(s + m + 1)) : 0.0;
  }

 private:
  static double binom(int n, int k) {
    double r = 1.0;
    for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
    return r;
  }
  int n_;
  std::vector<double> plus_, minus_;
};

}  // namespace assay::core
