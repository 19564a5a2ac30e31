#include "core/projections.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/parallel.hpp"
#include "core/projection_problem.hpp"

namespace assay::core {

namespace {

using namespace projection;

// <w, t> with four running sums (a fixed order: deterministic) so that the adds pipeline.
template <class T>
double dot_of(const T* w, const double* t, int64_t d) {
  double s[4] = {0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 4 <= d; j += 4)
    for (int u = 0; u < 4; ++u) s[u] += static_cast<double>(w[j + u]) * t[j + u];
  for (; j < d; ++j) s[0] += static_cast<double>(w[j]) * t[j];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// The moves from a solution (phase 4); returns the norm.
template <int norm, class T>
double write_moves(const double* t, const T* w, int64_t d, const Setup& s, const Solution& sol, const double* lo,
                   const double* hi, double* delta) {
  double acc = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double ws = s.flip * static_cast<double>(w[j]);
    const double x = delta_of(norm, sol, ws, room(ws, t[j], lo, hi, j), j);
    acc = accumulate_norm(norm, acc, x);
    if (delta != nullptr) delta[j] = x;
  }
  return norm == kL2 ? std::sqrt(acc) : acc;
}

void write_empty(double c, int64_t d, double* distance, uint8_t* feasible, double* delta) {
  *feasible = c == 0;
  *distance = c == 0 ? 0.0 : infinity();
  if (delta != nullptr)
    for (int64_t j = 0; j < d; ++j) delta[j] = 0.0;
}

// No box: the closed form (one scan for the sums, one for the moves).
template <int norm, class T>
void solve_free_one(const double* t, const T* w, int64_t d, const Setup& s, double* distance, uint8_t* feasible,
                    double* delta) {
  Free f{0.0, 0.0, 0};
  for (int64_t j = 0; j < d; ++j) add_free(norm, static_cast<double>(w[j]), j, f);
  if (s.c == 0 || !((norm == kL1 ? f.best : f.sum) > 0)) return write_empty(s.c, d, distance, feasible, delta);
  const Solution sol = solve_free(norm, f, s.c);
  *feasible = 1;
  if (norm == kL1) {  // one coordinate moves: no need to evaluate the others
    if (delta != nullptr) {
      for (int64_t j = 0; j < d; ++j) delta[j] = 0.0;
      delta[sol.critical_index] = std::copysign(sol.part, s.flip * static_cast<double>(w[sol.critical_index]));
    }
    *distance = sol.part;
    return;
  }
  *distance = write_moves<norm>(t, w, d, s, sol, nullptr, nullptr, delta);
}

// One problem, all four phases on this thread (the GPU spreads phases 1, 2 and 4 over a warp).
// The norm is a template argument so that the shared routines' norm branches fold away.
template <int norm, class T>
void solve_one(const double* t, const T* w, double b, int64_t d, const double* lo, const double* hi,
               std::vector<Knot>& knots, double* distance, uint8_t* feasible, double* delta) {
  const Setup s = make_setup(b, dot_of(w, t, d));
  if (lo == nullptr) return solve_free_one<norm>(t, w, d, s, distance, feasible, delta);
  double capacity = 0;
  if (s.c > 0) {
    for (int64_t j = 0; j < d; ++j) {
      const double ws = s.flip * static_cast<double>(w[j]);
      const double r = room(ws, t[j], lo, hi, j);
      knots[j] = make_knot(norm, ws, r, j);
      capacity += capacity_of(ws, r);
    }
  }
  if (s.c == 0 || !(capacity >= s.c))  // nothing to move, or no move can reach the plane
    return write_empty(s.c, d, distance, feasible, delta);
  const Solution sol = bracket_and_select(norm, knots.data(), d, s.c, Known{0.0, 0.0, 0.0});
  *feasible = 1;
  *distance = write_moves<norm>(t, w, d, s, sol, lo, hi, delta);
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
  auto run = [&](auto solve) {
    parallel_for(n, n_threads, 4, [&](int64_t p) {
      thread_local std::vector<Knot> knots;  // scratch reused across problems on this thread
      if (static_cast<int64_t>(knots.size()) < d) knots.resize(static_cast<size_t>(d));
      solve(t + (p / H) * d, w + p * d, b[p], d, lo, hi, knots, distance + p, feasible + p,
            delta == nullptr ? nullptr : delta + p * d);
    });
  };
  if (norm == kLinf) run(solve_one<kLinf, T>);
  if (norm == kL1) run(solve_one<kL1, T>);
  if (norm == kL2) run(solve_one<kL2, T>);
}

template void project_hyperplanes<float>(const double*, const float*, const double*, int64_t, int64_t, int64_t, int,
                                         const double*, const double*, double*, uint8_t*, double*, int);
template void project_hyperplanes<double>(const double*, const double*, const double*, int64_t, int64_t, int64_t, int,
                                          const double*, const double*, double*, uint8_t*, double*, int);

}  // namespace assay::core
