// The decision-pattern kernel laid out for one-thread-per-row execution (the CUDA backend):
// flat arrays a device can hold (row_walk.hpp), every leaf with a dense table, or its small
// subtree with one group table (leaf_groups.hpp, as the CPU kernel does). The background
// enters as one histogram of leaf patterns (counted on the device, or by histogram_host);
// set_background turns it into the tables with the same code as the CPU kernel
// (leaf_tables.hpp). histogram_host and values_host run the device's per-row functions on the
// host: the emulation the tests compare with PatternShap, and brute force, without a GPU.
#pragma once
#include <cstdint>
#include <vector>

#include "core/forest.hpp"
#include "core/indices.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_paths.hpp"
#include "core/players.hpp"
#include "core/row_walk.hpp"

namespace assay::core {

class RowQueryPlan {
 public:
  // Throws DeviceUnsupported (errors.hpp) when the forest cannot run this way (a tree deeper
  // than kMaxRowWalkDepth, more than 2^31 output columns, a leaf wider than max_width players,
  // tables over budget_bytes): the message says which, and the CPU kernel handles every such
  // forest. A bad max_width is a plain std::invalid_argument.
  RowQueryPlan(const Forest& f, const Players& players, Index index, int max_width, int64_t budget_bytes);

  // counts: n_cells() background pattern counts (leaf l's cells start at leaves()[l].cells).
  void set_background(const uint32_t* counts, int64_t n_bg);
  std::vector<double> expected_value() const;  // K values; needs set_background

  // Host emulation of the device kernels (OpenMP over trees / rows; deterministic).
  void histogram_host(const double* bg, int64_t n_bg, uint32_t* counts, int n_threads) const;
  void values_host(const double* X, int64_t n, double* out, int n_threads) const;  // out: (n, row_size)

  // What the device copies.
  const std::vector<RowNode>& nodes() const { return nodes_; }
  const std::vector<int64_t>& tree_node_begin() const { return tree_node_begin_; }
  const std::vector<int64_t>& tree_leaf_begin() const { return tree_leaf_begin_; }
  const std::vector<LeafQuery>& leaves() const { return leaves_; }
  const std::vector<GroupQuery>& groups() const { return groups_; }
  const std::vector<int32_t>& columns() const { return columns_; }
  const std::vector<uint32_t>& cat_words() const { return paths_.cat_words; }
  const std::vector<double>& values() const { return values_; }
  const std::vector<double>& tables() const { return tables_; }
  int64_t n_cells() const { return n_cells_; }
  // Histogram cells of tree t (its leaves' cells are contiguous).
  int64_t tree_cells(int64_t t) const {
    const LeafQuery& last = leaves_[tree_leaf_begin_[t + 1] - 1];
    return last.cells + (int64_t{1} << last.width) - leaves_[tree_leaf_begin_[t]].cells;
  }
  int64_t n_trees() const { return static_cast<int64_t>(tree_node_begin_.size()) - 1; }
  int32_t n_features() const { return n_features_; }
  int32_t n_outputs() const { return n_outputs_; }
  const OutputLayout& layout() const { return layout_; }
  int64_t table_bytes() const { return table_doubles_ * static_cast<int64_t>(sizeof(double)); }

 private:
  int32_t n_features_, n_outputs_;
  OutputLayout layout_;
  IndexWeights w_;
  std::vector<RowNode> nodes_;
  std::vector<int64_t> tree_node_begin_, tree_leaf_begin_;
  std::vector<LeafQuery> leaves_;
  std::vector<double> leaf_scale_;  // per leaf: the value folded into its table, or 1
  std::vector<int32_t> columns_;
  std::vector<double> values_, base_score_;
  LeafPaths paths_;  // kept to compose group tables
  LeafGroups leaf_groups_;
  std::vector<GroupQuery> groups_;
  int64_t table_doubles_ = 0;
  std::vector<double> tables_;
  std::vector<double> tree_mean_;  // n_trees x K, from the background reach counts
  int64_t n_cells_ = 0;
  bool has_background_ = false;
};

}  // namespace assay::core
