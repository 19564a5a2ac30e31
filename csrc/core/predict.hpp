#pragma once
#include <cstdint>

#include "core/forest.hpp"

namespace assay::core {

// Index (global) of the leaf that row x reaches in tree t.
inline int64_t find_leaf(const Forest& f, int64_t t, const double* x) {
  const int64_t off = f.tree_offsets[t];
  int64_t node = off;
  while (f.feature[node] >= 0) {
    node = off + (goes_left(f, node, x[f.feature[node]]) ? f.left[node] : f.right[node]);
  }
  return node;
}

// Raw (margin) output: out[n, K] = base_score + sum of leaf values. X is (n, n_features) C order.
void predict_raw(const Forest& f, const double* X, int64_t n, double* out, int n_threads);

}  // namespace assay::core
