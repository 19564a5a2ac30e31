#include "core/cover_weights.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "core/errors.hpp"

namespace assay::core {

std::vector<double> leaf_cover_ratios(const Forest& f, const LeafPaths& paths, const Players& players,
                                      const std::vector<double>& cover) {
  if (static_cast<int64_t>(cover.size()) != f.n_nodes())
    throw std::invalid_argument("node covers: expected one per node (" + std::to_string(f.n_nodes()) + "), got " +
                                std::to_string(cover.size()));
  for (double c : cover)
    if (!(c >= 0.0) || c == std::numeric_limits<double>::infinity())
      throw std::invalid_argument("node covers: expected finite non-negative values");
  // Parents (global node ids) of every node, tree by tree.
  std::vector<int64_t> parent(f.n_nodes(), -1);
  for (int64_t t = 0; t < f.n_trees(); ++t) {
    const int64_t off = f.tree_offsets[t];
    for (int64_t g = off; g < f.tree_offsets[t + 1]; ++g)
      if (f.feature[g] >= 0) parent[off + f.left[g]] = parent[off + f.right[g]] = g;
  }
  std::vector<double> ratio(paths.leaf_players.size(), 1.0);
  for (int64_t s = 0; s < paths.n_leaves(); ++s) {
    const int64_t begin = paths.leaf_player_begin[s];
    const int d = paths.leaf_width[s];
    for (int64_t child = paths.leaf_value_node[s], node = parent[child]; node >= 0; child = node, node = parent[node]) {
      const int32_t player = players.of_feature[f.feature[node]];
      int k = 0;
      while (k < d && paths.leaf_players[begin + k] != player) ++k;
      ratio[begin + k] *= cover[node] > 0.0 ? cover[child] / cover[node] : 0.0;
    }
  }
  return ratio;
}

void cover_histogram(const double* r, int d, double* counts) {
  // Built bit by bit: after bit k, counts[0 .. 2^(k+1)) is the distribution of bits 0..k.
  counts[0] = 1.0;
  for (int k = 0; k < d; ++k) {
    const int64_t half = int64_t{1} << k;
    for (int64_t b = 0; b < half; ++b) {
      counts[b | half] = counts[b] * r[k];
      counts[b] *= 1.0 - r[k];
    }
  }
}

void cover_patterns(const double* r, int d, int64_t max_patterns, std::vector<uint64_t>& patterns,
                    std::vector<double>& weights) {
  // Players with ratio 1 (every path sample meets them) or 0 fix their bit: only the others vary.
  patterns.assign(1, 0);
  weights.assign(1, 1.0);
  for (int k = 0; k < d; ++k) {
    const uint64_t bit = uint64_t{1} << k;
    if (r[k] >= 1.0) {
      for (auto& b : patterns) b |= bit;
      continue;
    }
    if (r[k] <= 0.0) continue;
    const size_t n = patterns.size();
    if (static_cast<int64_t>(2 * n) > max_patterns)
      throw TooManyPlayers("path-dependent game: a leaf has " + std::to_string(d) +
                           " distinct players on its path, too many for its weight table");
    for (size_t i = 0; i < n; ++i) {
      patterns.push_back(patterns[i] | bit);
      weights.push_back(weights[i] * r[k]);
      weights[i] *= 1.0 - r[k];
    }
  }
}

}  // namespace assay::core
