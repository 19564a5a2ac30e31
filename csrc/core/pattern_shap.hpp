// Fast exact interventional SHAP from per-leaf decision patterns (see leaf_paths.hpp and
// DESIGN.md "Performance model"). The background enters only through per-leaf pattern
// histograms, turned once into tables; a foreground row then costs O(nodes + sum of leaf
// widths) per tree (K outputs: times K for the leaf sums), independent of the background size.
//
// For leaf l (width d, value v), foreground pattern p and q = ~p (the bits x fails, |q| = m),
// the background patterns b that can reach l are the supersets of q, and for those
// s = d - |b|, m = |q|. With F_k[q] = sum of c(b) over b >= q, |b| = k:
//   N[q]  = sum_k F_k[q] w-(d-k, |q|)       each bit i in q gets  -v N[q]
//   P[q]  = sum_k F_k[q] w+(d-k, |q|)       each bit i not in q gets
//   P'[q] = sum_k F_k[q] w+(d-k, |q| - 1)     +v (P[q] - P'[q | i])
// since the b >= q lacking bit i are those counted in F_k[q] but not in F_k[q | i].
// Dense leaves store, for each of their d features, the contribution for each of the 2^d masks
// q (built from P, P', N with layered superset sums, O(d^2 2^d)); sparse leaves keep the
// distinct background patterns and their weights and are queried pairwise over those
// (O(distinct * d) per row). Trees with a path of more than 64 distinct features fall back to
// the pairwise recursion.
//
// Queries run on blocks of rows (column_walk.hpp): for each tree, every leaf handles the whole
// block at once, so its table stays in cache while all rows gather from it; results are
// accumulated feature-major per block and transposed out at the end. Each row's sums run in
// the same order whatever the block size or thread count, so results are bit-identical.
#pragma once
#include <cstdint>
#include <vector>

#include "core/column_walk.hpp"
#include "core/forest.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_paths.hpp"
#include "core/shapley_weights.hpp"

namespace assay::core {

struct PatternOptions {
  int dense_max_bits = 16;           // never tabulate leaves wider than this
  int64_t dense_budget_bytes = int64_t{1} << 31;  // total memory for dense tables
};

class PatternShap {
 public:
  // Copies the forest and builds the background tables (bg is (n_bg, n_features) C order).
  PatternShap(const Forest& forest, const double* bg, int64_t n_bg, const PatternOptions& opt, int n_threads);

  // phi is (n, n_features, K) C order, overwritten.
  void shap_values(const double* X, int64_t n, double* phi, int n_threads) const;

  // Mean raw output over the background (K values), from the tables' histograms.
  std::vector<double> expected_value() const;

  int32_t n_features() const { return f_.n_features; }
  int32_t n_outputs() const { return f_.n_outputs; }
  int64_t n_dense_leaves() const { return n_dense_; }
  int64_t n_sparse_leaves() const { return n_sparse_; }
  int64_t n_fallback_trees() const { return n_fallback_; }
  int64_t n_leaf_groups() const { return static_cast<int64_t>(groups_.groups.size()); }
  int64_t table_bytes() const;

 private:
  // kGrouped: the leaf belongs to a LeafGroup, whose table holds its contributions.
  enum LeafKind : uint8_t { kEmpty = 0, kDense = 1, kSparse = 2, kGrouped = 3 };

  // Trees with one output per leaf (K == 1, or a per-class tree) store value * contribution in
  // their dense tables; trees with K-wide leaves store the contribution and scale per output.
  bool folds_values(int64_t t) const { return f_.n_outputs == 1 || f_.tree_output[t] >= 0; }
  int output_of(int64_t t) const { return f_.n_outputs == 1 ? 0 : f_.tree_output[t]; }

  void plan_tables(const PatternOptions& opt);
  void build_tree_tables(int64_t t, const double* bg_cols, int64_t n_bg);
  // Writes leaf `slot`'s d x 2^d contribution table to C from its background histogram.
  void fill_dense(int64_t slot, const double* counts, std::vector<double>& scratch, double* C);
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
  // The state of each row of the block at group g (pat: the patterns at its root).
  void group_states(const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block, uint32_t* states,
                    uint8_t* went_left) const;
  // The same for a group (leaf_groups.hpp) reached with patterns pat; went_left is scratch.
  void add_group_block(const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block, double* out,
                       int64_t stride, uint32_t* states, uint8_t* went_left) const;

  Forest f_;
  LeafPaths paths_;
  ShapleyWeights w_;
  std::vector<uint8_t> kind_;         // per leaf
  std::vector<int64_t> leaf_tree_;    // per leaf: its tree
  std::vector<int64_t> table_begin_;  // per leaf: dense -> offset in dense_ of its d x 2^d table;
                                      // sparse -> offset in its tree's sparse arrays
  std::vector<int64_t> sparse_count_; // per leaf: number of distinct background patterns (sparse)
  std::vector<double> dense_;
  LeafGroups groups_;
  std::vector<double> group_tables_;
  std::vector<std::vector<uint64_t>> sparse_pattern_;  // per tree
  std::vector<std::vector<double>> sparse_weight_;     // per tree
  std::vector<double> tree_mean_;     // n_trees x K: each tree's mean output over the background
  std::vector<double> fallback_bg_;   // background copy, only if a tree falls back
  int64_t n_bg_ = 0;
  int64_t n_dense_ = 0, n_sparse_ = 0, n_fallback_ = 0;
};

}  // namespace assay::core
