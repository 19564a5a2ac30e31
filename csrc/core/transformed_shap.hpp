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
// (leaf_paths.hpp); a row x reaches the leaf with background row z exactly when every player
// x fails on the path is one z satisfies, so x only visits the groups whose patterns cover
// x's failures (found by enumerating subsets of x's pattern, or by scanning the leaf's groups,
// whichever is fewer), sums c(x, z) / n_bg over each such group (one gather per pair and leaf
// the pair reaches) and spreads the group's Shapley weight over the group's players. Cost per
// row: O(n_bg) for the weights, plus per tree O(nodes + sum over leaves of min(2^|x's pattern|,
// groups) * d + (pairs (z, leaf) with z reaching the leaf with x)); memory: per chunk of trees
// O(leaves * n_bg) 4-byte row ids (budget_bytes bounds the chunk; a single tree is always
// taken whole), per thread a block of rows' weights (at most 64 x n_bg doubles). Trees with a
// path of more than 64 distinct players use the pairwise recursion with the same weights.
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
