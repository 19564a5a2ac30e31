// Interventional Shapley values of a transformed model output (shap's model_output="probability"
// and "log_loss"): for each explained row x and background row z, the single-reference values
// phi(x, z) of the raw-margin game v(S) = f(x_S, z_rest) are rescaled so that they sum to
// g(f(x), y) - g(f(z), y) instead of f(x) - f(z):
//
//   phi_g(x) = mean_z  phi(x, z) * c(x, z),   c(x, z) = (g(f(x)) - g(f(z))) / (f(x) - f(z)),
//
// with c = g'(f(x)) when f(x) == f(z) (the limit; shap uses 1 there). Rows sum to
// g(f(x), y) - mean_z g(f(z), y), and the base value is mean_z g(f(z), y) (y: the explained
// row's label, used for both terms, as shap does). The weights c are not separable in (x, z),
// so the background cannot be folded into tables as in pattern_shap.hpp: the work is per
// (row, background row) pair.
//
// How: each leaf's background rows are grouped by their decision pattern on the leaf's path
// (leaf_paths.hpp). A row x reaches the leaf together with background row z exactly when z
// satisfies every player x fails on the path (the set F), and then the players z fails are
// x-only and F is z-only, so x visits the groups whose pattern covers F (listed per F for leaves
// with at most 12 players and 2^d <= max(64, n_bg), else found by scanning the leaf's groups),
// sums c(x, z) / n_bg over each such group's rows (one gather per pair and leaf the pair reaches)
// and spreads the group's Shapley weight over the players. Each row's sums run in one order
// whatever the thread count or chunking, so results are bit-identical.
//
// Cost per explained row: O(n_bg) weights (one transform per pair), then per tree
// O(nodes + leaves * d + groups visited * d + pairs (z, leaf) with z reaching the leaf with x);
// the last term dominates: about (3/2)^depth * n_bg when every split sends half the rows each way
// (about 5 n_bg for the depth-6 XGBoost trees of bench/bench_model_output.py).
// Memory: the groups of a chunk of trees, O(leaves * n_bg) row ids (2 bytes below 65536
// background rows, else 4) plus the per-F lists, within budget_bytes (a single tree is always
// taken whole); per thread 32 MB of pattern scratch while building and one block of rows'
// weights (at most 256 KB, or one row). Nothing is (n x n_bg). Trees with a path of more than
// 64 distinct players use the pairwise recursion with the same weights.
#pragma once
#include <cstdint>

#include "core/forest.hpp"
#include "core/players.hpp"
#include "core/progress.hpp"

namespace assay::core {

// shap's MODEL_TRANSFORM codes: g(margin, y).
enum class OutputTransform : int32_t {
  kIdentity = 0,          // g = f (the raw game; any number of outputs)
  kLogistic = 1,          // g = sigmoid(f)                     (model_output="probability")
  kLogisticNLogLoss = 2,  // g = log(1 + e^f) - y f              (log loss of sigmoid(f), label y)
  kSquaredLoss = 3,       // g = (f - y)^2                       (squared error, target y)
};

OutputTransform transform_from_int(int32_t code);

// g(margin, y).
double transform_output(OutputTransform t, double margin, double y);

// (g(a, y) - g(b, y)) / (a - b), and g'(a, y) when a == b, without cancellation when a is near b.
double transform_slope(OutputTransform t, double a, double b, double y);

// out: (n, players.n, K) C order, overwritten; base: (n, K), overwritten with mean_z g(f(z), y_i).
// X: (n, n_features), bg: (n_bg, n_features) C order; y: n labels, or nullptr when g ignores
// them (identity, logistic). Transforms other than identity need a single-output forest.
// progress (optional) counts (row, tree) units: n * n_trees in all; its stop flag abandons the
// call (Cancelled).
void transformed_values(const Forest& f, const Players& players, OutputTransform transform, const double* X,
                        const double* y, int64_t n, const double* bg, int64_t n_bg, double* out, double* base,
                        int n_threads, Progress* progress = nullptr, int64_t budget_bytes = int64_t{1} << 28);

}  // namespace assay::core
