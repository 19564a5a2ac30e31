#include "core/pattern_shap.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/column_walk.hpp"
#include "core/errors.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_tables.hpp"
#include "core/pairwise_shap.hpp"
#include "core/parallel.hpp"
#include "core/predict.hpp"
#include "core/table_plan.hpp"

namespace assay::core {

namespace {

// Adds c * v (the leaf's value vector, or only output `only`) to one feature's K outputs,
// which lie `stride` apart.
inline void add_scaled(double* out, int64_t stride, double c, const double* v, int K, int only) {
  if (only >= 0) {
    out[only * stride] += c * v[only];
  } else {
    for (int k = 0; k < K; ++k) out[k * stride] += c * v[k];
  }
}

constexpr int64_t kWalkBlockRows = 512;
constexpr int64_t kWalkScratchBytes = int64_t{8} << 20;   // per thread
constexpr int64_t kMaxBlockRows = 8192;
constexpr int64_t kRowScratchBytes = int64_t{32} << 20;   // per thread
}  // namespace

PatternShap::PatternShap(std::shared_ptr<const LeafWeights> weights, Index index, const PatternOptions& opt,
                         int n_threads, Progress* progress)
    : weights_(std::move(weights)),
      f_(weights_->view().forest),
      players_(weights_->view().players),
      paths_(weights_->view().paths),
      layout_(players_, f_.n_outputs, index),
      w_(index, std::min({f_.max_depth, players_.n, kMaxPatternBits})) {
  if (opt.dense_max_bits < 0 || opt.dense_max_bits > 24)
    throw std::invalid_argument("dense_max_bits must be in [0, 24]");
  plan_tables(opt);
  sparse_pattern_.resize(f_.n_trees());
  sparse_weight_.resize(f_.n_trees());
  parallel_for(f_.n_trees(), n_threads, 1, [&](int64_t t) {
    if (stopped(progress)) return;
    if (!paths_.tree_too_wide[t]) tabulate_tree(t);  // too-wide trees are explained pairwise
    advance(progress, 1);
  });
  throw_if_stopped(progress);
}

void PatternShap::plan_tables(const PatternOptions& opt) {
  const int64_t L = paths_.n_leaves();
  TablePlan plan = core::plan_tables(f_, paths_, layout_.pairs, opt.dense_max_bits, opt.dense_budget_bytes);
  kind_ = std::move(plan.kind);
  groups_ = std::move(plan.groups);
  n_dense_ = plan.n_dense;
  n_sparse_ = plan.n_sparse;
  table_begin_.assign(L, 0);
  sparse_count_.assign(L, 0);
  group_tables_.assign(groups_.table_doubles, 0.0);
  // Dense offsets in slot order, so each tree's tables are contiguous.
  int64_t off = 0;
  for (int64_t slot = 0; slot < L; ++slot) {
    if (kind_[slot] != kDense) continue;
    table_begin_[slot] = off;
    off += leaf_table_entries(paths_.leaf_width[slot], layout_.pairs) << paths_.leaf_width[slot];
  }
  dense_.assign(off, 0.0);
}

void PatternShap::tabulate_tree(int64_t t) {
  const int64_t first = paths_.tree_leaf_begin[t], last = paths_.tree_leaf_begin[t + 1];
  const int64_t g_first = groups_.tree_group_begin[t], g_last = groups_.tree_group_begin[t + 1];
  // Grouped leaves get their own tables here first, then their groups' tables are composed.
  std::vector<double> scratch, leaf_counts, leaf_tables;
  std::vector<int64_t> leaf_table_begin(last - first, -1);
  for (int64_t s = first; s < last; ++s) {
    if (kind_[s] != kGrouped) continue;
    leaf_table_begin[s - first] = static_cast<int64_t>(leaf_tables.size());
    leaf_tables.resize(
        leaf_tables.size() + (leaf_table_entries(paths_.leaf_width[s], layout_.pairs) << paths_.leaf_width[s]), 0.0);
  }
  auto& pats = sparse_pattern_[t];
  auto& weights = sparse_weight_[t];
  for (int64_t s = first; s < last; ++s) {
    if (kind_[s] == kSparse) {
      table_begin_[s] = static_cast<int64_t>(pats.size());
      weights_->sparse(s, pats, weights);
      sparse_count_[s] = static_cast<int64_t>(pats.size()) - table_begin_[s];
    } else if (kind_[s] == kDense || kind_[s] == kGrouped) {
      double* out = kind_[s] == kDense ? &dense_[table_begin_[s]] : &leaf_tables[leaf_table_begin[s - first]];
      fill_dense(s, weights_->dense(s, leaf_counts), scratch, out);
    }
  }
  std::vector<const double*> member_tables;
  for (int64_t g = g_first; g < g_last; ++g) {
    const LeafGroup& G = groups_.groups[g];
    member_tables.clear();
    for (int64_t s = G.leaf_begin; s < G.leaf_end; ++s)
      member_tables.push_back(kind_[s] == kGrouped ? &leaf_tables[leaf_table_begin[s - first]] : nullptr);
    compose_group_table(paths_, groups_, G, member_tables, &group_tables_[G.table_begin]);
  }
}

void PatternShap::fill_dense(int64_t slot, const double* counts, std::vector<double>& scratch, double* C) {
  // Scalar trees fold the leaf value into the table.
  const int64_t t = paths_.leaf_tree[slot];
  const double scale = folds_values(t) ? f_.value[paths_.leaf_value_node[slot] * f_.n_outputs + output_of(t)] : 1.0;
  fill_leaf_table(w_, paths_.leaf_width[slot], counts, weights_->inv_n(), scale, C, scratch);
}

int64_t PatternShap::leaf_entry_column(int64_t slot, int64_t e) const {
  const int32_t* players = &paths_.leaf_players[paths_.leaf_player_begin[slot]];
  if (!layout_.pairs) return players[e];
  const int d = paths_.leaf_width[slot];
  return layout_.column(players[e / d], players[e % d]);
}

void PatternShap::add_leaf_block(int64_t t, int64_t slot, const uint64_t* pat, int64_t n, double* out, int64_t stride,
                                 uint32_t* masks) const {
  const int K = f_.n_outputs;
  const int only = output_of(t);
  const int d = paths_.leaf_width[slot];
  const uint64_t full = width_mask(d);
  const double* v = &f_.value[paths_.leaf_value_node[slot] * K];
  if (kind_[slot] == kDense) {
    const int64_t S = int64_t{1} << d;
    for (int64_t r = 0; r < n; ++r) masks[r] = static_cast<uint32_t>(~pat[r] & full);  // q: the bits x fails
    const int64_t entries = leaf_table_entries(d, layout_.pairs);
    for (int64_t e = 0; e < entries; ++e) {
      const double* column = &dense_[table_begin_[slot] + e * S];
      const int64_t col = leaf_entry_column(slot, e);
      if (folds_values(t)) {  // the table already holds value * contribution
        double* acc = out + (col * K + only) * stride;
        for (int64_t r = 0; r < n; ++r) acc[r] += column[masks[r]];
        continue;
      }
      for (int k = 0; k < K; ++k) {
        double* acc = out + (col * K + k) * stride;
        const double vk = v[k];
        for (int64_t r = 0; r < n; ++r) acc[r] += column[masks[r]] * vk;
      }
    }
    return;
  }
  // Sparse leaf: pairwise over the distinct background patterns, row by row.
  const int32_t* players = &paths_.leaf_players[paths_.leaf_player_begin[slot]];
  const auto& pats = sparse_pattern_[t];
  const auto& weights = sparse_weight_[t];
  const int64_t begin = table_begin_[slot], end = begin + sparse_count_[slot];
  int32_t xs[kMaxPatternBits], zs[kMaxPatternBits];
  for (int64_t r = 0; r < n; ++r) {
    const uint64_t p = pat[r] & full;
    for (int64_t e = begin; e < end; ++e) {
      const uint64_t b = pats[e];
      if ((b | p) != full) continue;  // some player satisfied by neither: unreachable
      int s = 0, m = 0;
      for (int i = 0; i < d; ++i) {
        const uint64_t bit = uint64_t{1} << i;
        if ((p & bit) && !(b & bit)) xs[s++] = players[i];
        else if ((b & bit) && !(p & bit)) zs[m++] = players[i];
      }
      for_each_game_entry(w_, xs, s, zs, m, [&](int32_t i, int32_t j, double c) {
        add_scaled(out + layout_.column(i, j) * K * stride + r, stride, c * weights[e], v, K, only);
      });
    }
  }
}

void PatternShap::add_group_block(const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block, double* out,
                                  int64_t stride, uint32_t* states, uint8_t* went_left) const {
  const int K = f_.n_outputs;
  const int only = output_of(g.tree);
  const int64_t n = block.n;
  group_states(paths_, g, pat, block, states, went_left);
  const int32_t* players = &groups_.players[g.player_begin];
  const double* table = &group_tables_[g.table_begin];
  for (int64_t e = 0; e < g.n_slots; ++e) {
    const double* column = table + (e << g.width);
    const int64_t col = g.pairs ? layout_.column(players[e / g.n_players], players[e % g.n_players]) : players[e];
    double* acc = out + (col * K + only) * stride;
    for (int64_t r = 0; r < n; ++r) acc[r] += column[states[r]];
  }
}

PatternShap::BlockPlan PatternShap::plan_blocks(int64_t n, int n_threads) const {
  const int64_t F = f_.n_features, row_size = layout_.row_size();
  // Walk blocks: the walker's scratch is (depth + 1) x 9 bytes per row.
  const int64_t walk_per_row = 9 * (static_cast<int64_t>(paths_.max_tree_depth) + 1) + 4;
  int64_t walk = std::min(kWalkBlockRows, std::max<int64_t>(16, kWalkScratchBytes / walk_per_row));
  // Row blocks hold the block's columns and accumulators; bigger blocks read each tree's
  // tables once for more rows (tables of deep forests exceed the caches).
  int64_t rows = std::clamp<int64_t>(kRowScratchBytes / (8 * (F + row_size)), 16, kMaxBlockRows);
  // Enough blocks to keep every thread busy.
  rows = std::min(rows, std::max<int64_t>(16, (n + 2 * n_threads - 1) / (2 * n_threads)));
  rows = std::max<int64_t>(1, std::min(rows, n));
  return {rows, std::min(walk, rows)};
}

void PatternShap::shap_block(const double* X, int64_t n, double* phi, const BlockPlan& plan) const {
  const int32_t F = f_.n_features;
  const int64_t row_size = layout_.row_size();
  const int64_t stride = plan.rows;
  std::vector<double> x_cols(static_cast<size_t>(F) * stride);
  std::vector<double> acc(static_cast<size_t>(row_size) * stride, 0.0);
  std::vector<uint32_t> masks(plan.walk_rows);
  std::vector<uint8_t> went_left(plan.walk_rows);
  ColumnWalker walker(paths_, plan.walk_rows);
  transpose_rows(X, n, F, x_cols.data(), stride);
  // Trees outer: one tree's tables serve every walk block of this row block.
  for (int64_t t = 0; t < f_.n_trees(); ++t) {
    if (paths_.tree_too_wide[t]) continue;
    for (int64_t r0 = 0; r0 < n; r0 += plan.walk_rows) {
      const ColumnBlock block{x_cols.data() + r0, stride, std::min(plan.walk_rows, n - r0)};
      double* out = acc.data() + r0;
      walker.walk(
          t, block, groups_.group_of_node.data(),
          [&](int64_t slot, const uint64_t* pat) {
            if (kind_[slot] == kDense || kind_[slot] == kSparse)
              add_leaf_block(t, slot, pat, block.n, out, stride, masks.data());
          },
          [&](int32_t group, const uint64_t* pat) {
            add_group_block(groups_.groups[group], pat, block, out, stride, masks.data(), went_left.data());
          });
    }
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < row_size; ++j) phi[r * row_size + j] = acc[j * stride + r];
  if (weights_->n_fallback_trees() == 0) return;
  const double* bg = weights_->fallback_rows();
  const int64_t n_bg = weights_->n_fallback_rows();
  for (int64_t t = 0; t < f_.n_trees(); ++t) {
    if (!paths_.tree_too_wide[t]) continue;
    for (int64_t r = 0; r < n; ++r)
      pairwise_values_row(f_, players_, w_, X + r * F, bg, n_bg, t, t + 1, phi + r * row_size);
  }
}

void PatternShap::values(const double* X, int64_t n, double* phi, int n_threads, Progress* progress) const {
  if (n <= 0) return;
  const BlockPlan plan = plan_blocks(n, n_threads);
  const int64_t row_size = layout_.row_size();
  const int64_t n_blocks = (n + plan.rows - 1) / plan.rows;
  parallel_for(n_blocks, n_threads, 1, [&](int64_t b) {
    if (stopped(progress)) return;
    const int64_t r0 = b * plan.rows, rows = std::min(plan.rows, n - r0);
    shap_block(X + r0 * f_.n_features, rows, phi + r0 * row_size, plan);
    advance(progress, rows);
  });
  throw_if_stopped(progress);
}

int64_t PatternShap::table_bytes() const {
  int64_t bytes = static_cast<int64_t>((dense_.size() + group_tables_.size()) * sizeof(double));
  for (const auto& v : sparse_pattern_) bytes += static_cast<int64_t>(v.size() * (sizeof(uint64_t) + sizeof(double)));
  return bytes;
}

}  // namespace assay::core
