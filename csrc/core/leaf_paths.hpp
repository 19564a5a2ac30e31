// Per-leaf decision patterns. For leaf l with d distinct players (features, or feature groups:
// players.hpp) on its path, a sample's pattern is d bits: bit k = the sample satisfies every
// condition on the path's k-th distinct player (numbered by first occurrence from the root). One pass over a tree's nodes in
// preorder gives the patterns of all leaves: each node hands its pattern to both children and
// clears its feature's bit on the side the sample does not take (column_walk.hpp does this
// for a block of rows at once).
#pragma once
#include <cstdint>
#include <vector>

#include "core/forest.hpp"
#include "core/players.hpp"

namespace assay::core {

constexpr int kMaxPatternBits = 64;

// A node repacked for the pattern pass: preorder within its tree (children after parents),
// all fields on one cache line.
struct PatternNode {
  double threshold;
  int64_t cat_begin;  // first word of its category bitset in LeafPaths::cat_words
  int32_t feature;  // -1 for leaves (the split reads this column)
  int32_t cat_nwords;
  int32_t left, right;  // local preorder indices; for a leaf, left = its leaf slot
  int32_t depth;  // root = 0
  int32_t end;  // local index just past this node's subtree (preorder)
  int32_t width;  // distinct players on the path above this node
  uint8_t bit;  // bit of the feature's player on the path from the root
  uint8_t policy;
  uint8_t default_left;
};

struct LeafPaths {
  std::vector<PatternNode> nodes;  // all trees, preorder per tree
  std::vector<int64_t> tree_node_begin;  // per tree + 1
  std::vector<int64_t> tree_leaf_begin;  // per tree + 1: leaf slots of tree t
  std::vector<uint8_t> tree_too_wide;  // per tree: some path has > 64 distinct players
  std::vector<int64_t> leaf_value_node;  // per leaf: global node index in the Forest (values)
  std::vector<int64_t> leaf_tree;  // per leaf: its tree
  std::vector<int32_t> leaf_width;  // per leaf: d
  std::vector<int64_t> leaf_player_begin;  // per leaf + 1: into leaf_players
  std::vector<int32_t> leaf_players;  // the d players of each leaf, bit order
  std::vector<uint32_t> cat_words;  // the Forest's category bitsets, copied: the paths own
  // everything they read (offsets, no pointers into f)
  int32_t max_tree_depth = 0;

  LeafPaths(const Forest& f, const Players& players);
  int64_t n_leaves() const { return static_cast<int64_t>(leaf_width.size()); }
  // Leaf slots by increasing width (ties in slot order): budgets go to the cheapest tables and
  // histograms first, which are also the most common.
  std::vector<int64_t> leaves_narrow_first() const;
};

// Bit count without relying on the popcnt instruction (the portable build targets baseline
// x86-64, where __builtin_popcountll is a library call).
inline int popcount64(uint64_t v) {
  v = v - ((v >> 1) & 0x5555555555555555ull);
  v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
  v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<int>((v * 0x0101010101010101ull) >> 56);
}

inline uint64_t width_mask(int d) { return d >= 64 ? ~uint64_t{0} : ((uint64_t{1} << d) - 1); }

}  // namespace assay::core
