// Per-leaf decision patterns. For leaf l with d distinct features on its path, a sample's
// pattern is d bits: bit k = the sample satisfies every condition on the path's k-th distinct
// feature (numbered by first occurrence from the root). One walk of the tree gives the
// patterns of all leaves: the bits are carried down, and a node clears its feature's bit on
// the side the sample does not take.
#pragma once
#include <cstdint>
#include <vector>

#include "core/forest.hpp"

namespace assay::core {

constexpr int kMaxPatternBits = 64;

struct LeafPaths {
  // Per node (global index): the bit of its split feature on the path from the root; -1 for leaves.
  std::vector<int16_t> node_bit;
  // Per node: its leaf slot (index into the arrays below), or -1 for internal nodes.
  std::vector<int32_t> node_leaf;
  std::vector<int64_t> tree_leaf_begin;  // per tree + 1: leaf slots of tree t
  std::vector<uint8_t> tree_too_wide;    // per tree: some path has > 64 distinct features
  std::vector<int64_t> leaf_node;        // per leaf: global node index
  std::vector<int32_t> leaf_width;       // per leaf: d
  std::vector<int64_t> leaf_feat_begin;  // per leaf + 1: into leaf_features
  std::vector<int32_t> leaf_features;    // the d features of each leaf, bit order

  explicit LeafPaths(const Forest& f);
  int64_t n_leaves() const { return static_cast<int64_t>(leaf_node.size()); }
};

// Calls on_leaf(leaf_slot, pattern) for every leaf of tree t (not too wide) for sample x.
// `stack` is caller-owned scratch, reused across calls.
template <class OnLeaf>
inline void walk_patterns(const Forest& f, const LeafPaths& lp, int64_t t, const double* x,
                          std::vector<std::pair<int64_t, uint64_t>>& stack, OnLeaf&& on_leaf) {
  const int64_t off = f.tree_offsets[t];
  stack.clear();
  stack.emplace_back(off, ~uint64_t{0});
  while (!stack.empty()) {
    const auto [node, p] = stack.back();
    stack.pop_back();
    const int32_t feat = f.feature[node];
    if (feat < 0) {
      const int32_t slot = lp.node_leaf[node];
      const int d = lp.leaf_width[slot];
      const uint64_t mask = d >= 64 ? ~uint64_t{0} : ((uint64_t{1} << d) - 1);
      on_leaf(slot, p & mask);
      continue;
    }
    const uint64_t bit = uint64_t{1} << lp.node_bit[node];
    const bool left = goes_left(f, node, x[feat]);
    stack.emplace_back(off + f.right[node], left ? (p & ~bit) : p);
    stack.emplace_back(off + f.left[node], left ? p : (p & ~bit));
  }
}

}  // namespace assay::core
