// Fast exact interventional attributions (Shapley, Banzhaf, Shapley interaction and
// Shapley-Taylor values: indices.hpp) from per-leaf decision patterns (leaf_paths.hpp; the cost
// model is in README.md "How it works"). The background enters only through per-leaf pattern
// weights (leaf_weights.hpp), counted once per explainer and shared by every index; each index
// turns them into its own tables (leaf_tables.hpp); a foreground row then costs
// O(nodes + table entries of its leaves) per tree, independent of the background size.
//
// Dense leaves store every entry for each of the 2^d masks; small subtrees of single-output
// trees share one table (leaf_groups.hpp). Sparse leaves (too wide, or over the memory budget)
// keep the distinct background patterns and their weights and are queried pairwise over those
// (O(distinct * entries) per row). Trees with a path of more than 64 distinct players fall back
// to the pairwise recursion.
//
// Queries run on blocks of rows (column_walk.hpp): for each tree, every leaf handles the whole
// block at once, so its table stays in cache while all rows gather from it; results are
// accumulated entry-major per block and transposed out at the end. Each row's sums run in
// the same order whatever the block size or thread count, so results are bit-identical.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/column_walk.hpp"
#include "core/forest.hpp"
#include "core/indices.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_paths.hpp"
#include "core/leaf_weights.hpp"
#include "core/players.hpp"
#include "core/progress.hpp"
#include "core/table_plan.hpp"

namespace assay::core {

class PatternShap {
 public:
  // The tables of `index` from a game's leaf weights (shared, not copied). progress (optional)
  // counts finished trees; setting its stop flag abandons the build (Cancelled).
  PatternShap(std::shared_ptr<const LeafWeights> weights, Index index, const PatternOptions& opt, int n_threads,
              Progress* progress = nullptr);

  // out is (n, layout().row_size()) C order: (n, P, K) or (n, P, P, K); overwritten. progress
  // (optional) counts finished rows; setting its stop flag abandons the call (Cancelled).
  void values(const double* X, int64_t n, double* out, int n_threads, Progress* progress = nullptr) const;
  const OutputLayout& layout() const { return layout_; }

  // Mean raw output over the background (K values), from the leaf weights; for the
  // path-dependent game, the cover-weighted mean leaf value.
  std::vector<double> expected_value() const { return weights_->expected_value(); }
  const LeafWeights& weights() const { return *weights_; }

  int32_t n_features() const { return f_.n_features; }
  int64_t n_trees() const { return f_.n_trees(); }
  int32_t n_outputs() const { return f_.n_outputs; }
  int64_t n_dense_leaves() const { return n_dense_; }
  int64_t n_sparse_leaves() const { return n_sparse_; }
  int64_t n_fallback_trees() const { return weights_->n_fallback_trees(); }
  int64_t n_leaf_groups() const { return static_cast<int64_t>(groups_.groups.size()); }
  int64_t table_bytes() const;

 private:
  // kGrouped: the leaf belongs to a LeafGroup, whose table holds its contributions.
  static constexpr uint8_t kDense = TablePlan::kDense, kSparse = TablePlan::kSparse, kGrouped = TablePlan::kGrouped;

  // Trees with one output per leaf (K == 1, or a per-class tree) store value * contribution in
  // their dense tables; trees with K-wide leaves store the contribution and scale per output.
  bool folds_values(int64_t t) const { return f_.n_outputs == 1 || f_.tree_output[t] >= 0; }
  int output_of(int64_t t) const { return f_.n_outputs == 1 ? 0 : f_.tree_output[t]; }

  // The table plan (table_plan.hpp) and the dense tables' offsets.
  void plan_tables(const PatternOptions& opt);
  // Tables of every leaf and group of tree t from the leaf weights.
  void tabulate_tree(int64_t t);
  // Writes leaf `slot`'s table to C from its background histogram (leaf_tables.hpp).
  void fill_dense(int64_t slot, const double* counts, std::vector<double>& scratch, double* C);
  // Output column of entry e of leaf `slot` (a player, or a pair of its players).
  int64_t leaf_entry_column(int64_t slot, int64_t e) const;
  // Rows per thread task (their columns and accumulators), and rows per tree walk within it.
  struct BlockPlan {
    int64_t rows;
    int64_t walk_rows;
  };
  BlockPlan plan_blocks(int64_t n, int n_threads) const;
  void shap_block(const double* X, int64_t n, double* phi, const BlockPlan& plan) const;
  // Adds the contributions of leaf `slot` (of tree t) for n rows with patterns pat to out (feature-major,
  // out[(feature * K + k) * stride + r]). masks is scratch for n entries.
  void add_leaf_block(int64_t t, int64_t slot, const uint64_t* pat, int64_t n, double* out, int64_t stride,
                      uint32_t* masks) const;
  // The same for a group (leaf_groups.hpp) reached with patterns pat; went_left is scratch.
  void add_group_block(const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block, double* out, int64_t stride,
                       uint32_t* states, uint8_t* went_left) const;

  std::shared_ptr<const LeafWeights> weights_;
  const Forest& f_;  // the weights' forest view: shared, outlives this object
  const Players& players_;
  const LeafPaths& paths_;
  OutputLayout layout_;
  IndexWeights w_;
  std::vector<uint8_t> kind_;         // per leaf: TablePlan::Kind
  std::vector<int64_t> table_begin_;  // per leaf: dense -> offset in dense_ of its d x 2^d table;
                                      // sparse -> offset in its tree's sparse arrays
  std::vector<int64_t> sparse_count_; // per leaf: number of distinct background patterns (sparse)
  std::vector<double> dense_;
  LeafGroups groups_;
  std::vector<double> group_tables_;
  std::vector<std::vector<uint64_t>> sparse_pattern_;  // per tree
  std::vector<std::vector<double>> sparse_weight_;     // per tree
  int64_t n_dense_ = 0, n_sparse_ = 0;
};

}  // namespace assay::core
