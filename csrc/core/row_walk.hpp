// The decision-pattern kernel one row at a time, written once for the host and the device
// (host_device.hpp): the CUDA kernels run these functions with one thread per row, and the
// host runs the very same functions in RowQueryPlan's emulation, which is how machines
// without a GPU test the device code path.
//
// A tree is a preorder array of RowNodes. Walking it computes every leaf's pattern for the row
// (leaf_paths.hpp): bit k = the row satisfies every condition on the leaf path's k-th player.
// Small subtrees may be answered as one group (leaf_groups.hpp): the walk then reads the row's
// group state (the pattern at the group's root plus its decisions inside) and skips the subtree.
#pragma once
#include <cstdint>

#include "core/host_device.hpp"
#include "core/leaf_groups.hpp"  // kMaxGroupDecisions: the groups these queries answer
#include "core/split_decision.hpp"

namespace assay::core {

ASSAY_HD uint64_t low_bits(int width) { return width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1); }

// Deepest tree the row walk accepts (its per-row stack lives in registers / local memory).
constexpr int kMaxRowWalkDepth = 64;

struct RowNode {
  double threshold;
  int64_t cat_offset;  // first word of the category bitset
  int32_t feature;     // -1: a leaf
  int32_t cat_nwords;
  int32_t left;        // local preorder index of the left child (internal nodes)
  int32_t slot;        // leaf slot (leaves)
  int32_t end;         // local preorder index just past this node's subtree
  int32_t group;       // >= 0 at the root of a leaf group (GroupQuery index), else -1
  uint8_t depth;       // root = 0
  uint8_t bit;         // bit of the split feature's player on the path from the root
  uint8_t policy;
  uint8_t default_left;
};

// One leaf group's dense table and where its slots go (leaf_groups.hpp). Its state: bits
// [0, root_width) are the row's pattern at the group root, bit root_width + j is whether the row
// goes left at decision_node[j]. The table is pattern-major like a leaf's: the slots of state s
// are table[s * slots, (s + 1) * slots), leaf values folded in for output `only`.
struct GroupQuery {
  int64_t table;       // offset of its (2^width x slots) table
  int64_t column;      // offset of its slots' output columns (player, or pair column)
  int32_t slots;       // distinct players of its leaves, or ordered pairs of them
  int32_t width;       // state bits: root_width + n_decisions
  int32_t root_width;
  int32_t n_decisions;
  int32_t decision_node[kMaxGroupDecisions];  // local preorder indices, in preorder
  int32_t only;        // the output its values belong to
};

ASSAY_HD bool goes_left(const RowNode& nd, const uint32_t* cat_words, const double* x, int64_t x_stride) {
  return decide(static_cast<SplitPolicy>(nd.policy), nd.default_left != 0, nd.threshold, cat_words + nd.cat_offset,
                nd.cat_nwords, x[static_cast<int64_t>(nd.feature) * x_stride]);
}

// Calls on_leaf(slot, pattern) for every leaf of the tree (nodes[0, n_nodes)) in preorder, and,
// where groups is not null, on_group(group, state) for every group root instead of its leaves.
// x points at the row's first feature; feature j is x[j * x_stride].
template <class OnLeaf, class OnGroup>
ASSAY_HD void walk_row(const RowNode* nodes, int32_t n_nodes, const uint32_t* cat_words, const double* x,
                       int64_t x_stride, const GroupQuery* groups, OnLeaf&& on_leaf, OnGroup&& on_group) {
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
    if (groups != nullptr && nd.group >= 0) {
      // The next node (nd.end) hangs below an ancestor of this one: the stack above k is not read.
      const GroupQuery& g = groups[nd.group];
      uint32_t state = static_cast<uint32_t>(pattern[k] & low_bits(g.root_width));
      for (int j = 0; j < g.n_decisions; ++j)
        if (goes_left(nodes[g.decision_node[j]], cat_words, x, x_stride)) state |= uint32_t{1} << (g.root_width + j);
      on_group(nd.group, state);
      i = nd.end - 1;
      continue;
    }
    node_at_depth[k] = i;
    went_left[k] = goes_left(nd, cat_words, x, x_stride);
  }
}

// Every leaf, no groups (background histograms count each leaf's own patterns).
template <class OnLeaf>
ASSAY_HD void walk_row(const RowNode* nodes, int32_t n_nodes, const uint32_t* cat_words, const double* x,
                       int64_t x_stride, OnLeaf&& on_leaf) {
  walk_row(nodes, n_nodes, cat_words, x, x_stride, static_cast<const GroupQuery*>(nullptr), on_leaf,
           [](int32_t, uint32_t) {});
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

// Adds a group's contributions for a row in state `state` to out (layout as above).
ASSAY_HD void add_group_contributions(const GroupQuery& g, uint32_t state, const double* tables, const int32_t* columns,
                                      int K, double* out, int64_t out_stride) {
  const double* table = tables + g.table + static_cast<int64_t>(state) * g.slots;
  const int32_t* cols = columns + g.column;
  for (int32_t e = 0; e < g.slots; ++e) out[(static_cast<int64_t>(cols[e]) * K + g.only) * out_stride] += table[e];
}

}  // namespace assay::core
