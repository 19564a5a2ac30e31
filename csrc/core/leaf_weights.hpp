// Where a game's per-leaf pattern weights come from. A leaf with d players on its path sees a
// row through its pattern (d bits, leaf_paths.hpp); every index of a game is a different
// weighting of the same per-leaf pattern distribution:
//   BackgroundPatterns  the interventional game: how many background rows have each pattern,
//                       counted once by the column walker (column_walk.hpp);
//   CoverWeights        the path-dependent game: products of node-cover ratios (cover_weights.hpp).
// Either is computed once per explainer and shared by the tables of every index
// (pattern_shap.hpp), so a second index never reads the background again.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/forest_view.hpp"
#include "core/leaf_groups.hpp"
#include "core/progress.hpp"

namespace assay::core {

struct PatternOptions {
  int dense_max_bits = 16;                        // never tabulate leaves wider than this
  int64_t dense_budget_bytes = int64_t{1} << 31;  // total memory for dense tables (and histograms)
};

class LeafWeights {
 public:
  virtual ~LeafWeights() = default;
  const ForestView& view() const { return *view_; }
  const ForestViewPtr& view_ptr() const { return view_; }

  // Leaf s's 2^d pattern weights before scaling by inv_n() (background: row counts): a stored
  // histogram, or `buffer` filled. Needs d <= 24.
  virtual const double* dense(int64_t s, std::vector<double>& buffer) const = 0;
  // Appends leaf s's patterns of non-zero weight, ascending, with their weights times inv_n().
  virtual void sparse(int64_t s, std::vector<uint64_t>& patterns, std::vector<double>& weights) const = 0;
  // 1 / (number of background rows); 1 for probabilities.
  double inv_n() const { return inv_n_; }

  // Mean raw output (K values): the base score plus each tree's weighted leaf values.
  std::vector<double> expected_value() const;
  // Background rows (C order) for trees too wide for patterns, explained pairwise; null if none.
  const double* fallback_rows() const { return fallback_rows_.empty() ? nullptr : fallback_rows_.data(); }
  int64_t n_fallback_rows() const { return n_fallback_rows_; }
  int64_t n_fallback_trees() const { return n_fallback_trees_; }
  // Memory held for the weights (histograms, pattern lists, fallback rows).
  virtual int64_t stored_bytes() const = 0;

 protected:
  LeafWeights(ForestViewPtr view, double inv_n);
  // The weight of leaf s's full pattern (every condition met) times inv_n(): how often a
  // row reaches it.
  virtual double reach(int64_t s) const = 0;
  // tree_mean_ of tree t from its leaves' reach.
  void set_tree_mean(int64_t t);

  ForestViewPtr view_;
  double inv_n_;
  std::vector<double> tree_mean_;  // n_trees x K
  std::vector<double> fallback_rows_;
  int64_t n_fallback_rows_ = 0, n_fallback_trees_ = 0;
};

// The background's decision patterns, per leaf: a histogram of 2^d counts where that is small
// (d <= dense_max_bits, 2^d cells no more than the rows, within the budget), else the sorted
// distinct patterns with their counts. Either serves both table kinds.
class BackgroundPatterns final : public LeafWeights {
 public:
  // bg is (n_bg, n_features) C order. progress (optional) counts finished trees; its stop flag
  // abandons the build (Cancelled).
  BackgroundPatterns(ForestViewPtr view, const double* bg, int64_t n_bg, const PatternOptions& opt, int n_threads,
                     Progress* progress = nullptr);
  const double* dense(int64_t s, std::vector<double>& buffer) const override;
  void sparse(int64_t s, std::vector<uint64_t>& patterns, std::vector<double>& weights) const override;
  int64_t n_rows() const { return n_rows_; }
  int64_t n_histogram_leaves() const;
  int64_t stored_bytes() const override;

 private:
  double reach(int64_t s) const override;
  // One column walk of tree t over the background: its leaves' histograms and lists. Groups
  // (leaf_groups.hpp) count one state per row for several small leaves.
  void count_tree(int64_t t, const double* bg_cols, const LeafGroups& groups);

  int64_t n_rows_;
  std::vector<uint8_t> histogram_;           // per leaf: 1 = stored as 2^d counts, 0 = as a list
  std::vector<int64_t> begin_;               // per leaf: offset in its tree's counts (or list)
  std::vector<int64_t> listed_;              // per leaf: number of distinct patterns (lists)
  std::vector<std::vector<double>> counts_;  // per tree: histograms, then list counts
  std::vector<std::vector<uint64_t>> patterns_;  // per tree: listed patterns
};

// The path-dependent game's weights (cover_weights.hpp): per leaf, the product distribution of
// its players' cover ratios. No background; every tree must have at most 64 players on a path.
class CoverWeights final : public LeafWeights {
 public:
  // cover: one non-negative value per Forest node.
  CoverWeights(ForestViewPtr view, const std::vector<double>& cover, const PatternOptions& opt, int n_threads);
  const double* dense(int64_t s, std::vector<double>& buffer) const override;
  void sparse(int64_t s, std::vector<uint64_t>& patterns, std::vector<double>& weights) const override;
  int64_t stored_bytes() const override { return static_cast<int64_t>(ratio_.size() * sizeof(double)); }

  // Leaves wider than a dense table list at most this many patterns.
  static constexpr int64_t kMaxPatterns = int64_t{1} << 22;

 private:
  double reach(int64_t s) const override;
  // (data() + offset: a root leaf of the last tree has no players, and its offset is the end)
  const double* ratios(int64_t s) const { return ratio_.data() + view_->paths.leaf_player_begin[s]; }

  int dense_max_bits_;
  std::vector<double> ratio_;  // per leaf, its players' cover ratios (leaf_cover_ratios)
};

}  // namespace assay::core
