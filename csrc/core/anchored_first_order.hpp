// The first-order (u = one player) squared gap sum_x sum_k (p_k(x) - q_k(x))^2 of a region in
// time independent of the number of leaves a row does not reach. Per leaf l (value c, players F)
// and player k in F, the gap's contribution for a row with pattern b is (anchored_regions.hpp)
//   c * ( a_k M(F\k) - M(F) - [b = F] + [b >= F\k] M(k) ),   a_k = bit k of b,
// and each term is cheap in aggregate:
// - a_k depends on x only through player k's columns, so sum_l c M_l(F\k) a_k^l(x) is a function
//   of x's "class" for player k (rows with equal player-k values). Over classes sorted by value
//   a_k^l is a few runs, so the sum is a difference array per player: O(runs) per (leaf, player).
// - M(F) per leaf: a constant per player.
// - [b = F] and [b >= F\k]: a row reaches one leaf per tree and misses one bit of at most
//   depth more, so these are sparse lists per row (built once for all rows).
// - M(k): the region's class histogram of player k summed over the runs.
// So a region costs O(|R| * (players + trees * depth) + runs + classes) instead of
// O(|R| * leaves * width).
#pragma once
#include <cstdint>
#include <vector>

#include "core/leaf_paths.hpp"
#include "core/players.hpp"

namespace assay::core {

class FirstOrderGaps {
 public:
  // patterns: leaf-major (slot * n + row) patterns of every row of X (n x n_features, C order);
  // leaf_value: c per leaf (0 = the leaf is ignored).
  FirstOrderGaps(const LeafPaths& paths, const Players& players, const std::vector<double>& leaf_value,
                 const uint16_t* patterns, const double* X, int64_t n, int32_t n_features);
  FirstOrderGaps(const FirstOrderGaps&) = delete;  // holds references to its owner's members
  FirstOrderGaps& operator=(const FirstOrderGaps&) = delete;

  // sum over the region's rows and the players of (p_k - q_k)^2.
  double loss(const int64_t* rows, int64_t n) const;

 private:
  struct Hit {
    int32_t leaf;
    int32_t bit;  // -1: the row reaches the leaf; else the one player bit it misses
  };
  const LeafPaths& paths_;
  const std::vector<double>& value_;
  int32_t P_;
  int64_t n_;
  std::vector<int32_t> class_of_;      // player-major: class_of_[k * n + row]
  std::vector<int64_t> class_begin_;   // per player + 1: offsets of its classes (plus one cell each)
  std::vector<int64_t> entry_begin_;   // per leaf + 1: (leaf, local bit) entries
  std::vector<int64_t> run_begin_;     // per entry + 1: into runs_
  std::vector<int32_t> runs_;          // [begin, end) class ranges where the bit is set, flattened
  std::vector<int64_t> hit_begin_;     // per row + 1: into hits_
  std::vector<Hit> hits_;
};

}  // namespace assay::core
