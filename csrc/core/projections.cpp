#include "core/projections.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/parallel.hpp"
#include "core/projection_problem.hpp"

namespace assay::core {

namespace {

using namespace projection;

// One problem, all four phases on this thread (the GPU spreads phases 1, 2 and 4 over a warp).
template <class T>
void solve_one(const double* t, const T* w, double b, int64_t d, int norm, const double* lo, const double* hi,
               std::vector<Knot>& knots, double* distance, uint8_t* feasible, double* delta) {
  double dot = 0;
  for (int64_t j = 0; j < d; ++j) dot += static_cast<double>(w[j]) * t[j];
  const Setup s = make_setup(b, dot);
  double capacity = 0;
  if (s.c > 0) {
    for (int64_t j = 0; j < d; ++j) {
      const double ws = s.flip * static_cast<double>(w[j]);
      const double r = room(ws, t[j], lo, hi, j);
      knots[j] = make_knot(norm, ws, r, j);
      capacity += capacity_of(ws, r);
    }
  }
  if (s.c == 0 || !(capacity >= s.c)) {  // nothing to move, or no move can reach the plane
    *feasible = s.c == 0;
    *distance = s.c == 0 ? 0.0 : infinity();
    if (delta != nullptr)
      for (int64_t j = 0; j < d; ++j) delta[j] = 0.0;
    return;
  }
  const Solution sol = select(norm, knots.data(), d, s.c);
  double acc = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double ws = s.flip * static_cast<double>(w[j]);
    const double x = delta_of(norm, sol, ws, room(ws, t[j], lo, hi, j), j);
    acc = accumulate_norm(norm, acc, x);
    if (delta != nullptr) delta[j] = x;
  }
  *feasible = 1;
  *distance = norm == kL2 ? std::sqrt(acc) : acc;
}

}  // namespace

template <class T>
void project_hyperplanes(const double* t, const T* w, const double* b, int64_t B, int64_t H, int64_t d, int norm,
                         const double* lo, const double* hi, double* distance, uint8_t* feasible, double* delta,
                         int n_threads) {
  if (B < 0 || H < 0 || d < 1) throw std::invalid_argument("project_hyperplanes: expected B, H >= 0 and d >= 1");
  if (norm != kLinf && norm != kL1 && norm != kL2)
    throw std::invalid_argument("norm: expected 0 (l_inf), 1 (l_1) or 2 (l_2), got " + std::to_string(norm));
  if ((lo == nullptr) != (hi == nullptr)) throw std::invalid_argument("box: expected both lo and hi, or neither");
  const int64_t n = B * H;
  parallel_for(n, n_threads, 4, [&](int64_t p) {
    thread_local std::vector<Knot> knots;  // scratch reused across problems on this thread
    if (static_cast<int64_t>(knots.size()) < d) knots.resize(static_cast<size_t>(d));
    const int64_t i = p / H;
    solve_one(t + i * d, w + p * d, b[p], d, norm, lo, hi, knots, distance + p, feasible + p,
              delta == nullptr ? nullptr : delta + p * d);
  });
}

template void project_hyperplanes<float>(const double*, const float*, const double*, int64_t, int64_t, int64_t, int,
                                         const double*, const double*, double*, uint8_t*, double*, int);
template void project_hyperplanes<double>(const double*, const double*, const double*, int64_t, int64_t, int64_t,
                                          int, const double*, const double*, double*, uint8_t*, double*, int);

}  // namespace assay::core
