#include "core/row_query_plan.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "core/errors.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_paths.hpp"
#include "core/leaf_tables.hpp"
#include "core/parallel.hpp"
#include "core/table_plan.hpp"

namespace assay::core {

namespace {

// Entry-major (entry e of mask m at in[e * cells + m]) to pattern-major (row_walk.hpp): a row
// reads its mask's entries as one contiguous run.
void store_pattern_major(const double* in, int64_t entries, int64_t cells, double* out) {
  for (int64_t m = 0; m < cells; ++m)
    for (int64_t e = 0; e < entries; ++e) out[m * entries + e] = in[e * cells + m];
}

}  // namespace

RowQueryPlan::RowQueryPlan(const Forest& f, const Players& players, Index index, int max_width, int64_t budget_bytes)
    : n_features_(f.n_features),
      n_outputs_(f.n_outputs),
      layout_(players, f.n_outputs, index),
      w_(index, std::min({f.max_depth, players.n, kMaxPatternBits})),
      values_(f.value),
      base_score_(f.base_score),
      paths_(f, players) {
  if (max_width < 0 || max_width > 24) throw std::invalid_argument("max_width must be in [0, 24]");
  if (f.max_depth > kMaxRowWalkDepth)
    throw DeviceUnsupported("the CUDA kernel walks trees up to depth " + std::to_string(kMaxRowWalkDepth) +
                            "; this forest has depth " + std::to_string(f.max_depth));
  if (layout_.columns() > INT32_MAX)  // columns_ holds 32-bit output columns
    throw DeviceUnsupported("the CUDA kernel indexes at most 2^31 output columns; " + std::to_string(players.n) +
                            " players have " + std::to_string(layout_.columns()));
  const LeafPaths& paths = paths_;
  const int K = f.n_outputs;
  for (int64_t s = 0; s < paths.n_leaves(); ++s)
    if (paths.leaf_width[s] > max_width)
      throw DeviceUnsupported("the CUDA kernel tabulates every leaf; a leaf has " +
                              std::to_string(paths.leaf_width[s]) + " distinct players on its path (limit " +
                              std::to_string(max_width) + ")");
  // The CPU kernel's table plan (table_plan.hpp), in which every leaf must be dense.
  TablePlan plan = plan_tables(f, paths, layout_.pairs, max_width, budget_bytes);
  leaf_groups_ = std::move(plan.groups);
  std::vector<uint8_t> grouped(static_cast<size_t>(paths.n_leaves()), 0);
  for (const LeafGroup& g : leaf_groups_.groups)
    for (int64_t s = g.leaf_begin; s < g.leaf_end; ++s) grouped[s] = 1;
  table_doubles_ = leaf_groups_.table_doubles + plan.dense_doubles;
  if (plan.n_sparse > 0) {
    int64_t needed = table_doubles_;
    for (int64_t s = 0; s < paths.n_leaves(); ++s)
      if (plan.kind[s] == TablePlan::kSparse)
        needed += leaf_table_entries(paths.leaf_width[s], layout_.pairs) << paths.leaf_width[s];
    throw DeviceUnsupported("the CUDA kernel's tables would take " + std::to_string(needed * 8) +
                            " bytes, over the budget of " + std::to_string(budget_bytes));
  }
  for (const PatternNode& p : paths.nodes) {
    RowNode r{};
    r.threshold = p.threshold;
    r.cat_offset = p.feature >= 0 ? p.cat_begin : 0;
    r.feature = p.feature;
    r.cat_nwords = p.cat_nwords;
    r.left = p.feature >= 0 ? p.left : -1;
    r.slot = p.feature >= 0 ? -1 : p.left;  // a leaf's `left` is its slot (leaf_paths.hpp)
    r.end = p.end;
    r.group = -1;
    r.depth = static_cast<uint8_t>(p.depth);
    r.bit = p.bit;
    r.policy = p.policy;
    r.default_left = p.default_left;
    nodes_.push_back(r);
  }
  tree_node_begin_ = paths.tree_node_begin;
  tree_leaf_begin_ = paths.tree_leaf_begin;
  int64_t table = 0;
  for (int64_t t = 0; t < f.n_trees(); ++t) {
    // Trees with one output per leaf fold the leaf value into the table (as PatternShap does).
    const int only = K == 1 ? 0 : f.tree_output[t];
    for (int64_t s = paths.tree_leaf_begin[t]; s < paths.tree_leaf_begin[t + 1]; ++s) {
      const int d = paths.leaf_width[s];
      LeafQuery q{};
      q.table = grouped[s] ? -1 : table;  // a grouped leaf's table only exists to compose its group's
      q.column = static_cast<int64_t>(columns_.size());
      q.value_node = paths.leaf_value_node[s];
      q.cells = n_cells_;
      q.width = d;
      q.entries = static_cast<int32_t>(leaf_table_entries(d, layout_.pairs));
      q.only = only;
      const int32_t* pl = paths.leaf_players.data() + paths.leaf_player_begin[s];  // (may be one past the end: width 0)
      for (int32_t e = 0; e < q.entries; ++e)
        columns_.push_back(static_cast<int32_t>(layout_.pairs ? layout_.column(pl[e / d], pl[e % d]) : pl[e]));
      leaves_.push_back(q);
      leaf_scale_.push_back(only >= 0 ? f.value[q.value_node * K + only] : 1.0);
      if (!grouped[s]) table += static_cast<int64_t>(q.entries) << d;
      n_cells_ += int64_t{1} << d;
    }
  }
  for (const LeafGroup& g : leaf_groups_.groups) {
    GroupQuery q{};
    q.table = table;
    q.column = static_cast<int64_t>(columns_.size());
    q.slots = static_cast<int32_t>(g.n_slots);
    q.width = g.width;
    q.root_width = g.root_width;
    q.n_decisions = g.n_decisions;
    for (int j = 0; j < g.n_decisions; ++j) q.decision_node[j] = g.decision_node[j];
    q.only = K == 1 ? 0 : f.tree_output[g.tree];
    const int32_t* pl = leaf_groups_.players.data() + g.player_begin;
    const auto n = static_cast<int32_t>(g.n_players);
    for (int32_t e = 0; e < q.slots; ++e)
      columns_.push_back(static_cast<int32_t>(layout_.pairs ? layout_.column(pl[e / n], pl[e % n]) : pl[e]));
    nodes_[tree_node_begin_[g.tree] + g.root].group = static_cast<int32_t>(groups_.size());
    groups_.push_back(q);
    table += g.table_size();
  }
}

void RowQueryPlan::set_background(const uint32_t* counts, int64_t n_bg) {
  if (n_bg < 1) throw std::invalid_argument("the background must have at least one row");
  const int K = n_outputs_;
  const double inv_n = 1.0 / static_cast<double>(n_bg);
  tables_.assign(static_cast<size_t>(table_doubles_), 0.0);
  tree_mean_.assign(static_cast<size_t>(n_trees()) * K, 0.0);
  std::vector<double> hist, scratch;
  std::vector<std::vector<double>> leaf_table(leaves_.size());  // grouped leaves' own, until composed
  size_t g = 0;  // groups are in tree order
  for (int64_t t = 0; t < n_trees(); ++t) {
    for (int64_t s = tree_leaf_begin_[t]; s < tree_leaf_begin_[t + 1]; ++s) {
      const LeafQuery& q = leaves_[s];
      const int64_t cells = int64_t{1} << q.width;
      hist.assign(counts + q.cells, counts + q.cells + cells);
      // Background rows with every bit set reach the leaf: the tree's mean output.
      const double reach = hist[cells - 1] * inv_n;
      for (int k = 0; k < K; ++k) tree_mean_[t * K + k] += reach * values_[q.value_node * K + k];
      if (q.width == 0) continue;
      // Entry-major first (fill_leaf_table's layout, which compose_group_table reads).
      std::vector<double>& table = leaf_table[s];
      table.assign(static_cast<size_t>(q.entries) << q.width, 0.0);
      fill_leaf_table(w_, q.width, hist.data(), inv_n, leaf_scale_[s], table.data(), scratch);
      if (q.table >= 0) {
        store_pattern_major(table.data(), q.entries, cells, &tables_[q.table]);
        table = std::vector<double>();
      }
    }
    for (; g < groups_.size() && leaf_groups_.groups[g].tree == t; ++g) {
      const LeafGroup& G = leaf_groups_.groups[g];
      std::vector<const double*> members;
      for (int64_t s = G.leaf_begin; s < G.leaf_end; ++s)
        members.push_back(leaf_table[s].empty() ? nullptr : leaf_table[s].data());
      std::vector<double> entry_major(static_cast<size_t>(G.table_size()), 0.0);
      compose_group_table(paths_, leaf_groups_, G, members, entry_major.data());
      store_pattern_major(entry_major.data(), groups_[g].slots, int64_t{1} << G.width, &tables_[groups_[g].table]);
      for (int64_t s = G.leaf_begin; s < G.leaf_end; ++s) leaf_table[s] = std::vector<double>();
    }
  }
  has_background_ = true;
}

std::vector<double> RowQueryPlan::expected_value() const {
  if (!has_background_) throw std::logic_error("RowQueryPlan: no background yet");
  std::vector<double> mean(base_score_);
  for (int64_t t = 0; t < n_trees(); ++t)
    for (int k = 0; k < n_outputs_; ++k) mean[k] += tree_mean_[t * n_outputs_ + k];
  return mean;
}

void RowQueryPlan::histogram_host(const double* bg, int64_t n_bg, uint32_t* counts, int n_threads) const {
  std::fill(counts, counts + n_cells_, 0u);
  // Trees own disjoint cells: parallel over trees needs no atomics.
  parallel_for(n_trees(), n_threads, 1, [&](int64_t t) {
    const RowNode* nodes = nodes_.data() + tree_node_begin_[t];
    const auto n_nodes = static_cast<int32_t>(tree_node_begin_[t + 1] - tree_node_begin_[t]);
    for (int64_t r = 0; r < n_bg; ++r)
      walk_row(nodes, n_nodes, paths_.cat_words.data(), bg + r * n_features_, 1, [&](int32_t slot, uint64_t pattern) {
        const LeafQuery& q = leaves_[slot];
        ++counts[q.cells + static_cast<int64_t>(pattern & low_bits(q.width))];
      });
  });
}

void RowQueryPlan::values_host(const double* X, int64_t n, double* out, int n_threads) const {
  if (!has_background_) throw std::logic_error("RowQueryPlan: no background yet");
  const int64_t row_size = layout_.row_size();
  parallel_for(n, n_threads, 64, [&](int64_t r) {
    double* o = out + r * row_size;
    std::fill(o, o + row_size, 0.0);
    for (int64_t t = 0; t < n_trees(); ++t) {
      const RowNode* nodes = nodes_.data() + tree_node_begin_[t];
      const auto n_nodes = static_cast<int32_t>(tree_node_begin_[t + 1] - tree_node_begin_[t]);
      walk_row(
          nodes, n_nodes, paths_.cat_words.data(), X + r * n_features_, 1, groups_.data(),
          [&](int32_t slot, uint64_t pattern) {
            const LeafQuery& q = leaves_[slot];
            if (q.width > 0)
              add_leaf_contributions(q, pattern, tables_.data(), columns_.data(), values_.data(), n_outputs_, o, 1);
          },
          [&](int32_t group, uint32_t state) {
            add_group_contributions(groups_[group], state, tables_.data(), columns_.data(), n_outputs_, o, 1);
          });
    }
  });
}

}  // namespace assay::core
