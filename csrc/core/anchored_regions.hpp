// GRANITE's anchored decomposition of a tree ensemble on a region R of a fixed data set X, where
// the explained points and the background are the same rows (R). For a leaf l with value c and
// distinct players F (leaf_paths.hpp), a row's pattern b holds the players whose conditions it
// meets, and f(x_S, z_-S) = c [x meets F & S] [z meets F \ S]. With M(T) = fraction of rows of R
// meeting T (superset sums of the region's pattern histogram), for u a subset of F:
//   pure p_u(x) = mean_z H_u(x, z)            = c sum_{w <= u} (-1)^|w| [b >= u\w] M((F\u) | w)
//   full q_u(x) = (-1)^|u| mean_x' H_u(x', x) = c sum_{w <= u} (-1)^|w| [b >= F\w] M(w)
// and a leaf with u not inside F adds nothing (its alternating sum cancels). So a region costs
// O(|R| * leaves * entries) table lookups and never forms the |R| x |R| pairs.
// Entries (the u's): the P players, then (order 2) the pairs i < j in row-major order.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/anchored_first_order.hpp"
#include "core/forest.hpp"
#include "core/leaf_paths.hpp"
#include "core/players.hpp"
#include "core/progress.hpp"

namespace assay::core {

// Widest leaf path (distinct players) the region tables handle: 2^12 cells per leaf.
constexpr int kMaxRegionBits = 12;

class AnchoredRegions {
 public:
  // Decision patterns of every (leaf, row) of X (n x n_features, C order), for output `output`.
  AnchoredRegions(const Forest& forest, const Players& players, int32_t output, const double* X, int64_t n,
                  int n_threads, Progress* progress = nullptr);
  AnchoredRegions(const AnchoredRegions&) = delete;  // first_order_ refers to members
  AnchoredRegions& operator=(const AnchoredRegions&) = delete;

  int64_t n_rows() const { return n_; }
  int32_t n_players() const { return players_.n; }
  int64_t n_entries(bool pairs) const;
  int32_t max_leaf_width() const { return max_width_; }

  // p and q, each (n_rows_in_region, n_entries) C order, for the region `rows` (indices into X).
  void effects(const int64_t* rows, int64_t n, bool pairs, double* p, double* q) const;
  // sum over rows of R and entries u of (p_u - q_u)^2.
  double loss(const int64_t* rows, int64_t n, bool pairs) const;
  // For each threshold t[c]: the loss of {rows with column[row] <= t[c]} and of the rest
  // (out[2c], out[2c + 1]); column has one value per row of X. Parallel over thresholds.
  void split_losses(const int64_t* rows, int64_t n, const double* column, const double* t, int64_t m, bool pairs,
                    double* out, int n_threads, Progress* progress = nullptr) const;

 private:
  struct Scratch {
    std::vector<double> hist, M, table, delta;
  };
  // M[mask] for leaf `slot` over the region (2^d cells).
  void region_means(int64_t slot, const int64_t* rows, int64_t n, Scratch& s) const;
  // The leaf's entries: local masks and output columns.
  void leaf_entries(int64_t slot, bool pairs, std::vector<uint32_t>& masks, std::vector<int64_t>& cols) const;
  double loss_with(const int64_t* rows, int64_t n, bool pairs, Scratch& s) const;

  Players players_;
  LeafPaths paths_;
  int64_t n_;
  int32_t max_width_ = 0;
  std::vector<double> leaf_value_;   // per leaf: c for the chosen output (0 if its tree has another)
  std::vector<uint16_t> patterns_;   // leaf-major: patterns_[slot * n + row]
  std::unique_ptr<FirstOrderGaps> first_order_;  // the order-1 loss without per-leaf row work
};

// p and q parts of entry u (a local mask of 1 or 2 bits) of a leaf with full mask F, for a row
// with pattern b, from the region means M (the formulas above, without the leaf value).
inline void anchored_entry(uint32_t F, uint32_t u, uint32_t b, const double* M, double& p, double& q) {
  p = 0.0;
  q = 0.0;
  for (uint32_t w = u;; w = (w - 1) & u) {  // every subset w of u
    const double sign = (popcount64(w) & 1) ? -1.0 : 1.0;
    const uint32_t x_part = u & ~w;
    if ((b & x_part) == x_part) p += sign * M[(F & ~u) | w];
    const uint32_t need = F & ~w;
    if ((b & need) == need) q += sign * M[w];
    if (w == 0) break;
  }
}

}  // namespace assay::core
