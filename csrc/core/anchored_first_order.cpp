#include "core/anchored_first_order.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace assay::core {

namespace {
// Equal values (NaN equal to NaN) share a class; NaN sorts last.
inline bool less_nan_last(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}
inline bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }
}  // namespace

FirstOrderGaps::FirstOrderGaps(const LeafPaths& paths, const Players& players, const std::vector<double>& leaf_value,
                               const uint16_t* patterns, const double* X, int64_t n, int32_t F)
    : paths_(paths), value_(leaf_value), P_(players.n), n_(n) {
  // Classes per player: rows sorted by the player's columns (lexicographically), equal rows share one.
  std::vector<std::vector<int32_t>> feats(P_);
  for (int32_t j = 0; j < F; ++j) feats[players.of_feature[j]].push_back(j);
  class_of_.assign(static_cast<size_t>(P_) * n, 0);
  class_begin_.assign(P_ + 1, 0);
  std::vector<std::vector<int64_t>> rep(P_);  // per player: a row of each class
  std::vector<int64_t> order(n);
  for (int32_t k = 0; k < P_; ++k) {
    const auto& fk = feats[k];
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      for (int32_t j : fk) {
        const double va = X[a * F + j], vb = X[b * F + j];
        if (same(va, vb)) continue;
        return less_nan_last(va, vb);
      }
      return false;
    });
    int32_t c = -1;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = order[i];
      bool fresh = c < 0;
      for (size_t q = 0; !fresh && q < fk.size(); ++q) fresh = !same(X[r * F + fk[q]], X[rep[k].back() * F + fk[q]]);
      if (fresh) {
        ++c;
        rep[k].push_back(r);
      }
      class_of_[k * n + r] = c;
    }
    class_begin_[k + 1] = class_begin_[k] + c + 2;  // C_k classes and one end cell
  }
  // Runs of classes where each (leaf, bit) is satisfied, from one row per class.
  const int64_t L = paths.n_leaves();
  entry_begin_.assign(L + 1, 0);
  for (int64_t l = 0; l < L; ++l) entry_begin_[l + 1] = entry_begin_[l] + paths.leaf_width[l];
  run_begin_.assign(entry_begin_[L] + 1, 0);
  for (int64_t l = 0; l < L; ++l) {
    const int d = paths.leaf_width[l];
    const int32_t* pl = &paths.leaf_players[paths.leaf_player_begin[l]];
    for (int k = 0; k < d; ++k) {
      const int64_t e = entry_begin_[l] + k;
      if (value_[l] != 0.0) {
        const auto& reps = rep[pl[k]];
        const int32_t C = static_cast<int32_t>(reps.size());
        for (int32_t c = 0; c < C;) {
          if (!((patterns[l * n + reps[c]] >> k) & 1)) {
            ++c;
            continue;
          }
          int32_t end = c + 1;
          while (end < C && ((patterns[l * n + reps[end]] >> k) & 1)) ++end;
          runs_.push_back(c);
          runs_.push_back(end);
          c = end;
        }
      }
      run_begin_[e + 1] = static_cast<int64_t>(runs_.size());
    }
  }
  // Per row: the leaves it reaches or misses by one player.
  hit_begin_.assign(n + 1, 0);
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int64_t> cursor(hit_begin_.begin(), hit_begin_.end() - 1);
    for (int64_t l = 0; l < L; ++l) {
      const int d = paths.leaf_width[l];
      if (d == 0 || value_[l] == 0.0) continue;
      const uint32_t full = static_cast<uint32_t>(width_mask(d));
      for (int64_t r = 0; r < n; ++r) {
        const uint32_t miss = full & ~static_cast<uint32_t>(patterns[l * n + r]);
        if (miss != 0 && (miss & (miss - 1)) != 0) continue;
        if (pass == 0) {
          ++hit_begin_[r + 1];
        } else {
          hits_[cursor[r]++] = {static_cast<int32_t>(l), miss == 0 ? -1 : popcount64(miss - 1)};
        }
      }
    }
    if (pass == 0) {
      for (int64_t r = 0; r < n; ++r) hit_begin_[r + 1] += hit_begin_[r];
      hits_.resize(hit_begin_[n]);
    }
  }
}

double FirstOrderGaps::loss(const int64_t* rows, int64_t n) const {
  if (n < 1) return 0.0;
  const int64_t L = paths_.n_leaves();
  const double inv = 1.0 / static_cast<double>(n);
  std::vector<double> reach(L, 0.0), miss(entry_begin_[L], 0.0), Mk(entry_begin_[L], 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t h = hit_begin_[rows[i]]; h < hit_begin_[rows[i] + 1]; ++h) {
      const Hit& hit = hits_[h];
      if (hit.bit < 0) reach[hit.leaf] += 1.0;
      else miss[entry_begin_[hit.leaf] + hit.bit] += 1.0;
    }
  // Region histograms of each player's classes, as prefix sums (cell c = rows of classes < c).
  std::vector<double> prefix(class_begin_[P_], 0.0), diff(class_begin_[P_], 0.0), constant(P_, 0.0);
  for (int32_t k = 0; k < P_; ++k) {
    double* pre = &prefix[class_begin_[k]];
    for (int64_t i = 0; i < n; ++i) pre[class_of_[k * n_ + rows[i]] + 1] += 1.0;
    for (int64_t c = class_begin_[k] + 1; c < class_begin_[k + 1]; ++c) prefix[c] += prefix[c - 1];
  }
  for (int64_t l = 0; l < L; ++l) {
    const double cl = value_[l];
    const int d = paths_.leaf_width[l];
    if (d == 0 || cl == 0.0) continue;
    const int32_t* pl = &paths_.leaf_players[paths_.leaf_player_begin[l]];
    for (int k = 0; k < d; ++k) {
      const int64_t e = entry_begin_[l] + k;
      // M(F\k) = 0 means no row of R reaches l or misses only k: every term of (l, k) vanishes.
      if (reach[l] == 0.0 && miss[e] == 0.0) continue;
      const int32_t p = pl[k];
      const double* pre = &prefix[class_begin_[p]];
      double* df = &diff[class_begin_[p]];
      const double w = cl * (reach[l] + miss[e]) * inv;  // c * M(F\k)
      double count = 0.0;
      for (int64_t q = run_begin_[e]; q < run_begin_[e + 1]; q += 2) {
        count += pre[runs_[q + 1]] - pre[runs_[q]];
        df[runs_[q]] += w;
        df[runs_[q + 1]] -= w;
      }
      Mk[e] = count * inv;
      constant[p] += cl * reach[l] * inv;  // c * M(F)
    }
  }
  for (int32_t k = 0; k < P_; ++k)
    for (int64_t c = class_begin_[k] + 1; c < class_begin_[k + 1]; ++c) diff[c] += diff[c - 1];
  std::vector<double> delta(P_);
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = rows[i];
    for (int32_t k = 0; k < P_; ++k) delta[k] = diff[class_begin_[k] + class_of_[k * n_ + r]] - constant[k];
    for (int64_t h = hit_begin_[r]; h < hit_begin_[r + 1]; ++h) {
      const Hit& hit = hits_[h];
      const double cl = value_[hit.leaf];
      const int32_t* pl = &paths_.leaf_players[paths_.leaf_player_begin[hit.leaf]];
      const int64_t e0 = entry_begin_[hit.leaf];
      if (hit.bit >= 0) {
        delta[pl[hit.bit]] += cl * Mk[e0 + hit.bit];
      } else {
        for (int k = 0; k < paths_.leaf_width[hit.leaf]; ++k) delta[pl[k]] += cl * (Mk[e0 + k] - 1.0);
      }
    }
    for (int32_t k = 0; k < P_; ++k) total += delta[k] * delta[k];
  }
  return total;
}

}  // namespace assay::core
