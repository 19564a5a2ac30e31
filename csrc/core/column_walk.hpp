// Decision patterns for a block of rows at once. Rows are read column-major, and each node's
// split test runs as one tight loop over the block with its policy resolved outside the loop,
// so the compiler can vectorise it. Each leaf then sees the patterns of every row of the block
// together, which lets the caller keep that leaf's table hot in cache across the rows.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/forest.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_paths.hpp"

namespace assay::core {

// Row-major (n, F) rows -> the feature-major layout of a ColumnBlock with the given stride.
inline void transpose_rows(const double* rows, int64_t n, int32_t F, double* cols, int64_t stride) {
  for (int64_t r = 0; r < n; ++r)
    for (int32_t j = 0; j < F; ++j) cols[j * stride + r] = rows[r * F + j];
}

// Feature f of row r is cols[f * stride + r], for r in [0, n).
struct ColumnBlock {
  const double* cols;
  int64_t stride;
  int64_t n;
};

namespace detail {

template <SplitPolicy P>
void decide_rows(const PatternNode& nd, const uint32_t* cat_words, const double* x, int64_t n, uint8_t* go_left) {
  const bool dl = nd.default_left != 0;
  const uint32_t* cats = cat_words + nd.cat_begin;
  for (int64_t r = 0; r < n; ++r) go_left[r] = decide(P, dl, nd.threshold, cats, nd.cat_nwords, x[r]);
}

// The common numeric splits as single comparisons, so the loops vectorise (same results as
// decide()): a NaN fails every comparison, so "NaN goes left" is "not (x above t)".
template <>
inline void decide_rows<SplitPolicy::kXgbNumeric>(const PatternNode& nd, const uint32_t*, const double* x, int64_t n,
                                                  uint8_t* go_left) {
  const float t = static_cast<float>(nd.threshold);
  if (nd.default_left) {
    for (int64_t r = 0; r < n; ++r) go_left[r] = !(static_cast<float>(x[r]) >= t);
  } else {
    for (int64_t r = 0; r < n; ++r) go_left[r] = static_cast<float>(x[r]) < t;
  }
}

// The largest float <= t: for any float a, a <= t exactly when a <= float_at_most(t), so
// sklearn's float32(x) <= t runs as a float comparison (which vectorises; double ones do not).
inline float float_at_most(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

template <>
inline void decide_rows<SplitPolicy::kSklearnNumeric>(const PatternNode& nd, const uint32_t*, const double* x,
                                                      int64_t n, uint8_t* go_left) {
  const float t = float_at_most(nd.threshold);
  if (nd.default_left) {
    for (int64_t r = 0; r < n; ++r) go_left[r] = !(static_cast<float>(x[r]) > t);
  } else {
    for (int64_t r = 0; r < n; ++r) go_left[r] = static_cast<float>(x[r]) <= t;
  }
}

template <>
inline void decide_rows<SplitPolicy::kHgbNumeric>(const PatternNode& nd, const uint32_t*, const double* x, int64_t n,
                                                  uint8_t* go_left) {
  const double t = nd.threshold;
  if (nd.default_left) {
    for (int64_t r = 0; r < n; ++r) go_left[r] = !(x[r] > t);
  } else {
    for (int64_t r = 0; r < n; ++r) go_left[r] = x[r] <= t;
  }
}

// cat_words: the LeafPaths' bitsets (nd.cat_begin indexes them).
inline void decide_column(const PatternNode& nd, const uint32_t* cat_words, const double* x, int64_t n,
                          uint8_t* go_left) {
  using P = SplitPolicy;
  switch (static_cast<P>(nd.policy)) {
    case P::kXgbNumeric: return decide_rows<P::kXgbNumeric>(nd, cat_words, x, n, go_left);
    case P::kLgbNumericNone: return decide_rows<P::kLgbNumericNone>(nd, cat_words, x, n, go_left);
    case P::kLgbNumericZero: return decide_rows<P::kLgbNumericZero>(nd, cat_words, x, n, go_left);
    case P::kLgbNumericNaN: return decide_rows<P::kLgbNumericNaN>(nd, cat_words, x, n, go_left);
    case P::kSklearnNumeric: return decide_rows<P::kSklearnNumeric>(nd, cat_words, x, n, go_left);
    case P::kHgbNumeric: return decide_rows<P::kHgbNumeric>(nd, cat_words, x, n, go_left);
    case P::kXgbCategorical: return decide_rows<P::kXgbCategorical>(nd, cat_words, x, n, go_left);
    case P::kLgbCategoricalNaN: return decide_rows<P::kLgbCategoricalNaN>(nd, cat_words, x, n, go_left);
    case P::kLgbCategorical: return decide_rows<P::kLgbCategorical>(nd, cat_words, x, n, go_left);
    case P::kHgbCategorical: return decide_rows<P::kHgbCategorical>(nd, cat_words, x, n, go_left);
    default: return decide_rows<P::kCount>(nd, cat_words, x, n, go_left);  // unreachable: validate() checks policies
  }
}

}  // namespace detail

// Scratch for walking blocks of up to `block_rows` rows; one per thread.
class ColumnWalker {
 public:
  ColumnWalker(const LeafPaths& lp, int64_t block_rows)
      : lp_(lp),
        rows_(block_rows),
        pattern_((static_cast<size_t>(lp.max_tree_depth) + 1) * block_rows),
        go_left_((static_cast<size_t>(lp.max_tree_depth) + 1) * block_rows),
        node_at_depth_(static_cast<size_t>(lp.max_tree_depth) + 1) {}

  // Calls on_leaf(leaf_slot, patterns) for every leaf of tree t in preorder; patterns[r] is
  // row r's pattern (mask it to the leaf's width). block.n must not exceed block_rows.
  template <class OnLeaf>
  void walk(int64_t t, const ColumnBlock& block, OnLeaf&& on_leaf) {
    walk(t, block, nullptr, on_leaf, [](int32_t, const uint64_t*) {});
  }

  // As above, but a node with group_of[node] >= 0 (global node index) stops the descent:
  // on_group(group, patterns) gets the patterns at that node and its subtree is skipped.
  template <class OnLeaf, class OnGroup>
  void walk(int64_t t, const ColumnBlock& block, const int32_t* group_of, OnLeaf&& on_leaf, OnGroup&& on_group) {
    const PatternNode* nodes = lp_.nodes.data() + lp_.tree_node_begin[t];
    const int64_t n_nodes = lp_.tree_node_begin[t + 1] - lp_.tree_node_begin[t];
    const int64_t n = block.n;
    for (int64_t r = 0; r < n; ++r) pattern_[r] = ~uint64_t{0};
    // Preorder: the parent of a node at depth k is the last node visited at depth k - 1, and
    // its pattern and decisions are still in level k - 1 of the scratch.
    for (int64_t i = 0; i < n_nodes; ++i) {
      const PatternNode& nd = nodes[i];
      const int32_t group = group_of ? group_of[lp_.tree_node_begin[t] + i] : -1;
      const int32_t k = nd.depth;
      uint64_t* pat = &pattern_[k * rows_];
      if (k > 0) {
        const PatternNode& parent = nodes[node_at_depth_[k - 1]];
        const uint64_t* up = &pattern_[(k - 1) * rows_];
        const uint8_t* went_left = &go_left_[(k - 1) * rows_];
        const uint64_t clear = ~(uint64_t{1} << parent.bit);
        // Keep every bit where the row took this side, else clear the parent's feature bit.
        if (parent.left == i) {
          for (int64_t r = 0; r < n; ++r) pat[r] = up[r] & (clear | (uint64_t{0} - went_left[r]));
        } else {
          for (int64_t r = 0; r < n; ++r) pat[r] = up[r] & (clear | (uint64_t{went_left[r]} - 1));
        }
      }
      if (group >= 0) {
        on_group(group, static_cast<const uint64_t*>(pat));
        i = nd.end - 1;
        continue;
      }
      if (nd.feature < 0) {
        on_leaf(static_cast<int64_t>(nd.left), static_cast<const uint64_t*>(pat));
        continue;
      }
      node_at_depth_[k] = static_cast<int32_t>(i);
      detail::decide_column(nd, lp_.cat_words.data(), block.cols + static_cast<int64_t>(nd.feature) * block.stride, n,
                            &go_left_[k * rows_]);
    }
  }

 private:
  const LeafPaths& lp_;
  int64_t rows_;
  std::vector<uint64_t> pattern_;  // (max depth + 1) x rows: the current path's patterns
  std::vector<uint8_t> go_left_;   // (max depth + 1) x rows: the current path's decisions
  std::vector<int32_t> node_at_depth_;
};

// The state of each row of a block at group g (leaf_groups.hpp): its pattern at the group's
// root (pat) in the low bits, then one bit per decision inside the group. went_left is scratch.
inline void group_states(const LeafPaths& paths, const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block,
                         uint32_t* states, uint8_t* went_left) {
  const uint64_t root_mask = width_mask(g.root_width);
  for (int64_t r = 0; r < block.n; ++r) states[r] = static_cast<uint32_t>(pat[r] & root_mask);
  const PatternNode* nodes = paths.nodes.data() + paths.tree_node_begin[g.tree];
  for (int j = 0; j < g.n_decisions; ++j) {
    const PatternNode& nd = nodes[g.decision_node[j]];
    detail::decide_column(nd, paths.cat_words.data(), block.cols + static_cast<int64_t>(nd.feature) * block.stride,
                          block.n, went_left);
    const int bit = g.root_width + j;
    for (int64_t r = 0; r < block.n; ++r) states[r] |= static_cast<uint32_t>(went_left[r]) << bit;
  }
}

}  // namespace assay::core
