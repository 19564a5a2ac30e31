#include "core/predict.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"

namespace assay::core {

namespace {
// Rows per task. Trees outer within a block: one tree's nodes stay in cache while every row of
// the block walks it (a deep forest is far larger than the caches; walking every tree for one
// row before the next reads the whole forest once per row). Each row still adds its trees in
// tree order, so results do not depend on the block size.
constexpr int64_t kBlockRows = 256;

// A node packed for the walk: one cache line instead of one read per array of the Forest.
struct WalkNode {
  double threshold;
  int64_t cat_offset;
  int32_t feature;  // -1: leaf
  int32_t left, right;
  int32_t cat_nwords;
  uint8_t policy, default_left;
};

std::vector<WalkNode> pack_nodes(const Forest& f) {
  std::vector<WalkNode> nodes(static_cast<size_t>(f.n_nodes()));
  for (int64_t g = 0; g < f.n_nodes(); ++g)
    nodes[g] = {f.threshold[g], f.cat_offset[g], f.feature[g], f.left[g],
                f.right[g],     f.cat_nwords[g], f.policy[g],  f.default_left[g]};
  return nodes;
}

// The leaf (global index) row x reaches in the tree whose nodes start at `off`: find_leaf's walk.
inline int64_t walk_packed(const WalkNode* nodes, int64_t off, const uint32_t* cat_words, const double* x) {
  int64_t node = off;
  while (nodes[node].feature >= 0) {
    const WalkNode& nd = nodes[node];
    const bool left = decide(static_cast<SplitPolicy>(nd.policy), nd.default_left != 0, nd.threshold,
                             cat_words + nd.cat_offset, nd.cat_nwords, x[nd.feature]);
    node = off + (left ? nd.left : nd.right);
  }
  return node;
}
}  // namespace

void predict_raw(const Forest& f, const double* X, int64_t n, double* out, int n_threads) {
  const int32_t K = f.n_outputs;
  const std::vector<WalkNode> nodes = pack_nodes(f);
  const int64_t n_blocks = (n + kBlockRows - 1) / kBlockRows;
  parallel_for(n_blocks, n_threads, 1, [&](int64_t b) {
    const int64_t r0 = b * kBlockRows, r1 = std::min(n, r0 + kBlockRows);
    for (int64_t i = r0; i < r1; ++i)
      for (int32_t k = 0; k < K; ++k) out[i * K + k] = f.base_score[k];
    for (int64_t t = 0; t < f.n_trees(); ++t) {
      const int32_t only = f.tree_output[t];
      for (int64_t i = r0; i < r1; ++i) {
        const int64_t leaf = walk_packed(nodes.data(), f.tree_offsets[t], f.cat_words.data(), X + i * f.n_features);
        const double* v = &f.value[leaf * K];
        double* o = out + i * K;
        if (only >= 0) {
          o[only] += v[only];
        } else {
          for (int32_t k = 0; k < K; ++k) o[k] += v[k];
        }
      }
    }
  });
}

}  // namespace assay::core
