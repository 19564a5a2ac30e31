#include "core/leaf_paths.hpp"

#include <algorithm>
#include <numeric>

namespace assay::core {

LeafPaths::LeafPaths(const Forest& f, const Players& players) : tree_too_wide(f.n_trees(), 0), cat_words(f.cat_words) {
  tree_node_begin.push_back(0);
  tree_leaf_begin.push_back(0);
  leaf_player_begin.push_back(0);
  std::vector<int32_t> path;  // distinct players from the root to the current node
  struct Frame {
    int64_t node;
    size_t path_len;
    int32_t parent;
    bool is_left;
    int32_t depth;
  };
  std::vector<Frame> stack;
  for (int64_t t = 0; t < f.n_trees(); ++t) {
    const int64_t off = f.tree_offsets[t];
    const int64_t first = static_cast<int64_t>(nodes.size());
    stack.assign(1, {off, 0, -1, false, 0});
    while (!stack.empty()) {  // preorder: parents are numbered before their children
      const Frame fr = stack.back();
      stack.pop_back();
      path.resize(fr.path_len);
      const int32_t local = static_cast<int32_t>(nodes.size() - first);
      if (fr.parent >= 0) (fr.is_left ? nodes[first + fr.parent].left : nodes[first + fr.parent].right) = local;
      const int64_t g = fr.node;
      PatternNode nd{f.threshold[g],
                     f.cat_offset[g],
                     f.feature[g],
                     f.cat_nwords[g],
                     -1,
                     -1,
                     fr.depth,
                     local + 1,
                     static_cast<int32_t>(path.size()),
                     0,
                     f.policy[g],
                     f.default_left[g]};
      max_tree_depth = std::max(max_tree_depth, fr.depth);
      if (nd.feature < 0) {
        nd.left = static_cast<int32_t>(n_leaves());
        leaf_value_node.push_back(g);
        leaf_tree.push_back(t);
        leaf_width.push_back(static_cast<int32_t>(path.size()));
        leaf_players.insert(leaf_players.end(), path.begin(), path.end());
        leaf_player_begin.push_back(static_cast<int64_t>(leaf_players.size()));
        nodes.push_back(nd);
        continue;
      }
      const int32_t player = players.of_feature[nd.feature];
      auto it = std::find(path.begin(), path.end(), player);
      const size_t bit = static_cast<size_t>(it - path.begin());
      if (it == path.end()) path.push_back(player);
      if (bit >= static_cast<size_t>(kMaxPatternBits)) tree_too_wide[t] = 1;
      nd.bit = static_cast<uint8_t>(std::min<size_t>(bit, kMaxPatternBits - 1));
      nodes.push_back(nd);
      stack.push_back({off + f.right[g], path.size(), local, false, fr.depth + 1});
      stack.push_back({off + f.left[g], path.size(), local, true, fr.depth + 1});
    }
    tree_node_begin.push_back(static_cast<int64_t>(nodes.size()));
    // Preorder: a subtree ends where its right child's subtree ends.
    for (int64_t i = static_cast<int64_t>(nodes.size()) - 1; i >= first; --i)
      if (nodes[i].feature >= 0) nodes[i].end = nodes[first + nodes[i].right].end;
    tree_leaf_begin.push_back(n_leaves());
  }
}

std::vector<int64_t> LeafPaths::leaves_narrow_first() const {
  std::vector<int64_t> order(static_cast<size_t>(n_leaves()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return leaf_width[a] < leaf_width[b]; });
  return order;
}

}  // namespace assay::core
