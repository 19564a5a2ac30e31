#include "core/leaf_groups.hpp"

#include <algorithm>

namespace assay::core {

LeafGroups find_leaf_groups(const LeafPaths& lp, const std::vector<uint8_t>& tree_eligible, int max_bits,
                            int64_t budget_doubles, bool pairs) {
  LeafGroups lg;
  lg.group_of_node.assign(lp.nodes.size(), -1);
  lg.tree_group_begin.push_back(0);
  std::vector<int32_t> height;
  const int64_t n_trees = static_cast<int64_t>(lp.tree_node_begin.size()) - 1;
  for (int64_t t = 0; t < n_trees; ++t) {
    const int64_t first = lp.tree_node_begin[t];
    const int32_t n = static_cast<int32_t>(lp.tree_node_begin[t + 1] - first);
    const PatternNode* nodes = lp.nodes.data() + first;
    if (tree_eligible[t]) {
      height.assign(n, 0);
      for (int32_t i = n - 1; i >= 0; --i)
        if (nodes[i].feature >= 0) height[i] = 1 + std::max(height[nodes[i].left], height[nodes[i].right]);
      for (int32_t i = 0; i < n;) {
        const PatternNode& u = nodes[i];
        LeafGroup g;
        if (u.feature < 0 || height[i] > 2) {
          ++i;
          continue;
        }
        g.tree = t;
        g.root = i;
        g.root_width = u.width;
        for (int32_t j = i; j < u.end; ++j)
          if (nodes[j].feature >= 0) g.decision_node[g.n_decisions++] = j;
        g.width = g.root_width + g.n_decisions;
        g.player_begin = static_cast<int64_t>(lg.players.size());
        g.leaf_begin = -1;
        for (int32_t j = i; j < u.end; ++j) {
          if (nodes[j].feature >= 0) continue;
          const int64_t slot = nodes[j].left;
          if (g.leaf_begin < 0) g.leaf_begin = slot;
          g.leaf_end = slot + 1;
          for (int64_t k = lp.leaf_player_begin[slot]; k < lp.leaf_player_begin[slot + 1]; ++k) {
            const int32_t player = lp.leaf_players[k];
            if (std::find(lg.players.begin() + g.player_begin, lg.players.end(), player) == lg.players.end())
              lg.players.push_back(player);
          }
        }
        g.n_players = static_cast<int64_t>(lg.players.size()) - g.player_begin;
        g.pairs = pairs;
        g.n_slots = pairs ? g.n_players * g.n_players : g.n_players;
        if (g.width > max_bits || lg.table_doubles + g.table_size() > budget_doubles) {
          lg.players.resize(g.player_begin);  // not grouped: its leaves stay on their own
          i = u.end;
          continue;
        }
        g.table_begin = lg.table_doubles;
        lg.table_doubles += g.table_size();
        for (int32_t j = i; j < u.end; ++j) lg.group_of_node[first + j] = static_cast<int32_t>(lg.groups.size());
        lg.groups.push_back(g);
        i = u.end;
      }
    }
    lg.tree_group_begin.push_back(static_cast<int64_t>(lg.groups.size()));
  }
  return lg;
}

namespace {

// How a group's state determines one member leaf's pattern.
struct LeafInGroup {
  int64_t slot;
  int d;
  uint64_t root_mask, full;
  int n_checks = 0;  // decisions on the way from the root: (state bit, side taken, pattern bit)
  int32_t state_bit[kMaxGroupDecisions], pattern_bit[kMaxGroupDecisions];
  bool left_side[kMaxGroupDecisions];

  LeafInGroup(const LeafPaths& lp, const LeafGroup& g, int32_t leaf_node) {
    const PatternNode* nodes = lp.nodes.data() + lp.tree_node_begin[g.tree];
    slot = nodes[leaf_node].left;
    d = lp.leaf_width[slot];
    root_mask = width_mask(g.root_width);
    full = width_mask(d);
    for (int32_t w = g.root; w != leaf_node;) {
      const PatternNode& nd = nodes[w];
      const auto pos = std::find(g.decision_node, g.decision_node + g.n_decisions, w) - g.decision_node;
      const bool left = leaf_node < nodes[nd.left].end;
      state_bit[n_checks] = g.root_width + static_cast<int32_t>(pos);
      pattern_bit[n_checks] = nd.bit;
      left_side[n_checks++] = left;
      w = left ? nd.left : nd.right;
    }
  }

  // Bits of players first met inside the group start satisfied; a wrong turn clears one.
  uint64_t pattern(uint64_t state) const {
    uint64_t p = (state & root_mask) | (full & ~root_mask);
    for (int c = 0; c < n_checks; ++c)
      if ((((state >> state_bit[c]) & 1) != 0) != left_side[c]) p &= ~(uint64_t{1} << pattern_bit[c]);
    return p;
  }
};

template <class Body>
void for_each_member(const LeafPaths& lp, const LeafGroup& g, Body&& body) {
  const PatternNode* nodes = lp.nodes.data() + lp.tree_node_begin[g.tree];
  for (int32_t j = g.root; j < nodes[g.root].end; ++j)
    if (nodes[j].feature < 0) body(LeafInGroup(lp, g, j));
}

}  // namespace

void member_histograms(const LeafPaths& lp, const LeafGroup& g, const double* state_counts,
                       const std::vector<double*>& leaf_counts) {
  const int64_t n_states = int64_t{1} << g.width;
  for_each_member(lp, g, [&](const LeafInGroup& leaf) {
    double* out = leaf_counts[leaf.slot - g.leaf_begin];
    if (out == nullptr) return;
    for (int64_t state = 0; state < n_states; ++state)
      if (state_counts[state] != 0.0) out[leaf.pattern(static_cast<uint64_t>(state))] += state_counts[state];
  });
}

void compose_group_table(const LeafPaths& lp, const LeafGroups& lg, const LeafGroup& g,
                         const std::vector<const double*>& leaf_table, double* out) {
  const int32_t* group_players = lg.players.data() + g.player_begin;
  const int64_t n_states = int64_t{1} << g.width;
  for_each_member(lp, g, [&](const LeafInGroup& leaf) {
    const double* table = leaf_table[leaf.slot - g.leaf_begin];
    if (table == nullptr) return;
    int32_t column[kMaxPatternBits];  // leaf bit -> the group's player index
    for (int b = 0; b < leaf.d; ++b)
      column[b] = static_cast<int32_t>(
          std::find(group_players, group_players + g.n_players, lp.leaf_players[lp.leaf_player_begin[leaf.slot] + b]) -
          group_players);
    // Leaf slot -> group slot: a player, or an ordered pair of players.
    std::vector<int64_t> slot_of;
    if (g.pairs) {
      for (int a = 0; a < leaf.d; ++a)
        for (int b = 0; b < leaf.d; ++b) slot_of.push_back(column[a] * g.n_players + column[b]);
    } else {
      slot_of.assign(column, column + leaf.d);
    }
    const int64_t S = int64_t{1} << leaf.d;
    std::vector<int64_t> mask_of_state(n_states);
    for (int64_t state = 0; state < n_states; ++state)
      mask_of_state[state] = static_cast<int64_t>(~leaf.pattern(static_cast<uint64_t>(state)) & leaf.full);
    for (size_t e = 0; e < slot_of.size(); ++e) {
      const double* column = table + static_cast<int64_t>(e) * S;
      double* row = out + (slot_of[e] << g.width);
      for (int64_t state = 0; state < n_states; ++state) row[state] += column[mask_of_state[state]];
    }
  });
}

}  // namespace assay::core
