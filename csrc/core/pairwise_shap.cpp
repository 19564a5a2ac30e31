#include "core/pairwise_shap.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"

namespace assay::core {

namespace {

// Walks one tree for one (x, z) pair. x_ok[p] / z_ok[p]: does x / z satisfy every condition on
// player p's features met so far on the current path. path holds the distinct players met.
struct PairWalker {
  const Forest& f;
  const Players& players;
  const IndexWeights& w;
  OutputLayout layout;
  const double* x;
  const double* z;
  double scale;  // 1 / n_bg
  double* out;   // one row
  std::vector<uint8_t> x_ok, z_ok;
  std::vector<int32_t> path, xs, zs;

  void leaf(int64_t node, int32_t only) {
    xs.clear();
    zs.clear();
    for (int32_t p : path) {
      if (x_ok[p] && !z_ok[p]) xs.push_back(p);
      else if (z_ok[p] && !x_ok[p]) zs.push_back(p);
    }
    const int K = f.n_outputs;
    const double* v = &f.value[node * K];
    for_each_game_entry(w, xs.data(), static_cast<int>(xs.size()), zs.data(), static_cast<int>(zs.size()),
                        [&](int32_t i, int32_t j, double c) {
                          double* o = out + layout.column(i, j) * K;
                          if (only >= 0) o[only] += c * scale * v[only];
                          else
                            for (int k = 0; k < K; ++k) o[k] += c * scale * v[k];
                        });
  }

  void walk(int64_t off, int64_t node, int32_t only) {
    const int32_t feat = f.feature[node];
    if (feat < 0) {
      leaf(node, only);
      return;
    }
    const int32_t p = players.of_feature[feat];
    const bool xl = goes_left(f, node, x[feat]);
    const bool zl = goes_left(f, node, z[feat]);
    const bool first = std::find(path.begin(), path.end(), p) == path.end();
    if (first) path.push_back(p);
    const uint8_t x_was = x_ok[p], z_was = z_ok[p];
    for (int side = 0; side < 2; ++side) {
      const bool is_left = side == 0;
      x_ok[p] = x_was && (xl == is_left);
      z_ok[p] = z_was && (zl == is_left);
      if (!x_ok[p] && !z_ok[p]) continue;  // the hybrid point cannot go this way
      walk(off, off + (is_left ? f.left[node] : f.right[node]), only);
    }
    x_ok[p] = x_was;
    z_ok[p] = z_was;
    if (first) path.pop_back();
  }
};

}  // namespace

void pairwise_values_row(const Forest& f, const Players& players, const IndexWeights& w, const double* x,
                         const double* bg, int64_t n_bg, int64_t tree_begin, int64_t tree_end, double* out_row) {
  pairwise_values_row_weighted(f, players, w, x, bg, nullptr, n_bg, tree_begin, tree_end, out_row);
}

void pairwise_values_row_weighted(const Forest& f, const Players& players, const IndexWeights& w, const double* x,
                                  const double* bg, const double* bg_weight, int64_t n_bg, int64_t tree_begin,
                                  int64_t tree_end, double* out_row) {
  PairWalker walker{f,
                    players,
                    w,
                    OutputLayout(players, f.n_outputs, w.index()),
                    x,
                    nullptr,
                    1.0 / static_cast<double>(n_bg),
                    out_row,
                    std::vector<uint8_t>(players.n, 1),
                    std::vector<uint8_t>(players.n, 1),
                    {},
                    {},
                    {}};
  for (int64_t b = 0; b < n_bg; ++b) {
    walker.z = bg + b * f.n_features;
    if (bg_weight != nullptr) walker.scale = bg_weight[b];
    for (int64_t t = tree_begin; t < tree_end; ++t) walker.walk(f.tree_offsets[t], f.tree_offsets[t], f.tree_output[t]);
  }
}

void pairwise_values(const Forest& f, const Players& players, Index ix, const double* fg, int64_t n_fg,
                     const double* bg, int64_t n_bg, double* out, int n_threads, Progress* progress) {
  const IndexWeights w(ix, std::min(f.max_depth, players.n));
  const int64_t row_size = OutputLayout(players, f.n_outputs, ix).row_size();
  std::fill(out, out + n_fg * row_size, 0.0);
  parallel_for(n_fg, n_threads, 1, [&](int64_t i) {
    if (stopped(progress)) return;
    pairwise_values_row(f, players, w, fg + i * f.n_features, bg, n_bg, 0, f.n_trees(), out + i * row_size);
    advance(progress, 1);
  });
  throw_if_stopped(progress);
}

}  // namespace assay::core
