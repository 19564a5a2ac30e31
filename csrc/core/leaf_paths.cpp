#include "core/leaf_paths.hpp"

#include <algorithm>

namespace assay::core {

LeafPaths::LeafPaths(const Forest& f)
    : node_bit(f.n_nodes(), -1), node_leaf(f.n_nodes(), -1), tree_too_wide(f.n_trees(), 0) {
  tree_leaf_begin.push_back(0);
  leaf_feat_begin.push_back(0);
  std::vector<int32_t> path;  // distinct features from the root to the current node
  struct Frame { int64_t node; size_t path_len; };
  std::vector<Frame> stack;
  for (int64_t t = 0; t < f.n_trees(); ++t) {
    const int64_t off = f.tree_offsets[t];
    path.clear();
    stack.assign(1, {off, 0});
    while (!stack.empty()) {
      const Frame fr = stack.back();
      stack.pop_back();
      path.resize(fr.path_len);
      const int32_t feat = f.feature[fr.node];
      if (feat < 0) {
        node_leaf[fr.node] = static_cast<int32_t>(n_leaves());
        leaf_node.push_back(fr.node);
        leaf_width.push_back(static_cast<int32_t>(path.size()));
        leaf_features.insert(leaf_features.end(), path.begin(), path.end());
        leaf_feat_begin.push_back(static_cast<int64_t>(leaf_features.size()));
        continue;
      }
      auto it = std::find(path.begin(), path.end(), feat);
      const size_t bit = static_cast<size_t>(it - path.begin());
      if (it == path.end()) path.push_back(feat);
      if (bit >= static_cast<size_t>(kMaxPatternBits)) tree_too_wide[t] = 1;
      node_bit[fr.node] = static_cast<int16_t>(std::min<size_t>(bit, kMaxPatternBits - 1));
      stack.push_back({off + f.right[fr.node], path.size()});
      stack.push_back({off + f.left[fr.node], path.size()});
    }
    tree_leaf_begin.push_back(n_leaves());
  }
}

}  // namespace assay::core
