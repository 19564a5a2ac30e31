// The flat tree-ensemble IR every kernel works on. Converters (Python) fill it; kernels
// never see XGBoost, LightGBM or scikit-learn. Struct-of-arrays, node indices local to a tree.
#pragma once
#include <cstdint>
#include <vector>

#include "core/split_decision.hpp"

namespace assay::core {

// The Forest's arrays by name, written once: the binding's constructor, its pickled state and
// Forest.ARRAYS (Python) all follow from this list.
// (clang-format lays this macro out differently on every run: kept as written)
// clang-format off
#define ASSAY_FOREST_ARRAYS(X)                                                                    \
  X(tree_offsets) X(tree_output) X(feature) X(threshold) X(left) X(right) X(default_left)     \
  X(policy) X(cat_offset) X(cat_nwords) X(cat_words) X(value) X(base_score)
// clang-format on

struct Forest {
  int32_t n_features = 0;
  int32_t n_outputs = 1;                // K
  std::vector<int64_t> tree_offsets;    // n_trees + 1; tree t owns nodes [off[t], off[t+1])
  std::vector<int32_t> tree_output;     // per tree: -1 = leaves carry K values, k = only output k
  std::vector<int32_t> feature;         // per node; -1 marks a leaf
  std::vector<double> threshold;        // per node (numeric splits)
  std::vector<int32_t> left, right;     // per node, local to the tree
  std::vector<uint8_t> default_left;    // per node: direction of missing values
  std::vector<uint8_t> policy;          // per node: SplitPolicy
  std::vector<int64_t> cat_offset;      // per node: first word of its category bitset
  std::vector<int32_t> cat_nwords;      // per node: bitset length in 32-bit words
  std::vector<uint32_t> cat_words;      // all bitsets
  std::vector<double> value;            // n_nodes * K leaf values (internal nodes ignored)
  std::vector<double> base_score;       // K

  int64_t n_trees() const { return static_cast<int64_t>(tree_offsets.size()) - 1; }
  int64_t n_nodes() const { return static_cast<int64_t>(feature.size()); }
  int32_t max_depth = 0;                // filled by validate()

  // Throws std::invalid_argument on any inconsistency (bad child, cycle, shared node,
  // out-of-range feature or bitset). After it returns, kernels may index without checks.
  void validate();

  // Trees [begin, end) as a forest of their own (same features and outputs, zero base score):
  // per-tree attributions for Rashomon sets of sub-forests.
  Forest subforest(int64_t begin, int64_t end) const;
};

inline bool goes_left(const Forest& f, int64_t node, double x) {
  return decide(static_cast<SplitPolicy>(f.policy[node]), f.default_left[node] != 0, f.threshold[node],
                f.cat_words.data() + f.cat_offset[node], f.cat_nwords[node], x);
}

}  // namespace assay::core
