// Small subtrees answered as one unit. The leaves within two levels below a node u depend on a
// row only through u's pattern (d_u bits) and the row's decisions at the subtree's internal
// nodes (at most 3). Packing those into one state of d_u + (#internal) bits, a single table per
// subtree holds the summed, value-weighted contributions of all its leaves, so a row gathers
// once per distinct player of the subtree instead of once per (leaf, player): about 3x
// fewer gathers for full trees. Only trees whose leaves carry one output are grouped (their
// tables have the leaf values folded in).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/leaf_paths.hpp"

namespace assay::core {

constexpr int kMaxGroupDecisions = 3;
constexpr int kMaxGroupBits = 12;  // states per group table <= 4096

struct LeafGroup {
  int64_t tree = 0;
  int32_t root = 0;                               // local preorder index of the subtree root
  int32_t root_width = 0;                         // low state bits: the root's pattern
  int32_t n_decisions = 0;                        // internal nodes of the subtree, preorder
  int32_t decision_node[kMaxGroupDecisions] = {}; // state bit root_width + j: went left there
  int32_t width = 0;                              // state bits
  int64_t leaf_begin = 0, leaf_end = 0;           // its leaf slots (contiguous in preorder)
  int64_t player_begin = 0, n_players = 0;        // its distinct players in LeafGroups::players
  bool pairs = false;                             // slots are ordered pairs of players
  int64_t n_slots = 0;                            // n_players, or n_players^2 for pairs
  int64_t table_begin = 0;                        // its n_slots x 2^width table

  int64_t table_size() const { return n_slots << width; }
};

struct LeafGroups {
  std::vector<LeafGroup> groups;             // in tree order, preorder within a tree
  std::vector<int64_t> tree_group_begin;     // per tree + 1
  std::vector<int32_t> players;  // each group's distinct players, concatenated
  std::vector<int32_t> group_of_node;        // per LeafPaths node (global index): group or -1
  int64_t table_doubles = 0;                 // sum of table sizes
};

// In each tree with tree_eligible[t], the highest nodes whose subtree has height 1 or 2 and a
// state of at most max_bits bits, while their tables fit in budget_doubles. With pairs, a
// table slot is an ordered pair of the group's players (pairwise indices), else one player.
LeafGroups find_leaf_groups(const LeafPaths& lp, const std::vector<uint8_t>& tree_eligible, int max_bits,
                            int64_t budget_doubles, bool pairs);

// Keeps the groups for which keep(group) is true; the indices (group_of_node, tree_group_begin,
// table offsets) then describe the kept list.
template <class Keep>
void drop_leaf_groups(LeafGroups& lg, const LeafPaths& lp, Keep&& keep) {
  std::vector<LeafGroup> kept;
  std::vector<int32_t> new_index(lg.groups.size(), -1);
  for (size_t g = 0; g < lg.groups.size(); ++g)
    if (keep(static_cast<const LeafGroup&>(lg.groups[g]))) {
      new_index[g] = static_cast<int32_t>(kept.size());
      kept.push_back(lg.groups[g]);
    }
  lg.table_doubles = 0;
  for (LeafGroup& g : kept) {
    g.table_begin = lg.table_doubles;
    lg.table_doubles += g.table_size();
  }
  for (int32_t& g : lg.group_of_node)
    if (g >= 0) g = new_index[g];
  const int64_t n_trees = static_cast<int64_t>(lp.tree_node_begin.size()) - 1;
  lg.tree_group_begin.assign(1, 0);
  size_t next = 0;
  for (int64_t t = 0; t < n_trees; ++t) {
    while (next < kept.size() && kept[next].tree == t) ++next;
    lg.tree_group_begin.push_back(static_cast<int64_t>(next));
  }
  lg.groups = std::move(kept);
}

// Turns a histogram of group states (2^width cells) into its member leaves' pattern
// histograms: leaf_counts[slot - g.leaf_begin] (2^d cells each, added to; null to skip).
void member_histograms(const LeafPaths& lp, const LeafGroup& g, const double* state_counts,
                       const std::vector<double*>& leaf_counts);

// Fills group g's table (n_slots x 2^width, indexed by state) from its leaves' dense tables:
// leaf_table[slot - g.leaf_begin] is that leaf's (d or d^2) x 2^d table (indexed by the mask of
// the players a row fails, leaf value folded in; pair (a, b) of its players is slot a d + b).
void compose_group_table(const LeafPaths& lp, const LeafGroups& lg, const LeafGroup& g,
                         const std::vector<const double*>& leaf_table, double* out);

}  // namespace assay::core
