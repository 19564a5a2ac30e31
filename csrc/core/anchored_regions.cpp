#include "core/anchored_regions.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/column_walk.hpp"
#include "core/errors.hpp"
#include "core/parallel.hpp"

namespace assay::core {

namespace {
constexpr int64_t kWalkRows = 256;

// Column of the pair (i, j), i < j, after the P single players.
inline int64_t pair_column(int64_t P, int64_t i, int64_t j) { return P + i * (2 * P - i - 1) / 2 + (j - i - 1); }
}  // namespace

AnchoredRegions::AnchoredRegions(const Forest& forest, const Players& players, int32_t output, const double* X,
                                 int64_t n, int n_threads, Progress* progress)
    : players_(players), paths_(forest, players_), n_(n) {
  if (n < 1) throw std::invalid_argument("X: expected at least one row");
  if (output < 0 || output >= forest.n_outputs)
    throw std::invalid_argument("output: expected an index in [0, " + std::to_string(forest.n_outputs) + "), got " +
                                std::to_string(output));
  const int64_t L = paths_.n_leaves();
  const int K = forest.n_outputs;
  leaf_value_.assign(L, 0.0);
  for (int64_t t = 0; t < forest.n_trees(); ++t) {
    const bool counts = forest.tree_output[t] < 0 || forest.tree_output[t] == output;
    for (int64_t s = paths_.tree_leaf_begin[t]; s < paths_.tree_leaf_begin[t + 1]; ++s) {
      leaf_value_[s] = counts ? forest.value[paths_.leaf_value_node[s] * K + output] : 0.0;
      if (leaf_value_[s] != 0.0 && (paths_.tree_too_wide[t] || paths_.leaf_width[s] > kMaxRegionBits))
        throw TooManyPlayers("model: a leaf path has more than " + std::to_string(kMaxRegionBits) +
                             " distinct players; the tree kernel for regions does not support it");
      max_width_ = std::max(max_width_, paths_.leaf_width[s]);
    }
  }
  const int32_t F = forest.n_features;
  std::vector<double> cols(static_cast<size_t>(n) * F);
  transpose_rows(X, n, F, cols.data(), n);
  patterns_.assign(static_cast<size_t>(L) * n, 0);
  parallel_for(forest.n_trees(), n_threads, 1, [&](int64_t t) {
    if (stopped(progress)) return;
    ColumnWalker walker(paths_, std::min(kWalkRows, n));
    for (int64_t r0 = 0; r0 < n; r0 += kWalkRows) {
      const ColumnBlock block{cols.data() + r0, n, std::min(kWalkRows, n - r0)};
      walker.walk(t, block, [&](int64_t s, const uint64_t* pat) {
        const uint64_t full = width_mask(paths_.leaf_width[s]);
        uint16_t* out = &patterns_[s * n + r0];
        for (int64_t r = 0; r < block.n; ++r) out[r] = static_cast<uint16_t>(pat[r] & full);
      });
    }
    advance(progress, 1);
  });
  throw_if_stopped(progress);
  first_order_ = std::make_unique<FirstOrderGaps>(paths_, players_, leaf_value_, patterns_.data(), X, n, F);
}

int64_t AnchoredRegions::n_entries(bool pairs) const {
  const int64_t P = players_.n;
  return pairs ? P + P * (P - 1) / 2 : P;
}

void AnchoredRegions::region_means(int64_t slot, const int64_t* rows, int64_t n, Scratch& s) const {
  const int d = paths_.leaf_width[slot];
  const int64_t S = int64_t{1} << d;
  s.M.assign(S, 0.0);
  const uint16_t* pat = &patterns_[slot * n_];
  for (int64_t r = 0; r < n; ++r) s.M[pat[rows[r]]] += 1.0;
  // Superset sums: M[q] = rows whose pattern contains q.
  for (int j = 0; j < d; ++j) {
    const int64_t bit = int64_t{1} << j;
    for (int64_t q = 0; q < S; ++q)
      if (!(q & bit)) s.M[q] += s.M[q | bit];
  }
  const double inv = 1.0 / static_cast<double>(n);
  for (double& v : s.M) v *= inv;
}

void AnchoredRegions::leaf_entries(int64_t slot, bool pairs, std::vector<uint32_t>& masks,
                                   std::vector<int64_t>& cols) const {
  const int d = paths_.leaf_width[slot];
  const int32_t* pl = &paths_.leaf_players[paths_.leaf_player_begin[slot]];
  masks.clear();
  cols.clear();
  for (int k = 0; k < d; ++k) {
    masks.push_back(uint32_t{1} << k);
    cols.push_back(pl[k]);
  }
  if (!pairs) return;
  for (int a = 0; a < d; ++a)
    for (int b = a + 1; b < d; ++b) {
      masks.push_back((uint32_t{1} << a) | (uint32_t{1} << b));
      cols.push_back(pair_column(players_.n, std::min(pl[a], pl[b]), std::max(pl[a], pl[b])));
    }
}

void AnchoredRegions::effects(const int64_t* rows, int64_t n, bool pairs, double* p, double* q) const {
  if (n < 1) throw std::invalid_argument("rows: a region needs at least one row");
  for (int64_t r = 0; r < n; ++r)
    if (rows[r] < 0 || rows[r] >= n_) throw std::invalid_argument("rows: index out of range");
  const int64_t E = n_entries(pairs);
  std::fill(p, p + n * E, 0.0);
  std::fill(q, q + n * E, 0.0);
  Scratch s;
  std::vector<uint32_t> masks;
  std::vector<int64_t> cols;
  for (int64_t slot = 0; slot < paths_.n_leaves(); ++slot) {
    const double c = leaf_value_[slot];
    if (paths_.leaf_width[slot] == 0 || c == 0.0) continue;
    region_means(slot, rows, n, s);
    leaf_entries(slot, pairs, masks, cols);
    const uint32_t F = static_cast<uint32_t>(width_mask(paths_.leaf_width[slot]));
    const uint16_t* pat = &patterns_[slot * n_];
    for (int64_t r = 0; r < n; ++r) {
      const uint32_t b = pat[rows[r]];
      for (size_t e = 0; e < masks.size(); ++e) {
        double pe, qe;
        anchored_entry(F, masks[e], b, s.M.data(), pe, qe);
        p[r * E + cols[e]] += c * pe;
        q[r * E + cols[e]] += c * qe;
      }
    }
  }
}

double AnchoredRegions::loss_with(const int64_t* rows, int64_t n, bool pairs, Scratch& s) const {
  if (n < 1) return 0.0;
  if (!pairs) return first_order_->loss(rows, n);
  const int64_t E = n_entries(pairs);
  s.delta.assign(static_cast<size_t>(n) * E, 0.0);
  std::vector<uint32_t> masks;
  std::vector<int64_t> cols;
  for (int64_t slot = 0; slot < paths_.n_leaves(); ++slot) {
    const double c = leaf_value_[slot];
    const int d = paths_.leaf_width[slot];
    if (d == 0 || c == 0.0) continue;
    region_means(slot, rows, n, s);
    leaf_entries(slot, pairs, masks, cols);
    const uint32_t F = static_cast<uint32_t>(width_mask(d));
    const int64_t Ed = static_cast<int64_t>(masks.size());
    const uint16_t* pat = &patterns_[slot * n_];
    double pe, qe;
    if ((int64_t{1} << d) <= n) {
      // More rows than patterns: tabulate c * (p - q) per pattern once, then gather.
      const int64_t S = int64_t{1} << d;
      s.table.resize(static_cast<size_t>(S) * Ed);
      for (int64_t b = 0; b < S; ++b)
        for (int64_t e = 0; e < Ed; ++e) {
          anchored_entry(F, masks[e], static_cast<uint32_t>(b), s.M.data(), pe, qe);
          s.table[b * Ed + e] = c * (pe - qe);
        }
      for (int64_t r = 0; r < n; ++r) {
        const double* t = &s.table[static_cast<int64_t>(pat[rows[r]]) * Ed];
        double* dr = &s.delta[r * E];
        for (int64_t e = 0; e < Ed; ++e) dr[cols[e]] += t[e];
      }
    } else {
      for (int64_t r = 0; r < n; ++r) {
        const uint32_t b = pat[rows[r]];
        double* dr = &s.delta[r * E];
        for (int64_t e = 0; e < Ed; ++e) {
          anchored_entry(F, masks[e], b, s.M.data(), pe, qe);
          dr[cols[e]] += c * (pe - qe);
        }
      }
    }
  }
  double total = 0.0;
  for (double v : s.delta) total += v * v;
  return total;
}

double AnchoredRegions::loss(const int64_t* rows, int64_t n, bool pairs) const {
  for (int64_t r = 0; r < n; ++r)
    if (rows[r] < 0 || rows[r] >= n_) throw std::invalid_argument("rows: index out of range");
  Scratch s;
  return loss_with(rows, n, pairs, s);
}

void AnchoredRegions::split_losses(const int64_t* rows, int64_t n, const double* column, const double* t, int64_t m,
                                   bool pairs, double* out, int n_threads, Progress* progress) const {
  for (int64_t r = 0; r < n; ++r)
    if (rows[r] < 0 || rows[r] >= n_) throw std::invalid_argument("rows: index out of range");
  parallel_for(m, n_threads, 1, [&](int64_t c) {
    if (stopped(progress)) return;
    std::vector<int64_t> left, right;
    left.reserve(n);
    right.reserve(n);
    for (int64_t r = 0; r < n; ++r) (column[rows[r]] <= t[c] ? left : right).push_back(rows[r]);
    Scratch s;
    out[2 * c] = loss_with(left.data(), static_cast<int64_t>(left.size()), pairs, s);
    out[2 * c + 1] = loss_with(right.data(), static_cast<int64_t>(right.size()), pairs, s);
    advance(progress, 1);
  });
  throw_if_stopped(progress);
}

}  // namespace assay::core
