// The attribution indices assay computes, in closed form for the single-leaf game.
//
// For a leaf with value v and one (foreground x, background z) pair, let S_X be the players
// (features or feature groups) on the leaf's path that only x satisfies and S_Z those that only
// z satisfies (s = |S_X|, m = |S_Z|, n = s + m; players both satisfy, or off the path, are null).
// The hybrid point reaches the leaf iff every player in S_X is taken from x and none in S_Z is:
// u(S) = v [S_X <= S] [S_Z disjoint from S]. Every index below is linear in u, so it is v times
// a weight that depends only on (s, m) and on which side each player is:
//
//   Shapley        i in S_X: (s-1)! m! / n!           i in S_Z: -s! (m-1)! / n!
//   Banzhaf        i in S_X: 1 / 2^(n-1)              i in S_Z: -1 / 2^(n-1)
//                  (one subset S of the others makes i pivotal, out of 2^(n-1))
//   Shapley interaction index, shap's convention (matrix M, off-diagonals hold I_ij / 2, the
//   diagonal makes each row sum to the Shapley value). The discrete derivative d_ij u(S) is
//   nonzero at exactly one S, of size s-2, s or s-1:
//     i, j in S_X:  I =  (s-2)! m! / (n-1)!           i, j in S_Z:  I = s! (m-2)! / (n-1)!
//     i in S_X, j in S_Z:  I = -(s-1)! (m-1)! / (n-1)!
//     M_ii = Shapley_i - sum_{j != i} M_ij
//   Shapley-Taylor, order 2 (same single S, weight 2 / (n C(n-1, |S|)), split into halves):
//     i, j in S_X:  M_ij = (s-2)! (m+1)! / n!          i, j in S_Z:  M_ij = s! (m-1)! / n!
//     i in S_X, j in S_Z:  M_ij = M_ji = -(s-1)! m! / n!
//     main effects M_ii = u({i}) - u({}):  +1 if S_X = {i};  -1 if S_X is empty and i in S_Z.
//     All entries sum to u(all) - u({}).
// Null players get nothing from any of them, so a leaf's own players are all that matter.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace assay::core {

enum class Index : int32_t { kShapley = 0, kBanzhaf = 1, kInteraction = 2, kTaylor = 3 };

inline bool second_order(Index ix) { return ix == Index::kInteraction || ix == Index::kTaylor; }

inline Index index_from_int(int32_t code) {
  if (code < 0 || code > 3)
    throw std::invalid_argument("index: expected 0 (shapley), 1 (banzhaf), 2 (interaction) or 3 (taylor)");
  return static_cast<Index>(code);
}

// Weights of one player (diag: the player's own entry) or one pair of players (xx: both in
// S_X, zz: both in S_Z, xz: one on each side), as functions of (s, m). Tabulated for
// s, m <= 256; larger values (very long paths) are computed on demand.
class IndexWeights {
 public:
  enum Kind { kDiagX = 0, kDiagZ = 1, kXX = 2, kZZ = 3, kXZ = 4, kKinds = 5 };

  IndexWeights(Index ix, int max_n) : ix_(ix), n_(std::min(std::max(max_n, 1), 256) + 1) {
    table_.resize(static_cast<size_t>(kKinds) * n_ * n_);
    for (int kind = 0; kind < kKinds; ++kind)
      for (int s = 0; s < n_; ++s)
        for (int m = 0; m < n_; ++m) table_[(static_cast<size_t>(kind) * n_ + s) * n_ + m] = compute(kind, s, m);
  }

  Index index() const { return ix_; }
  bool pairs() const { return second_order(ix_); }
  double get(int kind, int s, int m) const {
    if (s < n_ && m < n_) return table_[(static_cast<size_t>(kind) * n_ + s) * n_ + m];
    return compute(kind, s, m);
  }

 private:
  // a! b! / c!, for a, b, c >= 0
  static double fact_ratio(int a, int b, int c) {
    return static_cast<double>(std::exp(std::lgamma(static_cast<long double>(a) + 1) +
                                        std::lgamma(static_cast<long double>(b) + 1) -
                                        std::lgamma(static_cast<long double>(c) + 1)));
  }
  static double shapley_x(int s, int m) { return s >= 1 ? fact_ratio(s - 1, m, s + m) : 0.0; }
  static double shapley_z(int s, int m) { return m >= 1 ? -fact_ratio(s, m - 1, s + m) : 0.0; }

  double compute(int kind, int s, int m) const {
    const int n = s + m;
    if (n == 0) return 0.0;
    switch (ix_) {
      case Index::kShapley: return kind == kDiagX ? shapley_x(s, m) : kind == kDiagZ ? shapley_z(s, m) : 0.0;
      case Index::kBanzhaf: {
        const double w = std::ldexp(1.0, -(n - 1));
        return kind == kDiagX ? (s >= 1 ? w : 0.0) : kind == kDiagZ ? (m >= 1 ? -w : 0.0) : 0.0;
      }
      case Index::kInteraction: {
        const double xx = s >= 2 ? fact_ratio(s - 2, m, n - 1) / 2 : 0.0;
        const double zz = m >= 2 ? fact_ratio(s, m - 2, n - 1) / 2 : 0.0;
        const double xz = (s >= 1 && m >= 1) ? -fact_ratio(s - 1, m - 1, n - 1) / 2 : 0.0;
        switch (kind) {
          case kDiagX: return s >= 1 ? shapley_x(s, m) - (s - 1) * xx - m * xz : 0.0;
          case kDiagZ: return m >= 1 ? shapley_z(s, m) - (m - 1) * zz - s * xz : 0.0;
          case kXX: return xx;
          case kZZ: return zz;
          default: return xz;
        }
      }
      case Index::kTaylor:
        switch (kind) {
          case kDiagX: return s == 1 ? 1.0 : 0.0;
          case kDiagZ: return (s == 0 && m >= 1) ? -1.0 : 0.0;
          case kXX: return s >= 2 ? fact_ratio(s - 2, m + 1, n) : 0.0;
          case kZZ: return m >= 2 ? fact_ratio(s, m - 1, n) : 0.0;
          default: return (s >= 1 && m >= 1) ? -fact_ratio(s - 1, m, n) : 0.0;
        }
    }
    return 0.0;
  }

  Index ix_;
  int n_;
  std::vector<double> table_;  // kKinds x n x n
};

// The index's entries for one leaf game: xs / zs list the s x-only and m z-only players (any
// ids). add(i, j, w) receives weight w for entry (i, j); first-order indices only use (i, i).
template <class Add>
void for_each_game_entry(const IndexWeights& w, const int32_t* xs, int s, const int32_t* zs, int m, Add&& add) {
  if (s + m == 0) return;
  const double dx = w.get(IndexWeights::kDiagX, s, m), dz = w.get(IndexWeights::kDiagZ, s, m);
  for (int a = 0; a < s; ++a) add(xs[a], xs[a], dx);
  for (int a = 0; a < m; ++a) add(zs[a], zs[a], dz);
  if (!w.pairs()) return;
  const double xx = w.get(IndexWeights::kXX, s, m), zz = w.get(IndexWeights::kZZ, s, m),
               xz = w.get(IndexWeights::kXZ, s, m);
  for (int a = 0; a < s; ++a) {
    for (int b = 0; b < s; ++b)
      if (a != b) add(xs[a], xs[b], xx);
    for (int b = 0; b < m; ++b) {
      add(xs[a], zs[b], xz);
      add(zs[b], xs[a], xz);
    }
  }
  for (int a = 0; a < m; ++a)
    for (int b = 0; b < m; ++b)
      if (a != b) add(zs[a], zs[b], zz);
}

}  // namespace assay::core
