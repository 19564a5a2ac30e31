#include "core/leaf_weights.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/column_walk.hpp"
#include "core/cover_weights.hpp"
#include "core/errors.hpp"
#include "core/parallel.hpp"
#include "core/predict.hpp"

namespace assay::core {

namespace {
constexpr int64_t kCountBlockRows = 256;

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

LeafWeights::LeafWeights(ForestViewPtr view, double inv_n)
    : view_(std::move(view)),
      inv_n_(inv_n),
      tree_mean_(static_cast<size_t>(view_->forest.n_trees()) * view_->forest.n_outputs, 0.0) {}

std::vector<double> LeafWeights::expected_value() const {
  const Forest& f = view_->forest;
  std::vector<double> mean(f.base_score);
  const int K = f.n_outputs;
  for (int64_t t = 0; t < f.n_trees(); ++t)
    for (int k = 0; k < K; ++k) mean[k] += tree_mean_[t * K + k];
  return mean;
}

void LeafWeights::set_tree_mean(int64_t t) {
  const Forest& f = view_->forest;
  const LeafPaths& paths = view_->paths;
  const int K = f.n_outputs;
  for (int64_t s = paths.tree_leaf_begin[t]; s < paths.tree_leaf_begin[t + 1]; ++s) {
    const double r = reach(s);
    const double* v = &f.value[paths.leaf_value_node[s] * K];
    for (int k = 0; k < K; ++k) tree_mean_[t * K + k] += r * v[k];
  }
}

BackgroundPatterns::BackgroundPatterns(ForestViewPtr view, const double* bg, int64_t n_bg, const PatternOptions& opt,
                                       int n_threads, Progress* progress)
    : LeafWeights(std::move(view), 1.0 / static_cast<double>(n_bg)), n_rows_(n_bg) {
  if (n_bg < 1) throw std::invalid_argument("the background must have at least one row");
  if (n_bg > int64_t{0xFFFFFFFF}) throw std::invalid_argument("the background must have fewer than 2^32 rows");
  if (opt.dense_max_bits < 0 || opt.dense_max_bits > 24)
    throw std::invalid_argument("dense_max_bits must be in [0, 24]");
  const Forest& f = view_->forest;
  const LeafPaths& paths = view_->paths;
  const int64_t L = paths.n_leaves();
  for (int64_t t = 0; t < f.n_trees(); ++t) n_fallback_trees_ += paths.tree_too_wide[t];
  if (n_fallback_trees_ > 0) {
    fallback_rows_.assign(bg, bg + n_bg * f.n_features);
    n_fallback_rows_ = n_bg;
  }
  // Small subtrees count one state per row (leaf_groups.hpp); their leaves' histograms follow.
  std::vector<uint8_t> countable(f.n_trees());
  for (int64_t t = 0; t < f.n_trees(); ++t) countable[t] = !paths.tree_too_wide[t];
  const LeafGroups groups = find_leaf_groups(paths, countable, std::min(opt.dense_max_bits, kMaxGroupBits),
                                             opt.dense_budget_bytes / static_cast<int64_t>(sizeof(double)), false);
  histogram_.assign(L, 0);
  int64_t used = 0;
  for (const LeafGroup& g : groups.groups)
    for (int64_t s = g.leaf_begin; s < g.leaf_end; ++s) {
      histogram_[s] = 1;
      used += int64_t{8} << paths.leaf_width[s];
    }
  // The other leaves, narrow first: a histogram when it is no bigger than the rows' list.
  for (int64_t s : paths.leaves_narrow_first()) {
    const int d = paths.leaf_width[s];
    if (histogram_[s] || d > opt.dense_max_bits) continue;
    const int64_t bytes = int64_t{8} << d;
    if ((int64_t{1} << d) <= std::max<int64_t>(n_bg, 64) && used + bytes <= opt.dense_budget_bytes) {
      histogram_[s] = 1;
      used += bytes;
    }
  }
  begin_.assign(L, 0);
  listed_.assign(L, 0);
  counts_.resize(f.n_trees());
  patterns_.resize(f.n_trees());
  std::vector<double> bg_cols(static_cast<size_t>(n_bg) * f.n_features);
  transpose_rows(bg, n_bg, f.n_features, bg_cols.data(), n_bg);
  parallel_for(f.n_trees(), n_threads, 1, [&](int64_t t) {
    if (stopped(progress)) return;
    if (!paths.tree_too_wide[t]) {
      count_tree(t, bg_cols.data(), groups);
      set_tree_mean(t);
    } else {  // explained pairwise over the rows: its mean from the rows' leaves
      const int K = f.n_outputs;
      for (int64_t r = 0; r < n_bg; ++r) {
        const double* v = &f.value[find_leaf(f, t, bg + r * f.n_features) * K];
        for (int k = 0; k < K; ++k) tree_mean_[t * K + k] += inv_n_ * v[k];
      }
    }
    advance(progress, 1);
  });
  throw_if_stopped(progress);
}

void BackgroundPatterns::count_tree(int64_t t, const double* bg_cols, const LeafGroups& groups) {
  const LeafPaths& paths = view_->paths;
  const int64_t n_bg = n_rows_;
  const int64_t first = paths.tree_leaf_begin[t], last = paths.tree_leaf_begin[t + 1];
  const int64_t g_first = groups.tree_group_begin[t], g_last = groups.tree_group_begin[t + 1];
  // Stored histograms first (in slot order), then the group state cells used while counting.
  std::vector<double>& stored = counts_[t];
  int64_t hist_cells = 0;
  for (int64_t s = first; s < last; ++s) {
    if (!histogram_[s]) continue;
    begin_[s] = hist_cells;
    hist_cells += int64_t{1} << paths.leaf_width[s];
  }
  std::vector<int64_t> group_cell(g_last - g_first);
  int64_t cells = hist_cells;
  for (int64_t g = g_first; g < g_last; ++g) {
    group_cell[g - g_first] = cells;
    cells += int64_t{1} << groups.groups[g].width;
  }
  std::vector<uint8_t> grouped(last - first, 0);
  for (int64_t g = g_first; g < g_last; ++g)
    for (int64_t s = groups.groups[g].leaf_begin; s < groups.groups[g].leaf_end; ++s) grouped[s - first] = 1;
  std::vector<uint32_t> counts(2 * cells, 0);
  std::vector<std::vector<uint64_t>> listed(last - first);
  const int64_t walk_rows = std::min(kCountBlockRows, n_bg);
  std::vector<uint32_t> states(walk_rows);
  std::vector<uint8_t> went_left(walk_rows);
  ColumnWalker walker(paths, walk_rows);
  for (int64_t r0 = 0; r0 < n_bg; r0 += kCountBlockRows) {
    const ColumnBlock block{bg_cols + r0, n_bg, std::min(kCountBlockRows, n_bg - r0)};
    walker.walk(
        t, block, groups.group_of_node.data(),
        [&](int64_t s, const uint64_t* pat) {
          const uint64_t full = width_mask(paths.leaf_width[s]);
          if (histogram_[s]) {
            uint32_t* even = counts.data() + begin_[s];
            tally(even, even + cells, block.n, [&](int64_t r) { return pat[r] & full; });
          } else {
            for (int64_t r = 0; r < block.n; ++r) listed[s - first].push_back(pat[r] & full);
          }
        },
        [&](int32_t g, const uint64_t* pat) {
          group_states(paths, groups.groups[g], pat, block, states.data(), went_left.data());
          uint32_t* even = counts.data() + group_cell[g - g_first];
          tally(even, even + cells, block.n, [&](int64_t r) { return states[r]; });
        });
  }
  auto histogram = [&](int64_t begin, int64_t size, double* out) {
    for (int64_t b = 0; b < size; ++b) out[b] = static_cast<double>(counts[begin + b]) + counts[begin + b + cells];
  };
  stored.assign(hist_cells, 0.0);
  for (int64_t s = first; s < last; ++s)
    if (histogram_[s] && !grouped[s - first])
      histogram(begin_[s], int64_t{1} << paths.leaf_width[s], &stored[begin_[s]]);
  // Grouped leaves: their histograms from their group's state histogram.
  std::vector<double> state_counts;
  std::vector<double*> members;
  for (int64_t g = g_first; g < g_last; ++g) {
    const LeafGroup& G = groups.groups[g];
    state_counts.resize(size_t{1} << G.width);
    histogram(group_cell[g - g_first], int64_t{1} << G.width, state_counts.data());
    members.clear();
    for (int64_t s = G.leaf_begin; s < G.leaf_end; ++s) members.push_back(&stored[begin_[s]]);
    member_histograms(paths, G, state_counts.data(), members);
  }
  // Listed leaves: distinct patterns and their counts, after the histograms.
  std::vector<uint64_t>& pats = patterns_[t];
  for (int64_t s = first; s < last; ++s) {
    if (histogram_[s]) continue;
    auto& list = listed[s - first];
    std::sort(list.begin(), list.end());
    begin_[s] = static_cast<int64_t>(pats.size());
    for (size_t i = 0; i < list.size();) {
      size_t j = i;
      while (j < list.size() && list[j] == list[i]) ++j;
      pats.push_back(list[i]);
      stored.push_back(static_cast<double>(j - i));
      i = j;
    }
    listed_[s] = static_cast<int64_t>(pats.size()) - begin_[s];
    std::vector<uint64_t>().swap(list);
  }
}

const double* BackgroundPatterns::dense(int64_t s, std::vector<double>& buffer) const {
  const LeafPaths& paths = view_->paths;
  const int64_t t = paths.leaf_tree[s];
  if (histogram_[s]) return &counts_[t][begin_[s]];
  const int d = paths.leaf_width[s];
  if (d > 24) throw std::logic_error("BackgroundPatterns::dense: leaf wider than 24 players");
  buffer.assign(size_t{1} << d, 0.0);
  const int64_t list_begin = begin_[s];
  const double* list_counts = counts_[t].data() + (counts_[t].size() - patterns_[t].size());
  for (int64_t e = list_begin; e < list_begin + listed_[s]; ++e) buffer[patterns_[t][e]] = list_counts[e];
  return buffer.data();
}

void BackgroundPatterns::sparse(int64_t s, std::vector<uint64_t>& pats, std::vector<double>& weights) const {
  const LeafPaths& paths = view_->paths;
  const int64_t t = paths.leaf_tree[s];
  if (histogram_[s]) {
    const double* h = &counts_[t][begin_[s]];
    for (int64_t b = 0; b < (int64_t{1} << paths.leaf_width[s]); ++b) {
      if (h[b] == 0.0) continue;
      pats.push_back(static_cast<uint64_t>(b));
      weights.push_back(h[b] * inv_n_);
    }
    return;
  }
  const double* list_counts = counts_[t].data() + (counts_[t].size() - patterns_[t].size());
  for (int64_t e = begin_[s]; e < begin_[s] + listed_[s]; ++e) {
    pats.push_back(patterns_[t][e]);
    weights.push_back(list_counts[e] * inv_n_);
  }
}

double BackgroundPatterns::reach(int64_t s) const {
  const LeafPaths& paths = view_->paths;
  const int64_t t = paths.leaf_tree[s];
  const uint64_t full = width_mask(paths.leaf_width[s]);
  if (histogram_[s]) return counts_[t][begin_[s] + static_cast<int64_t>(full)] * inv_n_;
  const double* list_counts = counts_[t].data() + (counts_[t].size() - patterns_[t].size());
  // Lists are sorted and the full pattern is the largest: the last entry, if any row reaches it.
  const int64_t last = begin_[s] + listed_[s] - 1;
  return (listed_[s] > 0 && patterns_[t][last] == full) ? list_counts[last] * inv_n_ : 0.0;
}

int64_t BackgroundPatterns::n_histogram_leaves() const {
  return std::count(histogram_.begin(), histogram_.end(), uint8_t{1});
}

int64_t BackgroundPatterns::stored_bytes() const {
  int64_t bytes = static_cast<int64_t>(fallback_rows_.size() * sizeof(double));
  for (const auto& c : counts_) bytes += static_cast<int64_t>(c.size() * sizeof(double));
  for (const auto& p : patterns_) bytes += static_cast<int64_t>(p.size() * sizeof(uint64_t));
  return bytes;
}

CoverWeights::CoverWeights(ForestViewPtr view, const std::vector<double>& cover, const PatternOptions& opt,
                           int n_threads)
    : LeafWeights(std::move(view), 1.0), dense_max_bits_(opt.dense_max_bits) {
  const Forest& f = view_->forest;
  for (int64_t t = 0; t < f.n_trees(); ++t)
    if (view_->paths.tree_too_wide[t])
      throw TooManyPlayers("path-dependent game: tree " + std::to_string(t) +
                           " has a path with more than 64 distinct players");
  ratio_ = leaf_cover_ratios(f, view_->paths, view_->players, cover);
  parallel_for(f.n_trees(), n_threads, 1, [&](int64_t t) { set_tree_mean(t); });
}

const double* CoverWeights::dense(int64_t s, std::vector<double>& buffer) const {
  const int d = view_->paths.leaf_width[s];
  if (d > 24) throw std::logic_error("CoverWeights::dense: leaf wider than 24 players");
  buffer.resize(size_t{1} << d);
  cover_histogram(ratios(s), d, buffer.data());
  return buffer.data();
}

void CoverWeights::sparse(int64_t s, std::vector<uint64_t>& pats, std::vector<double>& weights) const {
  std::vector<uint64_t> p;
  std::vector<double> w;
  cover_patterns(ratios(s), view_->paths.leaf_width[s], kMaxPatterns, p, w);
  pats.insert(pats.end(), p.begin(), p.end());
  weights.insert(weights.end(), w.begin(), w.end());
}

double CoverWeights::reach(int64_t s) const {
  const int d = view_->paths.leaf_width[s];
  const uint64_t full = width_mask(d);
  std::vector<double> buffer;
  if (d <= dense_max_bits_) return dense(s, buffer)[full];
  std::vector<uint64_t> pats;
  std::vector<double> w;
  sparse(s, pats, w);
  return (!pats.empty() && pats.back() == full) ? w.back() : 0.0;
}

}  // namespace assay::core
