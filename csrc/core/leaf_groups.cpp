#include "core/leaf_groups.hpp"

#include <algorithm>

namespace assay::core {

LeafGroups find_leaf_groups(const LeafPaths& lp, const std::vector<uint8_t>& tree_eligible, int max_bits,
                            int64_t budget_doubles) {
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
        if (u.feature < 0 || height[i] > 2) { ++i; continue; }
        g.tree = t;
        g.root = i;
        g.root_width = u.width;
        for (int32_t j = i; j < u.end; ++j)
          if (nodes[j].feature >= 0) g.decision_node[g.n_decisions++] = j;
        g.width = g.root_width + g.n_decisions;
        g.feat_begin = static_cast<int64_t>(lg.features.size());
        g.leaf_begin = -1;
        for (int32_t j = i; j < u.end; ++j) {
          if (nodes[j].feature >= 0) continue;
          const int64_t slot = nodes[j].left;
          if (g.leaf_begin < 0) g.leaf_begin = slot;
          g.leaf_end = slot + 1;
          for (int64_t k = lp.leaf_feat_begin[slot]; k < lp.leaf_feat_begin[slot + 1]; ++k) {
            const int32_t feat = lp.leaf_features[k];
            if (std::find(lg.features.begin() + g.feat_begin, lg.features.end(), feat) == lg.features.end())
              lg.features.push_back(feat);
          }
        }
        g.n_feats = static_cast<int64_t>(lg.features.size()) - g.feat_begin;
        if (g.width > max_bits || lg.table_doubles + g.table_size() > budget_doubles) {
          lg.features.resize(g.feat_begin);  // not grouped: its leaves stay on their own
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

void compose_group_table(const LeafPaths& lp, const LeafGroups& lg, const LeafGroup& g,
                         const std::vector<const double*>& leaf_table, double* out) {
  const PatternNode* nodes = lp.nodes.data() + lp.tree_node_begin[g.tree];
  const int32_t* feats = lg.features.data() + g.feat_begin;
  const int64_t n_states = int64_t{1} << g.width;
  const uint64_t root_mask = width_mask(g.root_width);
  for (int32_t j = g.root; j < nodes[g.root].end; ++j) {
    if (nodes[j].feature >= 0) continue;
    const int64_t slot = nodes[j].left;
    const int d = lp.leaf_width[slot];
    const uint64_t full = width_mask(d);
    // The decisions on the way from the root to this leaf: (state bit, side taken, pattern bit).
    int n_checks = 0;
    int32_t state_bit[kMaxGroupDecisions], pattern_bit[kMaxGroupDecisions];
    bool left_side[kMaxGroupDecisions];
    for (int32_t w = g.root; w != j;) {
      const PatternNode& nd = nodes[w];
      const int32_t pos = static_cast<int32_t>(std::find(g.decision_node, g.decision_node + g.n_decisions, w) -
                                               g.decision_node);
      const bool left = j < nodes[nd.left].end;
      state_bit[n_checks] = g.root_width + pos;
      pattern_bit[n_checks] = nd.bit;
      left_side[n_checks++] = left;
      w = left ? nd.left : nd.right;
    }
    int32_t column[kMaxPatternBits];  // leaf bit -> the group's feature index
    for (int b = 0; b < d; ++b)
      column[b] = static_cast<int32_t>(
          std::find(feats, feats + g.n_feats, lp.leaf_features[lp.leaf_feat_begin[slot] + b]) - feats);
    const double* table = leaf_table[slot - g.leaf_begin];
    if (table == nullptr) continue;
    const int64_t S = int64_t{1} << d;
    for (int64_t state = 0; state < n_states; ++state) {
      // Bits of features first met inside the group start satisfied; a wrong turn clears one.
      uint64_t p = (static_cast<uint64_t>(state) & root_mask) | (full & ~root_mask);
      for (int c = 0; c < n_checks; ++c)
        if ((((state >> state_bit[c]) & 1) != 0) != left_side[c]) p &= ~(uint64_t{1} << pattern_bit[c]);
      const uint64_t q = ~p & full;
      for (int b = 0; b < d; ++b) out[(static_cast<int64_t>(column[b]) << g.width) + state] += table[b * S + q];
    }
  }
}

}  // namespace assay::core
