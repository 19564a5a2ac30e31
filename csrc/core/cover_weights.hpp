// The path-dependent game ("tree_path_dependent" in shap) as leaf weights for the pattern tables.
//
// Without a background, a tree's expectation given the players in S follows x at the splits on
// S and, at every other split, both children weighted by their share of the node's cover
// (training weight: XGBoost hessian sums, LightGBM counts, scikit-learn weighted samples). For a
// leaf with d players on its path, that weight factorises over the players:
//   w_leaf(S) = prod_{k in S} [x meets every condition on k] * prod_{k not in S} r_k,
//   r_k = product over the path's splits on k's features of cover(child taken) / cover(node).
// That is exactly the interventional weight of a background whose pattern bits are independent
// with P(bit k) = r_k. So the leaf's "histogram" is the product distribution
//   counts[b] = prod_k (b_k ? r_k : 1 - r_k)   (sums to 1: inv_n = 1),
// and every index (Shapley, Banzhaf, interactions, Shapley-Taylor) follows from the same tables
// the interventional game uses; only the source of the leaf weights differs.
#pragma once
#include <cstdint>
#include <vector>

#include "core/forest.hpp"
#include "core/leaf_paths.hpp"
#include "core/players.hpp"

namespace assay::core {

// Per leaf, its d cover ratios in the leaf's bit order (laid out like paths.leaf_players).
// cover: one non-negative value per Forest node. A node with zero cover passes a ratio of 0.
std::vector<double> leaf_cover_ratios(const Forest& f, const LeafPaths& paths, const Players& players,
                                      const std::vector<double>& cover);

// counts[b] for every b < 2^d: the product distribution of the d ratios r.
void cover_histogram(const double* r, int d, double* counts);

// The patterns b with non-zero weight and their weights, for leaves too wide for a dense table.
// Throws TooManyPlayers (errors.hpp) when there would be more than max_patterns of them.
void cover_patterns(const double* r, int d, int64_t max_patterns, std::vector<uint64_t>& patterns,
                    std::vector<double>& weights);

}  // namespace assay::core
