#include "core/pairwise_shap.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "core/shapley_weights.hpp"

namespace assay::core {

namespace {

// Walks one tree for one (x, z) pair. x_ok[f] / z_ok[f]: does x / z satisfy every condition on
// feature f met so far on the current path. path holds the distinct features met, in order.
struct PairWalker {
  const Forest& f;
  const ShapleyWeights& w;
  const double* x;
  const double* z;
  double scale;  // 1 / n_bg
  double* phi;   // n_features * K
  std::vector<uint8_t> x_ok, z_ok;
  std::vector<int32_t> path;

  void leaf(int64_t node, int32_t only) {
    int s = 0, m = 0;
    for (int32_t feat : path) {
      s += x_ok[feat] && !z_ok[feat];
      m += z_ok[feat] && !x_ok[feat];
    }
    if (s + m == 0) return;
    const int K = f.n_outputs;
    const double wp = w.plus(s, m) * scale, wm = w.minus(s, m) * scale;
    const double* v = &f.value[node * K];
    for (int32_t feat : path) {
      double c;
      if (x_ok[feat] && !z_ok[feat]) c = wp;
      else if (z_ok[feat] && !x_ok[feat]) c = -wm;
      else continue;
      double* out = phi + static_cast<int64_t>(feat) * K;
      if (only >= 0) out[only] += c * v[only];
      else for (int k = 0; k < K; ++k) out[k] += c * v[k];
    }
  }

  void walk(int64_t off, int64_t node, int32_t only) {
    const int32_t feat = f.feature[node];
    if (feat < 0) { leaf(node, only); return; }
    const bool xl = goes_left(f, node, x[feat]);
    const bool zl = goes_left(f, node, z[feat]);
    const bool first = std::find(path.begin(), path.end(), feat) == path.end();
    if (first) path.push_back(feat);
    const uint8_t x_was = x_ok[feat], z_was = z_ok[feat];
    for (int side = 0; side < 2; ++side) {
      const bool is_left = side == 0;
      x_ok[feat] = x_was && (xl == is_left);
      z_ok[feat] = z_was && (zl == is_left);
      if (!x_ok[feat] && !z_ok[feat]) continue;  // the hybrid point cannot go this way
      walk(off, off + (is_left ? f.left[node] : f.right[node]), only);
    }
    x_ok[feat] = x_was;
    z_ok[feat] = z_was;
    if (first) path.pop_back();
  }
};

}  // namespace

void pairwise_shap_row(const Forest& f, const double* x, const double* bg, int64_t n_bg,
                       int64_t tree_begin, int64_t tree_end, double* phi_row) {
  const ShapleyWeights w(std::min(f.max_depth, f.n_features));
  PairWalker walker{f, w, x, nullptr, 1.0 / static_cast<double>(n_bg), phi_row,
                    std::vector<uint8_t>(f.n_features, 1), std::vector<uint8_t>(f.n_features, 1), {}};
  for (int64_t b = 0; b < n_bg; ++b) {
    walker.z = bg + b * f.n_features;
    for (int64_t t = tree_begin; t < tree_end; ++t) {
      walker.walk(f.tree_offsets[t], f.tree_offsets[t], f.tree_output[t]);
    }
  }
}

void pairwise_shap(const Forest& f, const double* fg, int64_t n_fg, const double* bg, int64_t n_bg,
                   double* phi, int n_threads) {
  const int64_t row_size = static_cast<int64_t>(f.n_features) * f.n_outputs;
  std::fill(phi, phi + n_fg * row_size, 0.0);
  parallel_for(n_fg, n_threads, 1, [&](int64_t i) {
    pairwise_shap_row(f, fg + i * f.n_features, bg, n_bg, 0, f.n_trees(), phi + i * row_size);
  });
}

}  // namespace assay::core
