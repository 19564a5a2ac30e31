// The decision-pattern kernel one row at a time, written once for the host and the device
// (host_device.hpp): the CUDA kernels run these functions with one thread per row, and the
// host runs the very same functions in RowQueryPlan's emulation, which is how machines
// without a GPU test the device code path.
//
// A tree is a preorder array of RowNodes. Walking it computes every leaf's pattern for the row
// (leaf_paths.hpp): bit k = the row satisfies every condition on the leaf path's k-th player.
#pragma once
#include <cstdint>

#include "core/host_device.hpp"
#include "core/split_decision.hpp"

namespace assay::core {

// Deepest tree the row walk accepts (its per-row stack lives in registers / local memory).
constexpr int kMaxRowWalkDepth = 64;

struct RowNode {
  double threshold;
  int64_t cat_offset;  // first word of the category bitset
  int32_t feature;     // -1: a leaf
  int32_t cat_nwords;
  int32_t left;        // local preorder index of the left child (internal nodes)
  int32_t slot;        // leaf slot (leaves)
  uint8_t depth;       // root = 0
  uint8_t bit;         // bit of the split feature's player on the path from the root
  uint8_t policy;
  uint8_t default_left;
};

// Calls on_leaf(slot, pattern) for every leaf of the tree (nodes[0, n_nodes)), in preorder.
// x points at the row's first feature; feature j is x[j * x_stride].
template <class OnLeaf>
ASSAY_HD void walk_row(const RowNode* nodes, int32_t n_nodes, const uint32_t* cat_words, const double* x,
                       int64_t x_stride, OnLeaf&& on_leaf) {
  uint64_t pattern[kMaxRowWalkDepth + 1];
  int32_t node_at_depth[kMaxRowWalkDepth + 1];
  bool went_left[kMaxRowWalkDepth + 1];
  pattern[0] = ~uint64_t{0};
  for (int32_t i = 0; i < n_nodes; ++i) {
    const RowNode& nd = nodes[i];
    const int k = nd.depth;
    if (k > 0) {
      // Preorder: the parent is the last internal node seen one level up. The row keeps the
      // parent's player bit only on the side it takes.
      const RowNode& parent = nodes[node_at_depth[k - 1]];
      const bool is_left = parent.left == i;
      uint64_t p = pattern[k - 1];
      if (is_left != went_left[k - 1]) p &= ~(uint64_t{1} << parent.bit);
      pattern[k] = p;
    }
    if (nd.feature < 0) {
      on_leaf(nd.slot, pattern[k]);
      continue;
    }
    node_at_depth[k] = i;
    went_left[k] = decide(static_cast<SplitPolicy>(nd.policy), nd.default_left != 0, nd.threshold,
                          cat_words + nd.cat_offset, nd.cat_nwords, x[static_cast<int64_t>(nd.feature) * x_stride]);
  }
}

// One leaf's dense table and where its entries go. The table is pattern-major: the entries of
// failed-player mask q are table[q * entries, (q + 1) * entries). A warp's threads walk the same
// leaf at the same time, each reading its own mask's run: a few memory sectors per thread, where
// an entry-major table would cost one sector per entry.
struct LeafQuery {
  int64_t table;       // offset of its (2^width x entries) table
  int64_t column;      // offset of its entries' output columns (player, or pair column)
  int64_t value_node;  // global node holding its K values
  int64_t cells;       // offset of its 2^width background histogram cells
  int32_t width;       // distinct players on its path
  int32_t entries;     // width, or width^2 for pairs
  int32_t only;        // >= 0: the table holds value * contribution for this output alone
};

ASSAY_HD uint64_t low_bits(int width) { return width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1); }

// Adds the leaf's contributions for a row with pattern `pattern` to out, whose entry
// (column c, output k) is out[(c * K + k) * out_stride].
ASSAY_HD void add_leaf_contributions(const LeafQuery& leaf, uint64_t pattern, const double* tables,
                                     const int32_t* columns, const double* values, int K, double* out,
                                     int64_t out_stride) {
  const uint64_t q = ~pattern & low_bits(leaf.width);  // the players the row fails
  const double* table = tables + leaf.table + static_cast<int64_t>(q) * leaf.entries;
  const int32_t* cols = columns + leaf.column;
  const double* v = values + leaf.value_node * K;
  for (int32_t e = 0; e < leaf.entries; ++e) {
    const double c = table[e];
    const int64_t col = cols[e];
    if (leaf.only >= 0) {
      out[(col * K + leaf.only) * out_stride] += c;
    } else {
      for (int k = 0; k < K; ++k) out[(col * K + k) * out_stride] += c * v[k];
    }
  }
}

}  // namespace assay::core
