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
//   3. bracket with kSamples sample keys (add_to_curves, bracket_of), keep the knots inside
//      the bracket (settle), then select() on them: quickselect, O(d) expected overall
//   4. delta_j = delta_of(...), the norm         (accumulate_norm)
#pragma once
#include <math.h>

#include <cstdint>
#include <cstring>

#include "core/host_device.hpp"

namespace assay::core::projection {

enum Norm : int { kLinf = 0, kL1 = 1, kL2 = 2 };

ASSAY_HD double infinity() {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(0x7ff0000000000000LL);
#else
  return __builtin_huge_val();
#endif
}

// min / max in the form g++ maps to minsd / maxsd (fmin / fmax are libm calls: NaN rules).
ASSAY_HD double min_of(double x, double y) { return x < y ? x : y; }
ASSAY_HD double max_of(double x, double y) { return x > y ? x : y; }

// cond ? yes : no without a branch. The per-coordinate conditions (the sign of w_j, which side
// of the bracket a knot falls) are coin flips; g++ turns `?:` on doubles into mispredicted
// jumps, which made these loops several times slower. nvcc emits a select for `?:` anyway.
ASSAY_HD double pick(bool cond, double yes, double no) {
#if defined(__CUDA_ARCH__)
  return cond ? yes : no;
#else
  uint64_t y, n;
  std::memcpy(&y, &yes, sizeof y);
  std::memcpy(&n, &no, sizeof n);
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(cond);
  const uint64_t bits = (y & mask) | (n & ~mask);
  double out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
#endif
}

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
  const double r = pick(ws > 0, hi[j] - t, t - lo[j]);
  return max_of(r, 0.0);
}

ASSAY_HD Knot make_knot(int norm, double ws, double r, int64_t j) {
  const double a = fabs(ws);
  if (a == 0) return Knot{0.0, 0.0, j};
  if (norm == kLinf) return Knot{r, a, j};
  // l_2: |w_j| below ~1e-154 squares to 0; such a coordinate can add at most a_j r_j, which is
  // below rounding, so it is left out of the search (no 0 * inf breakpoints).
  if (norm == kL2) return a * a == 0 ? Knot{0.0, 0.0, j} : Knot{r / a, a * a, j};
  return Knot{a, a * r, j};
}

// a_j r_j: what coordinate j can contribute to <w, delta> at most (0 when w_j = 0).
ASSAY_HD double capacity_of(double ws, double r) {
  const double a = fabs(ws);
  return pick(a == 0, 0.0, a * r);
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

// --- Without a box every coordinate is free and the answer has a closed form (no knots):
// l_inf lam = c / sum a_j, l_2 lam = c / sum a_j^2, l_1 everything on the first largest a_j.
struct Free {
  double sum;    // sum a_j (l_inf) or sum a_j^2 (l_2)
  double best;   // l_1: the largest a_j so far
  int64_t best_index;
};

ASSAY_HD void add_free(int norm, double ws, int64_t j, Free& f) {
  const double a = fabs(ws);
  if (norm == kL1) {
    const bool better = a > f.best;  // strictly: the lowest index wins ties
    f.best_index = better ? j : f.best_index;
    f.best = max_of(a, f.best);
  } else {
    f.sum += norm == kL2 ? a * a : a;
  }
}

// Merge two partial scans (GPU lanes); ties in the largest a_j go to the lower index.
ASSAY_HD Free merge_free(const Free& x, const Free& y) {
  const bool take_y = y.best > x.best || (y.best == x.best && y.best_index < x.best_index);
  return Free{x.sum + y.sum, take_y ? y.best : x.best, take_y ? y.best_index : x.best_index};
}

ASSAY_HD Solution solve_free(int norm, const Free& f, double c) {
  if (norm == kL1) return Solution{0.0, f.best, f.best_index, c / f.best};
  return Solution{c / f.sum, 0.0, 0, 0.0};
}

// --- Phase 3a: bracketing. A few sample keys cut the search to a small candidate set in two
// branch-free passes (the curves at all samples at once, then a compaction), so the quickselect
// that follows touches ~d / kSamples knots instead of ~3 d with a mispredicted branch each.
constexpr int kSamples = 4;
constexpr int64_t kFewCandidates = 64;  // below this, quickselect directly

// Keys of kSamples evenly spaced knots (padded with +inf when n is smaller), sorted.
ASSAY_HD void sample_keys(const Knot* k, int64_t n, double* p) {
  for (int s = 0; s < kSamples; ++s) p[s] = s < n ? k[(static_cast<int64_t>(s) * n) / kSamples].key : infinity();
  for (int s = 1; s < kSamples; ++s)  // insertion sort of a few numbers
    for (int u = s; u > 0 && p[u - 1] > p[u]; --u) {
      const double tmp = p[u];
      p[u] = p[u - 1];
      p[u - 1] = tmp;
    }
}

// The curves at every sample: level (l_inf, l_2) g(p) = sum slope * min(key, p), the part of
// <w, delta> reached at lam = p; knapsack (l_1) the capacity of the items with key > p.
ASSAY_HD void add_to_curves(int norm, const Knot& k, const double* p, double* acc) {
  if (norm == kL1) {
    for (int s = 0; s < kSamples; ++s) acc[s] += pick(k.key > p[s], k.slope, 0.0);
  } else if (k.slope != 0) {
    for (int s = 0; s < kSamples; ++s) acc[s] += k.slope * min_of(k.key, p[s]);
  }
}

// What is known once the bracket is set. Level: `sat` = sum slope * key of the saturated
// knots, `slope` = sum slope of the free ones, `top` = the largest saturated key. Knapsack:
// `sat` = capacity of the items before the critical one.
struct Known {
  double sat;
  double slope;
  double top;
};

// Candidates are the knots with low < key < high (level) or low < key <= high (knapsack).
struct Bracket {
  double low;
  double high;
};

// `curve` covers the candidates only; `known` adds what earlier rounds settled.
ASSAY_HD Bracket bracket_of(int norm, const double* p, const double* curve, double c, const Known& known) {
  int s = 0;
  if (norm == kL1) {
    while (s < kSamples && known.sat + curve[s] >= c) ++s;  // critical key <= p[s] and > p[s - 1]
  } else {
    // g(p) = saturated part + p * free slope (no inf * 0 when nothing is free yet).
    while (s < kSamples && known.sat + pick(known.slope == 0, 0.0, p[s] * known.slope) + curve[s] < c) ++s;
  }
  return Bracket{s > 0 ? p[s - 1] : -1.0, s < kSamples ? p[s] : infinity()};
}

// -1 / +1: settled below / above the bracket (folded into `known`), 0: a candidate.
// Branch-free: most knots settle, on either side at random.
ASSAY_HD int settle(int norm, const Knot& k, const Bracket& br, Known& known) {
  const bool below = k.key <= br.low;
  if (norm == kL1) {
    const bool above = k.key > br.high;
    known.sat += pick(above, k.slope, 0.0);
    return static_cast<int>(above) - static_cast<int>(below);
  }
  const bool above = k.key >= br.high;
  known.sat += pick(below, k.slope * k.key, 0.0);
  known.top = max_of(known.top, pick(below, k.key, 0.0));
  known.slope += pick(above, k.slope, 0.0);
  return static_cast<int>(above) - static_cast<int>(below);
}

ASSAY_HD void merge_known(Known& into, const Known& x) {
  into.sat += x.sat;
  into.slope += x.slope;
  if (x.top > into.top) into.top = x.top;
}

// --- Phase 3b: quickselect over the candidates.

// Deterministic pivot choice: a per-call linear congruential sequence (same input, same bits).
ASSAY_HD int64_t next_pivot(uint64_t& state, int64_t begin, int64_t end) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return begin + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(end - begin));
}

// l_inf / l_2: find lam with A + lam * S = c, where A sums slope*key over knots with key < lam
// (saturated) and S sums slope over knots with key >= lam (free). Quickselect with a three-way
// partition keeps ties together; each round settles the pivot's class. Knots are reordered.
ASSAY_HD double solve_level(Knot* k, int64_t n, double c, Known known) {
  double A = known.sat, S = known.slope, top = known.top;
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
  return (key_x > key_y) | ((key_x == key_y) & (ix < iy));
}

// l_1: the critical item, the first in `earlier` order at which the cumulative capacity
// reaches c. Quickselect again (distinct order, two-way partition around the pivot item).
ASSAY_HD Solution solve_knapsack(Knot* k, int64_t n, double c, Known known) {
  double before = known.sat;  // capacity of the items known to come before the critical one
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

// The candidates are knots[0, n); `known` holds what the bracketing settled.
ASSAY_HD Solution select(int norm, Knot* knots, int64_t n, double c, const Known& known) {
  if (norm == kL1) return solve_knapsack(knots, n, c, known);
  return Solution{solve_level(knots, n, c, known), 0.0, 0, 0.0};
}

// One bracketing round over knots[0, n): returns the new candidate count (compacted in place,
// branch-free) and folds the settled knots into `known`.
ASSAY_HD int64_t bracket_round(int norm, Knot* k, int64_t n, double c, Known& known) {
  double p[kSamples], curve[kSamples];
  for (int s = 0; s < kSamples; ++s) curve[s] = 0;
  sample_keys(k, n, p);
  for (int64_t j = 0; j < n; ++j) add_to_curves(norm, k[j], p, curve);
  const Bracket br = bracket_of(norm, p, curve, c, known);
  int64_t m = 0;
  for (int64_t j = 0; j < n; ++j) {
    const Knot x = k[j];
    k[m] = x;  // m <= j
    m += settle(norm, x, br, known) == 0;
  }
  return m;
}

// Phase 3 on one thread: bracketing rounds while many candidates remain, then quickselect.
ASSAY_HD Solution bracket_and_select(int norm, Knot* k, int64_t n, double c, Known known) {
  while (n > kFewCandidates) {
    const int64_t m = bracket_round(norm, k, n, c, known);
    if (m == n) break;  // no progress (many equal keys): quickselect handles ties
    n = m;
  }
  return select(norm, k, n, c, known);
}

// Phase 4: the move of coordinate j (in the caller's frame: ws already carries the flip, so
// the sign of ws is the direction).
ASSAY_HD double delta_of(int norm, const Solution& s, double ws, double r, int64_t j) {
  const double a = fabs(ws);
  double m;
  if (norm == kLinf) {
    m = min_of(s.lam, r);
  } else if (norm == kL2) {
    m = min_of(s.lam * a, r);
  } else {
    const bool before = earlier(a, j, s.critical_key, s.critical_index);
    const bool critical = (a == s.critical_key) & (j == s.critical_index);
    m = pick(before, r, pick(critical, s.part, 0.0));
  }
  m = pick(a == 0, 0.0, m);  // coordinates with w_j = 0 never move
  return copysign(m, ws);
}

// Running norm of delta: max |x| for l_inf, sum |x| for l_1, sum x^2 for l_2 (finish_norm
// takes the root).
ASSAY_HD double accumulate_norm(int norm, double acc, double x) {
  const double ax = fabs(x);
  if (norm == kLinf) return max_of(acc, ax);
  if (norm == kL1) return acc + ax;
  return acc + x * x;
}

ASSAY_HD double combine_norm(int norm, double x, double y) {
  if (norm == kLinf) return max_of(x, y);
  return x + y;
}

}  // namespace assay::core::projection
