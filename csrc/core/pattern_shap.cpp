#include "core/pattern_shap.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/column_walk.hpp"
#include "core/cover_weights.hpp"
#include "core/errors.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_tables.hpp"
#include "core/pairwise_shap.hpp"
#include "core/predict.hpp"
#include "core/parallel.hpp"

namespace assay::core {

namespace {
inline int popcount(uint64_t v) { return popcount64(v); }

// Adds c * v (the leaf's value vector, or only output `only`) to one feature's K outputs,
// which lie `stride` apart.
inline void add_scaled(double* out, int64_t stride, double c, const double* v, int K, int only) {
  if (only >= 0) {
    out[only * stride] += c * v[only];
  } else {
    for (int k = 0; k < K; ++k) out[k * stride] += c * v[k];
  }
}

constexpr int64_t kBuildBlockRows = 256;
constexpr int64_t kWalkBlockRows = 512;
constexpr int64_t kWalkScratchBytes = int64_t{8} << 20;   // per thread
constexpr int64_t kMaxBlockRows = 8192;
constexpr int64_t kRowScratchBytes = int64_t{32} << 20;   // per thread
}  // namespace

PatternShap::PatternShap(const Forest& forest, const Players& players, Index index, int64_t n_bg,
                         const PatternOptions& opt)
    : f_(forest),
      players_(players),
      layout_(players, forest.n_outputs, index),
      paths_(f_, players_),
      w_(index, std::min({f_.max_depth, players.n, kMaxPatternBits})),
      n_bg_(n_bg) {
  if (opt.dense_max_bits < 0 || opt.dense_max_bits > 24)
    throw std::invalid_argument("dense_max_bits must be in [0, 24]");
}

PatternShap::PatternShap(const Forest& forest, const Players& players, Index index, const double* bg, int64_t n_bg,
                         const PatternOptions& opt, int n_threads, Progress* progress)
    : PatternShap(forest, players, index, n_bg, opt) {
  if (n_bg < 1) throw std::invalid_argument("the background must have at least one row");
  if (n_bg > int64_t{0xFFFFFFFF}) throw std::invalid_argument("the background must have fewer than 2^32 rows");
  plan_tables(opt);
  sparse_pattern_.resize(f_.n_trees());
  sparse_weight_.resize(f_.n_trees());
  for (int64_t t = 0; t < f_.n_trees(); ++t) n_fallback_ += paths_.tree_too_wide[t];
  if (n_fallback_ > 0) fallback_bg_.assign(bg, bg + n_bg * f_.n_features);
  std::vector<double> bg_cols(static_cast<size_t>(n_bg) * f_.n_features);
  transpose_rows(bg, n_bg, f_.n_features, bg_cols.data(), n_bg);
  tree_mean_.assign(static_cast<size_t>(f_.n_trees()) * f_.n_outputs, 0.0);
  parallel_for(f_.n_trees(), n_threads, 1, [&](int64_t t) {
    if (stopped(progress)) return;
    if (!paths_.tree_too_wide[t]) {
      build_tree_tables(t, bg_cols.data(), n_bg);
      advance(progress, 1);
      return;
    }
    const int K = f_.n_outputs;
    for (int64_t r = 0; r < n_bg; ++r)
      add_scaled(&tree_mean_[t * K], 1, 1.0 / n_bg, &f_.value[find_leaf(f_, t, bg + r * f_.n_features) * K], K, -1);
    advance(progress, 1);
  });
  throw_if_stopped(progress);
}

PatternShap::PatternShap(const Forest& forest, const Players& players, Index index, const std::vector<double>& cover,
                         const PatternOptions& opt, int n_threads, Progress* progress)
    : PatternShap(forest, players, index, 1, opt) {  // leaf weights are probabilities: n_bg_ = 1
  for (int64_t t = 0; t < f_.n_trees(); ++t)
    if (paths_.tree_too_wide[t])
      throw TooManyPlayers("path-dependent game: tree " + std::to_string(t) +
                           " has a path with more than 64 distinct players");
  leaf_ratio_ = leaf_cover_ratios(f_, paths_, players_, cover);
  plan_tables(opt);
  sparse_pattern_.resize(f_.n_trees());
  sparse_weight_.resize(f_.n_trees());
  tree_mean_.assign(static_cast<size_t>(f_.n_trees()) * f_.n_outputs, 0.0);
  parallel_for(f_.n_trees(), n_threads, 1, [&](int64_t t) {
    if (stopped(progress)) return;
    build_tree_tables_from_covers(t);
    advance(progress, 1);
  });
  throw_if_stopped(progress);
}

std::vector<double> PatternShap::expected_value() const {
  // Mean raw output over the background: base score plus each tree's reach-weighted leaf values.
  std::vector<double> mean(f_.base_score);
  const int K = f_.n_outputs;
  for (int64_t t = 0; t < f_.n_trees(); ++t)
    for (int k = 0; k < K; ++k) mean[k] += tree_mean_[t * K + k];
  return mean;
}

void PatternShap::plan_tables(const PatternOptions& opt) {
  const int64_t L = paths_.n_leaves();
  kind_.assign(L, kEmpty);
  table_begin_.assign(L, 0);
  sparse_count_.assign(L, 0);
  leaf_tree_.assign(L, 0);
  for (int64_t t = 0; t < f_.n_trees(); ++t)
    for (int64_t s = paths_.tree_leaf_begin[t]; s < paths_.tree_leaf_begin[t + 1]; ++s) leaf_tree_[s] = t;
  // Small subtrees of scalar trees first: one table serves several leaves (leaf_groups.hpp).
  std::vector<uint8_t> groupable(f_.n_trees());
  for (int64_t t = 0; t < f_.n_trees(); ++t) groupable[t] = folds_values(t) && !paths_.tree_too_wide[t];
  groups_ = find_leaf_groups(paths_, groupable, std::min(opt.dense_max_bits, kMaxGroupBits),
                             opt.dense_budget_bytes / static_cast<int64_t>(sizeof(double)), layout_.pairs);
  group_tables_.assign(groups_.table_doubles, 0.0);
  int64_t used = groups_.table_doubles * static_cast<int64_t>(sizeof(double));
  for (const LeafGroup& g : groups_.groups)
    for (int64_t s = g.leaf_begin; s < g.leaf_end; ++s) kind_[s] = paths_.leaf_width[s] > 0 ? kGrouped : kEmpty;
  n_dense_ = 0;
  for (const LeafGroup& g : groups_.groups) n_dense_ += g.leaf_end - g.leaf_begin;
  // Then the other leaves, narrow ones first: they are the cheapest tables and the most common.
  std::vector<int64_t> order(L);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return paths_.leaf_width[a] < paths_.leaf_width[b]; });
  for (int64_t slot : order) {
    const int d = paths_.leaf_width[slot];
    // A root leaf explains nothing; grouped leaves are done; too-wide trees fall back.
    if (d == 0 || kind_[slot] != kEmpty || paths_.tree_too_wide[leaf_tree_[slot]]) continue;
    const int64_t bytes = leaf_table_entries(d, layout_.pairs) * (int64_t{1} << std::min(d, 40)) *
                          static_cast<int64_t>(sizeof(double));
    if (d <= opt.dense_max_bits && used + bytes <= opt.dense_budget_bytes) {
      kind_[slot] = kDense;
      used += bytes;
      ++n_dense_;
    } else {
      kind_[slot] = kSparse;
      ++n_sparse_;
    }
  }
  // Dense offsets in slot order, so each tree's tables are contiguous.
  int64_t off = 0;
  for (int64_t slot = 0; slot < L; ++slot) {
    if (kind_[slot] != kDense) continue;
    table_begin_[slot] = off;
    off += leaf_table_entries(paths_.leaf_width[slot], layout_.pairs) << paths_.leaf_width[slot];
  }
  dense_.assign(off, 0.0);
}

namespace {
// Counts keys into two banks of integer cells (even / odd rows): most rows of a block share a
// few cells, and alternating banks halves the chain of dependent increments on one cell.
template <class Key>
void tally(uint32_t* even, uint32_t* odd, int64_t n, Key&& key) {
  int64_t r = 0;
  for (; r + 1 < n; r += 2) {
    ++even[key(r)];
    ++odd[key(r + 1)];
  }
  if (r < n) ++even[key(r)];
}
}  // namespace

void PatternShap::build_tree_tables(int64_t t, const double* bg_cols, int64_t n_bg) {
  const int64_t first = paths_.tree_leaf_begin[t], last = paths_.tree_leaf_begin[t + 1];
  const int64_t g_first = groups_.tree_group_begin[t], g_last = groups_.tree_group_begin[t + 1];
  // Background histograms: ungrouped dense leaves count their patterns (2^d cells), groups
  // their states (2^width cells; the members' histograms follow from them); sparse leaves
  // list their patterns.
  std::vector<int64_t> cell_begin(last - first + g_last - g_first, 0);
  int64_t cells = 0;
  for (int64_t s = first; s < last; ++s) {
    if (kind_[s] != kDense) continue;
    cell_begin[s - first] = cells;
    cells += int64_t{1} << paths_.leaf_width[s];
  }
  for (int64_t g = g_first; g < g_last; ++g) {
    cell_begin[last - first + g - g_first] = cells;
    cells += int64_t{1} << groups_.groups[g].width;
  }
  std::vector<uint32_t> counts(2 * cells, 0);
  std::vector<std::vector<uint64_t>> listed(last - first);
  const int64_t walk_rows = std::min(kBuildBlockRows, n_bg);
  std::vector<uint32_t> states(walk_rows);
  std::vector<uint8_t> went_left(walk_rows);
  ColumnWalker walker(paths_, walk_rows);
  for (int64_t r0 = 0; r0 < n_bg; r0 += kBuildBlockRows) {
    const ColumnBlock block{bg_cols + r0, n_bg, std::min(kBuildBlockRows, n_bg - r0)};
    walker.walk(
        t, block, groups_.group_of_node.data(),
        [&](int64_t s, const uint64_t* pat) {
          const uint64_t full = width_mask(paths_.leaf_width[s]);
          if (kind_[s] == kDense) {
            uint32_t* even = counts.data() + cell_begin[s - first];
            tally(even, even + cells, block.n, [&](int64_t r) { return pat[r] & full; });
          } else if (kind_[s] == kSparse) {
            for (int64_t r = 0; r < block.n; ++r) listed[s - first].push_back(pat[r] & full);
          }
        },
        [&](int32_t g, const uint64_t* pat) {
          group_states(groups_.groups[g], pat, block, states.data(), went_left.data());
          uint32_t* even = counts.data() + cell_begin[last - first + g - g_first];
          tally(even, even + cells, block.n, [&](int64_t r) { return states[r]; });
        });
  }
  auto histogram = [&](int64_t begin, int64_t size, double* out) {
    for (int64_t b = 0; b < size; ++b) out[b] = static_cast<double>(counts[begin + b]) + counts[begin + b + cells];
  };
  // Grouped leaves: pattern histograms from their group's state histogram.
  std::vector<int64_t> member_begin(last - first, -1);
  int64_t member_cells = 0;
  for (int64_t s = first; s < last; ++s) {
    if (kind_[s] != kGrouped) continue;
    member_begin[s - first] = member_cells;
    member_cells += int64_t{1} << paths_.leaf_width[s];
  }
  std::vector<double> member_counts(member_cells, 0.0), state_counts;
  std::vector<double*> member_ptrs;
  for (int64_t g = g_first; g < g_last; ++g) {
    const LeafGroup& G = groups_.groups[g];
    state_counts.resize(size_t{1} << G.width);
    histogram(cell_begin[last - first + g - g_first], int64_t{1} << G.width, state_counts.data());
    member_ptrs.clear();
    for (int64_t s = G.leaf_begin; s < G.leaf_end; ++s)
      member_ptrs.push_back(kind_[s] == kGrouped ? &member_counts[member_begin[s - first]] : nullptr);
    member_histograms(paths_, G, state_counts.data(), member_ptrs);
  }
  const double inv_n = 1.0 / static_cast<double>(n_bg);
  LeafWeightSource source;
  source.dense = [&](int64_t s, std::vector<double>& buffer) -> const double* {
    if (kind_[s] == kGrouped) return &member_counts[member_begin[s - first]];
    buffer.resize(size_t{1} << paths_.leaf_width[s]);
    histogram(cell_begin[s - first], int64_t{1} << paths_.leaf_width[s], buffer.data());
    return buffer.data();
  };
  source.sparse = [&](int64_t s, std::vector<uint64_t>& pats, std::vector<double>& weights) {
    auto& list = listed[s - first];
    std::sort(list.begin(), list.end());
    for (size_t i = 0; i < list.size();) {
      size_t j = i;
      while (j < list.size() && list[j] == list[i]) ++j;
      pats.push_back(list[i]);
      weights.push_back(static_cast<double>(j - i) * inv_n);
      i = j;
    }
    std::vector<uint64_t>().swap(list);
  };
  tabulate_tree(t, source);
}

void PatternShap::build_tree_tables_from_covers(int64_t t) {
  auto ratios = [&](int64_t s) { return &leaf_ratio_[paths_.leaf_player_begin[s]]; };
  LeafWeightSource source;
  source.dense = [&](int64_t s, std::vector<double>& buffer) -> const double* {
    buffer.resize(size_t{1} << paths_.leaf_width[s]);
    cover_histogram(ratios(s), paths_.leaf_width[s], buffer.data());
    return buffer.data();
  };
  source.sparse = [&](int64_t s, std::vector<uint64_t>& pats, std::vector<double>& weights) {
    std::vector<uint64_t> p;
    std::vector<double> w;
    cover_patterns(ratios(s), paths_.leaf_width[s], kMaxCoverPatterns, p, w);
    pats.insert(pats.end(), p.begin(), p.end());
    weights.insert(weights.end(), w.begin(), w.end());
  };
  tabulate_tree(t, source);
}

void PatternShap::tabulate_tree(int64_t t, const LeafWeightSource& source) {
  const int64_t first = paths_.tree_leaf_begin[t], last = paths_.tree_leaf_begin[t + 1];
  const int64_t g_first = groups_.tree_group_begin[t], g_last = groups_.tree_group_begin[t + 1];
  // Grouped leaves get their own tables here first, then their groups' tables are composed.
  std::vector<double> scratch, leaf_counts, leaf_tables;
  std::vector<int64_t> leaf_table_begin(last - first, -1);
  for (int64_t s = first; s < last; ++s) {
    if (kind_[s] != kGrouped) continue;
    leaf_table_begin[s - first] = static_cast<int64_t>(leaf_tables.size());
    leaf_tables.resize(leaf_tables.size() + (leaf_table_entries(paths_.leaf_width[s], layout_.pairs) << paths_.leaf_width[s]), 0.0);
  }
  auto& pats = sparse_pattern_[t];
  auto& weights = sparse_weight_[t];
  const double inv_n = 1.0 / static_cast<double>(n_bg_);
  for (int64_t s = first; s < last; ++s) {
    const int d = paths_.leaf_width[s];
    const uint64_t full = width_mask(d);
    const double* hist = (kind_[s] == kDense || kind_[s] == kGrouped) ? source.dense(s, leaf_counts) : nullptr;
    // The weight of the leaf's full pattern (every condition met) gives the tree's mean output.
    double reach = 0.0;
    if (hist) {
      reach = hist[full] * inv_n;
    } else if (kind_[s] == kSparse) {
      table_begin_[s] = static_cast<int64_t>(pats.size());
      source.sparse(s, pats, weights);
      sparse_count_[s] = static_cast<int64_t>(pats.size()) - table_begin_[s];
      for (int64_t e = table_begin_[s]; e < static_cast<int64_t>(pats.size()); ++e)
        if (pats[e] == full) reach += weights[e];
    } else if (d == 0) {
      reach = static_cast<double>(n_bg_) * inv_n;  // a root leaf: every row (weight 1 without a background)
    }
    add_scaled(&tree_mean_[t * f_.n_outputs], 1, reach, &f_.value[paths_.leaf_value_node[s] * f_.n_outputs],
               f_.n_outputs, -1);
    if (hist) {
      double* out = kind_[s] == kDense ? &dense_[table_begin_[s]] : &leaf_tables[leaf_table_begin[s - first]];
      fill_dense(s, hist, scratch, out);
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
  const int64_t t = leaf_tree_[slot];
  const double scale = folds_values(t) ? f_.value[paths_.leaf_value_node[slot] * f_.n_outputs + output_of(t)] : 1.0;
  fill_leaf_table(w_, paths_.leaf_width[slot], counts, 1.0 / static_cast<double>(n_bg_), scale, C, scratch);
}

int64_t PatternShap::leaf_entry_column(int64_t slot, int64_t e) const {
  const int32_t* players = &paths_.leaf_players[paths_.leaf_player_begin[slot]];
  if (!layout_.pairs) return players[e];
  const int d = paths_.leaf_width[slot];
  return layout_.column(players[e / d], players[e % d]);
}

void PatternShap::add_leaf_block(int64_t t, int64_t slot, const uint64_t* pat, int64_t n, double* out,
                                 int64_t stride, uint32_t* masks) const {
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

void PatternShap::group_states(const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block, uint32_t* states,
                               uint8_t* went_left) const {
  const uint64_t root_mask = width_mask(g.root_width);
  for (int64_t r = 0; r < block.n; ++r) states[r] = static_cast<uint32_t>(pat[r] & root_mask);
  const PatternNode* nodes = paths_.nodes.data() + paths_.tree_node_begin[g.tree];
  for (int j = 0; j < g.n_decisions; ++j) {
    const PatternNode& nd = nodes[g.decision_node[j]];
    detail::decide_column(nd, block.cols + static_cast<int64_t>(nd.feature) * block.stride, block.n, went_left);
    const int bit = g.root_width + j;
    for (int64_t r = 0; r < block.n; ++r) states[r] |= static_cast<uint32_t>(went_left[r]) << bit;
  }
}

void PatternShap::add_group_block(const LeafGroup& g, const uint64_t* pat, const ColumnBlock& block, double* out,
                                  int64_t stride, uint32_t* states, uint8_t* went_left) const {
  const int K = f_.n_outputs;
  const int only = output_of(g.tree);
  const int64_t n = block.n;
  group_states(g, pat, block, states, went_left);
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
  if (n_fallback_ == 0) return;
  for (int64_t t = 0; t < f_.n_trees(); ++t) {
    if (!paths_.tree_too_wide[t]) continue;
    for (int64_t r = 0; r < n; ++r)
      pairwise_values_row(f_, players_, w_, X + r * F, fallback_bg_.data(), n_bg_, t, t + 1, phi + r * row_size);
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
