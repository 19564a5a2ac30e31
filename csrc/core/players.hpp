// The players of the attribution game: single features, or groups of features that enter and
// leave the coalition together (one-hot blocks, a sensor's channels). A player is satisfied on
// a path when the sample meets every condition on all of its features there.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/indices.hpp"

namespace assay::core {

struct Players {
  int32_t n = 0;
  std::vector<int32_t> of_feature;  // per feature: its player in [0, n)

  static Players identity(int32_t n_features) {
    Players p;
    p.n = n_features;
    p.of_feature.resize(n_features);
    for (int32_t j = 0; j < n_features; ++j) p.of_feature[j] = j;
    return p;
  }

  // Every feature has a player and every player at least one feature.
  void validate(int32_t n_features) const {
    if (static_cast<int32_t>(of_feature.size()) != n_features)
      throw std::invalid_argument("groups: expected a player for each of the " + std::to_string(n_features) +
                                  " features, got " + std::to_string(of_feature.size()));
    std::vector<uint8_t> used(n > 0 ? n : 0, 0);
    for (int32_t p : of_feature) {
      if (p < 0 || p >= n) throw std::invalid_argument("groups: player id out of range");
      used[p] = 1;
    }
    for (int32_t p = 0; p < n; ++p)
      if (!used[p]) throw std::invalid_argument("groups: player " + std::to_string(p) + " has no feature");
  }
};

// Values per row: P x K for first-order indices, P x P x K for pairwise ones; entry (i, j) of
// a row (j == i for first order) starts at entry_column(i, j) * K.
struct OutputLayout {
  int32_t players;
  int32_t outputs;
  bool pairs;

  OutputLayout(const Players& p, int32_t K, Index ix) : players(p.n), outputs(K), pairs(second_order(ix)) {}
  int64_t columns() const { return pairs ? static_cast<int64_t>(players) * players : players; }
  int64_t row_size() const { return columns() * outputs; }
  int64_t column(int32_t i, int32_t j) const { return pairs ? static_cast<int64_t>(i) * players + j : i; }
};

}  // namespace assay::core
