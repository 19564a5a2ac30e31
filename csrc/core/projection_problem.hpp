// One box-constrained projection problem, written once for g++ and nvcc (ASSAY_HD):
//   minimise ||delta||_p  s.t.  <w, t + delta> = b,  lo <= t + delta <= hi,   p in {inf, 2, 1}.
// See reference/margins.md. With c = b - <w, t> flipped positive, a_j = |w_j|, s_j = sign(w_j)
// after the flip and room r_j (to hi where s_j > 0, to lo where s_j < 0; +inf without a box):
//   l_inf: delta_j = s_j min(lam, r_j)        solve sum_j a_j min(lam, r_j) = c
//   l_2:   delta_j = s_j min(lam a_j, r_j)    solve sum_j a_j min(lam a_j, r_j) = c
//   l_1:   fractional knapsack: saturate in decreasing a_j (lowest index first among ties).
// A problem runs in four phases so that the per-coordinate ones (1, 2, 4) can be spread over the
// lanes of a GPU warp while the selection (3) runs on one lane; on the CPU one thread runs all:
//   1. c = b - <w, t>                          (dot product)
//   2. knots[j] = make_knot(...), capacity      (sum_j a_j r_j decides feasibility)
//   3. select(knots, d, c)                       O(d) expected: quickselect over breakpoints
//   4. delta_j = delta_of(...), the norm         (accumulate_norm)
#pragma once
#include <cstdint>

#include "core/host_device.hpp"

namespace assay::core::projection {

enum Norm : int { kLinf = 0, kL1 = 1, kL2 = 2 };

ASSAY_HD double infinity() { return __builtin_huge_val(); }

// A breakpoint of the piecewise-linear g(lam) (l_inf, l_2) or an item of the knapsack (l_1).
// l_inf: key r_j, slope a_j. l_2: key r_j / a_j, slope a_j^2. In both, the part of g from a
// saturated coordinate is a_j r_j = slope * key. l_1: key a_j, slope = capacity a_j r_j.
// Coordinates with a_j = 0 get key 0 and slope 0: they add nothing anywhere.
struct Knot {
  double key;
  double slope;
  int64_t index;
};

struct Setup {
  double flip;  // +1 or -1: the sign that makes c positive
  double c;     // |b - <w, t>|
};

ASSAY_HD Setup make_setup(double b, double dot) {
  const double c = b - dot;
  return Setup{c < 0 ? -1.0 : 1.0, c < 0 ? -c : c};
}

// Room of coordinate j towards its face in the direction of the flipped w_j (never negative:
// t is inside the box; +inf without a box).
ASSAY_HD double room(double ws, double t, const double* lo, const double* hi, int64_t j) {
  if (lo == nullptr) return infinity();
  const double r = ws > 0 ? hi[j] - t : t - lo[j];
  return r > 0 ? r : 0.0;
}

ASSAY_HD Knot make_knot(int norm, double ws, double r, int64_t j) {
  const double a = ws < 0 ? -ws : ws;
  if (a == 0) return Knot{0.0, 0.0, j};
  if (norm == kLinf) return Knot{r, a, j};
  if (norm == kL2) return Knot{r / a, a * a, j};
  return Knot{a, a * r, j};
}

// a_j r_j: what coordinate j can contribute to <w, delta> at most (0 when w_j = 0).
ASSAY_HD double capacity_of(double ws, double r) {
  const double a = ws < 0 ? -ws : ws;
  return a == 0 ? 0.0 : a * r;
}

// The solved problem. l_inf / l_2: lam. l_1: the critical item (key, index) is split, items
// before it in the (a desc, index asc) order saturate; `part` is what the critical item moves.
struct Solution {
  double lam;
  double critical_key;
  int64_t critical_index;
  double part;
};

ASSAY_HD void swap_knots(Knot& x, Knot& y) {
  const Knot tmp = x;
  x = y;
  y = tmp;
}

// Deterministic pivot choice: a per-call linear congruential sequence (same input, same bits).
ASSAY_HD int64_t next_pivot(uint64_t& state, int64_t begin, int64_t end) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return begin + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(end - begin));
}

// l_inf / l_2: find lam with A + lam * S = c, where A sums slope*key over knots with key <= lam
// (saturated) and S sums slope over knots with key > lam (free). Quickselect with a three-way
// partition keeps ties together; each round drops the pivot's class, and the expected work is
// O(d). Knots are reordered.
ASSAY_HD double solve_level(Knot* k, int64_t n, double c) {
  double A = 0, S = 0, top = 0;
  int64_t begin = 0, end = n;
  uint64_t state = 0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(n);
  while (begin < end) {
    const double p = k[next_pivot(state, begin, end)].key;
    // [begin, lt) key < p, [lt, i) key == p, [gt, end) key > p.
    int64_t lt = begin, i = begin, gt = end;
    double sat_lt = 0, sat_eq = 0, slope_eq = 0, slope_gt = 0;
    while (i < gt) {
      const double key = k[i].key;
      if (key < p) {
        sat_lt += k[i].slope * key;
        swap_knots(k[lt++], k[i++]);
      } else if (key > p) {
        slope_gt += k[i].slope;
        swap_knots(k[i], k[--gt]);
      } else {
        slope_eq += k[i].slope;
        sat_eq += k[i].slope * key;
        ++i;
      }
    }
    if (A + sat_lt + p * (S + slope_eq + slope_gt) >= c) {
      S += slope_eq + slope_gt;  // lam <= p: knots at or above p stay free
      end = lt;
    } else {
      A += sat_lt + sat_eq;  // lam > p: knots at or below p saturate
      if (p > top) top = p;
      begin = gt;
    }
  }
  // S == 0 only when rounding put c a hair above the capacity: stop at the last breakpoint.
  return S > 0 ? (c - A) / S : top;
}

// (a desc, index asc): the order in which the l_1 knapsack saturates coordinates.
ASSAY_HD bool earlier(double key_x, int64_t ix, double key_y, int64_t iy) {
  return key_x > key_y || (key_x == key_y && ix < iy);
}

// l_1: the critical item, the first in `earlier` order at which the cumulative capacity
// reaches c. Quickselect again (distinct order, two-way partition around the pivot item).
ASSAY_HD Solution solve_knapsack(Knot* k, int64_t n, double c) {
  double before = 0;  // capacity of the items known to come before the critical one
  int64_t begin = 0, end = n;
  uint64_t state = 0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(n);
  while (begin < end) {
    swap_knots(k[begin], k[next_pivot(state, begin, end)]);
    const Knot p = k[begin];
    int64_t lt = begin + 1;  // [begin + 1, lt): earlier than the pivot
    double cap_lt = 0;
    for (int64_t i = begin + 1; i < end; ++i) {
      if (earlier(k[i].key, k[i].index, p.key, p.index)) {
        cap_lt += k[i].slope;
        swap_knots(k[lt++], k[i]);
      }
    }
    if (before + cap_lt >= c) {
      begin = begin + 1;  // the critical item is earlier than the pivot
      end = lt;
    } else if (before + cap_lt + p.slope >= c) {
      return Solution{0.0, p.key, p.index, (c - before - cap_lt) / p.key};
    } else {
      before += cap_lt + p.slope;
      begin = lt;
    }
  }
  // Rounding put c a hair above the capacity: every coordinate saturates (critical = none).
  return Solution{0.0, -1.0, 0, 0.0};
}

ASSAY_HD Solution select(int norm, Knot* knots, int64_t n, double c) {
  if (norm == kL1) return solve_knapsack(knots, n, c);
  return Solution{solve_level(knots, n, c), 0.0, 0, 0.0};
}

// Phase 4: the move of coordinate j (in the caller's frame: ws already carries the flip, so
// the sign of ws is the direction).
ASSAY_HD double delta_of(int norm, const Solution& s, double ws, double r, int64_t j) {
  const double a = ws < 0 ? -ws : ws;
  if (a == 0) return 0.0;
  double m;
  if (norm == kLinf) {
    m = s.lam < r ? s.lam : r;
  } else if (norm == kL2) {
    const double free = s.lam * a;
    m = free < r ? free : r;
  } else if (earlier(a, j, s.critical_key, s.critical_index)) {
    m = r;
  } else {
    m = (a == s.critical_key && j == s.critical_index) ? s.part : 0.0;
  }
  return ws > 0 ? m : -m;
}

// Running norm of delta: max |x| for l_inf, sum |x| for l_1, sum x^2 for l_2 (finish_norm
// takes the root).
ASSAY_HD double accumulate_norm(int norm, double acc, double x) {
  const double ax = x < 0 ? -x : x;
  if (norm == kLinf) return acc > ax ? acc : ax;
  if (norm == kL1) return acc + ax;
  return acc + x * x;
}

ASSAY_HD double combine_norm(int norm, double x, double y) {
  if (norm == kLinf) return x > y ? x : y;
  return x + y;
}

}  // namespace assay::core::projection
