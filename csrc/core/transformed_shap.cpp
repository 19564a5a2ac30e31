#include "core/transformed_shap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/column_walk.hpp"
#include "core/indices.hpp"
#include "core/leaf_paths.hpp"
#include "core/pairwise_shap.hpp"
#include "core/parallel.hpp"
#include "core/predict.hpp"

namespace assay::core {

OutputTransform transform_from_int(int32_t code) {
  if (code < 0 || code > 3)
    throw std::invalid_argument(
        "transform: expected 0 (identity), 1 (logistic), 2 (logistic log loss) or "
        "3 (squared loss)");
  return static_cast<OutputTransform>(code);
}

namespace {

inline double sigmoid(double t) {
  if (t >= 0) return 1.0 / (1.0 + std::exp(-t));
  const double e = std::exp(t);
  return e / (1.0 + e);
}

inline double softplus(double t) { return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t)); }

// (1 - e^-h) / h for h >= 0; 1 at h = 0.
inline double one_minus_exp_ratio(double h) { return h == 0.0 ? 1.0 : -std::expm1(-h) / h; }

// (softplus(hi) - softplus(lo)) / (hi - lo) for hi >= lo; sigmoid(hi) when they are equal.
// softplus(hi) - softplus(lo) = log1p(sigmoid(lo) * expm1(hi - lo)), exact for close arguments.
inline double softplus_slope(double hi, double lo) {
  const double h = hi - lo;
  if (h == 0.0) return sigmoid(hi);
  if (h < 1.0) return std::log1p(sigmoid(lo) * std::expm1(h)) / h;
  return (softplus(hi) - softplus(lo)) / h;
}

}  // namespace

double transform_output(OutputTransform t, double m, double y) {
  switch (t) {
    case OutputTransform::kIdentity: return m;
    case OutputTransform::kLogistic: return sigmoid(m);
    case OutputTransform::kLogisticNLogLoss: return softplus(m) - y * m;
    case OutputTransform::kSquaredLoss: return (m - y) * (m - y);
  }
  return m;
}

double transform_slope(OutputTransform t, double a, double b, double y) {
  const double hi = std::max(a, b), lo = std::min(a, b);
  switch (t) {
    case OutputTransform::kIdentity: return 1.0;
    // sigmoid(hi) - sigmoid(lo) = sigmoid(hi) sigmoid(-lo) (1 - e^(lo - hi))
    case OutputTransform::kLogistic: return sigmoid(hi) * sigmoid(-lo) * one_minus_exp_ratio(hi - lo);
    case OutputTransform::kLogisticNLogLoss: return softplus_slope(hi, lo) - y;
    case OutputTransform::kSquaredLoss: return a + b - 2.0 * y;
  }
  return 1.0;
}

namespace {

constexpr int kListMaxBits = 12;                           // leaves this narrow may list groups per failure set
constexpr int64_t kMaxBlockRows = 64;
constexpr int64_t kWeightBlockBytes = int64_t{256} << 10;  // a block of rows' weights
constexpr int64_t kL1WeightBytes = int64_t{20} << 10;      // the weights of the rows sharing a pass
constexpr int64_t kBuildBlockRows = 1024;
constexpr int64_t kPatternScratchBytes = int64_t{32} << 20;  // per thread building a tree's groups

// A group of a leaf's background rows (those with one pattern on the leaf's path): the path
// players they fail (bit k: the path's k-th player) and their range in the leaf's row ids.
struct GroupSpan {
  uint64_t fails;
  uint32_t begin, end;
};

struct LeafInfo {
  const int32_t* players;  // the d players on its path, in bit order
  const double* value;     // its K values
  int64_t rows;            // offset of its n_bg row ids in the tree's
  int32_t group_begin;     // its groups in the tree's pattern / span / failed
  int32_t n_groups;
  int32_t list_begin;      // offset of its 2^d + 1 bounds in list_end, or -1 (scan the groups)
  int32_t d;
};

// The background rows of one tree's leaves, grouped by pattern, and for each set F of a leaf's
// path players, the groups whose pattern covers F: the rows z that reach the leaf together with
// any x that fails exactly F there.
struct TreeGroups {
  std::vector<LeafInfo> leaf;
  std::vector<uint16_t> rows16;  // leaf-major, n_bg per leaf, by group: row ids (n_bg <= 65536)
  std::vector<uint32_t> rows32;  // the same for larger backgrounds
  std::vector<uint64_t> pattern;   // per group
  std::vector<GroupSpan> span;     // per group
  std::vector<uint8_t> failed;     // per group: how many path players its rows fail (d - |pattern|)
  std::vector<int32_t> list_end;   // per listed leaf, 2^d + 1 bounds in list, one range per F
  std::vector<uint16_t> list;      // group indices within the leaf
};

bool narrow_ids(int64_t n_bg) { return n_bg < 65536; }  // row ids and the sentinel n_bg fit 16 bits
bool listable(int d, int64_t n_bg) { return d <= kListMaxBits && (int64_t{1} << d) <= std::max<int64_t>(64, n_bg); }
int64_t list_limit(int64_t n_bg) { return std::max<int64_t>(4 * n_bg, 4096); }

// Upper bound on what a tree's groups hold.
int64_t tree_group_bytes(const LeafPaths& lp, int64_t t, int64_t n_bg) {
  if (lp.tree_too_wide[t]) return 0;
  int64_t bytes = 0;
  for (int64_t s = lp.tree_leaf_begin[t]; s < lp.tree_leaf_begin[t + 1]; ++s) {
    const int d = lp.leaf_width[s];
    const int64_t groups = d < 40 ? std::min(n_bg, int64_t{1} << d) : n_bg;
    bytes += (narrow_ids(n_bg) ? 2 : 4) * (n_bg + 3 * groups) + 25 * groups + 48;
    if (listable(d, n_bg)) bytes += 4 * ((int64_t{1} << d) + 1) + 2 * list_limit(n_bg);
  }
  return bytes;
}

void build_tree_groups(const Forest& f, const LeafPaths& lp, int64_t t, const double* bg_cols, int64_t n_bg,
                       TreeGroups& g) {
  const int64_t L0 = lp.tree_leaf_begin[t], nl = lp.tree_leaf_begin[t + 1] - L0;
  // The background's patterns at a slice of the leaves at a time (bounded scratch; each slice
  // walks the background once).
  const int64_t slice = std::clamp<int64_t>(kPatternScratchBytes / (8 * n_bg), 1, nl);
  std::vector<uint64_t> pats(static_cast<size_t>(slice * n_bg));
  const int64_t blk = std::min(n_bg, kBuildBlockRows);
  ColumnWalker walker(lp, blk);
  const bool narrow = narrow_ids(n_bg);
  g.leaf.resize(static_cast<size_t>(nl));
  std::vector<uint32_t> order(static_cast<size_t>(n_bg));
  std::vector<std::pair<uint64_t, uint32_t>> sorted;
  std::vector<int64_t> pos;
  for (int64_t l = 0; l < nl; ++l) {
    const int64_t s0 = l - l % slice;
    if (l == s0) {
      for (int64_t b0 = 0; b0 < n_bg; b0 += blk) {
        const int64_t nb = std::min(blk, n_bg - b0);
        walker.walk(t, ColumnBlock{bg_cols + b0, n_bg, nb}, [&](int64_t slot, const uint64_t* pat) {
          if (slot - L0 < s0 || slot - L0 >= s0 + slice) return;
          const uint64_t mask = width_mask(lp.leaf_width[slot]);
          uint64_t* dst = &pats[static_cast<size_t>((slot - L0 - s0) * n_bg + b0)];
          for (int64_t r = 0; r < nb; ++r) dst[r] = pat[r] & mask;
        });
      }
    }
    const int64_t slot = L0 + l;
    const int d = lp.leaf_width[slot];
    const uint64_t mask = width_mask(d);
    const uint64_t* p = &pats[static_cast<size_t>((l - s0) * n_bg)];
    LeafInfo& li = g.leaf[static_cast<size_t>(l)];
    li.players = &lp.leaf_players[static_cast<size_t>(lp.leaf_player_begin[slot])];
    li.value = &f.value[static_cast<size_t>(lp.leaf_value_node[slot] * f.n_outputs)];
    li.group_begin = static_cast<int32_t>(g.pattern.size());
    li.list_begin = -1;
    li.d = d;
    int64_t covering = 0;  // sum over groups of 2^|pattern|: the length of the leaf's lists
    auto add_group = [&](uint64_t pattern, int64_t end) {
      const int ones = popcount64(pattern);
      const uint32_t begin = static_cast<int64_t>(g.pattern.size()) > li.group_begin ? g.span.back().end : 0;
      g.pattern.push_back(pattern);
      g.span.push_back({mask & ~pattern, begin, static_cast<uint32_t>(end)});
      g.failed.push_back(static_cast<uint8_t>(d - ones));
      covering += ones < 62 ? int64_t{1} << ones : list_limit(n_bg) + 1;
    };
    // Rows by pattern, then by row id: groups in increasing pattern order.
    if (d <= 16 && (int64_t{1} << d) <= std::max<int64_t>(64, 4 * n_bg)) {  // counting sort
      const int64_t np = int64_t{1} << d;
      pos.assign(static_cast<size_t>(np) + 1, 0);
      for (int64_t r = 0; r < n_bg; ++r) ++pos[p[r] + 1];
      for (int64_t q = 0; q < np; ++q) {
        pos[q + 1] += pos[q];
        if (pos[q + 1] > pos[q]) add_group(static_cast<uint64_t>(q), pos[q + 1]);
      }
      for (int64_t r = 0; r < n_bg; ++r) order[pos[p[r]]++] = static_cast<uint32_t>(r);
    } else {
      sorted.resize(static_cast<size_t>(n_bg));
      for (int64_t r = 0; r < n_bg; ++r) sorted[r] = {p[r], static_cast<uint32_t>(r)};
      std::sort(sorted.begin(), sorted.end());
      for (int64_t r = 0; r < n_bg; ++r) {
        order[r] = sorted[r].second;
        if (r + 1 == n_bg || sorted[r + 1].first != sorted[r].first) add_group(sorted[r].first, r + 1);
      }
    }
    // Each group's ids, padded to a multiple of 4 with the sentinel n_bg (weight 0): sums run in
    // whole steps of 4.
    const int64_t first = li.group_begin, last = static_cast<int64_t>(g.pattern.size());
    li.rows = static_cast<int64_t>(narrow ? g.rows16.size() : g.rows32.size());
    uint32_t at = 0;
    for (int64_t gi = first; gi < last; ++gi) {
      GroupSpan& sp = g.span[static_cast<size_t>(gi)];
      const uint32_t len = sp.end - sp.begin, padded = (len + 3) & ~uint32_t{3};
      for (uint32_t k = 0; k < padded; ++k) {
        const uint32_t id = k < len ? order[sp.begin + k] : static_cast<uint32_t>(n_bg);
        if (narrow) g.rows16.push_back(static_cast<uint16_t>(id));
        else g.rows32.push_back(id);
      }
      sp.begin = at;
      sp.end = at += padded;
    }
    li.n_groups = static_cast<int32_t>(last - first);
    const int64_t base = static_cast<int64_t>(g.list.size());
    if (!listable(d, n_bg) || covering > list_limit(n_bg) ||
        base + covering > int64_t{std::numeric_limits<int32_t>::max()})
      continue;
    // Counting sort of (F, group) over every subset F of each group's pattern.
    const int64_t nf = int64_t{1} << d;
    li.list_begin = static_cast<int32_t>(g.list_end.size());
    pos.assign(static_cast<size_t>(nf) + 1, 0);
    for (int64_t gi = first; gi < last; ++gi)
      for (uint64_t sub = g.pattern[gi];; sub = (sub - 1) & g.pattern[gi]) {
        ++pos[sub + 1];
        if (sub == 0) break;
      }
    pos[0] = base;
    for (int64_t F = 0; F < nf; ++F) pos[F + 1] += pos[F];
    for (int64_t F = 0; F <= nf; ++F) g.list_end.push_back(static_cast<int32_t>(pos[F]));
    g.list.resize(static_cast<size_t>(base + covering));
    for (int64_t gi = first; gi < last; ++gi)
      for (uint64_t sub = g.pattern[gi];; sub = (sub - 1) & g.pattern[gi]) {
        g.list[pos[sub]++] = static_cast<uint16_t>(gi - first);
        if (sub == 0) break;
      }
  }
}

// Sum of w over n ids, n a multiple of 4 (four chains, so that the adds' latency overlaps).
template <class Id>
inline double gather_sum(const double* w, const Id* idx, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int64_t k = 0; k < n; k += 4) {
    s0 += w[idx[k]];
    s1 += w[idx[k + 1]];
    s2 += w[idx[k + 2]];
    s3 += w[idx[k + 3]];
  }
  return (s0 + s1) + (s2 + s3);
}

// Shapley weights of a leaf's x-only and z-only players: shx[m * kW + s], shz[m * kW + s] for s
// x-only and m z-only players.
constexpr int kW = kMaxPatternBits + 1;

// Adds one tree's contributions for rows [i0, i1) of a block: row i's pattern at the tree's leaf l
// is xpat[l * stride + i], its weights c(x, z) / n_bg are w + i * stride_w (then the padding
// sentinel's 0), its values (P x K) are at out + i * row_size. Leaf by leaf, so that a leaf's
// groups are read once for the few rows whose weights share L1 with them.
template <class Id>
void add_tree(const TreeGroups& g, const Id* rows, const uint64_t* xpat, int64_t stride, int64_t i0, int64_t i1,
              const double* w, int64_t stride_w, const double* shx, const double* shz, int only, int K, double* out,
              int64_t row_size) {
  double acc[kMaxPatternBits];
  const int64_t nl = static_cast<int64_t>(g.leaf.size());
  for (int64_t l = 0; l < nl; ++l) {
    const LeafInfo& li = g.leaf[static_cast<size_t>(l)];
    const int d = li.d;
    if (d == 0) continue;  // a single-leaf tree: every player is null
    const uint64_t mask = width_mask(d);
    const Id* leaf_rows = rows + li.rows;
    const GroupSpan* span = &g.span[static_cast<size_t>(li.group_begin)];
    const uint8_t* failed = &g.failed[static_cast<size_t>(li.group_begin)];
    for (int64_t i = i0; i < i1; ++i) {
      const uint64_t xp = xpat[l * stride + i] & mask, fail = mask & ~xp;
      const int m = popcount64(fail);
      const double* wr = w + i * stride_w;
      const double* shx_m = shx + static_cast<int64_t>(m) * kW;  // by s
      const double* shz_m = shz + static_cast<int64_t>(m) * kW;
      for (int b = 0; b < d; ++b) acc[b] = 0.0;
      double a_fail = 0.0;
      bool any = false;
      // Group gi's rows z reach the leaf with x: its pattern covers x's failures, so the players
      // the rows fail (s of them) are x-only and x's failures are z-only. The weights vanish for
      // s = 0 (shx) and m = 0 (shz).
      auto visit = [&](int64_t gi) {
        const GroupSpan& sp = span[gi];
        const int s = failed[gi];
        if (s + m == 0) return;  // rows that follow x's own path: they change nothing
        const double W = gather_sum(wr, leaf_rows + sp.begin, static_cast<int64_t>(sp.end - sp.begin));
        a_fail += W * shz_m[s];
        const double c = W * shx_m[s];
        const double add[2] = {0.0, c};  // indexed, not a branch: the bits set vary from group to group
        for (int b = 0; b < d; ++b) acc[b] += add[(sp.fails >> b) & 1];
        any = true;
      };
      if (li.list_begin >= 0) {
        const int32_t* bounds = &g.list_end[static_cast<size_t>(li.list_begin + static_cast<int64_t>(fail))];
        const uint16_t* list = g.list.data();
        for (int32_t k = bounds[0]; k < bounds[1]; ++k) visit(list[k]);
      } else {
        const uint64_t* gpat = &g.pattern[static_cast<size_t>(li.group_begin)];
        for (int64_t gi = 0; gi < li.n_groups; ++gi)
          if ((gpat[gi] | xp) == mask) visit(gi);
      }
      if (!any) continue;
      double* o = out + i * row_size;
      for (int b = 0; b < d; ++b) {
        const double pick[2] = {a_fail, acc[b]};  // x-only: acc; z-only (x's failures): a_fail
        const double c = pick[(xp >> b) & 1];
        double* ob = o + static_cast<int64_t>(li.players[b]) * K;
        if (only >= 0) ob[only] += c * li.value[only];
        else
          for (int k = 0; k < K; ++k) ob[k] += c * li.value[k];
      }
    }
  }
}

// Mean over the background of g(f(z), y) for each row (out: n x K).
void base_values(OutputTransform tr, const double* fz, int64_t n_bg, int K, const double* y, int64_t n, double* base) {
  const double inv = 1.0 / static_cast<double>(n_bg);
  std::vector<double> mean(K, 0.0);
  for (int k = 0; k < K; ++k) {
    double s = 0;
    for (int64_t z = 0; z < n_bg; ++z) s += fz[z * K + k];
    mean[k] = s * inv;
  }
  if (tr == OutputTransform::kIdentity) {
    for (int64_t i = 0; i < n; ++i)
      for (int k = 0; k < K; ++k) base[i * K + k] = mean[k];
    return;
  }
  if (tr == OutputTransform::kLogistic || tr == OutputTransform::kLogisticNLogLoss) {
    double s = 0;
    for (int64_t z = 0; z < n_bg; ++z) s += tr == OutputTransform::kLogistic ? sigmoid(fz[z]) : softplus(fz[z]);
    const double m = s * inv;
    for (int64_t i = 0; i < n; ++i) base[i] = tr == OutputTransform::kLogistic ? m : m - y[i] * mean[0];
    return;
  }
  for (int64_t i = 0; i < n; ++i) {  // squared loss
    double s = 0;
    for (int64_t z = 0; z < n_bg; ++z) s += (fz[z] - y[i]) * (fz[z] - y[i]);
    base[i] = s * inv;
  }
}

}  // namespace

void transformed_values(const Forest& f, const Players& players, OutputTransform transform, const double* X,
                        const double* y, int64_t n, const double* bg, int64_t n_bg, double* out, double* base,
                        int n_threads, Progress* progress, int64_t budget_bytes) {
  if (n_bg < 1) throw std::invalid_argument("data: the background must have at least one row");
  if (n_bg >= (int64_t{1} << 30)) throw std::invalid_argument("data: the background must have fewer than 2^30 rows");
  const int K = f.n_outputs;
  const bool identity = transform == OutputTransform::kIdentity;
  if (!identity && K != 1)
    throw std::invalid_argument("model_output: a transformed output needs a single-output model (this one has " +
                                std::to_string(K) + " outputs)");
  const bool needs_y = transform == OutputTransform::kLogisticNLogLoss || transform == OutputTransform::kSquaredLoss;
  if (needs_y && y == nullptr) throw std::invalid_argument("y: the loss needs a label for every row");
  const int32_t F = f.n_features;
  const int64_t row_size = static_cast<int64_t>(players.n) * K;
  const double inv_nbg = 1.0 / static_cast<double>(n_bg);

  std::vector<double> fx(static_cast<size_t>(n * K)), fz(static_cast<size_t>(n_bg * K));
  predict_raw(f, X, n, fx.data(), n_threads);
  predict_raw(f, bg, n_bg, fz.data(), n_threads);
  base_values(transform, fz.data(), n_bg, K, y, n, base);
  std::fill(out, out + n * row_size, 0.0);
  if (n == 0) return;

  const LeafPaths lp(f, players);
  const IndexWeights iw(Index::kShapley, std::min(f.max_depth, players.n));
  std::vector<double> shx(kW * kW), shz(kW * kW);
  for (int m = 0; m < kW; ++m)
    for (int s = 0; s < kW; ++s) {
      shx[m * kW + s] = iw.get(IndexWeights::kDiagX, s, m);
      shz[m * kW + s] = iw.get(IndexWeights::kDiagZ, s, m);
    }
  std::vector<double> bg_cols(static_cast<size_t>(F) * n_bg);
  transpose_rows(bg, n_bg, F, bg_cols.data(), n_bg);
  int64_t max_leaves = 0;
  for (int64_t t = 0; t < f.n_trees(); ++t) {
    max_leaves = std::max(max_leaves, lp.tree_leaf_begin[t + 1] - lp.tree_leaf_begin[t]);
  }
  // Identity: every background row weighs 1 / n_bg; the last entry is the padding sentinel's 0.
  std::vector<double> uniform(identity ? static_cast<size_t>(n_bg) + 1 : 0, inv_nbg);
  if (identity) uniform[static_cast<size_t>(n_bg)] = 0.0;
  const bool narrow = narrow_ids(n_bg);

  // Rows per block: their tree walks share the node loop, and their weights (c(x, z) / n_bg for
  // every background row) stay in L2 next to the tree's groups; every thread gets work.
  int64_t B = identity ? kMaxBlockRows : std::clamp<int64_t>(kWeightBlockBytes / (8 * (n_bg + 1)), 1, kMaxBlockRows);
  B = std::max<int64_t>(1, std::min(B, (n + n_threads - 1) / std::max(n_threads, 1)));
  const int64_t n_blocks = (n + B - 1) / B;

  for (int64_t t0 = 0; t0 < f.n_trees();) {
    int64_t t1 = t0 + 1, bytes = tree_group_bytes(lp, t0, n_bg);
    while (t1 < f.n_trees() && bytes + tree_group_bytes(lp, t1, n_bg) <= budget_bytes)
      bytes += tree_group_bytes(lp, t1++, n_bg);
    std::vector<TreeGroups> groups(static_cast<size_t>(t1 - t0));
    parallel_for(t1 - t0, n_threads, 1, [&](int64_t i) {
      if (stopped(progress) || lp.tree_too_wide[t0 + i]) return;
      build_tree_groups(f, lp, t0 + i, bg_cols.data(), n_bg, groups[i]);
    });
    throw_if_stopped(progress);

    parallel_for(n_blocks, n_threads, 1, [&](int64_t blk) {
      if (stopped(progress)) return;
      const int64_t r0 = blk * B, nr = std::min(B, n - r0);
      std::vector<double> xcols(static_cast<size_t>(F) * nr);
      transpose_rows(X + r0 * F, nr, F, xcols.data(), nr);
      // Row i's weights c(x, z) / n_bg, then the sentinel's 0.
      const int64_t stride_w = n_bg + 1;
      std::vector<double> w(identity ? 0 : static_cast<size_t>(nr * stride_w));
      for (int64_t i = 0; i < nr && !identity; ++i) {
        const double a = fx[r0 + i], yi = y != nullptr ? y[r0 + i] : 0.0;
        double* wr = &w[static_cast<size_t>(i * stride_w)];
        for (int64_t z = 0; z < n_bg; ++z) wr[z] = transform_slope(transform, a, fz[z], yi) * inv_nbg;
        wr[n_bg] = 0.0;
      }
      auto weights = [&](int64_t i) { return identity ? uniform.data() : &w[static_cast<size_t>(i * stride_w)]; };
      const double* wb = identity ? uniform.data() : w.data();
      const int64_t sw = identity ? 0 : stride_w;
      // Rows per pass over a tree's leaves: their weights and one leaf's groups fit in L1.
      const int64_t sub = std::clamp<int64_t>(kL1WeightBytes / (8 * stride_w), 1, 4);
      std::vector<uint64_t> xpats(static_cast<size_t>(max_leaves * nr));  // one tree's, leaf-major
      ColumnWalker walker(lp, nr);
      const ColumnBlock xblock{xcols.data(), nr, nr};
      for (int64_t t = t0; t < t1; ++t) {
        if (lp.tree_too_wide[t]) {
          for (int64_t i = 0; i < nr; ++i)
            pairwise_values_row_weighted(f, players, iw, X + (r0 + i) * F, bg, weights(i), n_bg, t, t + 1,
                                         out + (r0 + i) * row_size);
          continue;
        }
        const int64_t L0 = lp.tree_leaf_begin[t];
        walker.walk(t, xblock, [&](int64_t slot, const uint64_t* xpat) {
          std::copy(xpat, xpat + nr, &xpats[static_cast<size_t>((slot - L0) * nr)]);
        });
        const TreeGroups& g = groups[static_cast<size_t>(t - t0)];
        for (int64_t i0 = 0; i0 < nr; i0 += sub) {
          const int64_t i1 = std::min(nr, i0 + sub);
          double* o = out + r0 * row_size;
          if (narrow)
            add_tree(g, g.rows16.data(), xpats.data(), nr, i0, i1, wb, sw, shx.data(), shz.data(), f.tree_output[t], K,
                     o, row_size);
          else
            add_tree(g, g.rows32.data(), xpats.data(), nr, i0, i1, wb, sw, shx.data(), shz.data(), f.tree_output[t], K,
                     o, row_size);
        }
      }
      advance(progress, nr * (t1 - t0));
    });
    throw_if_stopped(progress);
    t0 = t1;
  }
}

}  // namespace assay::core
